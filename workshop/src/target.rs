//! Where the AWS calls of `run` and `cleanup` go: a real account through the standard
//! credential chain (`--profile`, `--region` as in the AWS CLI), a running sandbox
//! (`--endpoint URL`), or a sandbox hosted in this process (`--sandbox`, or no credentials at
//! all for `run`), with its state under the user's data directory.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use clap::Args;
use kms_workshop_aws_errors::ErrorClass;
use kms_workshop_sandbox::{seed, Config, Running, Sandbox};

/// The flags that choose a target, shared by every command that calls AWS.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Named profile of the shared AWS config and credentials files.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// AWS region (default: the profile's or AWS_REGION).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Use the offline sandbox, hosted in this process (state under --sandbox-state, else
    /// the user's data directory).
    #[arg(long, conflicts_with_all = ["endpoint", "profile"])]
    pub sandbox: bool,
    /// State directory of the in-process sandbox.
    #[arg(long, value_name = "DIR", requires = "sandbox")]
    pub sandbox_state: Option<PathBuf>,
    /// An AWS-compatible endpoint, e.g. a running `kms-workshop sandbox serve`
    /// (http://127.0.0.1:4599); the standard credential chain still applies.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// What kind of target a command runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Aws,
    Sandbox,
    Endpoint,
}

impl TargetKind {
    pub fn describe(self) -> &'static str {
        match self {
            TargetKind::Aws => "AWS",
            TargetKind::Sandbox => "the built-in sandbox",
            TargetKind::Endpoint => "the endpoint",
        }
    }
}

/// A resolved target: SDK configuration, who we are there, and the hosted sandbox if any.
pub struct Target {
    pub kind: TargetKind,
    pub config: SdkConfig,
    pub account: String,
    pub arn: String,
    pub region: String,
    pub endpoint: Option<String>,
    /// The access key id the calls are signed with (shown in CLI examples; CloudTrail's
    /// "AWS access key" filter).
    pub access_key: Option<String>,
    /// The in-process sandbox (kept alive as long as the target).
    pub hosted: Option<Running>,
    /// Its admin token, where this user's other commands find it (removed with the target).
    pub published: Option<crate::sandbox_access::Published>,
    /// How far the target's clock is from this machine's (its minus ours).
    pub clock_offset: time::Duration,
}

/// Why a target could not be resolved, with the exit code it deserves.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Credentials(String),
    #[error("{0}")]
    Unreachable(String),
}

impl TargetError {
    pub fn exit_code(&self) -> u8 {
        match self {
            TargetError::Usage(_) | TargetError::Unreachable(_) => 2,
            TargetError::Credentials(_) => 3,
        }
    }
}

/// The user's data directory for kms-workshop (`$XDG_DATA_HOME/kms-workshop`, else
/// `~/.local/share/kms-workshop`).
pub fn data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("kms-workshop"))
}

/// Where the in-process sandbox keeps its state by default.
pub fn default_sandbox_state() -> Option<PathBuf> {
    data_dir().map(|d| d.join("sandbox"))
}

/// Whether the standard credential chain finds credentials (env, profile, SSO, instance role).
pub async fn credentials_available(args: &TargetArgs) -> bool {
    credentials_probe(args).await.is_ok()
}

/// The standard credential chain's answer: credentials, or why there are none.
async fn credentials_probe(args: &TargetArgs) -> Result<(), String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    let config = loader.load().await;
    match config.credentials_provider() {
        Some(p) => p
            .provide_credentials()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string()),
        None => Err("no credential provider".into()),
    }
}

/// Whether this user set up AWS credentials at all (keys or a profile in the environment, or
/// a config or credentials file whose profiles name a source of credentials): if so, credentials that do not load (an SSO
/// session that expired) are an error to report, never a reason to run somewhere else.
fn credentials_configured() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if set("AWS_ACCESS_KEY_ID") || set("AWS_PROFILE") || set("AWS_WEB_IDENTITY_TOKEN_FILE") {
        return true;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    [
        file("AWS_CONFIG_FILE", ".aws/config"),
        file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
    ]
    .into_iter()
    .flatten()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .any(|text| {
        // A profile with only a region names no credentials.
        const SOURCES: [&str; 6] = [
            "aws_access_key_id",
            "sso_",
            "role_arn",
            "credential_process",
            "credential_source",
            "web_identity_token_file",
        ];
        text.lines()
            .any(|l| SOURCES.iter().any(|k| l.trim_start().starts_with(k)))
    })
}

