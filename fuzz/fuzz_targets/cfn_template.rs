//! CloudFormation templates (JSON or YAML): parsed and checked as CreateStack and
//! ValidateTemplate check them, then asked which capability they need. Input: the template body.
#![no_main]

use kms_workshop_sandbox::services::cloudformation::template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = template::check(body) {
        let _ = template::required_capability(&t);
    }
});
