//! Signing in to the sandbox's web console (the `kms-workshop-console` crate, served under
//! `/console/` on the sandbox's own port): one-time sign-in links, and the temporary keys a
//! console session signs its AWS calls with.
//!
//! A link carries a random token that is good once and for [`LINK_LIFETIME`]. The console
//! trades it for a session cookie and redirects at once, so the token does not stay in the
//! address bar or the browser's history. Tokens live in memory only: a restarted sandbox has
//! none, and a new link is one command away (`kms-workshop sandbox env --console`). Links are
//! handed out by the control API ([`crate::http::admin`]): to the admin token's holder for any
//! learner, to a learner's own signed request for that learner only.
//!
//! A learner's console session signs with a temporary credential of the learner's IAM user
//! (an `ASIA…` key with a session token) marked [`Credential::console_since`]. It ends with the
//! session: [`SESSION_HOURS`] of real time, kept by the console, not the sandbox clock, which
//! learners move forward by days to see the expiry alarm and which would otherwise sign them
//! out; so that CloudTrail records its calls as AWS records
//! console calls (`sessionCredentialFromConsole`, the console's user agent) while the user name
//! stays the learner's, which is what the guided run's verification looks for.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::identity::{instructor_credential, learner_credential, Credential};
use crate::protocol::AwsError;
use crate::util::{iso8601_secs, random_id, random_secret, UPPER_ALNUM};
use crate::Sandbox;
use kms_workshop_names::sandbox::INSTRUCTOR_ACCOUNT;

/// How long a sign-in link works (real time: the link is for a person to click now).
pub const LINK_LIFETIME: Duration = Duration::from_secs(300);
/// The most unused links one learner has at once: asking for more drops their oldest, so no
/// one can grow the sandbox's memory by asking again and again.
pub const LINKS_PER_LEARNER: usize = 5;
/// How long a signed request's signature is accepted (SigV4's window): a link request's
/// signature is remembered that long, and a replay of it is refused.
const SIGNATURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a console session lasts, in real time (AWS's console sessions last up to 12 hours).
pub const SESSION_HOURS: u64 = 12;
/// The path a sign-in link opens.
pub const SIGNIN_PATH: &str = "/console/signin";

/// Who a sign-in link signs in: a learner, into their own account, or (number 0) the
/// instructor, into the instructor's account and the class view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub number: u32,
    pub account: String,
}

impl Who {
    /// The classroom's instructor.
    pub fn instructor() -> Who {
        Who {
            number: 0,
            account: INSTRUCTOR_ACCOUNT.to_string(),
        }
    }

    pub fn is_instructor(&self) -> bool {
        *self == Who::instructor()
    }
}

/// The sign-in tokens handed out and not yet used, and the signatures of recent link requests.
#[derive(Default)]
pub struct SignIns {
    pending: Mutex<HashMap<String, (Who, Instant)>>,
    signatures: Mutex<HashMap<String, Instant>>,
}

impl SignIns {
    /// A new one-time token for `who`.
    fn issue(&self, who: Who) -> String {
        let token = random_secret();
        let mut pending = self.pending.lock();
        // Links nobody used are dropped here rather than by a timer.
        pending.retain(|_, (_, at)| at.elapsed() < LINK_LIFETIME);
        let mut theirs: Vec<(String, Instant)> = pending
            .iter()
            .filter(|(_, (w, _))| *w == who)
            .map(|(t, (_, at))| (t.clone(), *at))
            .collect();
        theirs.sort_by_key(|(_, at)| *at);
        let excess = (theirs.len() + 1).saturating_sub(LINKS_PER_LEARNER);
        for (old, _) in theirs.into_iter().take(excess) {
            pending.remove(&old);
        }
        pending.insert(token.clone(), (who, Instant::now()));
        token
    }

    /// Who `token` would sign in, without using it up (the page that asks to confirm).
    fn peek(&self, token: &str) -> Option<Who> {
        let pending = self.pending.lock();
        let (who, at) = pending.get(token)?;
        (at.elapsed() < LINK_LIFETIME).then(|| who.clone())
    }

    /// Whether `signature` has not been seen in the last [`SIGNATURE_WINDOW`]; remembers it.
    fn fresh_signature(&self, signature: &str) -> bool {
        let mut seen = self.signatures.lock();
        seen.retain(|_, at| at.elapsed() < SIGNATURE_WINDOW);
        seen.insert(signature.to_string(), Instant::now()).is_none()
    }

