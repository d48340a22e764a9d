//! SigV4: parse the `Authorization` header (the credential scope names the service and region;
//! the access key names the caller) and verify the signature with the `aws-sigv4` crate, by
//! signing the same canonical request with the caller's secret and comparing; S3's signed
//! streaming payloads chunk by chunk ([`chunks`]).

pub mod chunks;
mod fast;
pub mod presigned;

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody,
    SignableRequest, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use http::HeaderMap;

use crate::identity::AccessKey;
use crate::util::constant_time_eq;

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: SignedHeaders,
    pub signature: String,
}

/// The `SignedHeaders` list, each name trimmed and lowercased, kept as one `;`-separated
/// string: one allocation per request where a list of names took one per header, and the
/// form the canonical request writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedHeaders(String);

impl SignedHeaders {
    /// From the header's `SignedHeaders=` value (empty names dropped).
    pub fn parse(list: &str) -> SignedHeaders {
        // As every SDK and the CLI send it (lower case, no spaces, no empty names) the list
        // is its own form: copied whole rather than taken apart and joined again.
        let plain = !list.starts_with(';')
            && !list.ends_with(';')
            && !list.contains(";;")
            && list
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase());
        if plain {
            return SignedHeaders(list.to_owned());
        }
        SignedHeaders::joined(list.split(';'), list.len())
    }

    /// From a list of names.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> SignedHeaders {
        SignedHeaders::joined(names, 0)
    }

    /// From a list of names, with room for `room` bytes from the start.
    fn joined<'a>(names: impl IntoIterator<Item = &'a str>, room: usize) -> SignedHeaders {
        let mut joined = String::with_capacity(room);
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            if !joined.is_empty() {
                joined.push(';');
            }
            joined.push_str(name);
        }
        // Lowercased once, in place: a name pushed char by char was a third of parsing the
        // Authorization header.
        joined.make_ascii_lowercase();
        SignedHeaders(joined)
    }

    /// The names, in the order signed.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.split(';').filter(|n| !n.is_empty())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    /// The names joined by `;`, as the canonical request lists them.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Authorization header is missing")]
    Missing,
    #[error("Authorization header is malformed: {0}")]
    Malformed(String),
    /// Signed more than 15 minutes before or after the server's time; AWS's words.
    #[error("{0}")]
    Expired(String),
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    Mismatch,
    /// A presigned URL past its `X-Amz-Expires`.
    #[error("Request has expired")]
    UrlExpired,
    /// S3: the body does not hash to the `x-amz-content-sha256` the client signed.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
}

/// S3: whether the body hashes to the `x-amz-content-sha256` the client declared (and signed);
/// `UNSIGNED-PAYLOAD` and the streaming forms (`STREAMING-…`) declare no hash of the body.
pub fn body_matches_declared_hash(headers: &HeaderMap, body: &[u8]) -> Result<(), AuthError> {
    use sha2::Digest;
    let Some(declared) = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    if declared == "UNSIGNED-PAYLOAD" || declared.starts_with("STREAMING-") {
        return Ok(());
    }
    let actual = hex::encode(sha2::Sha256::digest(body));
    if constant_time_eq(actual.as_bytes(), declared.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::ContentSha256Mismatch)
    }
}

pub fn parse_authorization(headers: &HeaderMap) -> Result<AuthHeader, AuthError> {
    let raw = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Malformed("not ASCII".into()))?;
    parse_authorization_value(raw)
}

