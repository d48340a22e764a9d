//! One module per AWS service. Each implements [`Service`] over the shared protocol layer: it
//! receives a decoded operation and [`Input`], works on its state through the [`Call`], and
//! returns a [`Value`] or an [`AwsError`]; the server encodes either in the client's protocol
//! and the CloudTrail recorder logs the call.

pub mod cloudformation;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod events;
pub mod iam;
pub mod kms;
pub mod s3;
pub mod sns;
pub mod ssm;
pub mod sts;

use http::HeaderMap;
use serde_json::Value as J;
use time::OffsetDateTime;

use crate::identity::Caller;
use crate::protocol::restxml::RestRequest;
use crate::protocol::{AwsError, Encoded, Input, Protocol, Value};
use crate::validate::Dialect;
use crate::Sandbox;

/// A resource a call touched, as CloudTrail lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailResource {
    pub arn: String,
    /// `AWS::KMS::Key`…: a name of the service's own nearly always (no copy made per call).
    pub resource_type: std::borrow::Cow<'static, str>,
}

/// Everything a service handler needs about the request in flight, and what it reports back
/// for the CloudTrail record.
pub struct Call<'a> {
    pub sandbox: &'a Sandbox,
    pub caller: Caller,
    pub region: String,
    pub request_id: String,
    pub now: OffsetDateTime,
    pub protocol: Protocol,
    /// Resources the call acted on (filled in by the handler).
    pub resources: Vec<TrailResource>,
    /// Overrides the generic `responseElements` (filled in by the handler when AWS logs
    /// something other than the camel-cased output).
    pub response_elements: Option<J>,
    /// A call of the sandbox's own seed ([`crate::seed`] runs `kms-workshop prepare`'s plan
    /// in-process): it happens in the seed's past, its lifecycles complete at once whatever
    /// the latency profile (the learner's stack finished days ago), and CloudTrail does not
    /// record it (the seed's history tells the earlier sections as the learner did them).
    pub seeding: bool,
}

impl<'a> Call<'a> {
    /// A call in the seeded region as `caller`, for tests that call a service directly.
    #[cfg(test)]
    pub(crate) fn direct(sandbox: &'a Sandbox, caller: &Caller, protocol: Protocol) -> Self {
        Call {
            sandbox,
            caller: caller.clone(),
            region: kms_workshop_names::sandbox::REGION.into(),
            request_id: "direct".into(),
            now: sandbox.clock.now(),
            protocol,
            resources: Vec::new(),
            response_elements: None,
            seeding: false,
        }
    }

    pub fn account(&self) -> &str {
        &self.caller.account
    }

    /// How long a transition that takes `lo_secs`–`hi_secs` on AWS takes for this call:
    /// [`crate::Config::lifecycle_delay`], or none at all for the seed's calls.
    pub fn lifecycle_delay(&self, lo_secs: f64, hi_secs: f64) -> time::Duration {
        if self.seeding {
            time::Duration::ZERO
        } else {
            self.sandbox.config.lifecycle_delay(lo_secs, hi_secs)
        }
    }

    pub fn unknown(&self, op: &str) -> AwsError {
        self.protocol.unknown_operation(op)
    }
}

/// What is fixed about a service: the names it signs and logs with, the protocol its clients
/// speak, whether it is global, which operations CloudTrail marks `readOnly`. One `const` per
/// service, built with [`About::new`] and the builder methods below.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub signing_name: &'static str,
    pub event_source: &'static str,
    pub xmlns: &'static str,
    pub protocol: Protocol,
    pub global: bool,
    /// Operation-name prefixes CloudTrail marks `readOnly`.
    pub read_only: &'static [&'static str],
    /// How the service words a request its model refuses.
    pub validation: Dialect,
    /// `Operation.Member`s whose constraints the service checks itself, answering with the
    /// service-specific error AWS gives (CloudTrail's `InvalidMaxResultsException`) instead
    /// of the model's generic one.
    pub own_checks: &'static [&'static str],
    /// Read-only operations that still spend milliseconds to seconds of CPU (RSA key pairs,
    /// RSA decryption): they run on the blocking pool, as every operation that changes state
    /// does. Other read-only operations run on the request's own task, where they take
    /// microseconds, less than a hop to another thread and back would cost.
    pub heavy: &'static [&'static str],
}

