//! The common signed request's SigV4 signature, computed without the general signer.
//!
//! Nearly every request the SDKs and the CLI send outside S3 has the same shape: a path of
//! plain characters (`/`), no query string, each signed header once with a value that needs no
//! trimming. For that shape the canonical request is the request's own bytes in a fixed order,
//! so it is written straight into one buffer here; and the signing key, which depends only on
//! the secret, the day, the region and the service, is derived once per thread and reused.
//! `aws-sigv4`'s signer builds a header map, a canonical-request value and the header
//! instructions for every request, which made up a quarter of the request path's time.
//!
//! Written by hand because the crate exposes the key derivation and the final HMAC but not the
//! canonical request (the final HMAC is computed here with `hmac`, as the crate computes it,
//! into a buffer on the stack). The crate stays the authority: [`signature`] answers `None` for
//! any request outside the shape (the caller then signs with the crate), and a signature that
//! does not match here is checked again by the crate before the request is refused, so this
//! path can make a request faster but never accept or refuse one the crate would not.

use std::cell::RefCell;
use std::time::SystemTime;

use aws_sigv4::sign::v4::generate_signing_key;
use hashbrown::HashMap;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::AuthHeader;
use crate::util::constant_time_eq;

/// Signing keys kept per thread before the map is emptied and started again (a classroom of
/// 2000 learners each signing for a few services still fits).
const KEYS_PER_THREAD: usize = 8192;

/// What a signing key is derived from. `ScopeRef` hashes as this does: the same fields in the
/// same order, each hashed as a `str`.
#[derive(PartialEq, Eq, Hash)]
struct Scope {
    secret: Box<str>,
    date: Box<str>,
    region: Box<str>,
    service: Box<str>,
}

/// A [`Scope`] borrowed from the request, to look one up without allocating.
#[derive(Hash)]
struct ScopeRef<'a> {
    secret: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

impl hashbrown::Equivalent<Scope> for ScopeRef<'_> {
    fn equivalent(&self, key: &Scope) -> bool {
        *self.secret == *key.secret
            && *self.date == *key.date
            && *self.region == *key.region
            && *self.service == *key.service
    }
}

thread_local! {
    static KEYS: RefCell<HashMap<Scope, [u8; 32]>> = RefCell::new(HashMap::new());
}

/// The longest region or service name whose signing key is kept (AWS's are under 30
/// characters; a longer one is derived for the request and not kept).
const LONGEST_NAME: usize = 32;

/// Whether `string_to_sign`, signed with the signing key of `secret` for `auth`'s day, region
/// and service, gives `auth`'s signature. The key is taken from the thread's map, or derived
/// and kept there only when the signature matches (a request that does not verify leaves
/// nothing behind).
fn sign_and_compare(
    secret: &str,
    auth: &AuthHeader,
    time: SystemTime,
    string_to_sign: &[u8],
) -> bool {
    let wanted = ScopeRef {
        secret,
        date: &auth.date,
        region: &auth.region,
        service: &auth.service,
    };
    let matches = |key: &[u8]| {
        // The crate's `calculate_signature`, into a buffer on the stack instead of a string.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            return false;
        };
        mac.update(string_to_sign);
        let mut sig = [0u8; 64];
        hex::encode_to_slice(mac.finalize().into_bytes(), &mut sig).is_ok()
            && constant_time_eq(&sig, auth.signature.as_bytes())
    };
    if let Some(key) = KEYS.with_borrow(|keys| keys.get(&wanted).copied()) {
        return matches(&key);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(generate_signing_key(secret, time, &auth.region, &auth.service).as_ref());
    if !matches(&key) {
        return false;
    }
    if auth.region.len() <= LONGEST_NAME && auth.service.len() <= LONGEST_NAME {
        KEYS.with_borrow_mut(|keys| {
            if keys.len() >= KEYS_PER_THREAD {
                keys.clear();
            }
            keys.insert(
                Scope {
                    secret: secret.into(),
                    date: auth.date.as_str().into(),
                    region: auth.region.as_str().into(),
                    service: auth.service.as_str().into(),
                },
                key,
            );
        });
    }
    true
}

