//! Matching a compiled branch against an event, with event-ruler's array consistency.
//!
//! The event is not flattened up front: each pattern field walks the event along its dot-joined
//! path. A path step may be spelled as one key or several (`"detail.state"` in the pattern finds
//! both `{"detail": {"state": …}}` and `{"detail.state": …}`), arrays are transparent (their
//! elements are visited in place of the array), and each leaf (string, number, boolean, null) is
//! reported with its *array membership*: which element of which array (identified by address) it
//! sits in. A branch matches when every field is satisfied by a leaf and all the chosen leaves
//! agree on the element of every array they share — so `{"a": {"b": [1], "c": [2]}}` matches
//! `{"a": [{"b": 1, "c": 2}]}` but not `{"a": [{"b": 1}, {"c": 2}]}`.

use std::collections::HashMap;

use serde_json::Value;

use crate::compile::Field;

/// Arrays nested deeper than this (in one path walk) are not looked into, so that a hostile event
/// cannot exhaust the stack.
const MAX_WALK_DEPTH: usize = 256;

/// `(array address, element index)` for each array enclosing a leaf (or chosen so far).
type Membership = Vec<(usize, usize)>;

/// Whether every field of `fields` (sorted by path) holds for `event`.
///
/// Fields whose leaves sit in no array cannot constrain, or be constrained by, any other field,
/// so they are decided on their own in a first, allocation-free pass; this is all the work for a
/// typical event. The remaining fields are split into groups that share no array (which cannot
/// constrain each other either) and each group is searched with backtracking, so the cost grows
/// with the entanglement of fields through shared arrays, not with the product of all arrays.
pub(crate) fn branch_matches(fields: &[Field], event: &Value) -> bool {
    let mut entangled: Vec<&Field> = Vec::new();
    let mut stack = Membership::new();
    for field in fields {
        let (mut matched, mut present, mut in_array) = (false, false, false);
        visit_leaves(
            event,
            &field.path,
            &mut stack,
            0,
            &mut |leaf, membership| {
                present = true;
                in_array |= !membership.is_empty();
                matched = matched || field.spec.matchers.iter().any(|m| m.matches(leaf));
                // Nothing more to learn once the field is known to match and to need the search.
                matched && in_array
            },
        );
        if !in_array {
            if !(matched || (field.spec.absent && !present)) {
                return false;
            }
        } else if !matched && !field.spec.absent {
            return false;
        } else {
            entangled.push(field);
        }
    }
    entangled.is_empty() || solve_entangled(&entangled, event)
}

/// The leaves one entangled field can use.
struct Candidates {
    /// Memberships of the leaves that satisfy the field's tests.
    matching: Vec<Membership>,
    /// Memberships of all leaves at the path (kept only for `exists: false`).
    present: Vec<Membership>,
    absent: bool,
}

