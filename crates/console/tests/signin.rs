//! Sign-in, sessions and forms over plain HTTP, as an attacker would send them: a used or
//! guessed link, a forged form without the session's CSRF token, a form from another origin,
//! pages without a session, and who may ask the control API for a link.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

use common::{http, link, open, sandbox};
use kms_workshop_sandbox::seed;
use reqwest::StatusCode;

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_link_signs_in_once_with_a_strict_http_only_cookie() {
    let (_sb, running) = sandbox(1).await;
    let url = link(&running.endpoint(), 1).await;
    // Opening the link (a prefetch, a scanner, another site's page) uses nothing up.
    for _ in 0..3 {
        let page = http().get(&url).send().await.expect("the link's page");
        let (status, cookie) = (page.status(), page.headers().get("set-cookie").cloned());
        let html = page.text().await.expect("HTML");
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(cookie.is_none());
        assert!(html.contains("learner 1"), "{html}");
    }
    // Another site's page cannot post the token: the browser marks its origin.
    let token = url.split("token=").nth(1).expect("a token");
    let forged = http()
        .post(format!("{}/console/signin", running.endpoint()))
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (status, cookie, location) = open(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/console/"));
    let cookie = cookie.expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let (again, second, _) = open(&url).await;
    assert_eq!(again, StatusCode::FORBIDDEN, "a link works once");
    assert!(second.is_none());
    let guessed = format!(
        "{}/console/signin?token={}",
        running.endpoint(),
        "0".repeat(64)
    );
    assert_eq!(open(&guessed).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_without_a_session_send_the_browser_to_sign_in() {
    let (_sb, running) = sandbox(1).await;
    for path in [
        "/console/",
        "/console/cloudtrail/events",
        "/console/inbox",
        "/console/inbox/1",
    ] {
        let r = http()
            .get(format!("{}{path}", running.endpoint()))
            .header("cookie", "kmsw_console=not-a-session")
            .send()
            .await
            .expect("an answer");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/console/signin", "{path}");
    }
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_or_from_another_origin_changes_nothing() {
    let (sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let (_, cookie, _) = open(&link(&endpoint, 1).await).await;
    let cookie = cookie_pair(&cookie.expect("a session"));
    let post = |body: &'static str, origin: Option<String>| {
        let mut req = http()
            .post(format!("{endpoint}/console/signout"))
            .header("cookie", cookie.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(
        post("", None).await.expect("answer").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("csrf=0000", None).await.expect("answer").status(),
        StatusCode::FORBIDDEN
    );
    let page = http()
        .get(format!("{endpoint}/console/"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .expect("the home page");
    assert_eq!(page.status(), StatusCode::OK, "still signed in");
    let html = page.text().await.expect("HTML");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's CSRF token")
        .to_string();
    let body: &'static str = Box::leak(format!("csrf={csrf}").into_boxed_str());
    let forged = post(body, Some("http://evil.example".into()))
        .await
        .expect("answer");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "another origin's form"
    );
    // Every changing form checks the token, not only sign-out.
    let create = http()
        .post(format!("{endpoint}/console/sns/topics"))
        .header("cookie", cookie.clone())
        .header("origin", endpoint.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=forged")
        .send()
        .await
        .expect("answer");
    assert_eq!(create.status(), StatusCode::FORBIDDEN);
    let cfg = kms_workshop_testkit::learner_config(&endpoint).await;
    let topics = aws_sdk_sns::Client::new(&cfg)
        .list_topics()
        .send()
        .await
        .expect("ListTopics");
    assert!(
        topics
            .topics()
            .iter()
            .all(|t| !t.topic_arn().unwrap_or_default().ends_with(":forged")),
        "no topic was made"
    );
    let keys_before = sb
        .credentials()
        .iter()
        .filter(|c| c.console_since.is_some())
        .count();
    assert_eq!(keys_before, 1);
    let ok = post(body, Some(endpoint.clone())).await.expect("answer");
    assert_eq!(ok.status(), StatusCode::OK);
    let keys_after = sb
        .credentials()
        .iter()
        .filter(|c| c.console_since.is_some())
        .count();
    assert_eq!(keys_after, 0, "signing out forgets the session's keys");
}

#[tokio::test]
async fn a_learner_may_ask_for_their_own_link_only() {
    let (sb, running) = sandbox(2).await;
    let endpoint = running.endpoint();
    let own = sb
        .credential(seed::LEARNER_ACCESS_KEY)
        .expect("learner 1's keys");
    let client = kms_workshop_sandbox::http::admin_api::AdminClient::new(&endpoint).signed_as(
        aws_credential_types::Credentials::new(
            own.access_key_id,
            own.secret_access_key,
            None,
            None,
            "test",
        ),
        seed::REGION,
    );
    let mine = client.console_link(None).await.expect("their own link");
    assert_eq!(mine.learner, 1);
    assert_eq!(mine.account, seed::ACCOUNT);
    let other = client.console_link(Some(2)).await;
    assert!(
        matches!(
            &other,
            Err(kms_workshop_sandbox::http::admin_api::AdminError::Refused { status: 403, .. })
        ),
        "{other:?}"
    );
    let instructor = client.instructor_console_link().await;
    assert!(
        matches!(
            &instructor,
            Err(kms_workshop_sandbox::http::admin_api::AdminError::Refused { status: 403, .. })
        ),
        "a learner's keys get no instructor link: {instructor:?}"
    );
    let anonymous = http()
        .post(format!("{endpoint}/_sandbox/console/link?learner=1"))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The headers of a bodiless request to `url` signed (SigV4, service `sandbox`) with `keys`.
fn signed_headers(
    method: &str,
    url: &str,
    keys: &aws_credential_types::Credentials,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let identity = keys.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(seed::REGION)
        .name("sandbox")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing parameters");
    let host = common::origin(url)
        .trim_start_matches("http://")
        .to_string();
    let request = SignableRequest::new(
        method,
        url,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .expect("a signable request");
    let (instructions, _) = sign(request, &params.into()).expect("signed").into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn a_signed_link_request_seen_on_the_network_cannot_be_replayed() {
    let (sb, running) = sandbox(1).await;
    let endpoint = running.endpoint();
    let own = sb
        .credential(seed::LEARNER_ACCESS_KEY)
        .expect("learner 1's keys");
    let keys = aws_credential_types::Credentials::new(
        own.access_key_id,
        own.secret_access_key,
        None,
        None,
        "test",
    );
    // What a listener on the network would capture: one signed request.
    let url = format!("{endpoint}/_sandbox/console/link");
    let signed = signed_headers("POST", &url, &keys);
    let send = || {
        let mut req = http().post(&url);
        for (k, v) in &signed {
            req = req.header(k.as_str(), v.as_str());
        }
        req.send()
    };
    assert_eq!(send().await.expect("answer").status(), StatusCode::OK);
    let replay = send().await.expect("answer");
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    assert!(replay.text().await.expect("body").contains("replayed"));
}

#[tokio::test]
async fn in_a_classroom_no_learner_moves_the_shared_clock() {
    let (sb, running) = sandbox(2).await;
    let endpoint = running.endpoint();
    let (_, cookie, _) = open(&link(&endpoint, 2).await).await;
    let cookie = cookie_pair(&cookie.expect("a session"));
    let html = http()
        .get(format!("{endpoint}/console/cloudwatch/alarms"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .expect("the alarms page")
        .text()
        .await
        .expect("HTML");
    assert!(html.contains("the instructor moves it"), "{html}");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-out form's CSRF token")
        .to_string();
    let before = sb.clock.now();
    let forged = http()
        .post(format!("{endpoint}/console/clock"))
        .header("cookie", cookie)
        .header("origin", endpoint.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&days=30"))
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        sb.clock.now() - before < time::Duration::days(1),
        "the clock did not move"
    );
}