impl About {
    /// A regional service with no XML namespace, whose `Describe*`, `Get*`, `List*` and
    /// `Lookup*` operations are read-only.
    pub const fn new(
        signing_name: &'static str,
        event_source: &'static str,
        protocol: Protocol,
    ) -> Self {
        About {
            signing_name,
            event_source,
            xmlns: "",
            protocol,
            global: false,
            read_only: &["Describe", "Get", "List", "Lookup"],
            validation: match protocol {
                Protocol::AwsQuery => Dialect::Coral("ValidationError"),
                Protocol::Ec2Query => Dialect::Ec2,
                _ => Dialect::Coral("ValidationException"),
            },
            own_checks: &[],
            heavy: &[],
        }
    }

    /// The operations that run on the blocking pool ([`About::heavy`]).
    pub const fn heavy(self, heavy: &'static [&'static str]) -> Self {
        About { heavy, ..self }
    }

    /// How the service words a request its model refuses.
    pub const fn validation(self, validation: Dialect) -> Self {
        About { validation, ..self }
    }

    /// The members the service checks itself (`Operation.Member`).
    pub const fn own_checks(self, own_checks: &'static [&'static str]) -> Self {
        About { own_checks, ..self }
    }

    /// The members of `op` the service checks itself.
    pub fn own_checks_of(&self, op: &str) -> Vec<&'static str> {
        self.own_checks
            .iter()
            .filter_map(|c| c.split_once('.'))
            .filter(|(o, _)| *o == op)
            .map(|(_, m)| m)
            .collect()
    }

    /// The XML namespace of query answers.
    pub const fn xmlns(self, xmlns: &'static str) -> Self {
        About { xmlns, ..self }
    }

    /// A global service (IAM, STS): it logs in us-east-1 and keeps one state per account.
    pub const fn global(self) -> Self {
        About {
            global: true,
            ..self
        }
    }

    /// The operation-name prefixes CloudTrail marks `readOnly`.
    pub const fn read_only(self, read_only: &'static [&'static str]) -> Self {
        About { read_only, ..self }
    }
}

pub trait Service: Send + Sync + 'static {
    /// The service's fixed facts.
    fn about(&self) -> &'static About;
    /// The SigV4 signing name (`kms`, `cloudtrail`, `sts`, …).
    fn signing_name(&self) -> &'static str {
        self.about().signing_name
    }
    /// CloudTrail's `eventSource`.
    fn event_source(&self) -> &'static str {
        self.about().event_source
    }
    /// XML namespace of query answers.
    fn xmlns(&self) -> &'static str {
        self.about().xmlns
    }
    /// The protocol a request speaks (services with several clients pick by headers/path).
    fn protocol(&self, _headers: &HeaderMap, _path: &str) -> Protocol {
        self.about().protocol
    }
    /// Global services (IAM, STS) log in us-east-1 and keep one state per account.
    fn global(&self) -> bool {
        self.about().global
    }
    fn call(&self, cx: &mut Call<'_>, op: &str, input: &Input) -> Result<Value, AwsError>;
    /// Whether `op` runs on the blocking pool ([`About::heavy`]).
    fn heavy(&self, op: &str) -> bool {
        self.about().heavy.contains(&op)
    }
    /// Whether CloudTrail marks the operation `readOnly`.
    fn read_only(&self, op: &str) -> bool {
        self.about().read_only.iter().any(|p| op.starts_with(p))
    }
    /// `requestParameters` as AWS logs them; the default is the input with camel-cased names.
    fn request_parameters(&self, _op: &str, input: &Input) -> J {
        camel_case_keys(&input.json_view(), &[], &[])
    }
    /// REST services (S3): the operation a request names, from method, path and query
    /// (`None`: not served).
    fn rest_operation(&self, _req: &RestRequest) -> Option<&'static str> {
        None
    }
    /// REST services answer with a complete HTTP answer (S3's GetObject returns the bytes with
    /// headers; HEAD answers have no body).
    fn call_rest(
        &self,
        cx: &mut Call<'_>,
        op: &str,
        _req: &RestRequest,
    ) -> Result<Encoded, AwsError> {
        Err(cx.unknown(op))
    }
    /// `requestParameters` of a REST call.
    fn rest_request_parameters(&self, _op: &str, _req: &RestRequest) -> J {
        J::Null
    }
    /// Whether the service answers `op` at all (it does not refuse it as an unknown
    /// operation), asked by calling it with an empty input.
    #[cfg(test)]
    fn serves(&self, sb: &Sandbox, caller: &Caller, op: &str) -> bool {
        let mut cx = Call::direct(sb, caller, self.about().protocol);
        let unknown = self.about().protocol.unknown_operation(op).code;
        !matches!(self.call(&mut cx, op, &Input::empty()), Err(e) if e.code == unknown)
    }
    /// Whether CloudTrail's event history shows the operation (data events, such as S3's
    /// object-level calls, are only ever delivered to trails that select them).
    fn management_event(&self, _op: &str) -> bool {
        true
    }
}

