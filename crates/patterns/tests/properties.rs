//! Properties of pattern matching that must hold for any event, and robustness: no input, however
//! malformed, makes parsing or matching panic.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used)]

use kms_workshop_patterns::Pattern;
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

/// Scalar JSON values as they appear in events.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![Just("10.0.0.1"), Just("2001:db8::1"), Just(""), Just("a.b")]
            .prop_map(|s| json!(s)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[a-z]{1,3}"
}

/// Event-shaped JSON: objects of scalars, arrays of scalars and arrays of objects.
fn event() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![3 => scalar(), 1 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array)];
    let tree = leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::btree_map(key(), inner.clone(), 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            prop::collection::vec(
                prop::collection::btree_map(key(), inner, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
                1..3
            )
            .prop_map(Value::Array),
        ]
    });
    prop::collection::btree_map(key(), tree, 1..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A pattern requiring the event's own leaf values: each scalar becomes `[value]`, an array of
/// scalars contributes its first element, an array of objects the fields of its first element.
/// `None` when the object has nothing to require.
fn pattern_from(object: &Map<String, Value>) -> Option<Value> {
    let mut pattern = Map::new();
    for (k, v) in object {
        let part = match v {
            Value::Object(inner) => pattern_from(inner),
            Value::Array(items) => match items.first() {
                Some(Value::Object(inner)) => pattern_from(inner),
                Some(Value::Array(_)) | None => None,
                Some(first) => Some(json!([first])),
            },
            scalar => Some(json!([scalar])),
        };
        if let Some(part) = part {
            pattern.insert(k.clone(), part);
        }
    }
    (!pattern.is_empty()).then_some(Value::Object(pattern))
}

/// Arbitrary JSON, biased towards pattern vocabulary so that validation is explored deeply.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "prefix",
        "suffix",
        "anything-but",
        "numeric",
        "exists",
        "wildcard",
        "cidr",
        "equals-ignore-case",
        "$or",
        "exactly",
        "<",
        "<=",
        "=",
        ">",
        ">=",
        "*",
        "a**b",
        "x*y\\",
        "10.0.0.0/24",
        "::1/64",
        "10.0.0.1",
        "1/2/3",
        "",
        "a.b",
    ]);
    let leaf = prop_oneof![scalar(), words.clone().prop_map(|w| json!(w)),];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        let key = prop_oneof![words.clone().prop_map(str::to_owned), "[a-z.$]{0,3}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_pattern_of_the_events_own_values_matches_it(event in event()) {
        let Value::Object(object) = &event else { unreachable!() };
        let pattern = pattern_from(object);
        prop_assume!(pattern.is_some());
        let pattern = pattern.unwrap();
        let compiled = Pattern::from_value(&pattern).unwrap();
        prop_assert!(compiled.matches(&event), "pattern {pattern} should match {event}");
        // The same through the text form (the event too: serde_json's default float parsing
        // may differ from the generated double in the last bit, identically for both).
        let event_text: Value = serde_json::from_str(&event.to_string()).unwrap();
        prop_assert!(Pattern::parse(&pattern.to_string()).unwrap().matches(&event_text));
    }

    #[test]
    fn anything_but_a_value_never_matches_that_value(
        value in prop_oneof![
            "\\PC{0,12}".prop_map(|s| json!(s)),
            any::<i32>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter_map("finite", Number::from_f64).prop_map(Value::Number),
        ],
        others in prop::collection::vec("[a-z]{0,4}", 0..3),
        as_list in any::<bool>(),
    ) {
        let operand = if as_list && value.is_string() {
            let mut list = vec![value.clone()];
            list.extend(others.iter().map(|o| json!(o)));
            Value::Array(list)
        } else if as_list {
            json!([value.clone()])
        } else {
            value.clone()
        };
        let pattern = Pattern::from_value(&json!({"detail": {"f": [{"anything-but": operand}]}})).unwrap();
        let plain = json!({"detail": {"f": value.clone()}});
        let in_array = json!({"detail": {"f": [value]}});
        prop_assert!(!pattern.matches(&plain));
        prop_assert!(!pattern.matches(&in_array));
    }

    #[test]
    fn a_prefix_of_a_string_matches_it(s in "\\PC{0,16}", cut in any::<prop::sample::Index>()) {
        let boundaries: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
        let prefix = &s[..*cut.get(&boundaries)];
        let event = json!({"detail": {"name": s}});
        let pattern = Pattern::from_value(&json!({"detail": {"name": [{"prefix": prefix}]}})).unwrap();
        prop_assert!(pattern.matches(&event));
        let ignoring_case = json!({"detail": {"name": [{"prefix": {"equals-ignore-case": prefix.to_uppercase()}}]}});
        if prefix.is_ascii() {
            prop_assert!(Pattern::from_value(&ignoring_case).unwrap().matches(&event));
        }
    }

    #[test]
    fn a_string_matches_itself_as_suffix_and_escaped_wildcard(s in "\\PC{0,16}") {
        let event = json!({"f": s});
        let suffix = Pattern::from_value(&json!({"f": [{"suffix": s}]})).unwrap();
        prop_assert!(suffix.matches(&event));
        let escaped = s.replace('\\', "\\\\").replace('*', "\\*");
        let wildcard = Pattern::from_value(&json!({"f": [{"wildcard": escaped}]})).unwrap();
        prop_assert!(wildcard.matches(&event));
        let star = Pattern::from_value(&json!({"f": [{"wildcard": "*"}]})).unwrap();
        prop_assert!(star.matches(&event));
    }

    #[test]
    fn parsing_and_matching_arbitrary_json_never_panics(pattern in arbitrary_json(), event in arbitrary_json()) {
        let from_value = Pattern::from_value(&pattern);
        let from_text = Pattern::parse(&pattern.to_string());
        // Both routes agree on validity and on the reason.
        prop_assert_eq!(
            from_value.as_ref().map(|_| ()).map_err(|e| e.message().to_owned()),
            from_text.as_ref().map(|_| ()).map_err(|e| e.message().to_owned())
        );
        match from_value {
            Ok(p) => {
                let _ = p.matches(&event);
                let _ = p.matches(&json!({"wrapped": event}));
            }
            Err(e) => prop_assert!(e.message().starts_with("Event pattern is not valid. Reason: ")),
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,64}") {
        if let Err(e) = Pattern::parse(&text) {
            prop_assert!(e.message().starts_with("Event pattern is not valid. Reason: "));
        }
    }
}
