//! Validation and compilation of a pattern into OR-ed branches of AND-ed field tests.
//!
//! The walk follows event-ruler's `JsonRuleCompiler` (the compiler behind EventBridge) token by
//! token, so the first problem found is the one AWS reports, with AWS's words.

use std::sync::Arc;

use crate::cidr;
use crate::matcher::{AnythingBut, Bound, Matcher};
use crate::raw::Raw;
use crate::wildcard::{self, Wildcard};

/// Most `$or` combinations one pattern may expand to. This is this crate's own guard against
/// patterns that multiply out exponentially; AWS's limit is not recorded.
pub(crate) const MAX_BRANCHES: usize = 1024;

/// What one field of a branch requires: any of `matchers` on some leaf value at the path, or (when
/// `absent`) no leaf value at the path at all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldSpec {
    pub(crate) matchers: Vec<Matcher>,
    pub(crate) absent: bool,
}

/// A field of a branch: the dot-joined path and its test.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) path: String,
    pub(crate) spec: Arc<FieldSpec>,
}

/// One alternative of the pattern: every field must hold. Fields are sorted by path (in Java's
/// UTF-16 order, as event-ruler steps through them).
pub(crate) type Branch = Vec<Field>;

/// A branch under construction: like a Java `HashMap.put`, a later path replaces an earlier one.
type Rule = Vec<(String, Arc<FieldSpec>)>;

const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

const TOO_MANY_ELEMENTS: &str = "Too many elements in numeric expression";
const ONE_KEY: &str = "Only one key allowed in match expression";

/// Compiles a pattern; the error is AWS's reason text.
pub(crate) fn compile(raw: &Raw) -> Result<Vec<Branch>, String> {
    let Raw::Object(members) = raw else {
        return Err("Filter is not an object".to_owned());
    };
    let mut rules: Vec<Rule> = Vec::new();
    let mut path: Vec<&str> = Vec::new();
    parse_object(&mut rules, &mut path, members, false)?;
    check_complexity(&rules)?;
    Ok(rules
        .into_iter()
        .map(|rule| {
            let mut fields: Vec<Field> = rule
                .into_iter()
                .map(|(path, spec)| Field { path, spec })
                .collect();
            fields.sort_by(|a, b| a.path.encode_utf16().cmp(b.path.encode_utf16()));
            fields
        })
        .collect())
}

fn parse_object<'a>(
    rules: &mut Vec<Rule>,
    path: &mut Vec<&'a str>,
    members: &'a [(String, Raw)],
    inside_or: bool,
) -> Result<(), String> {
    for (name, value) in members {
        if name == "$or" {
            parse_or(rules, path, value)?;
            continue;
        }
        if inside_or && RESERVED_IN_OR.contains(&name.as_str()) {
            return Err(format!(
                "{name} is Ruler reserved fieldName which cannot be used inside $or."
            ));
        }
        match value {
            Raw::Object(inner) => {
                path.push(name);
                parse_object(rules, path, inner, inside_or)?;
                path.pop();
            }
            Raw::Array(items) => write_field(rules, extended_name(path, name), items)?,
            _ => return Err(format!("\"{name}\" must be an object or an array")),
        }
    }
    if members.is_empty() {
        return Err("Empty objects are not allowed".to_owned());
    }
    Ok(())
}

fn extended_name(path: &[&str], name: &str) -> String {
    let mut full = String::new();
    for step in path {
        full.push_str(step);
        full.push('.');
    }
    full.push_str(name);
    full
}

fn parse_or<'a>(
    rules: &mut Vec<Rule>,
    path: &mut Vec<&'a str>,
    value: &'a Raw,
) -> Result<(), String> {
    let current = std::mem::take(rules);
    let Raw::Array(items) = value else {
        return Err("It must be an Array followed with $or.".to_owned());
    };
    for item in items {
        let Raw::Object(members) = item else {
            return Err("Only JSON object is allowed in array of $or relationship.".to_owned());
        };
        let mut alternatives = current.clone();
        if alternatives.is_empty() {
            alternatives.push(Rule::new());
        }
        parse_object(&mut alternatives, path, members, true)?;
        rules.extend(alternatives);
        if rules.len() > MAX_BRANCHES {
            return Err(format!(
                "Too many $or combinations (more than {MAX_BRANCHES})"
            ));
        }
    }
    if items.len() < 2 {
        return Err("There must have at least 2 Objects in $or relationship.".to_owned());
    }
    Ok(())
}

