//! The classroom sandbox is locked: its control API (every account's keys and mail, the clock,
//! resets, faults) answers only the holder of the admin token, a learner reads only their own
//! account's messages (by their own SigV4 signature), the seeded secrets are random per state,
//! and web pages cannot reach the sandbox at all (Host and Origin are checked on every request).

use crate::common;

use common::{classroom_learner, serve, start_sandbox};
use kms_workshop_sandbox::http::admin_api::{path, AdminClient};
use kms_workshop_sandbox::{access, seed, Config, Sandbox};

/// Every control call but the two public ones (the health check, SNS's signing certificate).
const GUARDED: [(&str, &str); 10] = [
    ("GET", path::CLOCK),
    ("POST", "/_sandbox/clock/advance?seconds=60"),
    ("GET", path::CREDENTIALS),
    ("GET", path::OUTBOX),
    ("GET", path::LEARNERS),
    ("POST", "/_sandbox/learners/reset?learner=2"),
    ("GET", path::RULES),
    ("GET", path::FAULTS),
    ("POST", "/_sandbox/faults?throttle=1"),
    ("DELETE", path::FAULTS),
];

fn classroom(learners: u32) -> Config {
    Config {
        learners,
        ..Config::default()
    }
}

async fn status(req: reqwest::RequestBuilder) -> (u16, String) {
    let resp = req.send().await.expect("the sandbox answers");
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_control_call_but_health_needs_the_admin_token() {
    let (sb, running) = start_sandbox(classroom(2)).await;
    let ep = running.endpoint();
    let http = reqwest::Client::new();
    let call = |method: &str, p: &str| {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        http.request(m, format!("{ep}{p}"))
    };
    for (method, p) in GUARDED {
        let (code, body) = status(call(method, p)).await;
        assert_eq!(code, 401, "{method} {p} without a token: {body}");
        assert!(body.contains(access::TOKEN_HEADER), "{body}");
        let (code, _) = status(call(method, p).header(access::TOKEN_HEADER, "0".repeat(64))).await;
        assert_eq!(code, 401, "{method} {p} with a wrong token");
        let (code, _) = status(call(method, p).bearer_auth(&sb.admin_token()[..63])).await;
        assert_eq!(code, 401, "{method} {p} with a prefix of the token");
    }
    // Nothing changed: no fault switched on, the clock where it was, learner 2 not reset.
    assert_eq!(sb.clock.offset(), time::Duration::ZERO);
    for (method, p) in GUARDED {
        let (code, body) =
            status(call(method, p).header(access::TOKEN_HEADER, sb.admin_token())).await;
        assert_eq!(code, 200, "{method} {p} with the token: {body}");
    }
    for p in [path::HEALTH, path::SNS_SIGNING_KEY] {
        assert_eq!(status(call("GET", p)).await.0, 200, "{p} is public");
    }
}

#[tokio::test]
async fn a_learner_reads_only_their_own_messages_and_controls_nothing() {
    let (sb, running) = start_sandbox(classroom(2)).await;
    let ep = running.endpoint();
    for k in 1..=2 {
        let sns = aws_sdk_sns::Client::new(&classroom_learner(&ep, k).await);
        let topic = sns.create_topic().name("mine").send().await.expect("topic");
        sns.subscribe()
            .topic_arn(topic.topic_arn().expect("arn"))
            .protocol("email")
            .endpoint(format!("learner{k}@example.com"))
            .send()
            .await
            .expect("subscribe");
    }
    let as_learner = |k: u32| {
        let l = seed::learner(k);
        let c = sb.credential(&l.access_key_id).expect("learner key");
        let keys = aws_credential_types::Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            None,
            None,
            "test",
        );
        AdminClient::new(&ep).signed_as(keys, seed::REGION)
    };
    let mine = as_learner(1).outbox(0, None).await.expect("own messages");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine.iter().all(|m| m.account == seed::ACCOUNT));
    assert!(mine[0].recipient == "learner1@example.com");
    let other = seed::learner(2).account;
    let refused = as_learner(1)
        .outbox(0, Some(&other))
        .await
        .expect_err("another's mail");
    assert!(refused.to_string().contains("403"), "{refused}");
    as_learner(1)
        .clock()
        .await
        .expect("a learner reads the clock");
    for refused in [
        as_learner(1).credentials().await.map(|_| ()),
        as_learner(1).learners().await.map(|_| ()),
        as_learner(1).advance_clock(60.0).await.map(|_| ()),
        as_learner(1).reset_learner(2).await.map(|_| ()),
    ] {
        let e = refused.expect_err("refused to a learner");
        assert!(e.to_string().contains("403"), "{e}");
    }
    // A forged signature is no learner.
    let forged = aws_credential_types::Credentials::new(
        seed::LEARNER_ACCESS_KEY,
        "kmsworkshop/sandbox/learner/secret/key/000",
        None,
        None,
        "test",
    );
    let e = AdminClient::new(&ep)
        .signed_as(forged, seed::REGION)
        .outbox(0, None)
        .await
        .expect_err("forged");
    assert!(e.to_string().contains("401"), "{e}");
    // A signature made with another token is no admin's.
    let e = AdminClient::new(&ep)
        .with_token(Some("0".repeat(64)))
        .outbox(0, None)
        .await
        .expect_err("another token");
    assert!(e.to_string().contains("401"), "{e}");
    // The holder of the token (the client signs with it; it never sends it) reads everyone's.
    let all = AdminClient::new(&ep)
        .with_token(Some(sb.admin_token().to_string()))
        .outbox(0, None)
        .await
        .expect("all messages");
    assert_eq!(all.len(), 2);
}

