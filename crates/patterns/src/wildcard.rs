//! The `wildcard` operator: `*` matches any run of bytes (including none); `\*` and `\\` are a
//! literal star and backslash. Also the rule-complexity check EventBridge applies to wildcards.

use std::collections::{BTreeSet, HashMap, HashSet};

/// One element of a compiled wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Byte(u8),
    Star,
}

/// A validated wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    source: String,
    tokens: Vec<Token>,
}

impl Wildcard {
    /// Compiles `text`; the error is AWS's reason. Positions count UTF-8 bytes and, as in
    /// event-ruler (which parses the value with its surrounding quotes), start at 1.
    pub(crate) fn parse(text: &str) -> Result<Wildcard, String> {
        let bytes = text.as_bytes();
        let mut tokens = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    tokens.push(Token::Star);
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&next @ (b'*' | b'\\')) => {
                        tokens.push(Token::Byte(next));
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                b => tokens.push(Token::Byte(b)),
            }
            i += 1;
        }
        Ok(Wildcard {
            source: text.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Whether `value` matches the whole pattern.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let text = value.as_bytes();
        let pattern = &self.tokens;
        let (mut t, mut p) = (0usize, 0usize);
        // Where to resume after the most recent star: (pattern index after it, text index).
        let mut resume: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some(Token::Star) => {
                    p += 1;
                    resume = Some((p, t));
                }
                Some(Token::Byte(b)) if *b == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match resume {
                    Some((after_star, from)) => {
                        p = after_star;
                        t = from + 1;
                        resume = Some((after_star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p.min(pattern.len())..]
            .iter()
            .all(|tok| *tok == Token::Star)
    }
}

/// Rules whose wildcards could leave a matcher in more than this many weighted states at once are
/// rejected ("Rule is too complex ...").
const COMPLEXITY_LIMIT: usize = 10;

/// Give up exploring (and call the rule too complex) past this many distinct state sets.
const MAX_STATE_SETS: usize = 10_000;

/// Stand-in token for "any byte that has no literal transition".
const OTHER: u16 = 256;

#[derive(Debug, Default)]
struct State {
    /// Transitions on one byte.
    literal: Vec<(u16, usize)>,
    /// Transitions on every byte (into a wildcard's self-looping state).
    any: Vec<usize>,
    /// The wildcard terms whose paths run through this state.
    weight: Vec<usize>,
    /// Shared trie children while every pattern so far is still literal.
    prefix: Vec<(u16, usize)>,
    /// Shared wildcard state reached from this (still literal) state.
    star: usize,
}

/// Estimates the complexity of one field's wildcard terms the way EventBridge's admission check
/// does: the patterns (each wrapped in the quotes event-ruler adds) are laid out as a byte machine
/// whose literal prefixes are shared, and the worst number of weighted states a single input could
/// occupy at once is returned (capped just above the limit). A term is a set of alternatives that
/// count once (an `anything-but` wildcard list); `terms` are assumed distinct.
///
/// This reproduces event-ruler's `MachineComplexityEvaluator` closely enough to accept and reject
/// the recorded AWS cases; it is not a byte-for-byte port.
pub(crate) fn complexity(terms: &[Vec<&Wildcard>]) -> usize {
    let mut states = vec![State::default()];
    let mut terminals: HashMap<usize, usize> = HashMap::new();
    let mut alphabet: BTreeSet<u16> = BTreeSet::new();

    for (id, term) in terms.iter().enumerate() {
        for wildcard in term {
            let mut tokens: Vec<u16> = Vec::with_capacity(wildcard.tokens.len() + 2);
            tokens.push(u16::from(b'"'));
            tokens.extend(wildcard.tokens.iter().map(|t| match t {
                Token::Byte(b) => u16::from(*b),
                Token::Star => OTHER,
            }));
            tokens.push(u16::from(b'"'));

            let (mut current, mut previous) = (0usize, 0usize);
            let mut determinate = true;
            for (i, &token) in tokens.iter().enumerate() {
                let terminal = i == tokens.len() - 1;
                let mut next = 0;
                if terminal {
                    next = terminals.get(&id).copied().unwrap_or(0);
                } else if token == OTHER {
                    if determinate {
                        next = states[current].star;
                        if next == 0 {
                            states[current].star = states.len();
                        }
                    }
                    determinate = false;
                } else if determinate {
                    next = lookup(&states[current].prefix, token).unwrap_or(0);
                }
                let created = next == 0;
                if created {
                    next = states.len();
                    states.push(State::default());
                    if terminal {
                        terminals.insert(id, next);
                    } else if determinate {
                        states[current].prefix.push((token, next));
                    }
                }
                if token == OTHER && !terminal {
                    if states[next].any.is_empty() {
                        states[current].any.push(next);
                        states[next].any.push(next);
                    }
                } else if terminal || created {
                    alphabet.insert(token);
                    states[current].literal.push((token, next));
                    if i > 0 && tokens[i - 1] == OTHER {
                        states[previous].literal.push((token, next));
                    }
                }
                if !states[next].weight.contains(&id) {
                    states[next].weight.push(id);
                }
                previous = current;
                current = next;
            }
        }
    }
    if states.len() == 1 {
        return 0;
    }

    let inputs: Vec<u16> = std::iter::once(OTHER)
        .chain(alphabet.iter().copied())
        .collect();
    let mut pending: Vec<Vec<usize>> = vec![vec![0]];
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    let mut worst = 0;
    while let Some(active) = pending.pop() {
        for &input in &inputs {
            let mut next: BTreeSet<usize> = BTreeSet::new();
            for &s in &active {
                next.extend(states[s].any.iter().copied());
                if input != OTHER {
                    next.extend(
                        states[s]
                            .literal
                            .iter()
                            .filter(|(b, _)| *b == input)
                            .map(|(_, n)| *n),
                    );
                }
            }
            if next.is_empty() {
                continue;
            }
            let mut size = 0;
            for &s in &next {
                size += states[s].weight.len();
                for wildcard in &states[s].any {
                    if !next.contains(wildcard) {
                        size += states[*wildcard].weight.len();
                    }
                }
            }
            if size > COMPLEXITY_LIMIT {
                return size;
            }
            worst = worst.max(size);
            let key: Vec<usize> = next.into_iter().collect();
            if !seen.contains(&key) {
                if seen.len() >= MAX_STATE_SETS {
                    return COMPLEXITY_LIMIT + 1;
                }
                seen.insert(key.clone());
                pending.push(key);
            }
        }
    }
    worst
}

/// Whether a field's wildcard terms are too complex for EventBridge.
pub(crate) fn too_complex(terms: &[Vec<&Wildcard>]) -> bool {
    complexity(terms) > COMPLEXITY_LIMIT
}

fn lookup(pairs: &[(u16, usize)], token: u16) -> Option<usize> {
    pairs.iter().find(|(t, _)| *t == token).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        Wildcard::parse(pattern).unwrap().matches(value)
    }

    #[test]
    fn star_matches_any_run() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything"));
        assert!(matches("a*", "a"));
        assert!(matches("*a", "bba"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(matches(
            "/Users/*/doc.txt",
            "/Users/ls_user/dir/dir/doc.txt"
        ));
        assert!(!matches(
            "/Users/*/doc.txt",
            "/Users/ls_user/dir/notdoc.txt.bak"
        ));
        assert!(matches("*/init/*", "dir/init/file"));
        assert!(!matches("*/dir/*", "dir/init/file"));
    }

    #[test]
    fn backtracks_over_repeated_sequences() {
        let p = "/Users/*/dir/dir/dir/dir/dir/doc.txt";
        assert!(matches(p, "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"));
        assert!(matches(p, "/Users/x/dir/dir/dir/dir/dir/dir/doc.txt"));
        assert!(!matches(
            p,
            "/Users/ls_user/dir/dir/dir/dir/otherdir/doc.txt"
        ));
        assert!(matches("*aab", "aaaab"));
    }

    #[test]
    fn empty_pattern_matches_only_empty() {
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn escapes() {
        assert!(matches(r"a\*b", "a*b"));
        assert!(!matches(r"a\*b", "axb"));
        assert!(matches(r"a\\*", r"a\anything"));
        assert_eq!(
            Wildcard::parse(r"a\b").unwrap_err(),
            "Invalid escape character at pos 2"
        );
        assert_eq!(
            Wildcard::parse("abc\\").unwrap_err(),
            "Invalid escape character at pos 4"
        );
    }

    #[test]
    fn consecutive_stars_are_rejected_with_quote_based_position() {
        assert_eq!(
            Wildcard::parse("arn:aws:events:us-east-1:**:event-bus/*").unwrap_err(),
            "Consecutive wildcard characters at pos 26"
        );
        assert_eq!(
            Wildcard::parse("**").unwrap_err(),
            "Consecutive wildcard characters at pos 1"
        );
    }

    #[test]
    fn multibyte_text_matches_bytewise() {
        assert!(matches("*🚀*", "emoji 🚀 here"));
        assert!(matches("é*", "été"));
    }

    fn complexity_of(patterns: &[&str]) -> usize {
        let parsed: Vec<Wildcard> = patterns
            .iter()
            .map(|p| Wildcard::parse(p).unwrap())
            .collect();
        let terms: Vec<Vec<&Wildcard>> = parsed.iter().map(|w| vec![w]).collect();
        complexity(&terms)
    }

    #[test]
    fn complexity_matches_the_recorded_aws_decisions() {
        // Rejected by AWS (content_wildcard_complex_EXC).
        assert!(complexity_of(&["*:*:*:*:*:event-bus/*"]) > COMPLEXITY_LIMIT);
        // Accepted by AWS.
        assert!(complexity_of(&["arn:aws:events:us-east-1:*:event-bus/*"]) <= COMPLEXITY_LIMIT);
        assert!(complexity_of(&["/Users/*/dir/dir/dir/dir/dir/doc.txt"]) <= COMPLEXITY_LIMIT);
        assert!(complexity_of(&["/Users/*/doc.txt"]) <= COMPLEXITY_LIMIT);
        assert!(complexity_of(&["*/init/*", "*/dir/*"]) <= COMPLEXITY_LIMIT);
        assert_eq!(complexity_of(&[]), 0);
    }

    #[test]
    fn complexity_matches_reported_aws_behaviour_for_several_wildcards() {
        // Reported in the wild: these four in one field are accepted ...
        assert!(complexity_of(&["*.bif", "*.tiff", "*.tif", "*.svs"]) <= COMPLEXITY_LIMIT);
        // ... these four are refused as too complex, and had to be split two per rule.
        let four = [
            "*/datasync/*.bif",
            "*/datasync/*.tiff",
            "*/datasync/*.tif",
            "*/datasync/*.svs",
        ];
        assert!(complexity_of(&four) > COMPLEXITY_LIMIT);
        assert!(complexity_of(&four[..2]) <= COMPLEXITY_LIMIT);
        assert!(complexity_of(&four[2..]) <= COMPLEXITY_LIMIT);
    }

    #[test]
    fn complexity_grows_with_alternatives() {
        let few = complexity_of(&["*.bif", "*.tif"]);
        let many = complexity_of(&["*a*", "*b*", "*c*", "*d*", "*e*", "*f*"]);
        assert!(few < many);
        assert!(many > COMPLEXITY_LIMIT);
    }
}
