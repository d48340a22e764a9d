//! Requests signed by hand with SigV4, for the tests that send what the SDKs and the CLI would
//! not (malformed bodies, raw protocol answers).

use super::{keys, Who, REGION};

/// Sign a POST of `headers` + `body` to `path` for `service` as the learner; returns the headers
/// to send.
pub fn sign(
    endpoint: &str,
    service: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    let learner = keys(endpoint, Who::Learner(1));
    kms_workshop_testkit::sigv4::signed_post(
        endpoint,
        (&learner.access_key_id, &learner.secret_access_key),
        (service, REGION),
        path,
        headers,
        body,
    )
}
