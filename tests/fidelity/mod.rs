//! The sandbox answers as AWS answers: each deviation once found is a test here, asserting
//! AWS's error code and message through the `aws` CLI with the CLI's own parameter checks off,
//! so that what the sandbox answers is what is seen.

use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;

mod deviations;
mod tools;
mod validation;

/// The `aws` CLI as the learner, without botocore's client-side parameter validation.
fn unchecked(ep: &str) -> Command {
    static CONFIG: OnceLock<std::path::PathBuf> = OnceLock::new();
    let path = CONFIG.get_or_init(|| {
        let p = std::env::temp_dir().join(format!(
            "kms-workshop-unchecked-{}.config",
            std::process::id()
        ));
        std::fs::write(&p, "[default]\nparameter_validation = false\n").expect("CLI config");
        p
    });
    let mut c = aws(ep);
    c.env("AWS_CONFIG_FILE", path);
    c
}

/// Run, expect an AWS error; its code and message.
fn refused(cmd: &mut Command) -> (String, String) {
    let out = run_fail(cmd);
    let err = stderr_of(&out);
    let code = cli_error_code(&err)
        .unwrap_or_else(|| panic!("no AWS error: {err}"))
        .to_string();
    let message = err
        .split_once(" operation: ")
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    (code, message)
}

/// Run `args` with the unchecked CLI and expect `code` with exactly `message`.
fn answers(ep: &str, args: &[&str], code: &str, message: &str) {
    let (c, m) = refused(unchecked(ep).args(args));
    assert_eq!((c.as_str(), m.as_str()), (code, message), "{args:?}");
}

/// `t` as the CLI takes times.
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time")
}