pub fn parse_authorization_value(raw: &str) -> Result<AuthHeader, AuthError> {
    let rest = raw
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(|| AuthError::Malformed("only AWS4-HMAC-SHA256 is supported".into()))?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            cred = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            sig = Some(v);
        }
    }
    let cred = cred.ok_or_else(|| AuthError::Malformed("missing Credential".into()))?;
    let bad_scope = || {
        AuthError::Malformed(format!(
            "Credential should be scoped to a valid region and service: '{cred}' is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request"
        ))
    };
    let mut scope = cred.split('/');
    let (Some(key), Some(date), Some(region), Some(service), Some("aws4_request"), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(bad_scope());
    };
    if [key, date, region, service].iter().any(|s| s.is_empty()) {
        return Err(bad_scope());
    }
    let signed_headers = SignedHeaders::parse(
        signed.ok_or_else(|| AuthError::Malformed("missing SignedHeaders".into()))?,
    );
    let signature = sig
        .ok_or_else(|| AuthError::Malformed("missing Signature".into()))?
        .to_string();
    Ok(AuthHeader {
        access_key_id: key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature,
    })
}

/// What steers the request must be signed, or a signed request could be replayed as another
/// operation, at another time, for another body, as a copy of another object: as S3 does,
/// every `x-amz-*` header sent must be signed (the SDKs and the CLI sign them all).
fn all_amz_headers_signed(headers: &HeaderMap, auth: &AuthHeader) -> Result<(), AuthError> {
    for name in headers.keys().map(|k| k.as_str()) {
        if name.starts_with("x-amz-") && !auth.signed_headers.contains(name) {
            return Err(AuthError::Malformed(format!(
                "the {name} header must be signed (every x-amz-* header sent must be)"
            )));
        }
    }
    Ok(())
}

/// How far a request's signing time may be from the server's, either way.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// A signing time more than [`MAX_SKEW`] before or after `now` is refused in AWS's words.
fn check_skew(amz_date: &str, time: SystemTime, now: SystemTime) -> Result<(), AuthError> {
    let fmt = |t: SystemTime| {
        let t = time::OffsetDateTime::from(t);
        let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        t.format(&f).unwrap_or_default()
    };
    if time + MAX_SKEW < now {
        return Err(AuthError::Expired(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            fmt(now - MAX_SKEW),
            fmt(now)
        )));
    }
    if time > now + MAX_SKEW {
        return Err(AuthError::Expired(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            fmt(now + MAX_SKEW),
            fmt(now)
        )));
    }
    Ok(())
}

/// An `X-Amz-Date` (`YYYYMMDD'T'HHMMSS'Z'`, ISO 8601 basic, UTC) as a time; `None` unless it
/// is exactly that and a real date and time. Its fields are cut out by position, not by the
/// `time` crate's format-description parser (which walks a description item by item, a
/// twentieth of a request's whole handling): the layout is fixed, and `time` still checks
/// that the numbers make a date.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let month = time::Month::try_from(u8::try_from(num(4, 6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0, 4)?).ok()?,
        month,
        u8::try_from(num(6, 8)?).ok()?,
    )
    .ok()?;
    let [hour, minute, second] = [num(9, 11)?, num(11, 13)?, num(13, 15)?].map(u8::try_from);
    let clock = time::Time::from_hms(hour.ok()?, minute.ok()?, second.ok()?).ok()?;
    let t = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).ok()?))
}

