//! Malformed requests

use super::*;

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `__type` of an awsJson error.
    fn json_type(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()));
        v["__type"]
            .as_str()
            .unwrap_or_else(|| panic!("no __type: {}", self.text()))
            .to_string()
    }

    /// The `<Code>` of an awsQuery `<ErrorResponse>`.
    fn query_code(&self) -> String {
        let t = self.text();
        assert!(t.contains("<ErrorResponse"), "not an ErrorResponse: {t}");
        assert!(t.contains("<RequestId>"), "no RequestId: {t}");
        t.split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or_else(|| panic!("no <Code>: {t}"))
            .to_string()
    }

    /// The `__type` of an RPC v2 CBOR error.
    fn cbor_type(&self) -> String {
        let v: ciborium::value::Value = ciborium::de::from_reader(self.body.as_slice())
            .unwrap_or_else(|e| panic!("not CBOR ({e}): {:?}", self.body));
        let map = v
            .as_map()
            .unwrap_or_else(|| panic!("not a CBOR map: {v:?}"));
        map.iter()
            .find(|(k, _)| k.as_text() == Some("__type"))
            .and_then(|(_, v)| v.as_text())
            .unwrap_or_else(|| panic!("no __type: {v:?}"))
            .to_string()
    }

    fn assert_4xx(&self, what: &str) {
        eprintln!(
            "{what}: {} {} {}",
            self.status,
            self.content_type,
            self.text().chars().take(300).collect::<String>()
        );
        assert!(
            (400..500).contains(&self.status),
            "{what}: expected a 4xx, got {} {}",
            self.status,
            self.text()
        );
    }
}

struct Client {
    endpoint: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Client {
    fn new(endpoint: &str) -> Client {
        Client {
            endpoint: endpoint.to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            rt: runtime(),
        }
    }

    /// POST with exactly these headers (besides Host and Content-Length).
    fn post(&self, path: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
        self.rt.block_on(async {
            let mut req = self
                .http
                .post(format!("{}{path}", self.endpoint))
                .body(body);
            for (k, v) in headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let resp = req.send().await.expect("the sandbox answers");
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = resp.bytes().await.expect("answer body").to_vec();
            Answer {
                status,
                content_type,
                body,
            }
        })
    }

    fn signed(&self, service: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let hs = sign(&self.endpoint, service, path, headers, body);
        self.post(path, &hs, body.to_vec())
    }

    fn kms(&self, target: &str, body: &[u8]) -> Answer {
        self.signed(
            "kms",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", target),
            ],
            body,
        )
    }

    fn sts(&self, body: &[u8]) -> Answer {
        self.signed(
            "sts",
            "/",
            &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body,
        )
    }

    /// The server still answers well-formed requests.
    fn assert_serving(&self, after: &str) {
        let a = self.kms("TrentService.ListKeys", b"{}");
        assert_eq!(a.status, 200, "ListKeys after {after}: {}", a.text());
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert!(v["Keys"].as_array().is_some_and(|k| !k.is_empty()), "{v}");
        let a = self.sts(b"Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(
            a.status,
            200,
            "GetCallerIdentity after {after}: {}",
            a.text()
        );
        assert!(
            a.text().contains(&format!("<Account>{ACCOUNT}</Account>")),
            "{}",
            a.text()
        );
    }
}