/// `v` with the first letter of every object key lower-cased, without the members named in
/// `redact` (secrets CloudTrail never logs), and with the top-level members named in
/// `verbatim` copied as they are (maps of the caller's own keys, such as an encryption
/// context): such a member's value is the one logged under its camel-cased name, whatever
/// other member the input spells that way. Built from a borrowed value: the input is read
/// once, not copied and then rebuilt.
pub fn camel_case_keys(v: &J, redact: &[&str], verbatim: &[&str]) -> J {
    match v {
        J::Object(m) => {
            let mut out: serde_json::Map<String, J> = m
                .iter()
                .filter(|(k, _)| !redact.contains(&k.as_str()))
                .map(|(k, v)| {
                    let v = match verbatim.contains(&k.as_str()) {
                        // Its value is put in below, where no other member can displace it.
                        true => J::Null,
                        false => camel_case_keys(v, redact, &[]),
                    };
                    (camel_case(k), v)
                })
                .collect();
            for name in verbatim {
                if let Some(v) = m.get(*name) {
                    out.insert(camel_case(name), v.clone());
                }
            }
            J::Object(out)
        }
        J::Array(a) => J::Array(a.iter().map(|v| camel_case_keys(v, redact, &[])).collect()),
        other => other.clone(),
    }
}

/// `name` with its first letter lowercased ([`lower_first`]).
pub(crate) fn camel_case(name: &str) -> String {
    match name.chars().next() {
        Some(f) if !f.to_lowercase().eq([f]) => crate::protocol::error::lower_first(name),
        _ => name.to_string(),
    }
}

/// Where and when a service writes its part of the workshop seed.
pub struct SeedAt<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// The seed's "now": what the earlier sections did is dated before it.
    pub now: OffsetDateTime,
}

