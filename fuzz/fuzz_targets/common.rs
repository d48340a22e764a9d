//! Shared by the decoder targets: split one fuzz input into a "head" (header value, path or
//! query string: the first line) and a body, and drive every accessor of a decoded [`Input`],
//! because form inputs are parsed lazily, member by member, when services ask for them.

#![allow(dead_code)]

use std::collections::BTreeSet;

use kms_workshop_sandbox::protocol::Input;

/// (first line, rest): the first line stands for a header, path or query string.
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Member names worth asking for: every dotted segment of the form keys or JSON object keys,
/// plus the names AWS's list and map conventions use.
fn names(input: &Input) -> Vec<String> {
    let mut out: BTreeSet<String> = ["member", "entry", "key", "value", "Name", "Value", "1"]
        .into_iter()
        .map(String::from)
        .collect();
    collect(&input.json_view(), &mut out, 0);
    out.into_iter().take(12).collect()
}

fn collect(v: &serde_json::Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 4 || out.len() > 64 {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                for seg in k.split('.') {
                    out.insert(seg.to_string());
                }
                collect(v, out, depth + 1);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect(v, out, depth + 1)),
        _ => {}
    }
}

/// Ask `input` for every member in every way a service can; nothing may panic.
pub fn exercise(input: &Input) {
    let names = names(input);
    walk(input, &names, 0);
}

fn walk(input: &Input, names: &[String], depth: usize) {
    let _ = input.as_str();
    let _ = input.json_view();
    // Two levels (a member's members) reach every accessor on every shape; deeper walks
    // multiply the cost per input without reaching new decoder code.
    if depth >= 2 {
        return;
    }
    for name in names {
        let _ = input.has(name);
        let _ = input.str(name);
        let _ = input.req_str(name);
        let _ = input.int(name);
        let _ = input.float(name);
        let _ = input.bool(name);
        let _ = input.blob(name);
        let _ = input.time(name);
        let _ = input.str_list(name);
        let _ = input.str_map(name);
        if let Ok(entries) = input.entries(name, "Name", "Value") {
            for (_, v) in entries.iter().take(2) {
                walk(v, names, depth + 1);
            }
        }
        if let Some(child) = input.child(name) {
            walk(&child, names, depth + 1);
        }
        if let Ok(items) = input.list(name) {
            for item in items.iter().take(2) {
                walk(item, names, depth + 1);
            }
        }
    }
}