#[test]
fn malformed_kms_requests_get_json_errors_and_the_server_keeps_serving() {
    let sb = SandboxProc::start(&[]);
    let c = Client::new(&sb.endpoint);
    c.assert_serving("start");

    // Malformed JSON body.
    let a = c.kms(
        "TrentService.GenerateDataKey",
        format!(r#"{{"KeyId": "{IMPORTED_ALIAS}", "KeySpec": "#).as_bytes(),
    );
    a.assert_4xx("malformed JSON");
    assert_eq!(a.json_type(), "SerializationException");
    assert!(
        a.content_type.starts_with("application/x-amz-json-1.1"),
        "{}",
        a.content_type
    );
    c.assert_serving("malformed JSON");

    // JSON that is not an object.
    let a = c.kms("TrentService.ListKeys", b"[1, 2, 3]");
    a.assert_4xx("JSON array body");
    assert_eq!(a.json_type(), "SerializationException");

    // A member of the wrong type.
    let a = c.kms(
        "TrentService.GenerateDataKey",
        br#"{"KeyId": 42, "KeySpec": "AES_256"}"#,
    );
    a.assert_4xx("number where a string belongs");
    assert!(!a.json_type().is_empty());
    c.assert_serving("wrong member type");

    // Wrong Content-Type.
    let a = c.signed(
        "kms",
        "/",
        &[
            ("content-type", "text/plain"),
            ("x-amz-target", "TrentService.ListKeys"),
        ],
        b"{}",
    );
    a.assert_4xx("wrong Content-Type");
    assert!(!a.json_type().is_empty());
    c.assert_serving("wrong Content-Type");

    // Missing X-Amz-Target.
    let a = c.signed(
        "kms",
        "/",
        &[("content-type", "application/x-amz-json-1.1")],
        b"{}",
    );
    a.assert_4xx("missing X-Amz-Target");
    assert!(!a.json_type().is_empty());
    c.assert_serving("missing X-Amz-Target");

    // Unknown operation.
    let a = c.kms("TrentService.FlyToTheMoon", b"{}");
    a.assert_4xx("unknown operation");
    assert_eq!(a.json_type(), "UnknownOperationException");
    c.assert_serving("unknown operation");

    // No Authorization header at all.
    let unsigned = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "TrentService.ListKeys".to_string(),
        ),
    ];
    let a = c.post("/", &unsigned, b"{}".to_vec());
    a.assert_4xx("missing Authorization");
    assert_eq!(a.json_type(), "MissingAuthenticationTokenException");
    c.assert_serving("missing Authorization");

    // An Authorization header that is not SigV4.
    let mut garbage_auth = unsigned.clone();
    garbage_auth.push(("authorization".into(), "Bearer abc.def.ghi".into()));
    let a = c.post("/", &garbage_auth, b"{}".to_vec());
    a.assert_4xx("non-SigV4 Authorization");
    assert!(!a.json_type().is_empty());
    c.assert_serving("non-SigV4 Authorization");

    // A body of 10 MB.
    let mut big = format!(r#"{{"KeyId": "{IMPORTED_ALIAS}", "Plaintext": ""#).into_bytes();
    big.resize(10 * 1024 * 1024, b'A');
    big.extend_from_slice(br#""}"#);
    let a = c.kms("TrentService.Encrypt", &big);
    a.assert_4xx("10 MB body");
    assert!(!a.json_type().is_empty());
    c.assert_serving("10 MB body");

    // The body was signed, then changed.
    let hs = sign(
        &c.endpoint,
        "kms",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.ListKeys"),
        ],
        b"{}",
    );
    let a = c.post("/", &hs, br#"{"Limit": 1}"#.to_vec());
    a.assert_4xx("tampered body");
    assert_eq!(a.json_type(), "InvalidSignatureException");
    c.assert_serving("tampered body");
}

#[test]
fn malformed_query_and_cbor_requests_get_aws_shaped_errors() {
    let sb = SandboxProc::start(&[]);
    let c = Client::new(&sb.endpoint);
    c.assert_serving("start");

    // STS: unknown action.
    let a = c.sts(b"Action=FlyToTheMoon&Version=2011-06-15");
    a.assert_4xx("unknown STS action");
    assert_eq!(a.query_code(), "InvalidAction");
    assert!(a.content_type.contains("xml"), "{}", a.content_type);
    c.assert_serving("unknown STS action");

    // STS: no Action at all, and a body that is not a form.
    let a = c.sts(b"Version=2011-06-15");
    a.assert_4xx("missing Action");
    assert!(!a.query_code().is_empty());
    let a = c.sts(b"%%%\xff\xfe{not a form");
    a.assert_4xx("garbage form");
    assert!(!a.query_code().is_empty());
    c.assert_serving("garbage form");

    // STS: wrong Content-Type.
    let a = c.signed(
        "sts",
        "/",
        &[("content-type", "application/json")],
        br#"{"Action": "GetCallerIdentity"}"#,
    );
    a.assert_4xx("STS with a JSON body");
    assert!(!a.query_code().is_empty());
    c.assert_serving("STS with a JSON body");

    // STS: no Authorization header.
    let a = c.post(
        "/",
        &[(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
    );
    a.assert_4xx("unsigned STS");
    assert_eq!(a.query_code(), "MissingAuthenticationToken");
    c.assert_serving("unsigned STS");

    // STS: 10 MB form.
    let mut big = b"Action=GetCallerIdentity&Version=2011-06-15&Padding=".to_vec();
    big.resize(10 * 1024 * 1024, b'x');
    let a = c.sts(&big);
    a.assert_4xx("10 MB form");
    assert!(!a.query_code().is_empty());
    c.assert_serving("10 MB form");

    // RPC v2 CBOR (CloudWatch's protocol for the Rust SDK): garbage body.
    let path = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
    let a = c.signed(
        "monitoring",
        path,
        &[
            ("content-type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("accept", "application/cbor"),
        ],
        b"\xff\xfe\xfd garbage, not CBOR \x1f\x00",
    );
    a.assert_4xx("garbage CBOR");
    assert!(!a.cbor_type().is_empty());
    c.assert_serving("garbage CBOR");

    // CloudTrail (awsJson1.1 too): malformed JSON and an unknown operation.
    let target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
    let a = c.signed(
        "cloudtrail",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ],
        b"{\"MaxResults\": ",
    );
    a.assert_4xx("malformed CloudTrail JSON");
    assert_eq!(a.json_type(), "SerializationException");
    let a = c.signed(
        "cloudtrail",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.Nope",
            ),
        ],
        b"{}",
    );
    a.assert_4xx("unknown CloudTrail operation");
    assert_eq!(a.json_type(), "UnknownOperationException");
    c.assert_serving("CloudTrail errors");
}
