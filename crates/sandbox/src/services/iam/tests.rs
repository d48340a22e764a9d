//! Unit tests of IAM's checks, encodings, CloudTrail parameters and paging, and of every
//! operation against hostile input.

use std::collections::BTreeMap;

use serde_json::json;

use super::document::{check_document, DocKind};
use super::paging::{max_items, paginate};
use super::params::{check_name, path_param, version_param};
use super::seed::EC2_TRUST;
use super::{aws_managed_policies, url_encode, Iam, HOME_REGION};
use crate::protocol::{Input, Protocol};
use crate::services::{Call, Service};
use crate::Sandbox;

#[test]
fn documents_are_checked_with_aws_messages() {
    let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}"#;
    assert!(check_document(ok, DocKind::Identity).is_ok());
    assert_eq!(
        check_document("{not json", DocKind::Identity)
            .unwrap_err()
            .message,
        "This policy contains invalid Json"
    );
    let no_resource =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt"}]}"#;
    assert_eq!(
        check_document(no_resource, DocKind::Identity)
            .unwrap_err()
            .message,
        "Policy statement must contain resources."
    );
    let no_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#;
    assert_eq!(
        check_document(no_action, DocKind::Identity)
            .unwrap_err()
            .message,
        "Policy statement must contain actions."
    );
    assert!(check_document(EC2_TRUST, DocKind::Trust).is_ok());
    assert_eq!(
        check_document(EC2_TRUST, DocKind::Identity)
            .unwrap_err()
            .code,
        "MalformedPolicyDocument"
    );
    assert_eq!(
        check_document(ok, DocKind::Trust).unwrap_err().message,
        "Has prohibited field Resource"
    );
    for p in aws_managed_policies() {
        for v in &p.versions {
            check_document(&v.document, DocKind::Identity).unwrap();
        }
    }
}

