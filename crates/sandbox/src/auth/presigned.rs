//! Presigned URLs: SigV4 in the query string (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`, and
//! `X-Amz-Security-Token` for temporary keys), as S3 accepts them: a link that works without
//! the keys, for as long as it says (at most a week), and only for what was signed.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use http::HeaderMap;

use super::{parse_amz_date, parse_authorization_value, AuthError, AuthHeader};
use crate::identity::AccessKey;

/// What the query adds to the usual parts of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    pub amz_date: String,
    pub expires: Duration,
    pub security_token: Option<String>,
}

/// The longest a presigned URL may last.
const MAX_EXPIRES: u64 = 7 * 24 * 3600;

/// The query parameters that carry the signature, left out of what is signed.
const AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// The signature a presigned URL's query carries; `None` when the query carries none.
pub fn parse(query: Option<&str>) -> Option<Result<(AuthHeader, QueryAuth), AuthError>> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query?.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let algorithm = get("X-Amz-Algorithm")?;
    Some((|| {
        let missing = |name: &str| {
            AuthError::Malformed(format!(
                "Query-string authentication requires the {name} parameter"
            ))
        };
        let need = |name: &str| get(name).ok_or_else(|| missing(name));
        let header = format!(
            "{algorithm} Credential={}, SignedHeaders={}, Signature={}",
            need("X-Amz-Credential")?,
            need("X-Amz-SignedHeaders")?,
            need("X-Amz-Signature")?
        );
        let auth = parse_authorization_value(&header)?;
        let expires = need("X-Amz-Expires")?;
        let expires = expires
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=MAX_EXPIRES).contains(s))
            .ok_or_else(|| {
                AuthError::Malformed(format!(
                    "X-Amz-Expires must be a number of seconds from 1 to a week \
                     ({MAX_EXPIRES}): '{expires}'"
                ))
            })?;
        let query = QueryAuth {
            amz_date: need("X-Amz-Date")?,
            expires: Duration::from_secs(expires),
            security_token: get("X-Amz-Security-Token"),
        };
        Ok((auth, query))
    })())
}

/// Verify a presigned request: within its lifetime, and signed by `cred` over the method,
/// path, the rest of the query and the signed headers (the payload is never signed).
pub fn verify(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    auth: &AuthHeader,
    q: &QueryAuth,
    cred: AccessKey<'_>,
) -> Result<(), AuthError> {
    let time = parse_amz_date(&q.amz_date)
        .ok_or_else(|| AuthError::Malformed(format!("bad X-Amz-Date {}", q.amz_date)))?;
    if !q.amz_date.starts_with(&auth.date) {
        return Err(AuthError::Malformed(
            "credential scope date does not match X-Amz-Date".into(),
        ));
    }
    let now = SystemTime::now();
    if time + q.expires < now {
        return Err(AuthError::UrlExpired);
    }
    if time > now + super::MAX_SKEW {
        return Err(AuthError::Malformed(
            "X-Amz-Date is in the future: the URL is not valid yet".into(),
        ));
    }
    super::all_amz_headers_signed(headers, auth)?;
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !p.is_empty() && !AUTH_PARAMS.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
        .collect();
    let uri = if rest.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in auth.signed_headers.iter() {
        for v in headers.get_all(name) {
            signed.push((name, v.to_str().map_err(|_| AuthError::Mismatch)?));
        }
    }
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(q.expires);
    settings.excluded_headers = Some(Vec::new());
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.session_token_mode = SessionTokenMode::Include;
    let identity = super::signer(
        cred.access_key_id,
        cred.secret_access_key,
        q.security_token.clone(),
    );
    let request = SignableRequest::new(
        method,
        &uri,
        signed.into_iter(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| AuthError::Malformed(e.to_string()))?;
    super::compare(&identity, auth, time, settings, request)
}
