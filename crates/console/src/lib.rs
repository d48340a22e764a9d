//! The sandbox's web console: the screens of the AWS console that the KMS workshop's monitoring
//! chapter is written for, served by `kms-workshop sandbox serve` on the sandbox's own port
//! under `/console/` (mounted with [`kms_workshop_sandbox::serve_with`]).
//!
//! The rules it keeps:
//! - **Sign-in by one-time link** ([`signin`]): the control API hands out a link carrying a
//!   token; its page shows whom it signs in, and only that page's form (a same-origin POST)
//!   trades the token for a session cookie (HttpOnly, SameSite=Strict, path `/console`), then
//!   redirects. A prefetch cannot use a link up, and another site cannot sign a browser in.
//! - **Every AWS read and write goes through the sandbox's own AWS API** ([`aws`]), signed with
//!   the session's temporary keys of the learner's IAM user, so what a learner does here is
//!   recorded in CloudTrail as a console call and seen by the guided run's verification, and a
//!   session can reach nothing its keys could not. Only the inbox, which is not an AWS API,
//!   reads the sandbox directly, and only the signed-in learner's account.
//! - **Every form that changes something carries the session's CSRF token** ([`session`]), and
//!   every page is sent with headers that keep it out of frames, caches and other origins.
//!   Everything else the port serves (S3 objects among it) is a sandboxed document to a
//!   browser (`http::guard::isolate_documents` in the sandbox), so no uploaded page can act as
//!   the console's origin.
//! - **Plain HTML**: compile-time-checked templates (askama, `templates/`), one stylesheet, no
//!   script and no build step.
//!
//! Pages: [`pages::event_history`] (CloudTrail Event history), [`pages::trails`] (CloudTrail
//! Trails: a logging trail, which the rule needs), [`pages::sns`] (SNS Topics and
//! Subscriptions), [`pages::rules`] (CloudWatch Events rules and the "Events by Service"
//! builder), [`pages::metrics`] (the AWS/KMS metrics and the expiry chart), [`pages::alarms`]
//! (the KMS guide's alarm, its state and history, and the sandbox clock), [`pages::inbox`]
//! (the learner's email), and the clean-up's screens in the workshop's order: [`pages::kms`]
//! (schedule key deletion), [`pages::ec2`] (remove the instance's IAM role; terminate),
//! [`pages::iam`] (detach the role's policies), [`pages::s3`] (empty the stack's bucket) and
//! [`pages::cloudformation`] (delete the stack).

pub mod aws;
pub mod pages;
pub mod session;
pub mod signin;
mod web;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Extension, Router};
use kms_workshop_sandbox::Sandbox;

pub use session::Sessions;

/// The console's routes, to mount beside the sandbox's control API.
pub fn routes() -> Router<Arc<Sandbox>> {
    let sessions = Arc::new(Sessions::default());
    Router::new()
        .route(
            kms_workshop_sandbox::console_signin::SIGNIN_PATH,
            get(signin::sign_in_page).post(signin::sign_in),
        )
        .route("/console/signout", post(signin::sign_out))
        .route("/console", get(pages::home))
        .route("/console/", get(pages::home))
        .route("/console/console.css", get(web::stylesheet))
        .route(
            "/console/cloudtrail/events",
            get(pages::event_history::list),
        )
        .route(
            "/console/cloudtrail/events/{id}",
            get(pages::event_history::record),
        )
        .route(
            "/console/cloudtrail/trails",
            get(pages::trails::list).post(pages::trails::create),
        )
        .route(
            "/console/sns/topics",
            get(pages::sns::topics).post(pages::sns::create_topic),
        )
        .route("/console/sns/topics/{arn}", get(pages::sns::topic))
        .route(
            "/console/sns/topics/{arn}/subscriptions",
            post(pages::sns::subscribe),
        )
        .route("/console/sns/subscriptions", get(pages::sns::subscriptions))
        .route(
            "/console/events/rules",
            get(pages::rules::list).post(pages::rules::create),
        )
        .route("/console/events/rules/new", get(pages::rules::new))
        .route("/console/events/rules/{name}", get(pages::rules::show))
        .route("/console/cloudwatch/metrics", get(pages::metrics::list))
        .route(
            "/console/cloudwatch/metrics/graph",
            get(pages::metrics::graph),
        )
        .route(
            "/console/cloudwatch/alarms",
            get(pages::alarms::list).post(pages::alarms::create),
        )
        .route("/console/cloudwatch/alarms/new", get(pages::alarms::new))
        .route(
            "/console/cloudwatch/alarms/{name}",
            get(pages::alarms::show),
        )
        .route("/console/clock", post(pages::alarms::advance_clock))
        .route("/console/kms/keys", get(pages::kms::list))
        .route("/console/kms/keys/{id}", get(pages::kms::show))
        .route(
            "/console/kms/keys/{id}/deletion",
            post(pages::kms::schedule_deletion),
        )
        .route("/console/ec2/instances", get(pages::ec2::list))
        .route("/console/ec2/instances/{id}", get(pages::ec2::show))
        .route(
            "/console/ec2/instances/{id}/iam-role",
            post(pages::ec2::modify_role),
        )
        .route(
            "/console/ec2/instances/{id}/terminate",
            post(pages::ec2::terminate),
        )
        .route("/console/iam/roles", get(pages::iam::list))
        .route("/console/iam/roles/{name}", get(pages::iam::show))
        .route("/console/iam/roles/{name}/detach", post(pages::iam::detach))
        .route("/console/s3/buckets", get(pages::s3::list))
        .route("/console/s3/buckets/{name}", get(pages::s3::show))
        .route("/console/s3/buckets/{name}/empty", post(pages::s3::empty))
        .route(
            "/console/cloudformation/stacks",
            get(pages::cloudformation::list),
        )
        .route(
            "/console/cloudformation/stacks/{id}",
            get(pages::cloudformation::show),
        )
        .route(
            "/console/cloudformation/stacks/{id}/delete",
            post(pages::cloudformation::delete),
        )
        .route("/console/class", get(pages::class::view))
        .route("/console/class/reset", post(pages::class::reset))
        .route("/console/inbox", get(pages::inbox::list))
        .route("/console/inbox/{seq}", get(pages::inbox::message))
        .route("/console/{*rest}", get(pages::not_found))
        .layer(axum::middleware::map_response(web::headers))
        .layer(Extension(sessions))
}