#[test]
fn secrets_and_tokens_are_random_per_state_and_kept_with_it() {
    let (d1, d2) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let open = |d: &tempfile::TempDir| {
        Sandbox::open(Config {
            state_dir: Some(d.path().to_path_buf()),
            ..classroom(2)
        })
        .expect("sandbox")
    };
    let secrets = |sb: &Sandbox| {
        [
            seed::LEARNER_ACCESS_KEY,
            seed::INSTANCE_ACCESS_KEY,
            seed::INSTRUCTOR_ACCESS_KEY,
            &seed::learner(2).access_key_id,
        ]
        .map(|id| sb.credential(id).expect("seeded").secret_access_key)
    };
    let (a, b) = (open(&d1), open(&d2));
    let (sa, sb_) = (secrets(&a), secrets(&b));
    for (x, y) in sa.iter().zip(&sb_) {
        assert_ne!(x, y, "two states share a secret");
        assert!(!x.starts_with("kmsworkshop/"), "a guessable secret: {x}");
    }
    assert_ne!(a.admin_token(), b.admin_token());
    let token = a.admin_token().to_string();
    // Reset gives a learner their keys back; a restart keeps keys and token.
    a.reset_learner(2).expect("reset");
    assert_eq!(secrets(&a), sa);
    drop(a);
    let file = d1.path().join(access::TOKEN_FILE);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("token").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    let again = open(&d1);
    assert_eq!(again.admin_token(), token);
    assert_eq!(secrets(&again), sa);
    // In memory: a token of its own each time.
    let m1 = Sandbox::open(Config::default()).expect("sandbox");
    let m2 = Sandbox::open(Config::default()).expect("sandbox");
    assert_ne!(m1.admin_token(), m2.admin_token());
}

