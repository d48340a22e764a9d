//! What EC2 contributes to the workshop seed (docs/ARCHITECTURE.md, "The starting state"): the workshop instance with
//! its profile and encrypted volume, and a lookalike instance no clean-up may touch.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::ids::{new_id, profile_id};
use super::kms_keys::resolve_kms_key;
use super::ops::instances::{new_instance, Launch};
use super::state::{Association, AssociationState, Attachment, AttachmentState, Ec2State, Volume};
use crate::protocol::AwsError;
use crate::Sandbox;

/// The Amazon Linux AMI the workshop instance was launched from.
pub const WORKSHOP_AMI: &str = "ami-0c02fb55956c7d316";

/// One instance of [`WORKSHOP_AMI`] in the region's first zone with these instance tags.
fn launch(region: &str, tags: &[(&str, &str)], instance_type: &str) -> Launch {
    Launch {
        az: Some(format!("{region}a")),
        tags: BTreeMap::from([(
            "instance".to_string(),
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )]),
        ..Launch::of(WORKSHOP_AMI, instance_type)
    }
}

/// A running instance launched at `launched`, under a new reservation.
fn launched_instance(
    st: &mut Ec2State,
    l: &Launch,
    account: &str,
    region: &str,
    launched: OffsetDateTime,
) -> String {
    let reservation = new_id("r");
    new_instance(
        st,
        l,
        account,
        region,
        &reservation,
        0,
        launched,
        launched,
        0.0,
    )
}

/// The workshop instance, launched by hand at `launched`; its id is the documented one.
fn workshop_instance(
    st: &mut Ec2State,
    account: &str,
    region: &str,
    launched: OffsetDateTime,
) -> String {
    let l = launch(
        region,
        &[("Name", kms_workshop_names::INSTANCE_NAME_TAG)],
        "t2.micro",
    );
    let tmp = launched_instance(st, &l, account, region, launched);
    let id = kms_workshop_names::sandbox::INSTANCE_ID.to_string();
    if let Some(mut inst) = st.instances.remove(&tmp) {
        inst.id = id.clone();
        st.instances.insert(id.clone(), inst);
    }
    for v in st.volumes.values_mut() {
        if let Some(a) = v.attachment.as_mut().filter(|a| a.instance_id == tmp) {
            a.instance_id = id.clone();
        }
    }
    id
}

/// The 100 GiB `WorkshopEBS` volume, encrypted with `kms_key_id`, attached as `/dev/sdf`.
fn workshop_ebs(
    instance_id: &str,
    region: &str,
    kms_key_id: Option<String>,
    created: OffsetDateTime,
) -> Volume {
    Volume {
        id: new_id("vol"),
        size: 100,
        volume_type: "gp2".into(),
        iops: Some(300),
        throughput: None,
        availability_zone: format!("{region}a"),
        encrypted: true,
        kms_key_id,
        snapshot_id: String::new(),
        create_time: created,
        ready_at: None,
        creation_fails: false,
        tags: BTreeMap::from([(
            "Name".to_string(),
            kms_workshop_names::VOLUME_NAME_TAG.to_string(),
        )]),
        attachment: Some(Attachment {
            instance_id: instance_id.to_string(),
            device: "/dev/sdf".into(),
            attach_time: created,
            delete_on_termination: false,
            state: AttachmentState::Attached,
            until: None,
        }),
        client_token: None,
    }
}

/// The workshop's EC2 resources: the instance with id
/// [`kms_workshop_names::sandbox::INSTANCE_ID`], the [`kms_workshop_names::PROFILE`] profile
/// associated, its root volume, the 100 GiB `WorkshopEBS` volume encrypted with
/// [`kms_workshop_names::IMPORTED_ALIAS`] attached as `/dev/sdf`; and a lookalike no clean-up may
/// touch (`billing-batch`, no workshop profile).
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let imported_cmk =
        resolve_kms_key(sb, account, region, kms_workshop_names::IMPORTED_ALIAS, now);
    let profile_arn = format!(
        "arn:aws:iam::{account}:instance-profile/{}",
        kms_workshop_names::PROFILE
    );
    sb.write::<Ec2State, _>(account, region, |st| {
        let launched = now - Duration::days(2);
        let id = workshop_instance(st, account, region, launched);
        let assoc = Association {
            id: new_id("iip-assoc"),
            instance_id: id.clone(),
            profile_arn: profile_arn.clone(),
            profile_id: profile_id(&profile_arn),
            state: AssociationState::Associated,
            until: None,
            timestamp: launched,
        };
        st.associations.insert(assoc.id.clone(), assoc);
        let ebs = workshop_ebs(&id, region, imported_cmk.clone(), now - Duration::days(1));
        st.volumes.insert(ebs.id.clone(), ebs);
        // The lookalike: someone else's batch instance in the same account.
        let batch = launch(
            region,
            &[("Name", "billing-batch"), ("team", "billing")],
            "t3.medium",
        );
        launched_instance(st, &batch, account, region, now - Duration::days(9));
        st.settle(now);
        Ok(())
    })
}