/// Verify a request's signature. `uri` is the path and query exactly as received.
pub fn verify(
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &AuthHeader,
    cred: AccessKey<'_>,
) -> Result<(), AuthError> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthError::Malformed("missing X-Amz-Date".into()))?;
    let time = parse_amz_date(amz_date)
        .ok_or_else(|| AuthError::Malformed(format!("bad X-Amz-Date {amz_date}")))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthError::Malformed(
            "credential scope date does not match X-Amz-Date".into(),
        ));
    }
    check_skew(amz_date, time, SystemTime::now())?;
    if !auth.signed_headers.contains("host") || headers.get("host").is_none() {
        return Err(AuthError::Malformed(
            "the host header must be signed".into(),
        ));
    }
    // A request the fast path accepts has every `x-amz-*` header it sent signed (that path
    // takes no other); any other request is asked below, before the crate's signer.
    let scope = (cred.secret_access_key, amz_date, time);
    if fast::verifies(method, uri, headers, body, auth, scope) == Some(true) {
        debug_assert!(all_amz_headers_signed(headers, auth).is_ok());
        return Ok(());
    }
    all_amz_headers_signed(headers, auth)?;
    // Another shape, or not a match here: the crate's signer below has the last word.

    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in auth.signed_headers.iter() {
        for v in headers.get_all(name) {
            let v = v.to_str().map_err(|_| AuthError::Mismatch)?;
            signed.push((name, v));
        }
    }
    let is_s3 = auth.service == "s3";
    let content_sha = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok());
    // S3 alone signs a declared hash (or UNSIGNED-PAYLOAD, or a streaming form) instead of the
    // body; every other service's signature covers the body itself.
    let raw = body;
    let body = match content_sha {
        Some(h) if is_s3 => {
            body_matches_declared_hash(headers, body)?;
            SignableBody::Precomputed(h.to_string())
        }
        _ => SignableBody::Bytes(body),
    };
    let mut settings = SigningSettings::default();
    // Sign exactly what the client said it signed: nothing excluded, nothing added.
    settings.excluded_headers = Some(Vec::new());
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    // `Include` adds nothing (the identity below has no token) and, unlike `Exclude`, keeps an
    // `x-amz-security-token` the client signed among the signed headers.
    settings.session_token_mode = SessionTokenMode::Include;
    if is_s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    // The session token, when signed, is already among `signed`.
    let identity = signer(cred.access_key_id, cred.secret_access_key, None);
    let request = SignableRequest::new(method, uri, signed.into_iter(), body)
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
    compare(&identity, auth, time, settings, request)?;
    match content_sha {
        Some(h) if is_s3 && chunks::SIGNED_STREAMING.contains(&h) => {
            let scope = chunks::Scope {
                access_key_id: cred.access_key_id,
                secret: cred.secret_access_key,
                time,
                region: &auth.region,
                service: &auth.service,
            };
            chunks::verify(raw, &auth.signature, &scope, h.ends_with("-TRAILER"))
        }
        _ => Ok(()),
    }
}

/// The identity the sandbox signs with to check a caller's signature: the caller's keys.
fn signer(
    access_key_id: &str,
    secret: &str,
    token: Option<String>,
) -> aws_smithy_runtime_api::client::identity::Identity {
    aws_credential_types::Credentials::new(
        access_key_id,
        secret,
        token,
        None,
        "kms-workshop-sandbox",
    )
    .into()
}