#[tokio::test]
async fn web_pages_cannot_reach_the_sandbox() {
    let sb = Sandbox::open(Config {
        allowed_hosts: vec!["classroom.lan".into()],
        ..Config::default()
    })
    .expect("sandbox");
    let running = serve(&sb).await;
    let ep = running.endpoint();
    let http = reqwest::Client::new();
    let token = sb.admin_token().to_string();
    let admin = |host: Option<&str>, origin: Option<&str>| {
        let mut r = http
            .post(format!("{ep}/_sandbox/clock/advance?seconds=60"))
            .header(access::TOKEN_HEADER, &token);
        if let Some(h) = host {
            r = r.header("host", h);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r
    };
    let port = running.addr.port();
    // DNS rebinding: a name the attacker points at 127.0.0.1.
    let (code, body) = status(admin(Some(&format!("rebind.evil.example:{port}")), None)).await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("--allow-host"), "{body}");
    // A cross-site request from a page the learner visits.
    let (code, _) = status(admin(None, Some("http://evil.example"))).await;
    assert_eq!(code, 403);
    // The AWS API too (an unsigned SNS link is a GET any page could make).
    let (code, _) = status(
        http.get(format!(
            "{ep}/?Action=Unsubscribe&SubscriptionArn=x&Token=y"
        ))
        .header("host", format!("rebind.evil.example:{port}")),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(sb.clock.offset(), time::Duration::ZERO, "nothing moved");
    // A request target naming another host than its Host header.
    let raw = format!(
        "GET http://rebind.evil.example:{port}/_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let answer = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut c = tokio::net::TcpStream::connect(running.addr)
            .await
            .expect("connect");
        c.write_all(raw.as_bytes()).await.expect("send");
        let mut out = String::new();
        c.read_to_string(&mut out).await.expect("read");
        out
    };
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    // The names the sandbox answers to.
    for host in [format!("classroom.lan:{port}"), format!("localhost:{port}")] {
        assert_eq!(status(admin(Some(&host), None)).await.0, 200, "{host}");
    }
    let same = format!("http://127.0.0.1:{port}");
    assert_eq!(status(admin(None, Some(&same))).await.0, 200);
    let cfg = common::learner_config(&ep).await;
    aws_sdk_kms::Client::new(&cfg)
        .list_keys()
        .send()
        .await
        .expect("the SDK passes");
}

#[test]
fn a_state_from_before_random_secrets_gets_new_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = || Config {
        state_dir: Some(dir.path().to_path_buf()),
        ..classroom(2)
    };
    let published = [
        (
            seed::LEARNER_ACCESS_KEY.to_string(),
            "kmsworkshop/sandbox/learner/secret/key/000",
        ),
        (
            seed::learner(2).access_key_id,
            "kmsworkshop/sandbox/learner/secret/key/001",
        ),
        (
            seed::INSTRUCTOR_ACCESS_KEY.to_string(),
            "kmsworkshop/sandbox/instructor/secret/00",
        ),
    ];
    let sb = Sandbox::open(cfg()).expect("sandbox");
    let old: Vec<_> = published
        .iter()
        .map(|(id, secret)| {
            let mut c = sb.credential(id).expect("seeded");
            c.secret_access_key = secret.to_string();
            c
        })
        .collect();
    drop(sb);
    // What the previous release stored: no seed, and the published constants as secrets.
    let (store, _) = kms_workshop_sandbox::store::Store::open(dir.path()).expect("store");
    store
        .put(&["secret_seed"], serde_json::json!(""))
        .expect("put");
    for c in &old {
        let value = serde_json::to_value(c).expect("json");
        store
            .put(&["credentials", &c.access_key_id], value)
            .expect("put");
    }
    drop(store);
    let sb = Sandbox::open(cfg()).expect("reopened");
    for (id, secret) in &published {
        let now = sb.credential(id).expect("still there").secret_access_key;
        assert_ne!(&now, secret, "{id} kept a published secret");
        assert_eq!(now.len(), 40);
    }
}

#[tokio::test]
async fn a_sandbox_that_accepts_any_credentials_takes_no_signature_for_control() {
    let (sb, running) = start_sandbox(Config {
        accept_any_credentials: true,
        ..classroom(2)
    })
    .await;
    // Any secret passes the AWS API in that mode, so it can prove no one's right to mail.
    let anyone = aws_credential_types::Credentials::new(
        seed::learner(2).access_key_id,
        "made up",
        None,
        None,
        "test",
    );
    let e = AdminClient::new(&running.endpoint())
        .signed_as(anyone, seed::REGION)
        .outbox(0, None)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("401"), "{e}");
    AdminClient::new(&running.endpoint())
        .with_token(Some(sb.admin_token().to_string()))
        .outbox(0, None)
        .await
        .expect("the token still works");
}

#[tokio::test]
async fn only_the_sandbox_whose_token_the_client_holds_proves_itself() {
    let (sb, running) = start_sandbox(Config::default()).await;
    let ep = running.endpoint();
    let with = |t: Option<String>| AdminClient::new(&ep).with_token(t);
    assert!(
        with(Some(sb.admin_token().to_string()))
            .is_own_sandbox()
            .await
    );
    assert!(!with(Some("0".repeat(64))).is_own_sandbox().await);
    assert!(!with(None).is_own_sandbox().await);
    // Saying "ok" is all any endpoint needs to be taken for a sandbox, not for its own.
    assert!(with(None).is_sandbox().await);
}
