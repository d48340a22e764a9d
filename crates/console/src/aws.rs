//! The console's way to AWS: the sandbox's own AWS API, signed with the session's temporary
//! keys, through the AWS SDK, exactly as any client reaches it. No retries: a page shows what
//! the one call answered, AWS's error code and message included ([`Failure`]).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use kms_workshop_sandbox::identity::Credential;

/// The region the console works in (the workshop's).
pub const REGION: &str = kms_workshop_names::sandbox::REGION;

/// An SDK configuration that signs with `keys` and reaches the sandbox at `endpoint`.
pub async fn sdk_config(endpoint: &str, keys: &Credential) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            keys.session_token.clone(),
            None,
            "kms-workshop-console",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// A failed call as a page shows it: AWS's code and message, and the request id.
pub use kms_workshop_aws_errors::AwsFailure as Failure;

/// A failed call as one line for a page: AWS's code and message (`op` names the call when the
/// request did not reach the service).
pub fn failed<E>(
    op: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    let f = Failure::from_sdk(op, e);
    format!("{}: {}", f.code, f.message)
}

/// A time as the pages show it (ISO 8601, UTC, to the second); empty when there is none.
pub fn date(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| {
        aws_smithy_types::DateTime::from_secs(t.secs())
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .ok()
    })
    .unwrap_or_default()
}
