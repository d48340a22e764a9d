//! The console's pages, one module per console screen, and what every page shows around its
//! content ([`Chrome`]: who is signed in, the navigation, the sign-out form).

pub mod alarms;
pub mod class;
pub mod cloudformation;
pub mod ec2;
pub mod event_history;
pub mod iam;
pub mod inbox;
pub mod kms;
pub mod metrics;
pub mod rules;
pub mod s3;
pub mod sns;
pub mod trails;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::session::SignedIn;
use crate::web::page;

/// What the layout (`templates/base.html`) shows on every signed-in page.
pub struct Chrome {
    pub learner: u32,
    pub account: String,
    pub user: String,
    pub region: &'static str,
    /// The session's CSRF token, for the sign-out form and the page's own forms.
    pub csrf: String,
    /// Which navigation entry is this page's.
    pub section: &'static str,
    /// The classroom's instructor (the class view is in the navigation).
    pub instructor: bool,
    /// After how many seconds the page loads which address again (a view that follows others'
    /// work), if it does.
    pub refresh: Option<(u32, &'static str)>,
}

impl Chrome {
    pub fn of(s: &SignedIn, section: &'static str) -> Self {
        let instructor = s.session.who.is_instructor();
        let user = if instructor {
            kms_workshop_names::sandbox::INSTRUCTOR_USER
        } else {
            kms_workshop_names::sandbox::LEARNER_USER
        };
        Chrome {
            learner: s.session.who.number,
            account: s.session.who.account.clone(),
            user: user.to_string(),
            instructor,
            refresh: None,
            region: crate::aws::REGION,
            csrf: s.session.csrf.clone(),
            section,
        }
    }

    /// The same, loading `path` (the page's own, without a query) every `seconds`.
    pub fn refreshing(
        s: &SignedIn,
        section: &'static str,
        seconds: u32,
        path: &'static str,
    ) -> Self {
        Chrome {
            refresh: Some((seconds, path)),
            ..Chrome::of(s, section)
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
}

/// `GET /console/`: where each screen of the chapter is.
pub async fn home(s: SignedIn) -> Response {
    page(
        StatusCode::OK,
        &Home {
            chrome: Chrome::of(&s, "home"),
        },
    )
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    chrome: Chrome,
    what: String,
}

/// A page that is not there (or not this learner's to see: the two look the same).
pub fn missing(s: &SignedIn, section: &'static str, what: String) -> Response {
    refused(s, section, what, StatusCode::NOT_FOUND)
}

/// A page that says why a request was refused, with `status`.
pub fn refused(s: &SignedIn, section: &'static str, what: String, status: StatusCode) -> Response {
    page(
        status,
        &NotFound {
            chrome: Chrome::of(s, section),
            what,
        },
    )
}

/// `GET /console/…` that names no page.
pub async fn not_found(s: SignedIn, uri: axum::http::Uri) -> Response {
    missing(
        &s,
        "home",
        format!("There is no console page {}.", uri.path()),
    )
}
