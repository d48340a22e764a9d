//! The one wildcard matcher of the sandbox: IAM/SNS policy `Resource` and condition patterns
//! (`*`, `?`) and EC2 filter values (`*`, `?`, `\` escapes).
//!
//! Written by hand because the semantics (which metacharacters, whether `\` escapes) are the
//! services' own and no glob crate matches them exactly. It never recurses and runs in time
//! linear in pattern plus value when the pattern has no `?`: the pattern is cut at its stars
//! into literal segments; the first must be a prefix, the last a suffix, and every middle one is
//! found leftmost (greedy leftmost matching is exact for star-separated segments).

/// Which metacharacters a pattern language has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// `\` makes the next character literal (EC2 filters).
    pub escapes: bool,
}

/// IAM and SNS policies: `*` and `?`, no escapes, case-sensitive.
pub const POLICY: Syntax = Syntax { escapes: false };
/// EC2 filter values: `*`, `?` and `\` escapes.
pub const EC2_FILTER: Syntax = Syntax { escapes: true };

/// One character of a segment: a literal or `?` (any one character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Any,
    Lit(char),
}

/// Whether `value` matches `pattern` in the given syntax.
pub fn matches(syntax: Syntax, pattern: &str, value: &str) -> bool {
    // Most patterns in a policy are `*` or a whole ARN: answered without cutting anything up.
    if pattern == "*" {
        return true;
    }
    let escaped = syntax.escapes && pattern.contains('\\');
    if !escaped && !pattern.contains('?') {
        return match pattern.contains('*') {
            false => pattern == value,
            true => matches_stars(pattern, value),
        };
    }
    matches_cut(syntax, pattern, value)
}