    /// Who `token` signs in, once: a used, unknown or expired token signs in nobody.
    fn redeem(&self, token: &str) -> Option<Who> {
        let (who, at) = self.pending.lock().remove(token)?;
        (at.elapsed() < LINK_LIFETIME).then_some(who)
    }
}

impl Sandbox {
    /// A one-time sign-in link to the console for `who`: the URL and how long it works.
    /// `None` while the sandbox is not serving (a link needs its address).
    pub fn console_link(&self, who: Who) -> Option<(String, Duration)> {
        let endpoint = self.endpoint()?;
        let token = self.signins.issue(who);
        Some((
            format!("{endpoint}{SIGNIN_PATH}?token={token}"),
            LINK_LIFETIME,
        ))
    }

    /// Who the sign-in token signs in (once).
    pub fn redeem_console_token(&self, token: &str) -> Option<Who> {
        self.signins.redeem(token)
    }

    /// Who the sign-in token would sign in, leaving it unused.
    pub fn peek_console_token(&self, token: &str) -> Option<Who> {
        self.signins.peek(token)
    }

    /// Whether a link request's signature is new: a signed request that hands back a secret
    /// must not be replayable by whoever saw it on the network.
    pub(crate) fn fresh_link_signature(&self, signature: &str) -> bool {
        self.signins.fresh_signature(signature)
    }

    /// Forget every console session's keys: sessions live in memory, so after a restart no
    /// one can use them (called when a state is opened again).
    pub(crate) fn forget_console_keys(&self) -> Result<(), AwsError> {
        for c in self.credentials() {
            if c.console_since.is_some() {
                self.remove_credential(&c.access_key_id)?;
            }
        }
        Ok(())
    }

    /// New temporary keys for a console session of `who`: the learner's IAM user in their
    /// account, or the instructor's in theirs.
    pub fn console_credential(&self, who: &Who) -> Result<Credential, AwsError> {
        let now = self.clock.now();
        let account = who.account.as_str();
        let user = if who.is_instructor() {
            instructor_credential("")
        } else {
            learner_credential(account, "")
        };
        let cred = Credential {
            access_key_id: format!("ASIA{}", random_id(UPPER_ALNUM, 16)),
            secret_access_key: random_id(UPPER_ALNUM, 40),
            session_token: Some(format!("IQoJb3JpZ2luX2Vj{}", random_secret())),
            account: account.to_string(),
            principal: user.principal,
            // The console ends the session (and forgets these keys) after SESSION_HOURS.
            expires_ms: None,
            console_since: Some(iso8601_secs(now)),
        };
        self.add_credential(cred.clone())?;
        Ok(cred)
    }

    /// Forget a console session's keys (sign-out).
    pub fn end_console_session(&self, access_key_id: &str) -> Result<(), AwsError> {
        match self.credential(access_key_id) {
            Some(c) if c.console_since.is_some() => self.remove_credential(access_key_id),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learner_holds_a_few_unused_links_at_most() {
        let s = SignIns::default();
        let who = Who {
            number: 2,
            account: "111122223334".into(),
        };
        let tokens: Vec<String> = (0..LINKS_PER_LEARNER + 2)
            .map(|_| s.issue(who.clone()))
            .collect();
        assert_eq!(s.pending.lock().len(), LINKS_PER_LEARNER);
        assert_eq!(s.peek(&tokens[0]), None, "the oldest went first");
        assert_eq!(s.peek(tokens.last().expect("a token")), Some(who));
    }

    #[test]
    fn a_signature_is_fresh_once() {
        let s = SignIns::default();
        assert!(s.fresh_signature("abc"));
        assert!(!s.fresh_signature("abc"));
        assert!(s.fresh_signature("abd"));
    }

    #[test]
    fn a_token_signs_in_once() {
        let s = SignIns::default();
        let who = Who {
            number: 1,
            account: "111122223333".into(),
        };
        let t = s.issue(who.clone());
        assert_eq!(s.redeem(&t), Some(who));
        assert_eq!(s.redeem(&t), None);
        assert_eq!(s.redeem("not-a-token"), None);
    }
}
