//! A `kms-workshop` command as one person at a clean machine runs it: a private home and data
//! directory, no AWS configuration or credentials files, no instance metadata, the sandbox's
//! region and the access key it is given. Every benchmark that runs the binary as a child starts
//! it here, so no figure depends on what the benchmarking machine's own environment holds; and
//! the keys a learner of a served sandbox is handed, as `sandbox env` hands them out.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use kms_workshop_sandbox::seed;

/// `bin` with nothing of this process's environment but `PATH`, at home in `home`, signing
/// with `(access_key_id, secret_access_key)`.
pub fn workshop(
    bin: &Path,
    home: &Path,
    (access_key_id, secret_access_key): (&str, &str),
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(bin);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", seed::REGION)
        .env("AWS_ACCESS_KEY_ID", access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret_access_key);
    command
}

/// Where `kms-workshop` takes an admin token from before the state directory's file
/// (`sandbox_access::TOKEN_ENV` there): a benchmark's children get none from its environment.
const TOKEN_ENV: &str = "KMS_WORKSHOP_SANDBOX_TOKEN";

/// `command` at home in `home` (its data directory too, where a served sandbox publishes its
/// admin token), with no admin token from this process's environment.
pub fn at_home(command: &mut std::process::Command, home: &Path) {
    command
        .env("HOME", home)
        .env("XDG_DATA_HOME", home)
        .env_remove(TOKEN_ENV);
}

/// An aws-sdk-kms client signing as learner `k` of the sandbox serving `state` at `endpoint`.
pub async fn learner_client(
    bin: &Path,
    state: &Path,
    endpoint: &str,
    k: u32,
) -> Result<aws_sdk_kms::Client> {
    let keys = sandbox_env(bin, state, endpoint, k)?;
    let key = |name: &str| {
        keys.get(name)
            .with_context(|| format!("`kms-workshop sandbox env --learner {k}` printed no {name}"))
    };
    let config = kms_workshop_testkit::credentials_config(
        endpoint,
        key("AWS_ACCESS_KEY_ID")?,
        key("AWS_SECRET_ACCESS_KEY")?,
        None,
    )
    .await;
    Ok(aws_sdk_kms::Client::new(&config))
}

/// What `kms-workshop sandbox env --learner K` exports for the sandbox serving `state` at
/// `endpoint` (its admin token read from the state directory, as an instructor's shell does).
pub fn sandbox_env(
    bin: &Path,
    state: &Path,
    endpoint: &str,
    k: u32,
) -> Result<HashMap<String, String>> {
    let out = std::process::Command::new(bin)
        .env_remove(TOKEN_ENV)
        .args(["sandbox", "env", "--endpoint", endpoint, "--learner"])
        .arg(k.to_string())
        .arg("--state-dir")
        .arg(state)
        .output()
        .context("running kms-workshop sandbox env")?;
    if !out.status.success() {
        bail!(
            "sandbox env --learner {k}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(kms_workshop_testkit::parse_exports(
        &String::from_utf8_lossy(&out.stdout),
    ))
}
