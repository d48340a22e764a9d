//! IAM **Roles**: the account's roles; a role's page with its trust policy, its instance
//! profiles, its inline policies and its attached policies, each with **Detach** (the
//! clean-up's third step: the policies the learner attached by hand come off before the stack
//! can delete the role). Every action is an IAM call signed as the learner.

use askama::Template;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::{date, failed};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, status_for};

/// One role in the list.
pub struct RoleRow {
    pub name: String,
    pub segment: String,
    pub description: String,
    pub created: String,
}

/// A policy attached to a role: its name and ARN.
pub struct Attached {
    pub name: String,
    pub arn: String,
}

#[derive(Template)]
#[template(path = "iam_roles.html")]
struct Roles {
    chrome: Chrome,
    roles: Vec<RoleRow>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "iam_role.html")]
struct Role {
    chrome: Chrome,
    role: RoleRow,
    arn: String,
    trust: String,
    attached: Vec<Attached>,
    inline: Vec<String>,
    profiles: Vec<String>,
    problem: Option<String>,
}

fn client(s: &SignedIn) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&s.session.sdk)
}

/// `GET /console/iam/roles`.
pub async fn list(s: SignedIn) -> Response {
    let mut roles = Vec::new();
    let mut problem = None;
    let mut pages = client(&s).list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => roles.extend(out.roles().iter().map(|r| RoleRow {
                name: r.role_name().to_string(),
                segment: super::sns::encode(r.role_name()),
                description: r.description().unwrap_or_default().to_string(),
                created: date(Some(r.create_date())),
            })),
            Err(e) => {
                problem = Some(failed("ListRoles", e));
                break;
            }
        }
    }
    page(
        status_for(&problem),
        &Roles {
            chrome: Chrome::of(&s, "iam"),
            roles,
            problem,
        },
    )
}

/// `GET /console/iam/roles/{name}`.
pub async fn show(s: SignedIn, Path(name): Path<String>) -> Response {
    role_page(&s, &name, None).await
}

async fn role_page(s: &SignedIn, name: &str, problem: Option<String>) -> Response {
    let iam = client(s);
    let role = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) => return super::missing(s, "iam", failed("GetRole", e)),
    };
    let Some(role) = role else {
        return super::missing(s, "iam", format!("No role {name}."));
    };
    let (attached, inline, profiles) = match parts(&iam, name).await {
        Ok(found) => found,
        Err(e) => return super::missing(s, "iam", e),
    };
    let trust = role
        .assume_role_policy_document()
        .map(|d| {
            let text = percent_encoding::percent_decode_str(d).decode_utf8_lossy();
            serde_json::from_str::<serde_json::Value>(&text)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| text.into_owned())
        })
        .unwrap_or_default();
    page(
        status_for(&problem),
        &Role {
            chrome: Chrome::of(s, "iam"),
            role: RoleRow {
                name: role.role_name().to_string(),
                segment: super::sns::encode(role.role_name()),
                description: role.description().unwrap_or_default().to_string(),
                created: date(Some(role.create_date())),
            },
            arn: role.arn().to_string(),
            trust,
            attached,
            inline,
            profiles,
            problem,
        },
    )
}

/// A role's attached policies, inline policy names and instance profile names.
async fn parts(
    iam: &aws_sdk_iam::Client,
    name: &str,
) -> Result<(Vec<Attached>, Vec<String>, Vec<String>), String> {
    let mut attached = Vec::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListAttachedRolePolicies", e))?;
        attached.extend(page.attached_policies().iter().map(|p| Attached {
            name: p.policy_name().unwrap_or_default().to_string(),
            arn: p.policy_arn().unwrap_or_default().to_string(),
        }));
    }
    let mut inline = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListRolePolicies", e))?;
        inline.extend(page.policy_names().iter().cloned());
    }
    let profiles = iam
        .list_instance_profiles_for_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| failed("ListInstanceProfilesForRole", e))?
        .instance_profiles()
        .iter()
        .map(|p| p.instance_profile_name().to_string())
        .collect();
    Ok((attached, inline, profiles))
}

/// `POST /console/iam/roles/{name}/detach` (policy_arn, csrf): DetachRolePolicy.
pub async fn detach(s: SignedIn, Path(name): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    let arn = f.get("policy_arn").map(|a| a.trim()).unwrap_or_default();
    let call = client(&s)
        .detach_role_policy()
        .role_name(&name)
        .policy_arn(arn)
        .send()
        .await;
    match call {
        Ok(_) => Redirect::to(&format!("/console/iam/roles/{}", super::sns::encode(&name)))
            .into_response(),
        Err(e) => role_page(&s, &name, Some(failed("DetachRolePolicy", e))).await,
    }
}

/// The account's instance profile names (what EC2's "Modify IAM role" offers); none when
/// they cannot be listed.
pub async fn profile_names(s: &SignedIn) -> Vec<String> {
    let mut out = Vec::new();
    let mut pages = client(s).list_instance_profiles().into_paginator().send();
    while let Some(Ok(page)) = pages.next().await {
        out.extend(
            page.instance_profiles()
                .iter()
                .map(|p| p.instance_profile_name().to_string()),
        );
    }
    out
}