/// The AWS regions (commercial, China, GovCloud) as of this release.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Check a region name: known regions pass; anything else is refused with the list, since a
/// typo would otherwise surface as an obscure DNS failure.
pub fn check_region(region: &str) -> Result<(), String> {
    if REGIONS.contains(&region) {
        Ok(())
    } else {
        Err(format!(
            "--region '{region}' is not an AWS region; known regions: {}",
            REGIONS.join(", ")
        ))
    }
}

/// An SDK configuration for a target, before asking who we are there.
pub struct Loaded {
    pub kind: TargetKind,
    pub config: SdkConfig,
    pub endpoint: Option<String>,
    pub hosted: Option<Running>,
    pub published: Option<crate::sandbox_access::Published>,
}

/// Build the SDK configuration `args` asks for, hosting the sandbox when asked (or, with
/// `sandbox_without_credentials`, when no credentials are found anywhere).
pub async fn load(
    args: &TargetArgs,
    sandbox_without_credentials: bool,
    sandbox_config: Config,
) -> Result<Loaded, TargetError> {
    if let Some(r) = &args.region {
        check_region(r).map_err(TargetError::Usage)?;
    }
    if let Some(url) = &args.endpoint {
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => {
                return Err(TargetError::Usage(format!(
                    "--endpoint '{url}' is not an http(s) URL (e.g. http://127.0.0.1:4599)"
                )))
            }
        }
    }
    let fall_back =
        sandbox_without_credentials && args.endpoint.is_none() && args.profile.is_none();
    let use_sandbox = args.sandbox
        || (fall_back
            && match credentials_probe(args).await {
                Ok(()) => false,
                Err(why) if credentials_configured() => {
                    return Err(TargetError::Credentials(format!(
                        "AWS credentials are configured but cannot be loaded: {why}. For an SSO \
                         profile run `aws sso login` (with --profile P for a named one); for the \
                         offline sandbox instead, add --sandbox"
                    )))
                }
                Err(_) => true,
            });
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &args.region {
        loader = loader.region(Region::new(r.clone()));
    }
    let mut published = None;
    let (kind, endpoint, hosted) = if use_sandbox {
        let mut cfg = sandbox_config;
        if cfg.state_dir.is_none() {
            cfg.state_dir = args.sandbox_state.clone().or_else(default_sandbox_state);
        }
        let dir = cfg.state_dir.clone();
        let sb = Sandbox::open(cfg).map_err(|e| {
            TargetError::Usage(format!(
                "cannot open the sandbox state{}: {e}",
                dir.map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            ))
        })?;
        let running = serve_hosted(sb).await?;
        let url = running.endpoint();
        let learner = running
            .sandbox
            .credential(seed::LEARNER_ACCESS_KEY)
            .ok_or_else(|| {
                TargetError::Usage(format!(
                    "the sandbox state has no learner key {} (was it deleted with IAM \
                     DeleteAccessKey?): reset it with `kms-workshop sandbox reset --learner 1`, \
                     or use another --sandbox-state",
                    seed::LEARNER_ACCESS_KEY
                ))
            })?;
        loader =
            loader
                .endpoint_url(&url)
                .credentials_provider(aws_credential_types::Credentials::new(
                    learner.access_key_id,
                    learner.secret_access_key,
                    None,
                    None,
                    "kms-workshop-sandbox",
                ));
        if args.region.is_none() {
            loader = loader.region(Region::new(seed::REGION));
        }
        // The learner's other terminal (`kms-workshop sandbox inbox`, `cleanup --endpoint`)
        // finds the token as it finds a served sandbox's.
        published = crate::sandbox_access::publish(&url, running.sandbox.admin_token())
            .map_err(|e| tracing::warn!(error = %e, "the hosted sandbox's token is not published"))
            .ok();
        (TargetKind::Sandbox, Some(url), Some(running))
    } else if let Some(url) = &args.endpoint {
        loader = endpoint_defaults(loader.endpoint_url(url), url, args).await?;
        (TargetKind::Endpoint, Some(url.clone()), None)
    } else {
        (TargetKind::Aws, None, None)
    };
    let config = loader.load().await;
    Ok(Loaded {
        kind,
        config,
        endpoint,
        hosted,
        published,
    })
}

/// Where the credential chain looks, for a message that says none were found.
const CREDENTIAL_PLACES: &str = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile in ~/.aws/config and ~/.aws/credentials, SSO, web identity, the container or instance role";

