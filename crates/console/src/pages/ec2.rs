//! Amazon EC2 **Instances**: each instance's name, state, type and IAM role; an instance's
//! page with **Modify IAM role** (choose another instance profile, or "No IAM role", which
//! disassociates it: the clean-up's second step), its volumes, and **Terminate instance**.
//! Every action is an EC2 call signed as the learner, its errors shown as EC2 words them.

use askama::Template;
use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification, Instance};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::{date, failed};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, status_for};

/// One instance as the list and its page show it.
pub struct InstanceRow {
    pub id: String,
    /// The id as one path segment.
    pub segment: String,
    pub name: String,
    pub state: String,
    pub instance_type: String,
    pub zone: String,
    pub launched: String,
    /// The instance profile's ARN (empty: no IAM role).
    pub profile: String,
    /// (device, volume id) of each attached EBS volume.
    pub volumes: Vec<(String, String)>,
}

impl InstanceRow {
    fn of(i: &Instance) -> Self {
        InstanceRow {
            id: i.instance_id().unwrap_or_default().to_string(),
            segment: super::sns::encode(i.instance_id().unwrap_or_default()),
            name: i
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value())
                .unwrap_or_default()
                .to_string(),
            state: i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str())
                .unwrap_or_default()
                .to_string(),
            instance_type: i
                .instance_type()
                .map(|t| t.as_str())
                .unwrap_or_default()
                .to_string(),
            zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .unwrap_or_default()
                .to_string(),
            launched: date(i.launch_time()),
            profile: i
                .iam_instance_profile()
                .and_then(|p| p.arn())
                .unwrap_or_default()
                .to_string(),
            volumes: i
                .block_device_mappings()
                .iter()
                .filter_map(|b| {
                    let volume = b.ebs()?.volume_id()?;
                    Some((b.device_name()?.to_string(), volume.to_string()))
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "ec2_instances.html")]
struct Instances {
    chrome: Chrome,
    instances: Vec<InstanceRow>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "ec2_instance.html")]
struct InstancePage {
    chrome: Chrome,
    instance: InstanceRow,
    /// The instance profiles the "Modify IAM role" list offers (names).
    profiles: Vec<String>,
    problem: Option<String>,
}

fn client(s: &SignedIn) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&s.session.sdk)
}

/// The instances `ids` names (all of the account's when empty).
async fn instances(ec2: &aws_sdk_ec2::Client, ids: &[&str]) -> Result<Vec<InstanceRow>, String> {
    let mut out = Vec::new();
    let mut call = ec2.describe_instances();
    for id in ids {
        call = call.instance_ids(*id);
    }
    let mut pages = call.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("DescribeInstances", e))?;
        out.extend(
            page.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .map(InstanceRow::of),
        );
    }
    Ok(out)
}

/// `GET /console/ec2/instances`.
pub async fn list(s: SignedIn) -> Response {
    let (instances, problem) = match instances(&client(&s), &[]).await {
        Ok(rows) => (rows, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    page(
        status_for(&problem),
        &Instances {
            chrome: Chrome::of(&s, "ec2"),
            instances,
            problem,
        },
    )
}

/// `GET /console/ec2/instances/{id}`.
pub async fn show(s: SignedIn, Path(id): Path<String>) -> Response {
    instance_page(&s, &id, None).await
}

async fn instance_page(s: &SignedIn, id: &str, problem: Option<String>) -> Response {
    let found = match instances(&client(s), &[id]).await {
        Ok(rows) => rows.into_iter().next(),
        Err(e) => return super::missing(s, "ec2", e),
    };
    let Some(instance) = found else {
        return super::missing(s, "ec2", format!("No instance {id}."));
    };
    page(
        status_for(&problem),
        &InstancePage {
            chrome: Chrome::of(s, "ec2"),
            instance,
            profiles: super::iam::profile_names(s).await,
            problem,
        },
    )
}

/// `POST /console/ec2/instances/{id}/iam-role` (profile, csrf): associate, replace or (an
/// empty profile: "No IAM role") disassociate the instance profile.
pub async fn modify_role(s: SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    let profile = f.get("profile").map(|p| p.trim()).unwrap_or_default();
    match modify(&client(&s), &id, profile).await {
        Ok(()) => Redirect::to(&format!(
            "/console/ec2/instances/{}",
            super::sns::encode(&id)
        ))
        .into_response(),
        Err(why) => instance_page(&s, &id, Some(why)).await,
    }
}

/// What the console does for "Modify IAM role": find the instance's current association,
/// then replace it, drop it, or make one.
async fn modify(ec2: &aws_sdk_ec2::Client, id: &str, profile: &str) -> Result<(), String> {
    let current = ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .map_err(|e| failed("DescribeIamInstanceProfileAssociations", e))?;
    let association = current
        .iam_instance_profile_associations()
        .iter()
        // One still being made counts: Replace and Disassociate take it, Associate refuses.
        .filter(|a| {
            matches!(
                a.state().map(|s| s.as_str()),
                Some("associated" | "associating")
            )
        })
        .find_map(|a| a.association_id())
        .map(str::to_string);
    let spec = || {
        IamInstanceProfileSpecification::builder()
            .name(profile)
            .build()
    };
    match (association, profile.is_empty()) {
        (None, true) => Err(format!("Instance {id} has no IAM role to remove.")),
        (Some(a), true) => ec2
            .disassociate_iam_instance_profile()
            .association_id(a)
            .send()
            .await
            .map(drop)
            .map_err(|e| failed("DisassociateIamInstanceProfile", e)),
        (Some(a), false) => ec2
            .replace_iam_instance_profile_association()
            .association_id(a)
            .iam_instance_profile(spec())
            .send()
            .await
            .map(drop)
            .map_err(|e| failed("ReplaceIamInstanceProfileAssociation", e)),
        (None, false) => ec2
            .associate_iam_instance_profile()
            .instance_id(id)
            .iam_instance_profile(spec())
            .send()
            .await
            .map(drop)
            .map_err(|e| failed("AssociateIamInstanceProfile", e)),
    }
}

/// `POST /console/ec2/instances/{id}/terminate` (confirm, csrf): TerminateInstances.
pub async fn terminate(s: SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    if f.get("confirm").map(String::as_str) != Some("yes") {
        let why = "Confirm that you want to terminate this instance (tick the box): its \
                   instance store is lost and it cannot be started again."
            .to_string();
        return instance_page(&s, &id, Some(why)).await;
    }
    match client(&s)
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/console/ec2/instances/{}",
            super::sns::encode(&id)
        ))
        .into_response(),
        Err(e) => instance_page(&s, &id, Some(failed("TerminateInstances", e))).await,
    }
}