/// Whether `amz_date` is a plain `YYYYMMDDTHHMMSSZ` whose day is the credential scope's: the
/// form the crate writes from the time it parses (a sign, or a scope date that is only a
/// prefix of the day, is left to it).
fn plain_date(amz_date: &str, scope_date: &str) -> bool {
    let b = amz_date.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
        && scope_date.as_bytes() == &b[..8]
}

/// Characters a path may have for its canonical form to be itself: RFC 3986's unreserved
/// characters and the separator.
fn plain_path(path: &str) -> bool {
    path == "/"
        || (path.starts_with('/')
            && path[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            }))
}

/// A header value that canonicalises to itself: printable ASCII, no space at either end and
/// never two in a row (one pass over its bytes).
fn plain_value(v: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (v.first(), v.last()) else {
        return true;
    };
    first != b' '
        && last != b' '
        && v.iter().all(|b| (b' '..=b'~').contains(b))
        && !v.windows(2).any(|w| w == b"  ")
}

/// The most signed headers this path takes (the SDKs and the CLI sign under a dozen); a
/// request signing more is left to the crate.
const MOST_SIGNED: usize = 24;

/// The values of the signed headers `names` (sorted, each once), in their order, found in one
/// pass over the request's headers rather than looked up name by name; `None` when the request
/// is not of the common shape: a signed header missing or sent twice, a value that is not
/// plain, an `x-amz-*` header sent but not signed (the caller refuses that one), or more than
/// [`MOST_SIGNED`] names.
fn signed_values<'h>(names: &[&str], headers: &'h HeaderMap) -> Option<[&'h [u8]; MOST_SIGNED]> {
    let mut values: [Option<&[u8]>; MOST_SIGNED] = [None; MOST_SIGNED];
    if names.len() > MOST_SIGNED {
        return None;
    }
    for (name, value) in headers {
        match names.binary_search(&name.as_str()) {
            Ok(i) if values[i].is_none() && plain_value(value.as_bytes()) => {
                values[i] = Some(value.as_bytes());
            }
            Ok(_) => return None,
            Err(_) if name.as_str().starts_with("x-amz-") => return None,
            Err(_) => {}
        }
    }
    let mut found: [&[u8]; MOST_SIGNED] = [&[]; MOST_SIGNED];
    for (slot, value) in found.iter_mut().zip(&values[..names.len()]) {
        *slot = (*value)?;
    }
    Some(found)
}

/// Whether a request of the common shape (module docs) carries `auth`'s signature; `None`
/// when the request has another shape. `uri` is the path and query as received; `amz_date`
/// the request's `X-Amz-Date`, `time` the time it was parsed to.
pub(super) fn verifies(
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &AuthHeader,
    (secret, amz_date, time): (&str, &str, SystemTime),
) -> Option<bool> {
    if auth.service == "s3" || !plain_path(uri) || !plain_date(amz_date, &auth.date) {
        return None;
    }
    // The crate lists signed headers sorted and once each; a client's list in another order
    // is left to it.
    let mut names: [&str; MOST_SIGNED] = [""; MOST_SIGNED];
    let mut count = 0;
    for name in auth.signed_headers.iter() {
        if count == MOST_SIGNED || (count > 0 && names[count - 1] >= name) {
            return None;
        }
        names[count] = name;
        count += 1;
    }
    let names = &names[..count];
    let values = signed_values(names, headers)?;
    let mut canonical = Vec::with_capacity(1024);
    for part in [method.as_bytes(), b"\n", uri.as_bytes(), b"\n\n"] {
        canonical.extend_from_slice(part);
    }
    for (name, value) in names.iter().zip(values) {
        for part in [name.as_bytes(), b":", value, b"\n"] {
            canonical.extend_from_slice(part);
        }
    }
    canonical.push(b'\n');
    canonical.extend_from_slice(auth.signed_headers.as_str().as_bytes());
    canonical.push(b'\n');
    canonical.extend_from_slice(hex_of(&Sha256::digest(body), &mut [0u8; 64])?.as_bytes());
    let digest = Sha256::digest(&canonical);

    // The string to sign, in the same buffer (the canonical request is only hashed).
    let string_to_sign = &mut canonical;
    string_to_sign.clear();
    for part in [
        "AWS4-HMAC-SHA256\n",
        amz_date,
        "\n",
        &auth.date,
        "/",
        &auth.region,
        "/",
        &auth.service,
        "/aws4_request\n",
    ] {
        string_to_sign.extend_from_slice(part.as_bytes());
    }
    string_to_sign.extend_from_slice(hex_of(&digest, &mut [0u8; 64])?.as_bytes());
    Some(sign_and_compare(secret, auth, time, string_to_sign))
}

