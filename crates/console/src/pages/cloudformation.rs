//! AWS CloudFormation **Stacks**: the active stacks (or the deleted ones); a stack's page with
//! its status and reason, its **Resources** and **Events**, and **Delete** (the clean-up's last
//! step). A stack is named by its stack id in the console's addresses, as AWS's console does,
//! so a deleted stack's page still shows how its deletion went: `DELETE_FAILED` with the
//! reason of the resource that could not go (a role with a policy still attached, a bucket
//! that is not empty) when the clean-up's order was not kept.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::response::{IntoResponse, Redirect, Response};

use super::Chrome;
use crate::aws::{date, failed};
use crate::session::SignedIn;
use crate::web::{checked_form, csrf_refused, page, query_fields, status_for};

/// One stack in the list.
pub struct StackRow {
    pub name: String,
    /// The stack id as one path segment.
    pub segment: String,
    pub status: String,
    pub reason: String,
    pub created: String,
}

/// One resource or one event of a stack: logical id, type, status, reason (and for an event,
/// its time; for a resource, its physical id).
pub struct Line {
    pub logical: String,
    pub physical: String,
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "cfn_stacks.html")]
struct Stacks {
    chrome: Chrome,
    stacks: Vec<StackRow>,
    deleted: bool,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "cfn_stack.html")]
struct Stack {
    chrome: Chrome,
    stack: StackRow,
    id: String,
    resources: Vec<Line>,
    events: Vec<Line>,
    problem: Option<String>,
}

/// A [`StackRow`] of a stack summary (ListStacks) or a stack (DescribeStacks): the SDK's two
/// types share their accessors' names, not a trait.
macro_rules! stack_row {
    ($st:expr) => {
        StackRow {
            name: $st.stack_name().unwrap_or_default().to_string(),
            segment: super::sns::encode($st.stack_id().unwrap_or_default()),
            status: $st
                .stack_status()
                .map(|x| x.as_str())
                .unwrap_or_default()
                .into(),
            reason: $st.stack_status_reason().unwrap_or_default().to_string(),
            created: date($st.creation_time()),
        }
    };
}

fn client(s: &SignedIn) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&s.session.sdk)
}

/// `GET /console/cloudformation/stacks[?view=deleted]`.
pub async fn list(s: SignedIn, RawQuery(q): RawQuery) -> Response {
    let deleted = query_fields(q.as_deref()).get("view").map(String::as_str) == Some("deleted");
    let mut stacks = Vec::new();
    let mut problem = None;
    let mut pages = client(&s).list_stacks().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => stacks.extend(
                out.stack_summaries()
                    .iter()
                    .filter(|st| {
                        let gone = st.stack_status().map(|x| x.as_str()) == Some("DELETE_COMPLETE");
                        gone == deleted
                    })
                    .map(|st| stack_row!(st)),
            ),
            Err(e) => {
                problem = Some(failed("ListStacks", e));
                break;
            }
        }
    }
    page(
        status_for(&problem),
        &Stacks {
            chrome: Chrome::of(&s, "cloudformation"),
            stacks,
            deleted,
            problem,
        },
    )
}

/// `GET /console/cloudformation/stacks/{id}` (a stack id, or a live stack's name).
pub async fn show(s: SignedIn, Path(id): Path<String>) -> Response {
    stack_page(&s, &id, None).await
}

async fn stack_page(s: &SignedIn, id: &str, problem: Option<String>) -> Response {
    let cfn = client(s);
    let described = match cfn.describe_stacks().stack_name(id).send().await {
        Ok(out) => out.stacks().first().cloned(),
        Err(e) => return super::missing(s, "cloudformation", failed("DescribeStacks", e)),
    };
    let Some(st) = described else {
        return super::missing(s, "cloudformation", format!("No stack {id}."));
    };
    let stack_id = st.stack_id().unwrap_or(id).to_string();
    let (resources, events) = match lines(&cfn, &stack_id).await {
        Ok(found) => found,
        Err(e) => return super::missing(s, "cloudformation", e),
    };
    page(
        status_for(&problem),
        &Stack {
            chrome: Chrome::of(s, "cloudformation"),
            stack: stack_row!(st),
            id: stack_id,
            resources,
            events,
            problem,
        },
    )
}

/// A [`Line`] of a stack resource summary or a stack event: the SDK's two types share their
/// accessors' names, not a trait; `$at` names the one that gives the time.
macro_rules! line {
    ($r:expr, $at:ident) => {
        Line {
            logical: $r.logical_resource_id().unwrap_or_default().to_string(),
            physical: $r.physical_resource_id().unwrap_or_default().to_string(),
            kind: $r.resource_type().unwrap_or_default().to_string(),
            status: $r
                .resource_status()
                .map(|x| x.as_str())
                .unwrap_or_default()
                .into(),
            reason: $r.resource_status_reason().unwrap_or_default().to_string(),
            at: date($r.$at()),
        }
    };
}

/// Every page of `$call` (operation `$op`) as [`Line`]s of its `$items`; returns the failure
/// from the enclosing function.
macro_rules! all_lines {
    ($call:expr, $op:literal, $items:ident, $at:ident) => {{
        let mut out = Vec::new();
        let mut pages = $call.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed($op, e))?;
            out.extend(page.$items().iter().map(|r| line!(r, $at)));
        }
        out
    }};
}

/// A stack's resources and its events (newest first, as CloudFormation lists them).
async fn lines(
    cfn: &aws_sdk_cloudformation::Client,
    id: &str,
) -> Result<(Vec<Line>, Vec<Line>), String> {
    let resources = all_lines!(
        cfn.list_stack_resources().stack_name(id),
        "ListStackResources",
        stack_resource_summaries,
        last_updated_timestamp
    );
    let events = all_lines!(
        cfn.describe_stack_events().stack_name(id),
        "DescribeStackEvents",
        stack_events,
        timestamp
    );
    Ok((resources, events))
}

/// `POST /console/cloudformation/stacks/{id}/delete` (confirm, csrf): DeleteStack.
pub async fn delete(s: SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(f) = checked_form(&s, &body) else {
        return csrf_refused();
    };
    if f.get("confirm").map(String::as_str) != Some("yes") {
        let why = "Confirm that you want to delete this stack and the resources it made (tick \
                   the box)."
            .to_string();
        return stack_page(&s, &id, Some(why)).await;
    }
    match client(&s).delete_stack().stack_name(&id).send().await {
        Ok(_) => Redirect::to(&format!(
            "/console/cloudformation/stacks/{}",
            super::sns::encode(&id)
        ))
        .into_response(),
        Err(e) => stack_page(&s, &id, Some(failed("DeleteStack", e))).await,
    }
}