/// An endpoint's region and credentials when the environment has none: a kms-workshop sandbox
/// has one region, and (when this user holds its admin token) its learner's keys; any other
/// endpoint gets a plain "no credentials found" naming where they were looked for, instead of
/// a refusal from a server that was sent nothing.
async fn endpoint_defaults(
    mut loader: aws_config::ConfigLoader,
    url: &str,
    args: &TargetArgs,
) -> Result<aws_config::ConfigLoader, TargetError> {
    let reach = crate::sandbox_access::Reach::at(url);
    let admin = reach.client().ok();
    let sandbox = match &admin {
        Some(c) => c.is_sandbox().await,
        None => false,
    };
    let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
    if let Some(p) = &args.profile {
        chain = chain.profile_name(p);
    }
    if args.region.is_none() && chain.build().region().await.is_none() {
        if !sandbox {
            return Err(TargetError::Usage(format!(
                "no region for {url}: give --region R (or set AWS_REGION)"
            )));
        }
        loader = loader.region(Region::new(seed::REGION));
    }
    if credentials_available(args).await {
        return Ok(loader);
    }
    let learner = match (&admin, sandbox) {
        (Some(c), true) if c.has_token() => c.credentials().await.ok().and_then(|v| {
            v.credentials
                .into_iter()
                .find(|k| k.access_key_id == seed::LEARNER_ACCESS_KEY)
        }),
        _ => None,
    };
    match learner {
        Some(k) => Ok(loader.credentials_provider(aws_credential_types::Credentials::new(
            k.access_key_id,
            k.secret_access_key,
            k.session_token,
            None,
            "kms-workshop-sandbox",
        ))),
        None if sandbox => Err(TargetError::Credentials(format!(
            "no AWS credentials found (looked in {CREDENTIAL_PLACES}): for this sandbox, eval \"$(kms-workshop sandbox env --endpoint {url})\" first"
        ))),
        None => Err(TargetError::Credentials(format!(
            "no AWS credentials found for {url} (looked in {CREDENTIAL_PLACES})"
        ))),
    }
}

/// Serve the hosted sandbox on loopback, on the port it had last time when that is free, so
/// the settings a learner saved for their other terminal stay right from one run to the next.
async fn serve_hosted(sb: std::sync::Arc<Sandbox>) -> Result<Running, TargetError> {
    let memo = data_dir().map(|d| d.join("sandbox.port"));
    let last: Option<u16> = memo
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| t.trim().parse().ok());
    let loopback = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let serve = |sb, port| {
        kms_workshop_sandbox::serve_with(sb, loopback(port), kms_workshop_console::routes())
    };
    let running = match last {
        Some(port) if port != 0 => match serve(sb.clone(), port).await {
            Ok(r) => r,
            Err(_) => serve(sb, 0).await.map_err(start_error)?,
        },
        _ => serve(sb, 0).await.map_err(start_error)?,
    };
    if let Some(p) = memo {
        let _ = crate::util::write_private(&p, running.addr.port().to_string().as_bytes());
    }
    Ok(running)
}

fn start_error(e: impl std::fmt::Display) -> TargetError {
    TargetError::Usage(format!("cannot start the sandbox: {e}"))
}

