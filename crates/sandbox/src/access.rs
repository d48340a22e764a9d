//! Who may reach the sandbox besides AWS-signed callers: the admin token that guards the control
//! API, and the `Host` and `Origin` checks that keep web pages out.
//!
//! A browser will send requests to `127.0.0.1` on behalf of any page it shows: a cross-site form
//! (CSRF), or a page whose own host name the attacker re-points at the loopback address (DNS
//! rebinding), so that even a sandbox that listens on loopback only is reachable from the web.
//! The checks here are what a browser cannot get around: a request must name the sandbox by an
//! IP address, `localhost` or a host name the operator allowed, and a request a page sent from
//! another origin (which browsers mark with `Origin`) is refused.

use http::HeaderMap;

/// The file in a state directory that holds its admin token (0600).
pub const TOKEN_FILE: &str = "admin.token";

/// The header that carries the admin token as it is (`Authorization: Bearer TOKEN` works
/// too): accepted over loopback only. From elsewhere a control call is signed with the token
/// (SigV4, access key id [`ADMIN_KEY_ID`]), as [`crate::http::admin_api::AdminClient`] does.
pub const TOKEN_HEADER: &str = "x-sandbox-token";

/// The access key id a control call signed with the admin token names (the token is the
/// secret: it never crosses the network itself).
pub const ADMIN_KEY_ID: &str = "KMSWORKSHOPSANDBOXADMIN";

/// The admin token as the credential a signed control call is checked against.
pub fn admin_credential(token: &str) -> crate::identity::Credential {
    crate::identity::Credential {
        access_key_id: ADMIN_KEY_ID.to_string(),
        secret_access_key: token.to_string(),
        session_token: None,
        account: String::new(),
        principal: crate::identity::Principal::IamUser {
            name: "sandbox-admin".into(),
            user_id: String::new(),
        },
        expires_ms: None,
        console_since: None,
    }
}

/// A new random admin token (64 hexadecimal digits).
pub fn new_token() -> String {
    crate::util::random_secret()
}

/// The admin token a request presents, if any.
pub fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(t) = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(t.trim());
    }
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
pub fn token_matches(expected: &str, given: &str) -> bool {
    crate::util::constant_time_eq(expected.as_bytes(), given.as_bytes())
}

/// Why a request was turned away before anything looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turned(pub String);

/// Check a request's `Host` and `Origin` headers against the names the sandbox answers to.
pub fn check_host_and_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), Turned> {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Turned("the request has no Host header".into()))?;
    if !host_allowed(host, allowed) {
        return Err(Turned(format!(
            "the sandbox does not answer to the host name '{}': reach it by IP address or \
             localhost, or start it with --allow-host {} (a name that points at it)",
            host_name(host),
            host_name(host)
        )));
    }
    // Browsers send Origin on cross-origin requests and on every POST; SDKs and the CLI never
    // do. Same origin means the page itself came from the sandbox (its console).
    if let Some(origin) = headers.get(http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let same = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme) == Some(host));
        if !same {
            return Err(Turned(format!(
                "requests from web pages of other origins ('{origin}') are refused"
            )));
        }
    }
    Ok(())
}

/// The name part of a `Host` header value (`[::1]:4599` → `::1`, `localhost:4599` → `localhost`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    })
}

/// IP literals cannot be re-pointed by anyone's DNS; `localhost` (and `*.localhost`, RFC 6761)
/// always means this machine; any other name only when the operator allowed it.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    allowed
        .iter()
        .any(|a| a.trim_end_matches('.').eq_ignore_ascii_case(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn hosts_by_ip_and_localhost_pass_others_need_allowing() {
        let none: &[String] = &[];
        for ok in [
            "127.0.0.1:4599",
            "[::1]:4599",
            "localhost:1",
            "LOCALHOST",
            "10.0.0.7:4599",
        ] {
            assert!(
                check_host_and_origin(&headers(&[("host", ok)]), none).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "evil.example:4599",
            "127.0.0.1.nip.io:4599",
            "localhost.evil.example",
        ] {
            let err = check_host_and_origin(&headers(&[("host", bad)]), none).unwrap_err();
            assert!(err.0.contains("--allow-host"), "{bad}: {}", err.0);
        }
        let allowed = vec!["classroom.lan".to_string()];
        assert!(
            check_host_and_origin(&headers(&[("host", "classroom.lan:4599")]), &allowed).is_ok()
        );
        assert!(check_host_and_origin(&HeaderMap::new(), none).is_err());
    }

    #[test]
    fn only_same_origin_pages_pass() {
        let none: &[String] = &[];
        let same = headers(&[
            ("host", "127.0.0.1:4599"),
            ("origin", "http://127.0.0.1:4599"),
        ]);
        assert!(check_host_and_origin(&same, none).is_ok());
        for origin in ["http://evil.example", "null", "http://127.0.0.1:4600"] {
            let h = headers(&[("host", "127.0.0.1:4599"), ("origin", origin)]);
            assert!(check_host_and_origin(&h, none).is_err(), "{origin}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert!(token_matches(&t, &t.clone()));
        assert!(!token_matches(&t, &t[..63]));
        assert!(!token_matches(&t, ""));
        let h = headers(&[("authorization", "Bearer abc")]);
        assert_eq!(presented_token(&h), Some("abc"));
    }
}