fn solve_entangled(fields: &[&Field], event: &Value) -> bool {
    let mut candidates: Vec<Candidates> = Vec::with_capacity(fields.len());
    let mut stack = Membership::new();
    for field in fields {
        let mut c = Candidates {
            matching: Vec::new(),
            present: Vec::new(),
            absent: field.spec.absent,
        };
        visit_leaves(
            event,
            &field.path,
            &mut stack,
            0,
            &mut |leaf, membership| {
                if field.spec.matchers.iter().any(|m| m.matches(leaf)) {
                    c.matching.push(membership.to_vec());
                }
                if c.absent {
                    c.present.push(membership.to_vec());
                }
                false
            },
        );
        candidates.push(c);
    }

    // Group fields that share an array (union-find over field indices).
    let mut group: Vec<usize> = (0..candidates.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    let mut owner: HashMap<usize, usize> = HashMap::new(); // array -> first field touching it
    for (i, c) in candidates.iter().enumerate() {
        for &(array, _) in c.matching.iter().chain(&c.present).flatten() {
            let j = *owner.entry(array).or_insert(i);
            let (ri, rj) = (root(&mut group, i), root(&mut group, j));
            group[ri] = rj;
        }
    }
    let roots: Vec<usize> = (0..candidates.len()).map(|i| root(&mut group, i)).collect();
    let mut done: Vec<usize> = Vec::new();
    for &r in &roots {
        if done.contains(&r) {
            continue;
        }
        done.push(r);
        let members: Vec<&Candidates> = candidates
            .iter()
            .zip(&roots)
            .filter(|(_, g)| **g == r)
            .map(|(c, _)| c)
            .collect();
        if !search(&members, &mut Membership::new()) {
            return false;
        }
    }
    true
}

/// Backtracking over one group of fields, in path order (as event-ruler steps through them).
fn search(fields: &[&Candidates], chosen: &mut Membership) -> bool {
    let Some((field, rest)) = fields.split_first() else {
        return true;
    };
    for membership in &field.matching {
        if !consistent(chosen, membership) {
            continue;
        }
        let before = chosen.len();
        for &(array, index) in membership {
            if !chosen.iter().any(|&(a, _)| a == array) {
                chosen.push((array, index));
            }
        }
        let ok = search(rest, chosen);
        chosen.truncate(before);
        if ok {
            return true;
        }
    }
    // `exists: false` holds when no leaf at the path could belong with the leaves chosen so far.
    field.absent && !field.present.iter().any(|m| consistent(chosen, m)) && search(rest, chosen)
}

/// No array is at a different element in `membership` than in `chosen`.
fn consistent(chosen: &[(usize, usize)], membership: &[(usize, usize)]) -> bool {
    membership
        .iter()
        .all(|&(array, index)| chosen.iter().all(|&(a, i)| a != array || i == index))
}

type Visitor<'v> = dyn FnMut(&Value, &[(usize, usize)]) -> bool + 'v;

fn array_id(value: &Value) -> usize {
    std::ptr::from_ref(value) as usize
}

/// Calls `f` for every leaf at dot-joined `path` below `value` until it returns true; returns
/// whether it did.
fn visit_leaves(
    value: &Value,
    path: &str,
    stack: &mut Membership,
    depth: usize,
    f: &mut Visitor<'_>,
) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    match value {
        Value::Object(map) => {
            if let Some(v) = map.get(path) {
                if visit_terminal(v, stack, depth + 1, f) {
                    return true;
                }
            }
            for (dot, _) in path.match_indices('.') {
                if let Some(v) = map.get(&path[..dot]) {
                    if visit_leaves(v, &path[dot + 1..], stack, depth + 1, f) {
                        return true;
                    }
                }
            }
            false
        }
        Value::Array(items) => {
            let id = array_id(value);
            for (index, item) in items.iter().enumerate() {
                stack.push((id, index));
                let stop = visit_leaves(item, path, stack, depth + 1, f);
                stack.pop();
                if stop {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// The leaves of the value found at the end of a path: itself, or (for arrays) the leaves of its
/// elements; objects hold no leaves at this path.
fn visit_terminal(
    value: &Value,
    stack: &mut Membership,
    depth: usize,
    f: &mut Visitor<'_>,
) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    match value {
        Value::Object(_) => false,
        Value::Array(items) => {
            let id = array_id(value);
            for (index, item) in items.iter().enumerate() {
                stack.push((id, index));
                let stop = visit_terminal(item, stack, depth + 1, f);
                stack.pop();
                if stop {
                    return true;
                }
            }
            false
        }
        leaf => f(leaf, stack),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Pattern;

    fn matches(pattern: &str, event: serde_json::Value) -> bool {
        Pattern::parse(pattern).unwrap().matches(&event)
    }

    #[test]
    fn fields_under_an_array_of_objects_must_share_an_element() {
        let p = r#"{"detail": {"items": {"name": ["a"], "size": [2]}}}"#;
        assert!(matches(
            p,
            json!({"detail": {"items": [{"name": "a", "size": 2}]}})
        ));
        assert!(matches(
            p,
            json!({"detail": {"items": [{"name": "b", "size": 1}, {"name": "a", "size": 2}]}})
        ));
        assert!(!matches(
            p,
            json!({"detail": {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}]}})
        ));
        assert!(!matches(
            p,
            json!({"detail": {"items": [{"name": "a"}, {"size": 2}]}})
        ));
    }

    #[test]
    fn separate_arrays_do_not_constrain_each_other() {
        let p = r#"{"a": {"x": [1]}, "b": {"y": [2]}}"#;
        assert!(matches(
            p,
            json!({"a": [{"x": 0}, {"x": 1}], "b": [{"y": 2}, {"y": 3}]})
        ));
    }

    #[test]
    fn nested_arrays_are_consistent_per_level() {
        let p = r#"{"a": {"b": {"c": [1], "d": [2]}}}"#;
        // Same inner element.
        assert!(matches(p, json!({"a": [{"b": [{"c": 1, "d": 2}]}]})));
        // Same outer element, different inner elements.
        assert!(!matches(p, json!({"a": [{"b": [{"c": 1}, {"d": 2}]}]})));
        // Different outer elements.
        assert!(!matches(
            p,
            json!({"a": [{"b": [{"c": 1}]}, {"b": [{"d": 2}]}]})
        ));
    }

    #[test]
    fn backtracks_to_find_a_consistent_choice() {
        let p = r#"{"r": {"k": ["x"], "v": [{"prefix": "ok"}]}}"#;
        let e =
            json!({"r": [{"k": "x", "v": "bad"}, {"k": "y", "v": "ok1"}, {"k": "x", "v": "ok2"}]});
        assert!(matches(p, e));
    }

    #[test]
    fn arrays_of_scalars_match_any_element() {
        assert!(matches(
            r#"{"resources": ["b"]}"#,
            json!({"resources": ["a", "b"]})
        ));
        assert!(matches(r#"{"m": [3]}"#, json!({"m": [[1, 2], [3]]})));
        assert!(!matches(
            r#"{"resources": [{"exists": true}]}"#,
            json!({"resources": []})
        ));
    }

    #[test]
    fn exists_false_respects_array_consistency() {
        let p = r#"{"a": {"b": [3], "c": [{"exists": false}]}}"#;
        assert!(matches(p, json!({"a": [{"b": 1, "c": 2}, {"b": 3}]})));
        assert!(!matches(p, json!({"a": [{"b": 1}, {"b": 3, "c": 2}]})));
    }

    #[test]
    fn dotted_keys_and_nested_objects_are_the_same_path() {
        assert!(matches(
            r#"{"a": {"b.c": [1]}}"#,
            json!({"a": {"b": {"c": 1}}})
        ));
        assert!(matches(
            r#"{"a": {"b": {"c": [1]}}}"#,
            json!({"a.b": {"c": 1}})
        ));
        assert!(matches(r#"{"a.b.c": [1]}"#, json!({"a": {"b.c": 1}})));
        assert!(!matches(
            r#"{"a": {"b": [1]}}"#,
            json!({"a": {"b": {"c": 1}}})
        ));
    }

    #[test]
    fn independent_arrays_are_not_searched_as_a_product() {
        // Without splitting into independent groups this would try 3000 × 3000 combinations
        // before finding that `c.x` and `c.y` never share an element.
        let big: Vec<serde_json::Value> = (0..3000).map(|i| json!({"v": i})).collect();
        let event = json!({
            "a": big.clone(),
            "b": big,
            "c": [{"x": "1"}, {"y": "2"}],
        });
        let p = r#"{"a": {"v": [{"exists": true}]}, "b": {"v": [{"exists": true}]}, "c": {"x": ["1"], "y": ["2"]}}"#;
        assert!(!matches(p, event.clone()));
        let q =
            r#"{"a": {"v": [2999]}, "b": {"v": [{"numeric": [">", 2990]}]}, "c": {"x": ["1"]}}"#;
        assert!(matches(q, event));
    }

    #[test]
    fn deep_arrays_do_not_overflow() {
        let mut v = json!("x");
        for _ in 0..300 {
            v = serde_json::Value::Array(vec![v]);
        }
        let event = json!({"a": v});
        assert!(!matches(r#"{"a": ["x"]}"#, event.clone()));
        // Leaves below the walk limit are not seen at all.
        assert!(matches(r#"{"a": [{"exists": false}]}"#, event));
    }

    /// The plain definition, without the fast path or the split into independent groups:
    /// backtracking over every field in path order.
    fn reference(
        fields: &[crate::compile::Field],
        event: &serde_json::Value,
        chosen: &mut super::Membership,
    ) -> bool {
        let Some((field, rest)) = fields.split_first() else {
            return true;
        };
        let mut leaves: Vec<(serde_json::Value, super::Membership)> = Vec::new();
        super::visit_leaves(event, &field.path, &mut Vec::new(), 0, &mut |leaf, m| {
            leaves.push((leaf.clone(), m.to_vec()));
            false
        });
        for (leaf, m) in &leaves {
            if super::consistent(chosen, m) && field.spec.matchers.iter().any(|x| x.matches(leaf)) {
                let before = chosen.len();
                for &(a, i) in m {
                    if !chosen.iter().any(|&(c, _)| c == a) {
                        chosen.push((a, i));
                    }
                }
                let ok = reference(rest, event, chosen);
                chosen.truncate(before);
                if ok {
                    return true;
                }
            }
        }
        field.spec.absent
            && !leaves.iter().any(|(_, m)| super::consistent(chosen, m))
            && reference(rest, event, chosen)
    }

    fn small_event() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![(0..3i32).prop_map(|n| json!(n)), Just(json!(null))];
        let tree = leaf.prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b", "c"]),
                    inner.clone(),
                    0..3
                )
                .prop_map(|m| json!(m)),
                prop::collection::vec(inner, 0..3).prop_map(serde_json::Value::Array),
            ]
        });
        prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c"]), tree, 1..4)
            .prop_map(|m| json!(m))
    }

    fn small_pattern() -> impl Strategy<Value = serde_json::Value> {
        let path =
            prop::sample::select(vec!["a", "b", "a.a", "a.b", "b.a", "a.a.b", "c.b", "a.c.a"]);
        let test = prop_oneof![
            (0..3i32).prop_map(|n| json!(n)),
            Just(json!(null)),
            Just(json!({"exists": true})),
            Just(json!({"exists": false})),
            Just(json!({"anything-but": 1})),
        ];
        prop::collection::vec((path, prop::collection::vec(test, 1..3)), 1..4).prop_map(|fields| {
            let mut pattern = serde_json::Map::new();
            for (path, tests) in fields {
                pattern.insert(path.to_owned(), serde_json::Value::Array(tests));
            }
            serde_json::Value::Object(pattern)
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn fast_path_and_grouping_agree_with_plain_backtracking(event in small_event(), pattern in small_pattern()) {
            let compiled = Pattern::from_value(&pattern).unwrap();
            let expected = compiled.branches.iter().any(|b| reference(b, &event, &mut Vec::new()));
            prop_assert_eq!(compiled.matches(&event), expected, "pattern {} event {}", pattern, event);
        }
    }
}
