//! The learner's **Inbox**: the emails SNS sent to the signed-in learner's account's email
//! subscriptions, newest first, each shown as a mail client would show it (web links, and the
//! subscription confirmation's "Confirm subscription" as a link to its SubscribeURL).
//!
//! Email is not an AWS API, so this page reads the sandbox's outbox directly, and only the
//! signed-in learner's account's messages: another account's message, asked for by its number,
//! is as missing as one that was never sent.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kms_workshop_sandbox::services::sns::OutboxMessage;
use kms_workshop_sandbox::Sandbox;
use std::sync::Arc;

use super::{missing, Chrome};
use crate::session::SignedIn;
use crate::web::page;

/// One line of the list.
pub struct Summary {
    pub seq: u64,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub time: String,
    pub kind: String,
}

/// A piece of an email's text: plain, or a link (with the text to show).
pub struct Piece {
    pub text: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct List {
    chrome: Chrome,
    messages: Vec<Summary>,
}

#[derive(Template)]
#[template(path = "inbox_message.html")]
struct Message {
    chrome: Chrome,
    summary: Summary,
    lines: Vec<Vec<Piece>>,
}

/// `GET /console/inbox`.
pub async fn list(s: SignedIn, State(sb): State<Arc<Sandbox>>) -> Response {
    let mut messages: Vec<Summary> = own_emails(&sb, &s).iter().map(summary).collect();
    messages.reverse();
    page(
        StatusCode::OK,
        &List {
            // New mail shows without a reload by hand (and without a script).
            chrome: Chrome::refreshing(&s, "inbox", 15, "/console/inbox"),
            messages,
        },
    )
}

/// `GET /console/inbox/{seq}`.
pub async fn message(
    s: SignedIn,
    State(sb): State<Arc<Sandbox>>,
    Path(seq): Path<String>,
) -> Response {
    let found = seq
        .parse::<u64>()
        .ok()
        .and_then(|n| own_emails(&sb, &s).into_iter().find(|m| m.seq == n));
    let Some(m) = found else {
        return missing(
            &s,
            "inbox",
            format!("There is no message {seq} in your inbox."),
        );
    };
    page(
        StatusCode::OK,
        &Message {
            chrome: Chrome::of(&s, "inbox"),
            summary: summary(&m),
            lines: render(&m.body),
        },
    )
}

/// The signed-in learner's account's emails, oldest first.
fn own_emails(sb: &Sandbox, s: &SignedIn) -> Vec<OutboxMessage> {
    let mut own = sb.outbox_of(&s.session.who.account);
    own.retain(|m| m.protocol.starts_with("email"));
    own
}

fn summary(m: &OutboxMessage) -> Summary {
    Summary {
        seq: m.seq,
        from: m.from.clone(),
        to: m.recipient.clone(),
        subject: m.subject.clone(),
        time: kms_workshop_sandbox::util::iso8601_secs(m.time),
        kind: m.kind.clone(),
    }
}

/// An email's text as lines of pieces: web addresses become links, and a "Confirm subscription"
/// line followed by an address becomes one link, as SNS's HTML email shows it.
pub fn render(body: &str) -> Vec<Vec<Piece>> {
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let next_is_url = lines.get(i + 1).is_some_and(|n| is_url(n.trim()));
        if line.trim() == "Confirm subscription" && next_is_url {
            out.push(vec![Piece {
                text: line.trim().to_string(),
                href: Some(lines[i + 1].trim().to_string()),
            }]);
            i += 2;
            continue;
        }
        out.push(link_words(line));
        i += 1;
    }
    out
}

fn is_url(word: &str) -> bool {
    word.starts_with("http://") || word.starts_with("https://")
}

/// A line with each web address in it as a link.
fn link_words(line: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut plain = String::new();
    for (n, word) in line.split(' ').enumerate() {
        if n > 0 {
            plain.push(' ');
        }
        if is_url(word) {
            if !plain.is_empty() {
                pieces.push(Piece {
                    text: std::mem::take(&mut plain),
                    href: None,
                });
            }
            pieces.push(Piece {
                text: word.to_string(),
                href: Some(word.to_string()),
            });
        } else {
            plain.push_str(word);
        }
    }
    if !plain.is_empty() || pieces.is_empty() {
        pieces.push(Piece {
            text: plain,
            href: None,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_link_is_one_link_and_addresses_become_links() {
        let body = "To confirm:\nConfirm subscription\nhttp://127.0.0.1:1/?Action=ConfirmSubscription&Token=t\nsee https://example.com/x now";
        let lines = render(body);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1][0].text, "Confirm subscription");
        assert_eq!(
            lines[1][0].href.as_deref(),
            Some("http://127.0.0.1:1/?Action=ConfirmSubscription&Token=t")
        );
        let last: Vec<_> = lines[2].iter().map(|p| p.href.is_some()).collect();
        assert_eq!(last, [false, true, false]);
        assert_eq!(lines[2][0].text, "see ");
    }
}