impl Target {
    /// Resolve `args`. `sandbox_without_credentials`: with no credentials anywhere, host the
    /// sandbox instead of failing (the guided runner's choice; clean-up refuses instead).
    pub async fn resolve(
        args: &TargetArgs,
        sandbox_without_credentials: bool,
        sandbox_config: Config,
    ) -> Result<Target, TargetError> {
        let Loaded {
            kind,
            config,
            endpoint,
            hosted,
            published,
        } = load(args, sandbox_without_credentials, sandbox_config).await?;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(TargetError::Usage(
                "no region: give --region R (or set AWS_REGION, or a region in the profile)".into(),
            ));
        };
        let (who, clock_offset) = match crate::server_time::identity_and_offset(&config).await {
            Ok(w) => w,
            Err(f) => {
                let where_ = endpoint.clone().unwrap_or_else(|| "AWS".into());
                return Err(match f.class {
                    ErrorClass::Network => TargetError::Unreachable(format!(
                        "cannot reach {where_}: {}{}",
                        f.message,
                        if kind == TargetKind::Endpoint {
                            " (is `kms-workshop sandbox serve` running there?)"
                        } else {
                            ""
                        }
                    )),
                    _ => TargetError::Credentials(format!(
                        "the credentials were refused by {where_}: {} ({})",
                        f.message, f.code
                    )),
                });
            }
        };
        let access_key = match config.credentials_provider() {
            Some(p) => p
                .provide_credentials()
                .await
                .ok()
                .map(|c| c.access_key_id().to_string()),
            None => None,
        };
        Ok(Target {
            access_key,
            kind,
            account: who.account().unwrap_or_default().to_string(),
            arn: who.arn().unwrap_or_default().to_string(),
            region,
            endpoint,
            hosted,
            published,
            clock_offset,
            config,
        })
    }

    /// The name CloudTrail's event history shows as "User name" for this caller: an IAM
    /// user's name, or a role session's name.
    pub fn username(&self) -> String {
        let tail = self.arn.rsplit(':').next().unwrap_or("");
        match tail.split('/').collect::<Vec<_>>().as_slice() {
            ["assumed-role", _, session] => session.to_string(),
            [.., name] => name.to_string(),
            [] => String::new(),
        }
    }

    /// The caller's partition (`aws`, `aws-cn`, `aws-us-gov`): the second field of its ARN,
    /// which every ARN built for this target must share.
    pub fn partition(&self) -> &str {
        match self.arn.split(':').nth(1) {
            Some(p) if !p.is_empty() => p,
            _ => "aws",
        }
    }

    /// "Now" on the target's clock: this machine's, corrected by what its answers' `Date`
    /// said (a sandbox's own clock may also run ahead: `Ctx::now` asks it).
    pub fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + self.clock_offset
    }

    /// One line saying where calls go.
    pub fn describe(&self) -> String {
        match self.kind {
            TargetKind::Aws => format!(
                "AWS account {} as {} in {}",
                self.account, self.arn, self.region
            ),
            TargetKind::Sandbox => format!(
                "the built-in sandbox at {} (account {}, {}, as {})",
                self.endpoint.as_deref().unwrap_or("?"),
                self.account,
                self.region,
                self.arn
            ),
            TargetKind::Endpoint => format!(
                "{} (account {}, {}, as {})",
                self.endpoint.as_deref().unwrap_or("?"),
                self.account,
                self.region,
                self.arn
            ),
        }
    }

    /// The flags that make `kms-workshop prepare` reach this same target (region, endpoint,
    /// account), as a person would type them after the command.
    pub fn prepare_flags(&self) -> String {
        let mut f = format!(" --region {}", self.region);
        match (&self.kind, &self.endpoint) {
            (TargetKind::Aws, _) => f.push_str(&format!(" --account-id {}", self.account)),
            (_, Some(url)) if self.hosted.is_none() => f.push_str(&format!(" --endpoint {url}")),
            _ => f.push_str(" --sandbox"),
        }
        f
    }

    /// The hosted sandbox, when there is one.
    pub fn sandbox(&self) -> Option<&std::sync::Arc<Sandbox>> {
        self.hosted.as_ref().map(|r| &r.sandbox)
    }

    pub async fn shutdown(self) {
        drop(self.published);
        if let Some(h) = self.hosted {
            h.shutdown().await;
        }
    }
}

/// Why a command must not run as `arn`, when it is the workshop instance's role session (how
/// the workshop has learners work on its EC2 instance): the clean-up terminates that very
/// instance, and the role has rights for the earlier sections only.
pub fn on_workshop_instance(arn: &str) -> Option<String> {
    let tail = arn.rsplit(':').next()?;
    let mut parts = tail.split('/');
    let (Some("assumed-role"), Some(role), Some(session)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (role == kms_workshop_names::ROLE).then(|| {
        format!(
            "these are the credentials of the workshop instance's role {role} (session {session}): \
             the clean-up would terminate the instance this runs on, and the role lacks the rights \
             for most steps (SNS, EventBridge, CloudWatch). Run kms-workshop from your own machine \
             or CloudShell, with your IAM user's credentials (--profile P)"
        )
    })
}

/// Turn a target error into the anyhow error commands return (its exit code travels along).
pub fn into_anyhow(e: TargetError) -> anyhow::Error {
    let code = e.exit_code();
    anyhow!(crate::ExitWith {
        code,
        message: e.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::check_region;

    #[test]
    fn region_names() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "useast1",
            "US-EAST-1",
            "us-east-7",
            "moon-base-1",
        ] {
            let e = check_region(bad).unwrap_err();
            assert!(e.contains("--region") && e.contains("us-east-1"), "{e}");
        }
    }
}
