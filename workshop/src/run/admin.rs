//! The sandbox's own controls, when the target is a sandbox: its clock (to see the alarm
//! fire without waiting ten days) and its outbox (the learner's "inbox": confirmation emails,
//! notifications). In-process through the API, or over HTTP through the sandbox's one control
//! client ([`AdminClient`]) for a sandbox served elsewhere. Against AWS there is none of this.

use std::sync::Arc;

use anyhow::{Context, Result};
use kms_workshop_sandbox::http::admin_api::AdminClient;
use kms_workshop_sandbox::Sandbox;

use aws_credential_types::provider::ProvideCredentials;

use crate::sandbox_access::Reach;
use kms_workshop_sandbox::services::sns::OutboxMessage;
use time::OffsetDateTime;

/// What the health check said of an endpoint.
#[derive(Default)]
pub struct Probe {
    /// The sandbox's controls, unless it is to be treated as AWS.
    pub admin: Option<Admin>,
    /// What it divides AWS's delays by.
    pub time_scale: f64,
    /// Whether it is a kms-workshop sandbox at all (its inbox, `sandbox confirm`).
    pub sandbox: bool,
}

pub enum Admin {
    InProcess(Arc<Sandbox>),
    Remote(AdminClient),
}

impl Admin {
    /// The sandbox behind `endpoint`, if it is one (it answers its health check), controlled
    /// with its admin token when this user has it, else as the run's own identity (which
    /// reads the clock and its own account's messages, but moves no clock).
    /// A sandbox as real as AWS (`sandbox serve --realism aws`) is treated as AWS: no inbox
    /// read and no clock moved for the learner; its time scale comes back so the run's waits
    /// shrink with the sandbox's delays.
    pub async fn probe(endpoint: &str, config: &aws_config::SdkConfig) -> Probe {
        let mut client =
            AdminClient::new(endpoint).with_token(Reach::at(endpoint).token().ok().flatten());
        if !client.has_token() {
            let keys = match config.credentials_provider() {
                Some(p) => p.provide_credentials().await.ok(),
                None => None,
            };
            let region = config.region().map(|r| r.to_string());
            if let (Some(keys), Some(region)) = (keys, region) {
                client = client.signed_as(keys, &region);
            }
        }
        match client.health().await {
            Ok(h) if h.status == "ok" && h.realism == "aws" => Probe {
                admin: None,
                time_scale: h.time_scale,
                sandbox: true,
            },
            Ok(h) if h.status == "ok" => Probe {
                admin: Some(Admin::Remote(client)),
                time_scale: 1.0,
                sandbox: true,
            },
            _ => Probe::default(),
        }
    }

    /// The sandbox clock.
    pub async fn now(&self) -> Result<OffsetDateTime> {
        match self {
            Admin::InProcess(sb) => Ok(sb.clock.now()),
            Admin::Remote(client) => {
                let text = client.clock().await?.now;
                OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("the sandbox's clock reads '{text}'"))
            }
        }
    }

    /// Every message the sandbox's SNS sent that this run may read, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxMessage>> {
        Ok(match self {
            Admin::InProcess(sb) => sb.outbox(0),
            Admin::Remote(client) => client.outbox(0, None).await?,
        })
    }

    /// The newest email to `recipient` that `wanted` accepts.
    pub async fn latest_mail(
        &self,
        recipient: &str,
        wanted: impl Fn(&OutboxMessage) -> bool,
    ) -> Result<Option<OutboxMessage>> {
        Ok(self
            .outbox()
            .await?
            .into_iter()
            .rev()
            .find(|m| m.recipient == recipient && wanted(m)))
    }

    /// Whether this run may move the sandbox's clock: in process, or with the admin token. A
    /// classroom's learner may not (the clock is the whole class's), and waits as on AWS.
    pub fn moves_clock(&self) -> bool {
        match self {
            Admin::InProcess(_) => true,
            Admin::Remote(client) => client.has_token(),
        }
    }

    /// Move the sandbox clock forward and let what is due happen (alarm evaluation, expiry).
    pub async fn advance(&self, seconds: f64) -> Result<()> {
        match self {
            Admin::InProcess(sb) => {
                sb.advance_clock(time::Duration::seconds_f64(seconds))
                    .map_err(|e| anyhow::anyhow!("cannot move the sandbox clock: {}", e.message))?;
                sb.tick();
            }
            Admin::Remote(client) => {
                client.advance_clock(seconds).await?;
            }
        }
        Ok(())
    }

    /// Let the sandbox do what is due now, without moving its clock.
    pub async fn tick(&self) -> Result<()> {
        self.advance(0.0).await
    }
}