/// Sign `request` as `identity` would have in `auth`'s scope at `time`, and compare with the
/// signature the caller sent.
fn compare(
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    auth: &AuthHeader,
    time: SystemTime,
    settings: SigningSettings,
    request: SignableRequest<'_>,
) -> Result<(), AuthError> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
    let out = sign(request, &params.into()).map_err(|e| AuthError::Malformed(e.to_string()))?;
    if constant_time_eq(out.signature().as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-cut parse agrees with the `time` crate's parse of the same format, valid or not.
    #[test]
    fn amz_dates_parse_as_the_time_crate_parses_them() {
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let by_time = |s: &str| {
            let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?.assume_utc();
            Some(
                SystemTime::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(t.unix_timestamp()).ok()?),
            )
        };
        for s in [
            "20261202T123000Z",
            "19700101T000000Z",
            "20240229T235959Z",
            "99991231T235959Z",
            "20230229T120000Z",
            "20261302T120000Z",
            "20261200T120000Z",
            "20261232T120000Z",
            "20261202T243000Z",
            "20261202T126000Z",
            "20261202T123060Z",
            "20261202 123000Z",
            "20261202T123000",
            "20261202T123000z",
            "2026120T123000Z",
            "20261202T1230000Z",
            "2026-12-02T12:30:00Z",
            "+2026120T123000Z",
            "2026120aT123000Z",
            "",
            "19691231T235959Z",
            "00000101T000000Z",
            "+0020261202T123000Z",
            "-2026120T123000Z",
            "20261202T12300éZ",
        ] {
            assert_eq!(parse_amz_date(s), by_time(s), "{s:?}");
        }
        assert!(parse_amz_date("20261202T123000Z").is_some());
    }

    #[test]
    fn stale_and_future_dates_are_refused_in_aws_words() {
        let now = parse_amz_date("20261202T123000Z").unwrap();
        let old = parse_amz_date("20261202T120000Z").unwrap();
        let e = check_skew("20261202T120000Z", old, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Signature expired: 20261202T120000Z is now earlier than 20261202T121500Z \
             (20261202T123000Z - 15 min.)"
        );
        let late = parse_amz_date("20261202T130000Z").unwrap();
        let e = check_skew("20261202T130000Z", late, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Signature not yet current: 20261202T130000Z is still later than 20261202T124500Z \
             (20261202T123000Z + 15 min.)"
        );
        let near = parse_amz_date("20261202T124400Z").unwrap();
        assert!(check_skew("20261202T124400Z", near, now).is_ok());
    }
    use crate::identity::{Credential, Principal};

    fn cred() -> Credential {
        Credential {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            account: "123456789012".into(),
            principal: Principal::IamUser {
                name: "u".into(),
                user_id: "AIDA".into(),
            },
            expires_ms: None,
            console_since: None,
        }
    }

    /// Sign a request the way an SDK does, then verify it.
    fn signed_request(body: &[u8], secret: &str) -> (HeaderMap, AuthHeader) {
        signed_request_with(body, secret, false)
    }

    /// Sign a request; with `unsigned_payload`, as `UNSIGNED-PAYLOAD` (the header signed too).
    fn signed_request_with(
        body: &[u8],
        secret: &str,
        unsigned_payload: bool,
    ) -> (HeaderMap, AuthHeader) {
        let now = SystemTime::now();
        let identity =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", secret, None, None, "t").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("kms")
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let mut req = http::Request::builder()
            .method("POST")
            .uri("http://127.0.0.1:4599/")
            .header("host", "127.0.0.1:4599")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "TrentService.ListKeys")
            .body(body.to_vec())
            .unwrap();
        if unsigned_payload {
            req.headers_mut()
                .insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
        }
        let signable = SignableRequest::new(
            "POST",
            "http://127.0.0.1:4599/",
            req.headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
            if unsigned_payload {
                SignableBody::UnsignedPayload
            } else {
                SignableBody::Bytes(body)
            },
        )
        .unwrap();
        let (instr, _) = sign(signable, &params.into()).unwrap().into_parts();
        instr.apply_to_request_http1x(&mut req);
        let auth = parse_authorization(req.headers()).unwrap();
        (req.headers().clone(), auth)
    }

    #[test]
    fn verifies_good_and_rejects_bad() {
        let (h, a) = signed_request(b"{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_eq!(a.service, "kms");
        verify("POST", "/", &h, b"{}", &a, cred().access_key()).unwrap();
        assert_eq!(
            verify("POST", "/", &h, b"{ }", &a, cred().access_key()),
            Err(AuthError::Mismatch)
        );
        let (h, a) = signed_request(b"{}", "wrong");
        assert_eq!(
            verify("POST", "/", &h, b"{}", &a, cred().access_key()),
            Err(AuthError::Mismatch)
        );
    }

    /// A signed request replayed with an unsigned `X-Amz-Target` naming another operation is
    /// refused: every `x-amz-*` header that steers the request must be signed.
    #[test]
    fn an_unsigned_target_cannot_turn_a_request_into_another_operation() {
        let (mut h, a) = signed_request(b"{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert!(a.signed_headers.contains("x-amz-target"));
        let unsigned = AuthHeader {
            signed_headers: SignedHeaders::of(
                a.signed_headers.iter().filter(|s| *s != "x-amz-target"),
            ),
            ..a.clone()
        };
        h.insert(
            "x-amz-target",
            "TrentService.ScheduleKeyDeletion".parse().unwrap(),
        );
        assert!(matches!(
            verify("POST", "/", &h, b"{}", &unsigned, cred().access_key()),
            Err(AuthError::Malformed(m)) if m.contains("x-amz-target")
        ));
    }

    /// A list sent in the usual form is kept as sent; any other is taken apart, trimmed,
    /// lowercased and joined: both give what taking every list apart gives.
    #[test]
    fn signed_headers_are_parsed_alike_whether_copied_or_joined() {
        for list in [
            "host;x-amz-date;x-amz-target",
            "host",
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
            "Host;X-Amz-Date",
            " host ; x-amz-date",
            "host;;x-amz-date",
            ";host;",
            "host;x-amz-date;",
            ";host",
            "host\u{a0};x-amz-date",
            "host\u{b};x-amz-date",
            "host\t;x-amz-date",
            "",
        ] {
            let joined = SignedHeaders::joined(list.split(';'), 0);
            assert_eq!(SignedHeaders::parse(list), joined, "{list:?}");
        }
    }

    /// An `x-amz-*` header added to a request after it was signed is refused, though the
    /// signature over the headers that were signed still verifies.
    #[test]
    fn an_unsigned_amz_header_beside_a_valid_signature_is_refused() {
        let (mut h, a) = signed_request(b"{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_eq!(
            verify("POST", "/", &h, b"{}", &a, cred().access_key()),
            Ok(())
        );
        h.insert("x-amz-meta-note", "added later".parse().unwrap());
        assert!(matches!(
            verify("POST", "/", &h, b"{}", &a, cred().access_key()),
            Err(AuthError::Malformed(m)) if m.contains("x-amz-meta-note")
        ));
        // With a signature that does not verify either, the unsigned header is still what
        // the client is told of.
        let mut wrong = cred();
        wrong.secret_access_key = "not the secret".into();
        assert!(matches!(
            verify("POST", "/", &h, b"{}", &a, wrong.access_key()),
            Err(AuthError::Malformed(m)) if m.contains("x-amz-meta-note")
        ));
    }

    /// `UNSIGNED-PAYLOAD` is S3's alone: a KMS body cannot be changed after signing by
    /// declaring its hash unsigned.
    #[test]
    fn unsigned_payload_is_refused_outside_s3() {
        let (h, a) = signed_request_with(b"{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", true);
        assert!(a.signed_headers.contains("x-amz-content-sha256"));
        assert!(verify(
            "POST",
            "/",
            &h,
            b"{\"KeyId\":\"other\"}",
            &a,
            cred().access_key()
        )
        .is_err());
    }

    /// S3: the body must hash to the `x-amz-content-sha256` the client signed.
    #[test]
    fn an_s3_body_that_does_not_match_its_signed_hash_is_refused() {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1".parse().unwrap());
        h.insert("x-amz-date", time_now_amz().parse().unwrap());
        use sha2::Digest;
        let declared = hex::encode(sha2::Sha256::digest(b"what was signed"));
        h.insert("x-amz-content-sha256", declared.parse().unwrap());
        assert_eq!(
            body_matches_declared_hash(&h, b"something else"),
            Err(AuthError::ContentSha256Mismatch)
        );
        assert_eq!(body_matches_declared_hash(&h, b"what was signed"), Ok(()));
        h.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
        assert_eq!(body_matches_declared_hash(&h, b"anything"), Ok(()));
    }

    fn time_now_amz() -> String {
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        time::OffsetDateTime::now_utc().format(&fmt).unwrap()
    }

    #[test]
    fn malformed_headers() {
        assert!(matches!(
            parse_authorization_value("Basic x"),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            parse_authorization_value(
                "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1, SignedHeaders=host, Signature=x"
            ),
            Err(AuthError::Malformed(_))
        ));
        assert_eq!(
            parse_authorization(&HeaderMap::new()),
            Err(AuthError::Missing)
        );
    }
}