/// What a service adds to the workshop seed.
pub type SeedFn = fn(&Sandbox, &SeedAt<'_>) -> Result<(), AwsError>;

/// What the passing of sandbox time does to a service, and when in a tick it runs (lower
/// first: key material expires before alarms read the metric; instances settle before the
/// stacks that wait for them).
#[derive(Clone, Copy)]
pub struct Tick {
    pub order: u8,
    pub run: fn(&Sandbox),
}

/// A service's one registration: how it is served, what it seeds, what time does to it.
pub struct Entry {
    pub service: &'static dyn Service,
    pub seed: Option<SeedFn>,
    pub tick: Option<Tick>,
}

/// Every service the sandbox serves: the only place a service is registered, with what each
/// adds to the workshop seed around the state the seed's plan makes (AWS managed resources and
/// other teams' lookalikes: `crate::seed`).
pub const REGISTRY: &[Entry] = &[
    Entry {
        service: &kms::Kms,
        seed: Some(|sb, at| kms::seed_workshop(sb, at.account, at.region, at.now)),
        tick: Some(Tick {
            order: 0,
            run: kms::expire_due,
        }),
    },
    Entry {
        service: &cloudformation::CloudFormation,
        seed: None,
        tick: Some(Tick {
            order: 3,
            run: cloudformation::settle_due,
        }),
    },
    Entry {
        service: &iam::Iam,
        seed: Some(|sb, at| iam::seed_workshop(sb, at.account)),
        tick: None,
    },
    Entry {
        service: &ec2::Ec2,
        seed: Some(|sb, at| ec2::seed_workshop(sb, at.account, at.region)),
        tick: Some(Tick {
            order: 2,
            run: ec2::settle_due,
        }),
    },
    Entry {
        service: &s3::S3,
        seed: Some(|sb, at| s3::seed_workshop(sb, at.account, at.region)),
        tick: None,
    },
    Entry {
        service: &sns::Sns,
        seed: Some(|sb, at| sns::seed_workshop(sb, at.account, at.region)),
        tick: None,
    },
    Entry {
        service: &cloudtrail::CloudTrail,
        // The history tells what the plan made: `seed::workshop` writes it after the plan.
        seed: None,
        tick: Some(Tick {
            order: 4,
            run: cloudtrail::background::generate_due,
        }),
    },
    Entry {
        service: &sts::Sts,
        seed: None,
        tick: None,
    },
    Entry {
        service: &cloudwatch::CloudWatch,
        seed: None,
        tick: Some(Tick {
            order: 1,
            run: cloudwatch::tick,
        }),
    },
    Entry {
        service: &events::Events,
        seed: None,
        tick: None,
    },
    Entry {
        service: &ssm::Ssm,
        seed: None,
        tick: None,
    },
];

/// The registered service whose SigV4 signing name is `signing_name`.
pub fn lookup(signing_name: &str) -> Option<&'static dyn Service> {
    REGISTRY
        .iter()
        .map(|e| e.service)
        .find(|s| s.signing_name() == signing_name)
}

/// The registered ticks, in the order they run.
pub fn ticks() -> Vec<Tick> {
    let mut ticks: Vec<Tick> = REGISTRY.iter().filter_map(|e| e.tick).collect();
    ticks.sort_by_key(|t| t.order);
    ticks
}

/// Run `ticks` on `sb` in turn. One that fails (a bug) is logged and stops neither the others
/// nor the ticks to come: the serving loop ticks every second for as long as it serves, and
/// the same tick writes the read-only calls' last records.
pub fn run_ticks(sb: &Sandbox, ticks: &[Tick]) {
    for tick in ticks {
        if let Err(why) = crate::util::caught(|| (tick.run)(sb)) {
            tracing::error!(error = %why, "a service's tick failed");
        }
    }
}

#[cfg(test)]
mod atomic_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_is_registered_once_and_found_by_its_signing_name() {
        let mut names: Vec<&str> = REGISTRY.iter().map(|e| e.service.signing_name()).collect();
        for n in &names {
            assert!(lookup(n).is_some(), "{n} is not found");
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a signing name is registered twice");
        assert!(lookup("nosuchservice").is_none());
    }

    /// A tick that panics is caught: the ticks after it run, this time and the next.
    #[test]
    fn a_failing_tick_stops_neither_the_others_nor_the_next_tick() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static RAN: AtomicUsize = AtomicUsize::new(0);
        fn fails(_: &Sandbox) {
            panic!("a bug in a service's tick");
        }
        fn counts(_: &Sandbox) {
            RAN.fetch_add(1, SeqCst);
        }
        let sb = Sandbox::open(crate::Config::default()).expect("sandbox");
        let ticks = [
            Tick {
                order: 0,
                run: fails,
            },
            Tick {
                order: 1,
                run: counts,
            },
        ];
        run_ticks(&sb, &ticks);
        run_ticks(&sb, &ticks);
        assert_eq!(RAN.load(SeqCst), 2);
    }

    #[test]
    fn ticks_run_in_their_declared_order() {
        let orders: Vec<u8> = ticks().iter().map(|t| t.order).collect();
        let mut sorted = orders.clone();
        sorted.sort_unstable();
        assert_eq!(orders, sorted);
        assert_eq!(
            orders.len(),
            5,
            "kms, cloudwatch, ec2, cloudformation and cloudtrail (other principals' calls) tick"
        );
    }
}
