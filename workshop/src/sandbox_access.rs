//! Reaching a running sandbox's control API: where its admin token is found, and the client
//! that presents it (or, without it, signs as the learner whose keys are in the environment).
//!
//! `sandbox serve` leaves its token where the same user's other `kms-workshop` commands find it
//! (a 0600 file per endpoint under the data directory, removed when it stops), so that
//! `eval "$(kms-workshop sandbox env)"` in a second shell needs nothing more. Elsewhere the
//! token is given with `--token` or `KMS_WORKSHOP_SANDBOX_TOKEN`, or read from the state
//! directory's `admin.token` with `--state-dir`.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kms_workshop_sandbox::access::TOKEN_FILE;
use kms_workshop_sandbox::http::admin_api::AdminClient;

/// The environment variable that carries the admin token.
pub const TOKEN_ENV: &str = "KMS_WORKSHOP_SANDBOX_TOKEN";

/// Where a running sandbox is and how to prove the right to control it.
#[derive(Args, Clone)]
pub struct Reach {
    /// The sandbox's URL.
    #[arg(
        long,
        env = "KMS_WORKSHOP_ENDPOINT",
        default_value = "http://127.0.0.1:4599"
    )]
    pub endpoint: String,
    /// The sandbox's admin token (default: the one `sandbox serve` left for this endpoint on
    /// this machine, or DIR/admin.token with --state-dir).
    #[arg(long, env = TOKEN_ENV, hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Read the admin token from this file (a token on the command line shows in `ps`).
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// The running sandbox's state directory, to read its admin token from.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

// Hand-written so the token never reaches a log line.
impl std::fmt::Debug for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reach")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("token_file", &self.token_file)
            .field("state_dir", &self.state_dir)
            .finish()
    }
}

impl Reach {
    /// The sandbox at `endpoint`, its token from the environment or where `sandbox serve` left it.
    pub fn at(endpoint: &str) -> Reach {
        Reach {
            endpoint: endpoint.to_string(),
            token: std::env::var(TOKEN_ENV).ok(),
            token_file: None,
            state_dir: None,
        }
    }

    /// The admin token, if one is to be had.
    pub fn token(&self) -> Result<Option<String>> {
        if let Some(t) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            return Ok(Some(t.to_string()));
        }
        let path = match (&self.token_file, &self.state_dir) {
            (Some(file), _) => Some(file.clone()),
            (None, Some(dir)) => Some(dir.join(TOKEN_FILE)),
            (None, None) => None,
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read the sandbox's admin token from {}",
                    path.display()
                )
            })?;
            return Ok(Some(text.trim().to_string()));
        }
        Ok(published_token(&self.endpoint))
    }

    /// A control client with the admin token, else signing as the environment's AWS keys.
    pub fn client(&self) -> Result<AdminClient> {
        let client = AdminClient::new(&self.endpoint).with_token(self.token()?);
        Ok(match (client.has_token(), environment_keys()) {
            (false, Some((keys, region))) => client.signed_as(keys, &region),
            _ => client,
        })
    }
}

/// The AWS keys and region in the environment (as `eval "$(kms-workshop sandbox env)"` sets
/// them), for a learner's own control calls.
fn environment_keys() -> Option<(aws_credential_types::Credentials, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let keys = aws_credential_types::Credentials::new(
        var("AWS_ACCESS_KEY_ID")?,
        var("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| kms_workshop_sandbox::seed::REGION.to_string());
    Some((keys, region))
}

/// The file `sandbox serve` leaves its token in for `endpoint`.
fn published_path(endpoint: &str) -> Option<PathBuf> {
    let url = url::Url::parse(endpoint).ok()?;
    let host = match url.host_str()? {
        "localhost" => "127.0.0.1".to_string(),
        h => h.trim_matches(|c| c == '[' || c == ']').replace(':', "_"),
    };
    let port = url.port_or_known_default()?;
    Some(
        crate::target::data_dir()?
            .join("sandboxes")
            .join(format!("{host}_{port}.token")),
    )
}

/// The token `sandbox serve` left for `endpoint`, if a file only its owner can reach holds it
/// (in a directory no one else can write to, so no one else can have put it there).
fn published_token(endpoint: &str) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let path = published_path(endpoint)?;
    let dir = std::fs::symlink_metadata(path.parent()?).ok()?;
    let file = std::fs::symlink_metadata(&path).ok()?;
    let private = |m: &std::fs::Metadata| m.permissions().mode() & 0o077 == 0;
    let trusted = dir.is_dir() && file.is_file() && private(&dir) && private(&file);
    if !trusted || file.uid() != dir.uid() {
        tracing::warn!(path = %path.display(), "ignoring a token file others could have written");
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The token file of a serving sandbox; removed when dropped (the sandbox stopped).
pub struct Published(Option<PathBuf>);

impl Published {
    /// Where the token was left (to remove it on a way out that skips `Drop`).
    pub fn path(&self) -> Option<&std::path::Path> {
        self.0.as_deref()
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Leave `token` where this user's commands look for `endpoint`'s (0600, in a 0700 directory).
pub fn publish(endpoint: &str, token: &str) -> Result<Published> {
    let Some(path) = published_path(endpoint) else {
        return Ok(Published(None));
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        // Only its owner may chmod it: this fails for a directory someone else made.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("{} is not this user's", dir.display()))?;
    }
    // A new file (never one someone planted, nor a symlink) under a name no one can guess.
    let tmp = path.with_extension(format!("{}.tmp", kms_workshop_sandbox::access::new_token()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(token.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Published(Some(path)))
}

/// The shell lines that point the AWS CLI and SDKs at a sandbox as one identity (what
/// `sandbox env` prints, and the guided run shows a learner who does a step themselves).
pub fn env_lines(
    endpoint: &str,
    keys: &aws_credential_types::Credentials,
    region: &str,
) -> Vec<String> {
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut lines = vec![
        format!(
            "export AWS_ENDPOINT_URL={}",
            q(endpoint.trim_end_matches('/'))
        ),
        format!("export AWS_ACCESS_KEY_ID={}", q(keys.access_key_id())),
        format!(
            "export AWS_SECRET_ACCESS_KEY={}",
            q(keys.secret_access_key())
        ),
    ];
    lines.push(match keys.session_token() {
        Some(t) => format!("export AWS_SESSION_TOKEN={}", q(t)),
        None => "unset AWS_SESSION_TOKEN".to_string(),
    });
    lines.push(format!("export AWS_REGION={}", q(region)));
    lines.push(format!("export AWS_DEFAULT_REGION={}", q(region)));
    lines.push("unset AWS_PROFILE".to_string());
    lines
}