fn write_field(rules: &mut Vec<Rule>, name: String, items: &[Raw]) -> Result<(), String> {
    let mut spec = FieldSpec {
        matchers: Vec::with_capacity(items.len()),
        absent: false,
    };
    for item in items {
        match item {
            Raw::Object(members) => match match_expression(members)? {
                Entry::Test(m) => spec.matchers.push(m),
                Entry::Absent => spec.absent = true,
            },
            Raw::String(s) => spec.matchers.push(match cidr::literal_ip(s) {
                Some(ip) => Matcher::IpLiteral(s.clone(), ip),
                None => Matcher::String(s.clone()),
            }),
            Raw::Number(n, _) => spec.matchers.push(Matcher::Number(*n)),
            Raw::Bool(b) => spec.matchers.push(Matcher::Bool(*b)),
            Raw::Null => spec.matchers.push(Matcher::Null),
            Raw::Array(_) => {
                return Err("Match value must be String, number, true, false, or null".to_owned())
            }
        }
    }
    if items.is_empty() {
        return Err("Empty arrays are not allowed".to_owned());
    }
    if rules.is_empty() {
        rules.push(Rule::new());
    }
    let spec = Arc::new(spec);
    for rule in rules.iter_mut() {
        match rule.iter_mut().find(|(path, _)| *path == name) {
            Some(existing) => existing.1 = Arc::clone(&spec),
            None => rule.push((name.clone(), Arc::clone(&spec))),
        }
    }
    Ok(())
}

/// An object in a value list.
enum Entry {
    Test(Matcher),
    /// `{"exists": false}`.
    Absent,
}

fn match_expression(members: &[(String, Raw)]) -> Result<Entry, String> {
    let Some((name, value)) = members.first() else {
        return Err("Match expression name not found".to_owned());
    };
    let more = members.len() > 1;
    let only_one = |entry: Entry| {
        if more {
            Err(ONE_KEY.to_owned())
        } else {
            Ok(entry)
        }
    };
    match name.as_str() {
        "prefix" | "suffix" => {
            let is_prefix = name == "prefix";
            let matcher = match value {
                Raw::Object(inner) => {
                    let text = ignore_case_operand(
                        inner,
                        if is_prefix { "Prefix" } else { "Suffix" },
                        name,
                    )?;
                    if is_prefix {
                        Matcher::PrefixIgnoreCase(text)
                    } else {
                        Matcher::SuffixIgnoreCase(text)
                    }
                }
                Raw::String(s) if is_prefix => Matcher::Prefix(s.clone()),
                Raw::String(s) => Matcher::Suffix(s.clone()),
                _ => return Err(format!("{name} match pattern must be a string")),
            };
            only_one(Entry::Test(matcher))
        }
        "numeric" => {
            let Raw::Array(items) = value else {
                return Err("Value of numeric must be an array.".to_owned());
            };
            let matcher = numeric(items)?;
            if more {
                return Err(TOO_MANY_ELEMENTS.to_owned());
            }
            Ok(Entry::Test(matcher))
        }
        "anything-but" => {
            let matcher = anything_but(value)?;
            if more {
                return Err(TOO_MANY_ELEMENTS.to_owned());
            }
            Ok(Entry::Test(Matcher::AnythingBut(matcher)))
        }
        "exists" => {
            let entry = match value {
                Raw::Bool(true) => Entry::Test(Matcher::Exists),
                Raw::Bool(false) => Entry::Absent,
                _ => return Err("exists match pattern must be either true or false.".to_owned()),
            };
            only_one(entry)
        }
        "cidr" => {
            let Raw::String(s) = value else {
                // AWS's own wording for a non-string CIDR.
                return Err("prefix match pattern must be a string".to_owned());
            };
            let range = cidr::parse_cidr(s)?;
            only_one(Entry::Test(Matcher::Cidr(range)))
        }
        "equals-ignore-case" => {
            let Raw::String(s) = value else {
                return Err("equals-ignore-case match pattern must be a string".to_owned());
            };
            only_one(Entry::Test(Matcher::EqualsIgnoreCase(s.clone())))
        }
        "wildcard" => {
            let Raw::String(s) = value else {
                return Err("wildcard match pattern must be a string".to_owned());
            };
            let w = Wildcard::parse(s)?;
            only_one(Entry::Test(Matcher::Wildcard(w)))
        }
        _ => Err(format!("Unrecognized match type {name}")),
    }
}