/// A SHA-256 digest in lower-case hex, written into `buf`.
fn hex_of<'b>(digest: &[u8], buf: &'b mut [u8; 64]) -> Option<&'b str> {
    hex::encode_to_slice(digest, buf).ok()?;
    std::str::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};

    /// Sign as the SDKs do (the crate's signer, its default settings) and return the request's
    /// headers, its parsed `Authorization` and its X-Amz-Date.
    fn crate_signed(
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &[u8],
        token: Option<&str>,
    ) -> (HeaderMap, AuthHeader, String) {
        let identity = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "t",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:4599{path}"))
            .header("host", "127.0.0.1:4599");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let mut req = req.body(body.to_vec()).unwrap();
        let signable = SignableRequest::new(
            method,
            format!("http://127.0.0.1:4599{path}"),
            req.headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instr, _) = sign(signable, &params.into()).unwrap().into_parts();
        instr.apply_to_request_http1x(&mut req);
        let auth = super::super::parse_authorization(req.headers()).unwrap();
        let date = req.headers()["x-amz-date"].to_str().unwrap().to_string();
        (req.headers().clone(), auth, date)
    }

    /// Requests of the common shape get the crate's signature, byte for byte, from here.
    #[test]
    fn the_common_shape_is_signed_as_the_crate_signs_it() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let json = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.GenerateDataKey"),
            ("user-agent", "aws-sdk-rust/1.3 os/linux lang/rust#1.95"),
        ];
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [u8],
            Option<&'a str>,
        );
        let cases: [Case<'_>; 5] = [
            (
                "POST",
                "/",
                &json,
                br#"{"KeyId":"alias/ImportedCMK"}"#,
                None,
            ),
            ("POST", "/", &json, b"", Some("FwoGZXIvYXdzEJr//token+/=")),
            ("GET", "/2015-03-31/functions", &[], b"", None),
            (
                "POST",
                "/",
                &[("content-type", "application/x-www-form-urlencoded")],
                b"Action=GetCallerIdentity&Version=2011-06-15",
                None,
            ),
            (
                "PUT",
                "/a-b_c.d~e/f",
                &[("x-amz-meta", "one two")],
                b"\x00\xff",
                None,
            ),
        ];
        for (method, path, extra, body, token) in cases {
            let (headers, auth, date) = crate_signed(method, path, extra, body, token);
            let time = super::super::parse_amz_date(&date).unwrap();
            // Twice: the second takes the signing key from the thread's map.
            for _ in 0..2 {
                let ok = verifies(method, path, &headers, body, &auth, (secret, &date, time));
                assert_eq!(ok, Some(true), "{method} {path}");
            }
            let other = verifies(method, path, &headers, b"x", &auth, (secret, &date, time));
            assert_eq!(other, Some(false));
            let wrong = verifies(method, path, &headers, body, &auth, ("x", &date, time));
            assert_eq!(wrong, Some(false));
        }
    }

    /// Other shapes are left to the crate.
    #[test]
    fn other_shapes_are_left_to_the_crate() {
        let secret = "s";
        let (headers, auth, date) = crate_signed("POST", "/", &[], b"", None);
        let time = super::super::parse_amz_date(&date).unwrap();
        let scope = (secret, date.as_str(), time);
        assert!(verifies("GET", "/?Action=X", &headers, b"", &auth, scope).is_none());
        assert!(verifies("GET", "/a%2Fb", &headers, b"", &auth, scope).is_none());
        let s3 = AuthHeader {
            service: "s3".into(),
            ..auth.clone()
        };
        assert!(verifies("POST", "/", &headers, b"", &s3, scope).is_none());
        let mut reversed = auth.clone();
        let names: Vec<&str> = auth.signed_headers.iter().collect();
        reversed.signed_headers = super::super::SignedHeaders::of(names.into_iter().rev());
        assert!(verifies("POST", "/", &headers, b"", &reversed, scope).is_none());
        let mut twice = headers.clone();
        twice.append("host", "again".parse().unwrap());
        assert!(verifies("POST", "/", &twice, b"", &auth, scope).is_none());
        let mut spaced = headers.clone();
        spaced.insert("host", "a  b".parse().unwrap());
        assert!(verifies("POST", "/", &spaced, b"", &auth, scope).is_none());
        // An x-amz-* header sent but not signed is for the caller to refuse.
        let mut unsigned = headers.clone();
        unsigned.insert("x-amz-meta-extra", "1".parse().unwrap());
        assert!(verifies("POST", "/", &unsigned, b"", &auth, scope).is_none());
        // As many signed names as this path keeps, and one more.
        for (extras, expected) in [(MOST_SIGNED - 2, Some(true)), (MOST_SIGNED - 1, None)] {
            let names: Vec<String> = (0..extras).map(|i| format!("a-{i:02}")).collect();
            let extra: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
            let (h, a, d) = crate_signed("POST", "/", &extra, b"", None);
            assert_eq!(
                a.signed_headers.iter().count(),
                extras + 2,
                "host, x-amz-date and the extras"
            );
            let t = super::super::parse_amz_date(&d).unwrap();
            let key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
            assert_eq!(verifies("POST", "/", &h, b"", &a, (key, &d, t)), expected);
        }
        // More signed names than this path keeps.
        let mut many = auth.clone();
        let extra: Vec<String> = (0..MOST_SIGNED).map(|i| format!("zz-{i:02}")).collect();
        many.signed_headers = super::super::SignedHeaders::of(
            auth.signed_headers
                .iter()
                .chain(extra.iter().map(String::as_str)),
        );
        let mut sent = headers.clone();
        for name in &extra {
            sent.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                "v".parse().unwrap(),
            );
        }
        assert!(verifies("POST", "/", &sent, b"", &many, scope).is_none());
        let mut missing = auth.clone();
        missing.signed_headers =
            super::super::SignedHeaders::of(auth.signed_headers.iter().chain(["zz-not-sent"]));
        assert!(verifies("POST", "/", &headers, b"", &missing, scope).is_none());
        // A scope date that is only a prefix of the day, or a signed year, is the crate's to
        // refuse.
        for (amz, day) in [
            (date.clone(), date[..4].to_string()),
            (format!("+{date}"), format!("+{}", &date[..7])),
        ] {
            let odd = AuthHeader {
                date: day,
                ..auth.clone()
            };
            assert!(verifies("POST", "/", &headers, b"", &odd, (secret, &amz, time)).is_none());
        }
    }

    #[test]
    fn only_plain_paths_and_values_take_this_path() {
        assert!(plain_path("/"));
        assert!(plain_path("/2015-03-31/functions"));
        for p in [
            "", "//", "/a/", "/a//b", "/./a", "/a/..", "/a%20b", "/a b", "/ü",
        ] {
            assert!(!plain_path(p), "{p}");
        }
        assert!(plain_value(b"application/x-amz-json-1.1"));
        assert!(plain_value(b"aws-cli/2.15 Python/3.11 Linux"));
        assert!(plain_value(b"a b c"));
        for v in [" a", "a ", "a  b", "a\tb", "ü"] {
            assert!(!plain_value(v.as_bytes()), "{v:?}");
        }
    }
}
