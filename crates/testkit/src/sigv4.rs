//! Requests signed by hand with SigV4, for the tests that send what the SDKs and the CLI would
//! not (malformed bodies, unmodelled members, raw protocol answers).

use std::time::SystemTime;

/// The headers to send with a POST of `headers` + `body` to `path` at `endpoint` for
/// `service` in `region`, signed with `access_key_id` and `secret`: `headers` themselves (all
/// of them signed, `host` added) and the signature's (`authorization`, `x-amz-date`, …).
pub fn signed_post(
    endpoint: &str,
    (access_key_id, secret): (&str, &str),
    (service, region): (&str, &str),
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity =
        aws_credential_types::Credentials::new(access_key_id, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing parameters");
    let host = endpoint.trim_start_matches("http://").to_string();
    let url = format!("{endpoint}{path}");
    let mut all: Vec<(String, String)> = vec![("host".into(), host)];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let signable = SignableRequest::new(
        "POST",
        &url,
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("a signable request");
    let (instructions, _) = sign(signable, &params.into()).expect("signed").into_parts();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    out
}
