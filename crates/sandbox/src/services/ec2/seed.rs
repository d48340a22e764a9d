//! What EC2 contributes to the workshop seed around what the seed's plan makes (the instance
//! with its profile and the `WorkshopEBS` volume: `crate::seed::plan`): the documented id of
//! the workshop instance, and a lookalike instance no clean-up may touch.

use std::collections::BTreeMap;

use time::Duration;

use super::ids::new_id;
use super::ops::instances::{new_instance, Launch};
use super::state::Ec2State;
use crate::protocol::AwsError;
use crate::Sandbox;

/// The Amazon Linux AMI the workshop instance was launched from.
pub const WORKSHOP_AMI: &str = "ami-0c02fb55956c7d316";

/// Give the instance `launched`, which the seed's plan just launched, the documented id
/// ([`kms_workshop_names::sandbox::INSTANCE_ID`]: the instance's role-session credential and
/// the docs name it), unless an instance has it already. Its volumes follow it.
pub(crate) fn documented_id(st: &mut Ec2State, launched: String) -> String {
    let id = kms_workshop_names::sandbox::INSTANCE_ID.to_string();
    if st.instances.contains_key(&id) {
        return launched;
    }
    let Some(mut inst) = st.instances.remove(&launched) else {
        return launched;
    };
    inst.id = id.clone();
    st.instances.insert(id.clone(), inst);
    for v in st.volumes.values_mut() {
        if let Some(a) = v.attachment.as_mut().filter(|a| a.instance_id == launched) {
            a.instance_id = id.clone();
        }
    }
    id
}

/// The lookalike: someone else's batch instance (`billing-batch`, no workshop profile),
/// running for nine days.
pub fn seed_workshop(sb: &Sandbox, account: &str, region: &str) -> Result<(), AwsError> {
    let now = sb.clock.now();
    let batch = Launch {
        az: Some(format!("{region}a")),
        tags: BTreeMap::from([(
            "instance".to_string(),
            BTreeMap::from([
                ("Name".to_string(), "billing-batch".to_string()),
                ("team".to_string(), "billing".to_string()),
            ]),
        )]),
        ..Launch::of(WORKSHOP_AMI, "t3.medium")
    };
    sb.write::<Ec2State, _>(account, region, |st| {
        let launched = now - Duration::days(9);
        let reservation = new_id("r");
        new_instance(
            st,
            &batch,
            account,
            region,
            &reservation,
            0,
            launched,
            launched,
            0.0,
        );
        st.settle(now);
        Ok(())
    })
}
