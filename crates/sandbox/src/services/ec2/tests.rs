//! Unit tests of EC2's ids, filters, paging, state encoding and transitions.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::ids::{new_id, well_formed};
use super::ops::associations::new_association;
use super::ops::filters::{key_of_token, paginate, Page};
use super::ops::instances::{new_instance, Launch};
use super::*;
use crate::common::wildcard::{matches, EC2_FILTER};

#[test]
fn ids_and_wildcards() {
    assert!(well_formed("i-0a1b2c3d4e5f60718", "i"));
    assert!(well_formed("i-0a1b2c3d", "i"));
    assert!(!well_formed("i-0A1B2C3D", "i"));
    assert!(!well_formed("i-123", "i"));
    assert!(!well_formed("vol-0a1b2c3d", "i"));
    let id = new_id("iip-assoc");
    assert!(well_formed(&id, "iip-assoc"), "{id}");
    let wildcard = |p: &str, v: &str| matches(EC2_FILTER, p, v);
    assert!(wildcard("KMS*", "KMSWorkshop-Instance"));
    assert!(wildcard("?-*", "i-123"));
    assert!(!wildcard("KMS", "KMSWorkshop"));
    assert!(wildcard("a\\*b", "a*b") && !wildcard("a\\*b", "axb"));
    assert!(wildcard(&"*".repeat(40), "x"));
    assert!(!wildcard(
        &format!("{}b", "*a".repeat(30)),
        &"a".repeat(5000)
    ));
    assert!(wildcard("", "") && !wildcard("", "x") && wildcard("*", ""));
    assert!(wildcard("a*c?e", "abbbcde") && !wildcard("a*c?e", "abbbce"));
}

#[test]
fn paging_round_trip() {
    let items: Vec<(String, u32)> = (0..12).map(|i| (format!("{i:03}"), i)).collect();
    let page = Page {
        max: Some(5),
        after: None,
    };
    let (first, next) = paginate(items.clone(), &page);
    assert_eq!(first, vec![0, 1, 2, 3, 4]);
    let token = next.unwrap();
    let decoded = String::from_utf8(crate::util::unb64(&token).unwrap()).unwrap();
    assert_eq!(
        decoded, "ec2:004",
        "EC2's token: base64 of `ec2:` and the last key"
    );
    let page = Page {
        max: Some(5),
        after: key_of_token(&token),
    };
    let (second, next) = paginate(items.clone(), &page);
    assert_eq!(second, vec![5, 6, 7, 8, 9]);
    assert!(next.is_some());
    let page = Page {
        max: Some(5),
        after: next.as_deref().and_then(key_of_token),
    };
    let (last, next) = paginate(items, &page);
    assert_eq!((last, next), (vec![10, 11], None));
    assert_eq!(key_of_token(&crate::util::b64(b"iam:004")), None);
}

#[test]
fn states_keep_their_stored_strings() {
    let names = [
        (InstanceState::Pending, "pending", 0),
        (InstanceState::Running, "running", 16),
        (InstanceState::ShuttingDown, "shutting-down", 32),
        (InstanceState::Terminated, "terminated", 48),
        (InstanceState::Stopping, "stopping", 64),
        (InstanceState::Stopped, "stopped", 80),
    ];
    for (state, name, code) in names {
        assert_eq!(serde_json::to_value(state).unwrap(), name);
        assert_eq!(
            serde_json::from_value::<InstanceState>(name.into()).unwrap(),
            state
        );
        assert_eq!((state.as_str(), state.code()), (name, code));
    }
    for (state, name) in [
        (AttachmentState::Attaching, "attaching"),
        (AttachmentState::Attached, "attached"),
        (AttachmentState::Detaching, "detaching"),
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), name);
        assert_eq!(state.as_str(), name);
    }
    for (state, name) in [
        (AssociationState::Associating, "associating"),
        (AssociationState::Associated, "associated"),
        (AssociationState::Disassociating, "disassociating"),
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), name);
        assert_eq!(state.as_str(), name);
    }
    for (state, name) in [
        (VolumeState::Creating, "creating"),
        (VolumeState::Available, "available"),
        (VolumeState::InUse, "in-use"),
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), name);
        assert_eq!(state.as_str(), name);
    }
}

#[test]
fn state_saved_with_strings_loads() {
    let saved = serde_json::json!({
        "associations": {"iip-assoc-0123456789abcdef0": {
            "id": "iip-assoc-0123456789abcdef0", "instance_id": "i-0a1b2c3d4e5f60718",
            "profile_arn": "arn:aws:iam::111122223333:instance-profile/p", "profile_id": "AIPA0",
            "state": "disassociating", "until": "2024-01-01T00:00:05Z",
            "timestamp": "2024-01-01T00:00:00Z"
        }},
        "volumes": {"vol-0123456789abcdef0": {
            "id": "vol-0123456789abcdef0", "size": 8, "volume_type": "gp2",
            "availability_zone": "us-east-1a", "create_time": "2024-01-01T00:00:00Z",
            "attachment": {"instance_id": "i-0a1b2c3d4e5f60718", "device": "/dev/xvda",
                "attach_time": "2024-01-01T00:00:00Z", "delete_on_termination": true,
                "state": "attached"}
        }}
    });
    let st: Ec2State = serde_json::from_value(saved.clone()).unwrap();
    let a = st.associations.values().next().unwrap();
    assert_eq!(a.state, AssociationState::Disassociating);
    let v = st.volumes.values().next().unwrap();
    assert_eq!(v.status(), VolumeState::InUse);
    let again = serde_json::to_value(&st).unwrap();
    assert_eq!(
        again["volumes"]["vol-0123456789abcdef0"]["attachment"]["state"],
        "attached"
    );
    assert_eq!(
        again["associations"]["iip-assoc-0123456789abcdef0"]["state"],
        "disassociating"
    );
}

#[test]
fn termination_settles_volumes_and_associations() {
    let now = OffsetDateTime::now_utc();
    let mut st = Ec2State::default();
    let l = Launch::of(WORKSHOP_AMI, "t2.micro");
    assert!(l.tags == BTreeMap::new() && l.az.is_none() && l.shutdown_behavior == "stop");
    let id = new_instance(
        &mut st,
        &l,
        "111122223333",
        "us-east-1",
        "r-1",
        0,
        now,
        now + Duration::seconds(10),
        0.0,
    );
    new_association(&mut st, &id, &("arn".into(), "AIPA".into()), now, now);
    st.settle(now + Duration::seconds(5));
    assert_eq!(st.instances[&id].state, InstanceState::Pending);
    assert_eq!(
        st.associations.values().next().unwrap().state,
        AssociationState::Associated
    );
    st.settle(now + Duration::seconds(10));
    assert_eq!(st.instances[&id].state, InstanceState::Running);
    let json = serde_json::to_value(&st.instances[&id]).unwrap();
    assert_eq!(json["state"], "running");
    let i = st.instances.get_mut(&id).unwrap();
    i.state = InstanceState::ShuttingDown;
    i.state_until = Some(now + Duration::seconds(40));
    assert!(!st.due(now + Duration::seconds(39)));
    st.settle(now + Duration::seconds(41));
    assert_eq!(st.instances[&id].state, InstanceState::Terminated);
    assert!(
        st.volumes.is_empty(),
        "the root volume goes with the instance"
    );
    assert!(st.associations.is_empty());
    st.settle(now + Duration::hours(2));
    assert!(
        st.instances.is_empty(),
        "terminated instances disappear after a while"
    );
}
