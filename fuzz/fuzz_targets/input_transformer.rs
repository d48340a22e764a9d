//! EventBridge InputTransformer: the InputPathsMap's JSONPaths applied to an event and the
//! InputTemplate filled in. Input: first line the paths map (JSON object), second line the
//! template, the rest the event (JSON).
#![no_main]

use std::collections::BTreeMap;

use kms_workshop_sandbox::services::events::payload;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (paths, rest) = common::split(data);
    let (template, event) = common::split(rest);
    let Ok(paths) = serde_json::from_slice::<BTreeMap<String, String>>(paths) else {
        return;
    };
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(event) else {
        return;
    };
    let template = String::from_utf8_lossy(template);
    for path in paths.values() {
        let _ = payload::json_path(&event, path);
    }
    let _ = payload::transform_input(
        &paths,
        &template,
        "arn:aws:events:us-east-1:111122223333:rule/r",
        "r",
        &event,
    );
});