/// [`matches`] for a pattern whose only metacharacter is `*` (`kms:*`, `arn:…:key/*`: most
/// of a policy's patterns), on the strings themselves: no copy of either is made. The same
/// greedy leftmost search as [`matches_cut`]; byte positions instead of characters, which
/// finds the same matches since both are valid UTF-8.
fn matches_stars(pattern: &str, value: &str) -> bool {
    let (Some((first, rest)), Some((_, last))) =
        (pattern.split_once('*'), pattern.rsplit_once('*'))
    else {
        return pattern == value;
    };
    if first.len() + last.len() > value.len() || !value.starts_with(first) || !value.ends_with(last)
    {
        return false;
    }
    // Between the first star and the last: each piece found leftmost, in order, within the
    // part of the value the first and last pieces leave.
    let middle = &rest[..rest.len() - last.len()];
    let mut room = &value[first.len()..value.len() - last.len()];
    for piece in middle.split('*').filter(|p| !p.is_empty()) {
        match room.find(piece) {
            Some(at) => room = &room[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// [`matches`] by cutting the pattern at its stars (every pattern; `matches` answers the
/// common ones before it).
fn matches_cut(syntax: Syntax, pattern: &str, value: &str) -> bool {
    let segments = split(syntax, pattern);
    let value: Vec<char> = value.chars().collect();
    match segments.as_slice() {
        [] => value.is_empty(),
        [only] => only.len() == value.len() && at(only, &value, 0),
        [first, middle @ .., last] => {
            if first.len() + last.len() > value.len()
                || !at(first, &value, 0)
                || !at(last, &value, value.len() - last.len())
            {
                return false;
            }
            let end = value.len() - last.len();
            let mut pos = first.len();
            for seg in middle {
                match find(seg, &value[..end], pos) {
                    Some(found) => pos = found + seg.len(),
                    None => return false,
                }
            }
            true
        }
    }
}

/// The pattern cut at its stars: `a*b?c*` → `[a] [b?c] []`. A pattern without a star is one
/// segment; consecutive stars give empty middle segments, which match anywhere.
fn split(syntax: Syntax, pattern: &str) -> Vec<Vec<Unit>> {
    let mut segments = vec![Vec::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let unit = match c {
            '*' => {
                segments.push(Vec::new());
                continue;
            }
            '?' => Unit::Any,
            '\\' if syntax.escapes => Unit::Lit(chars.next().unwrap_or('\\')),
            c => Unit::Lit(c),
        };
        if let Some(seg) = segments.last_mut() {
            seg.push(unit);
        }
    }
    segments
}

fn at(seg: &[Unit], value: &[char], start: usize) -> bool {
    value.len() >= start + seg.len()
        && seg.iter().zip(&value[start..]).all(|(u, c)| match u {
            Unit::Any => true,
            Unit::Lit(l) => l == c,
        })
}

/// The leftmost position at or after `from` where `seg` matches within `value`.
fn find(seg: &[Unit], value: &[char], from: usize) -> Option<usize> {
    if seg.is_empty() {
        return (from <= value.len()).then_some(from);
    }
    if seg.iter().all(|u| matches!(u, Unit::Lit(_))) {
        // Literal segments: the standard library's substring search (two-way, linear).
        let needle: String = seg
            .iter()
            .map(|u| match u {
                Unit::Lit(c) => *c,
                Unit::Any => '?',
            })
            .collect();
        let hay: String = value.get(from..)?.iter().collect();
        let byte = hay.find(&needle)?;
        return Some(from + hay[..byte].chars().count());
    }
    (from..=value.len().checked_sub(seg.len())?).find(|&i| at(seg, value, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_patterns_answer_as_the_cut_pattern_does() {
        for syntax in [POLICY, EC2_FILTER] {
            let patterns = [
                "*",
                "",
                "arn:aws:kms:us-east-1:1:key/k",
                "a",
                "ab",
                "a*",
                "*a",
                "a*b",
                "*a*",
                "a**b",
                "ab*ba",
                "é*",
                "*é*",
                "kms:*",
                "arn:*:key/*",
                "**",
                "*b*a*",
                "a*a",
            ];
            let values = [
                "",
                "a",
                "ab",
                "arn:aws:kms:us-east-1:1:key/k",
                "*",
                "é",
                "aba",
                "abba",
                "abab",
                "aé",
                "éa",
                "ba",
                "aa",
                "kms:GenerateDataKey",
                "bxa",
                "abxba",
            ];
            for pattern in patterns {
                for value in values {
                    assert_eq!(
                        matches(syntax, pattern, value),
                        matches_cut(syntax, pattern, value),
                        "{pattern:?} against {value:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn stars_questions_and_literals() {
        let m = |p: &str, v: &str| matches(POLICY, p, v);
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m(
            "arn:aws:sns:*:111122223333:*",
            "arn:aws:sns:us-east-1:111122223333:t"
        ));
        assert!(!m(
            "arn:aws:sns:*:111122223333:*",
            "arn:aws:sns:us-east-1:999:t"
        ));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("*ab", "aab"));
        assert!(m("a**b", "ab"));
        assert!(!m("abc", "abcd"));
        assert!(m("", ""));
        assert!(!m("", "x"));
        assert!(m("*?x*", "yx"));
        assert!(!m("*?x*", "x"));
        assert!(m("ü*ß", "üxyzß"));
    }

    #[test]
    fn escapes_only_where_the_syntax_has_them() {
        assert!(matches(EC2_FILTER, r"a\*b", "a*b"));
        assert!(!matches(EC2_FILTER, r"a\*b", "axb"));
        assert!(matches(POLICY, r"a\*b", r"a\xyzb"));
        assert!(matches(EC2_FILTER, r"a\?", "a?"));
        assert!(!matches(EC2_FILTER, r"a\?", "ab"));
    }

    #[test]
    fn pathological_patterns_stay_fast_and_shallow() {
        // 300,000 stars would overflow a recursive matcher's stack.
        let stars = "*".repeat(300_000);
        assert!(matches(
            POLICY,
            &stars,
            "arn:aws:sns:us-east-1:111122223333:t"
        ));
        // `"*a" * k + "b"` against a long run of a's is exponential for a backtracking matcher.
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!matches(POLICY, &pattern, &"a".repeat(10_000)));
    }
}