/// `{"prefix": {"equals-ignore-case": "..."}}` (and the suffix form).
fn ignore_case_operand(
    inner: &[(String, Raw)],
    kind: &str,
    operator: &str,
) -> Result<String, String> {
    let Some((name, value)) = inner.first() else {
        return Err(format!("{kind} expression name not found"));
    };
    if name != "equals-ignore-case" {
        return Err(format!("Unsupported {operator} pattern: {name}"));
    }
    let Raw::String(s) = value else {
        return Err("equals-ignore-case match pattern must be a string".to_owned());
    };
    if inner.len() > 1 {
        return Err(ONE_KEY.to_owned());
    }
    Ok(s.clone())
}

fn numeric(items: &[Raw]) -> Result<Matcher, String> {
    let mut it = items.iter();
    let operator = match it.next() {
        Some(Raw::String(op)) => op.as_str(),
        Some(other) => {
            return Err(format!(
                "Invalid member in numeric match: {}",
                other.token_text()
            ))
        }
        None => return Err("Invalid member in numeric match: ]".to_owned()),
    };
    let operand = it.next();
    let value = |label: &str| match operand {
        Some(Raw::Number(n, _)) => Ok(*n),
        _ => Err(format!("Value of {label} must be numeric")),
    };
    let no_more = |it: &mut std::slice::Iter<'_, Raw>| match it.next() {
        None => Ok(()),
        Some(_) => Err(TOO_MANY_ELEMENTS.to_owned()),
    };
    match operator {
        "=" => {
            let v = value("equals")?;
            no_more(&mut it)?;
            let bound = Bound {
                value: v,
                inclusive: true,
            };
            Ok(Matcher::Numeric {
                lower: Some(bound),
                upper: Some(bound),
            })
        }
        ">=" | ">" => {
            let v = value(operator)?;
            let lower = Bound {
                value: v,
                inclusive: operator == ">=",
            };
            match it.next() {
                None => Ok(Matcher::Numeric {
                    lower: Some(lower),
                    upper: None,
                }),
                Some(next) => {
                    let upper = numeric_top(next, &mut it)?;
                    if lower.value >= upper.value {
                        return Err("Bottom must be less than top".to_owned());
                    }
                    Ok(Matcher::Numeric {
                        lower: Some(lower),
                        upper: Some(upper),
                    })
                }
            }
        }
        "<=" | "<" => {
            let v = value(operator)?;
            no_more(&mut it)?;
            Ok(Matcher::Numeric {
                lower: None,
                upper: Some(Bound {
                    value: v,
                    inclusive: operator == "<=",
                }),
            })
        }
        other => Err(format!("Unrecognized numeric range operator: {other}")),
    }
}

