//! What a learner needs to do a step themselves, in another terminal: for the sandbox this
//! runner hosts, the exact lines that point the AWS CLI at it (also kept in a file they can
//! source again), where their inbox is, and a sign-in link to its web console. Against AWS or a sandbox served elsewhere the
//! learner's terminal already reaches the account.

use std::path::PathBuf;

use aws_credential_types::provider::ProvideCredentials;

use super::Ctx;
use crate::target::TargetKind;

/// The file the settings are kept in (beside the progress file).
pub fn settings_file(cx: &Ctx) -> PathBuf {
    cx.files_dir().join("sandbox.env")
}

/// Say how to reach the hosted sandbox from another terminal: the settings in full the first
/// time, then where they are kept.
pub async fn show_settings(cx: &mut Ctx) {
    if cx.target.kind != TargetKind::Sandbox {
        return;
    }
    let Some(endpoint) = cx.target.endpoint.clone() else {
        return;
    };
    let keys = match cx.target.config.credentials_provider() {
        Some(p) => p.provide_credentials().await.ok(),
        None => None,
    };
    let Some(keys) = keys else {
        return;
    };
    let lines = crate::sandbox_access::env_lines(&endpoint, &keys, &cx.target.region);
    let file = settings_file(cx);
    let kept = keep(&file, &lines);
    if cx.settings_shown {
        if kept.is_ok() {
            cx.ui.say(format!(
                "In your other terminal the sandbox's settings are still set (else: . {}).",
                crate::util::shell_word(&file.display().to_string())
            ));
        }
        return;
    }
    cx.settings_shown = true;
    cx.ui.say(format!(
        "The sandbox runs inside this runner, at {endpoint}, as long as it runs. In another \
         terminal, point the AWS CLI at it:"
    ));
    for l in &lines {
        cx.ui.say(format!("  {l}"));
    }
    match kept {
        Ok(()) => cx.ui.say(format!(
            "(kept in {}: `. {}` sets them again in any terminal)",
            file.display(),
            crate::util::shell_word(&file.display().to_string())
        )),
        Err(e) => tracing::warn!(error = %e, "the sandbox settings are not kept in a file"),
    }
    cx.ui.say(format!(
        "Your inbox: kms-workshop sandbox inbox --endpoint {endpoint}"
    ));
    show_console_link(cx);
}

/// The hosted sandbox's web console, where the chapter's steps can be done as the workshop
/// words them: a one-time sign-in link for the learner, and how to get another.
fn show_console_link(cx: &Ctx) {
    let Some(sb) = cx.target.sandbox() else {
        return;
    };
    let who = kms_workshop_sandbox::console_signin::Who {
        number: 1,
        account: cx.target.account.clone(),
    };
    let Some((url, lifetime)) = sb.console_link(who) else {
        return;
    };
    cx.ui.say(format!(
        "Or do the steps in the web console, as the workshop describes them: {url}"
    ));
    cx.ui.say(format!(
        "(the link signs you in once, within {} minutes; another: . the settings file, then \
         kms-workshop sandbox env --console)",
        lifetime.as_secs() / 60
    ));
}

/// Write `lines` to `file`, readable by this user only (they carry the sandbox keys).
fn keep(file: &std::path::Path, lines: &[String]) -> std::io::Result<()> {
    let mut text = format!(
        "# The AWS CLI settings for the kms-workshop sandbox: . {}\n",
        crate::util::shell_word(&file.display().to_string()).replace('\n', " ")
    );
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    crate::util::write_private(file, text.as_bytes())
}