#[test]
fn url_encoding_is_rfc3986() {
    assert_eq!(
        url_encode(r#"{"a": "s3:*"}"#),
        "%7B%22a%22%3A%20%22s3%3A%2A%22%7D"
    );
    assert_eq!(url_encode("ec2.amazonaws.com-_~"), "ec2.amazonaws.com-_~");
}

#[test]
fn query_parameters_unflatten_for_cloudtrail() {
    let i = Input::form(
        [
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("Tags.member.1.Key", "a"),
            ("Tags.member.1.Value", "1"),
            ("Tags.member.2.Key", "b"),
            ("Tags.member.2.Value", "2"),
            ("MaxSessionDuration", "7200"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        crate::protocol::input::FormStyle::Query,
    );
    let j = Iam.request_parameters("CreateRole", &i);
    assert_eq!(
        j,
        json!({"maxSessionDuration": 7200, "roleName": "r", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]})
    );
}

#[test]
fn deeply_dotted_parameters_do_not_recurse_deeply() {
    let key = vec!["a"; 200_000].join(".");
    let i = Input::form(
        [(key, "v".to_string())].into_iter().collect(),
        crate::protocol::input::FormStyle::Query,
    );
    assert!(Iam.request_parameters("CreateRole", &i).is_object());
}

/// Every operation IAM serves, and one it does not.
const EVERY_OPERATION: [&str; 42] = [
    "GetRole",
    "CreateRole",
    "DeleteRole",
    "ListRoles",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "ListRolePolicies",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "ListPolicies",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "ListEntitiesForPolicy",
    "CreateInstanceProfile",
    "GetInstanceProfile",
    "DeleteInstanceProfile",
    "ListInstanceProfiles",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
    "ListInstanceProfilesForRole",
    "GetUser",
    "CreateUser",
    "DeleteUser",
    "ListUsers",
    "CreateAccessKey",
    "ListAccessKeys",
    "DeleteAccessKey",
    "NoSuchOperation",
];

/// Missing, malformed, huge and hostile members.
fn hostile_members() -> Vec<Vec<(&'static str, String)>> {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let long = "x".repeat(3000);
    let role = "KMSWorkshop-InstanceInitRole".to_string();
    vec![
        vec![],
        vec![
            ("RoleName", role.clone()),
            ("UserName", "workshop-learner".into()),
            ("InstanceProfileName", role.clone()),
        ],
        vec![
            ("RoleName", "ü".into()),
            ("PolicyArn", "arn:aws:iam::aws:policy/".into()),
            ("VersionId", "v".into()),
        ],
        vec![
            ("RoleName", long.clone()),
            ("PolicyArn", "arn:::::".into()),
            ("Path", "/\u{0}/".into()),
        ],
        vec![
            (
                "PolicyArn",
                format!("arn:aws:iam::111122223333:policy/{long}"),
            ),
            ("VersionId", "v99999999999999999999".into()),
        ],
        vec![
            ("MaxItems", "-1".into()),
            ("Marker", "".into()),
            ("PathPrefix", "".into()),
            ("Scope", "".into()),
        ],
        vec![
            ("MaxItems", "99999999999999999999".into()),
            ("Marker", "%%%".into()),
            ("OnlyAttached", "maybe".into()),
        ],
        vec![
            ("Marker", crate::util::b64(&[0xff, 0xfe])),
            ("MaxItems", "1".into()),
            ("EntityFilter", "Role".into()),
        ],
        vec![
            ("Tags.member.1.Value", "v".into()),
            ("TagKeys.member.1", "".into()),
            ("RoleName", role.clone()),
        ],
        vec![
            ("RoleName", "r".into()),
            ("PolicyName", "p".into()),
            ("AssumeRolePolicyDocument", deep.clone()),
            ("PolicyDocument", deep.clone()),
            ("MaxSessionDuration", "1e9".into()),
        ],
        vec![
            ("PolicyName", "p".into()),
            (
                "PolicyDocument",
                r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":[]}]}"#.into(),
            ),
            ("SetAsDefault", "true".into()),
        ],
        vec![("AccessKeyId", long.clone()), ("UserName", "nobody".into())],
    ]
}

/// Every operation, with missing, malformed, huge and hostile members: answers, never a panic.
#[test]
fn hostile_inputs_get_answers_not_panics() {
    let sb = Sandbox::open(crate::Config::default()).unwrap();
    let cred = crate::identity::learner_credential(kms_workshop_names::sandbox::ACCOUNT, "seed");
    let variants = hostile_members();
    for op in EVERY_OPERATION {
        for v in &variants {
            let mut params: BTreeMap<String, String> =
                v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            params.insert("Action".into(), op.into());
            let input = Input::form(params, crate::protocol::input::FormStyle::Query);
            let mut cx = Call {
                sandbox: &sb,
                caller: crate::identity::Caller::from(&cred),
                region: HOME_REGION.into(),
                request_id: "r".into(),
                now: sb.clock.now(),
                protocol: Protocol::AwsQuery,
                resources: Vec::new(),
                response_elements: None,
                seeding: false,
            };
            if let Err(e) = Iam.call(&mut cx, op, &input) {
                assert!((400..500).contains(&e.status), "{op} {v:?}: {e}");
            }
            let _ = Iam.request_parameters(op, &input);
        }
    }
}

#[test]
fn names_paths_and_versions() {
    assert!(check_name("RoleName", "KMSWorkshop-InstanceInitRole", 64).is_ok());
    assert_eq!(
        check_name("RoleName", "bad name", 64).unwrap_err().code,
        "ValidationError"
    );
    assert!(check_name("RoleName", &"a".repeat(65), 64).is_err());
    let form = |k: &str, v: &str| {
        Input::form(
            [(k.to_string(), v.to_string())].into_iter().collect(),
            crate::protocol::input::FormStyle::Query,
        )
    };
    assert_eq!(path_param(&form("Path", "/a/b/")).unwrap(), "/a/b/");
    assert!(path_param(&form("Path", "a")).is_err());
    assert!(path_param(&form("Path", "//")).is_err());
    assert_eq!(version_param(&form("VersionId", "v12")).unwrap(), "v12");
    assert!(version_param(&form("VersionId", "v0")).is_err());
    assert!(version_param(&form("VersionId", "1")).is_err());
    assert_eq!(
        max_items(&form("MaxItems", "0")).unwrap_err().code,
        "ValidationError"
    );
}

#[test]
fn paging_resumes_after_the_marker() {
    let form = |pairs: &[(&str, &str)]| {
        Input::form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            crate::protocol::input::FormStyle::Query,
        )
    };
    let items = || (0..5).map(|i| (format!("k{i}"), i)).collect::<Vec<_>>();
    let p = paginate(&form(&[("MaxItems", "2")]), items()).unwrap();
    assert_eq!(p.items, vec![0, 1]);
    let m = p.marker.unwrap();
    let p = paginate(&form(&[("MaxItems", "2"), ("Marker", &m)]), items()).unwrap();
    assert_eq!(p.items, vec![2, 3]);
    let m = p.marker.unwrap();
    let p = paginate(&form(&[("MaxItems", "2"), ("Marker", &m)]), items()).unwrap();
    assert_eq!(p.items, vec![4]);
    assert!(p.marker.is_none());
    assert_eq!(
        paginate(&form(&[("Marker", "%%%")]), items())
            .unwrap_err()
            .code,
        "ValidationError"
    );
}