fn numeric_top(token: &Raw, it: &mut std::slice::Iter<'_, Raw>) -> Result<Bound, String> {
    let Raw::String(operator) = token else {
        return Err(format!(
            "Bad value in numeric range: {}",
            token.token_text()
        ));
    };
    if operator != "<" && operator != "<=" {
        return Err(format!("Bad numeric range operator: {operator}"));
    }
    let Some(Raw::Number(v, _)) = it.next() else {
        return Err(format!("Value of {operator} must be numeric"));
    };
    if it.next().is_some() {
        return Err("Too many terms in numeric range expression".to_owned());
    }
    Ok(Bound {
        value: *v,
        inclusive: operator == "<=",
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ButKind {
    Plain,
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

impl ButKind {
    fn not_a_string(self) -> String {
        match self {
            ButKind::IgnoreCase => {
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            }
            ButKind::Wildcard => "wildcard match pattern must be a string",
            ButKind::Prefix | ButKind::Suffix | ButKind::Plain => "prefix/suffix match pattern must be a string",
        }
        .to_owned()
    }
}

fn anything_but(value: &Raw) -> Result<AnythingBut, String> {
    let (kind, operand, nested_more) = match value {
        Raw::Object(inner) => {
            let Some((op, operand)) = inner.first() else {
                return Err("Anything-But expression name not found".to_owned());
            };
            let kind = match op.as_str() {
                "equals-ignore-case" => ButKind::IgnoreCase,
                "prefix" => ButKind::Prefix,
                "suffix" => ButKind::Suffix,
                "wildcard" => ButKind::Wildcard,
                _ => return Err(format!("Unsupported anything-but pattern: {op}")),
            };
            (kind, operand, inner.len() > 1)
        }
        other => (ButKind::Plain, other, false),
    };
    let items: &[Raw] = match operand {
        Raw::Array(items) => items,
        Raw::String(_) | Raw::Number(..) => std::slice::from_ref(operand),
        _ => {
            return Err(
                "Value of anything-but must be an array or single string/number value.".to_owned(),
            )
        }
    };
    let is_list = matches!(operand, Raw::Array(_));
    let result = if kind == ButKind::Plain {
        plain_anything_but(items, is_list)?
    } else {
        let mut texts = Vec::with_capacity(items.len());
        for item in items {
            let Raw::String(s) = item else {
                return Err(kind.not_a_string());
            };
            if s.is_empty() && matches!(kind, ButKind::Prefix | ButKind::Suffix) {
                return Err("Null prefix/suffix not allowed".to_owned());
            }
            texts.push(s.clone());
        }
        match kind {
            ButKind::IgnoreCase => AnythingBut::IgnoreCase(texts),
            ButKind::Prefix => AnythingBut::Prefixes(texts),
            ButKind::Suffix => AnythingBut::Suffixes(texts),
            _ => AnythingBut::Wildcards(
                texts
                    .iter()
                    .map(|t| Wildcard::parse(t))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        }
    };
    if nested_more {
        return Err(TOO_MANY_ELEMENTS.to_owned());
    }
    Ok(result)
}

fn plain_anything_but(items: &[Raw], is_list: bool) -> Result<AnythingBut, String> {
    let (mut strings, mut numbers) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Raw::String(s) => strings.push(s.clone()),
            Raw::Number(n, _) => numbers.push(*n),
            _ if is_list => {
                return Err(
                    "Inside anything but list, start|null|boolean is not supported.".to_owned(),
                )
            }
            _ => {
                return Err(
                    "Inside anything-but list, start|null|boolean is not supported.".to_owned(),
                )
            }
        }
    }
    match (strings.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(AnythingBut::Strings(strings)),
        (true, false) => Ok(AnythingBut::Numbers(numbers)),
        _ => Err("Inside anything but list, either all values are number or string, mixed type is not supported"
            .to_owned()),
    }
}

/// Refuses wildcard use EventBridge considers too expensive (see [`wildcard::complexity`]).
fn check_complexity(rules: &[Rule]) -> Result<(), String> {
    let mut checked: Vec<*const FieldSpec> = Vec::new();
    for (_, spec) in rules.iter().flatten() {
        let key = Arc::as_ptr(spec);
        if checked.contains(&key) {
            continue;
        }
        checked.push(key);
        let mut terms: Vec<Vec<&Wildcard>> = Vec::new();
        for m in &spec.matchers {
            let term: Vec<&Wildcard> = match m {
                Matcher::Wildcard(w) => vec![w],
                Matcher::AnythingBut(AnythingBut::Wildcards(ws)) => {
                    let mut ws: Vec<&Wildcard> = ws.iter().collect();
                    ws.sort_by(|a, b| a.source().cmp(b.source()));
                    ws.dedup_by(|a, b| a.source() == b.source());
                    ws
                }
                _ => continue,
            };
            let same = |t: &Vec<&Wildcard>| {
                t.len() == term.len() && t.iter().zip(&term).all(|(a, b)| a.source() == b.source())
            };
            if !terms.iter().any(same) {
                terms.push(term);
            }
        }
        if !terms.is_empty() && wildcard::too_complex(&terms) {
            return Err("Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character".to_owned());
        }
    }
    Ok(())
}
