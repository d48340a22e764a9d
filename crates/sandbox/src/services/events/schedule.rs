//! Schedule expressions as EventBridge accepts them: `rate(value unit)` with exactly one
//! space and the unit's singular for 1, and `cron(minutes hours day-of-month month
//! day-of-week year)` with each field in its range and one of the two day fields `?`.
//! Hand-written: EventBridge's cron dialect (six fields, `?`, `L`, `W`, `#`, the year) is
//! not any cron crate's.

/// Whether `s` is a schedule expression EventBridge accepts.
pub fn schedule_ok(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return rate_ok(inner);
    }
    if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return cron_ok(inner);
    }
    false
}

fn rate_ok(inner: &str) -> bool {
    let Some((n, unit)) = inner.split_once(' ') else {
        return false;
    };
    let Ok(n) = n.parse::<u64>() else {
        return false;
    };
    if n == 0 || n.to_string().len() != inner.len() - unit.len() - 1 {
        return false;
    }
    if n == 1 {
        ["minute", "hour", "day"].contains(&unit)
    } else {
        ["minutes", "hours", "days"].contains(&unit)
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One cron field: its range and the names that stand for numbers in it.
struct Field {
    lo: u32,
    hi: u32,
    names: &'static [&'static str],
    /// Day fields: `?` allowed, and their own suffixes (`L`, `W`, `#`).
    day: Option<Day>,
}

#[derive(Clone, Copy, PartialEq)]
enum Day {
    OfMonth,
    OfWeek,
}

fn cron_ok(inner: &str) -> bool {
    let parts: Vec<&str> = inner.split(' ').collect();
    let [min, hour, dom, month, dow, year] = parts.as_slice() else {
        return false;
    };
    let fields = [
        (
            min,
            Field {
                lo: 0,
                hi: 59,
                names: &[],
                day: None,
            },
        ),
        (
            hour,
            Field {
                lo: 0,
                hi: 23,
                names: &[],
                day: None,
            },
        ),
        (
            dom,
            Field {
                lo: 1,
                hi: 31,
                names: &[],
                day: Some(Day::OfMonth),
            },
        ),
        (
            month,
            Field {
                lo: 1,
                hi: 12,
                names: &MONTHS,
                day: None,
            },
        ),
        (
            dow,
            Field {
                lo: 1,
                hi: 7,
                names: &DAYS,
                day: Some(Day::OfWeek),
            },
        ),
        (
            year,
            Field {
                lo: 1970,
                hi: 2199,
                names: &[],
                day: None,
            },
        ),
    ];
    // Exactly one of the day fields is `?`: the other says which days.
    (*dom == "?") != (*dow == "?") && fields.iter().all(|(text, f)| field_ok(text, f))
}

fn field_ok(text: &str, f: &Field) -> bool {
    if text == "?" {
        return f.day.is_some();
    }
    !text.is_empty() && text.split(',').all(|item| item_ok(item, f))
}

/// One comma-separated item: `*`, `a`, `a-b`, either with `/step`, or a day form.
fn item_ok(item: &str, f: &Field) -> bool {
    match f.day {
        Some(Day::OfMonth) if item == "L" || item == "LW" => return true,
        // `L` alone in day-of-week: the last day of the week (Saturday).
        Some(Day::OfWeek) if item == "L" => return true,
        Some(Day::OfMonth) if item.ends_with('W') => return value_ok(&item[..item.len() - 1], f),
        Some(Day::OfWeek) if item.ends_with('L') && item.len() > 1 => {
            return value_ok(&item[..item.len() - 1], f)
        }
        Some(Day::OfWeek) if item.contains('#') => {
            let (d, n) = item.split_once('#').unwrap_or_default();
            return value_ok(d, f) && matches!(n.parse::<u32>(), Ok(1..=5));
        }
        _ => {}
    }
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if step.is_some_and(|s| !matches!(s.parse::<u32>(), Ok(n) if n >= 1 && n <= f.hi)) {
        return false;
    }
    if range == "*" {
        return true;
    }
    match range.split_once('-') {
        Some((a, b)) => value_ok(a, f) && value_ok(b, f),
        None => value_ok(range, f),
    }
}

fn value_ok(v: &str, f: &Field) -> bool {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
        return (i as u32) < f.hi;
    }
    v.parse::<u32>().is_ok_and(|n| (f.lo..=f.hi).contains(&n))
}

#[cfg(test)]
mod tests {
    use super::schedule_ok;

    #[test]
    fn rates() {
        assert!(schedule_ok("rate(5 minutes)"));
        assert!(schedule_ok("rate(1 hour)"));
        assert!(!schedule_ok("rate(1 hours)"));
        assert!(!schedule_ok("rate( 10 minutes )"));
        assert!(!schedule_ok("rate(10  minutes)"));
        assert!(!schedule_ok("rate(0 minutes)"));
        assert!(!schedule_ok("every day"));
    }

    #[test]
    fn crons() {
        for ok in [
            "cron(0 12 * * ? *)",
            "cron(15 10 ? * 6L 2026-2030)",
            "cron(0/15 * * * ? *)",
            "cron(0 8 1 * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 10 ? * 6#3 *)",
            "cron(0 0 L * ? *)",
            "cron(0 9 15W JAN,JUL ? *)",
            "cron(0 0 ? * L *)",
        ] {
            assert!(schedule_ok(ok), "{ok}");
        }
        for bad in [
            "cron(0 1 * * * *)",
            "cron(71 8 1 * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 12 ? * ? *)",
            "cron(0 12 * * ?)",
            "cron(0 12 32 * ? *)",
            "cron(0 12 ? * 8 *)",
            "cron(0 12 ? * 1#6 *)",
            "cron(0/0 * * * ? *)",
        ] {
            assert!(!schedule_ok(bad), "{bad}");
        }
    }
}
