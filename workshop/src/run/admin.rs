//! The sandbox's own controls, when the target is a sandbox: its clock (to see the alarm
//! fire without waiting ten days) and its outbox (the learner's "inbox": confirmation emails,
//! notifications). In-process through the API, or over HTTP (`/_sandbox/…`) for a sandbox
//! served elsewhere. Against AWS there is none of this.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use kms_workshop_sandbox::Sandbox;
use serde_json::Value;
use time::OffsetDateTime;

pub enum Admin {
    InProcess(Arc<Sandbox>),
    Remote(String),
}

impl Admin {
    /// The sandbox behind `endpoint`, if it is one (it answers `/_sandbox/health`).
    pub async fn probe(endpoint: &str) -> Option<Admin> {
        let url = format!("{}/_sandbox/health", endpoint.trim_end_matches('/'));
        let resp = reqwest::Client::new()
            .get(url)
            .timeout(std::time::Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        let v: Value = resp.json().await.ok()?;
        (v["status"] == "ok").then(|| Admin::Remote(endpoint.trim_end_matches('/').to_string()))
    }

    async fn get(&self, base: &str, path: &str) -> Result<Value> {
        let resp = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .send()
            .await
            .with_context(|| format!("cannot reach the sandbox at {base}"))?;
        resp.json()
            .await
            .with_context(|| format!("{base}{path} did not answer like a sandbox"))
    }

    /// The sandbox clock.
    pub async fn now(&self) -> Result<OffsetDateTime> {
        match self {
            Admin::InProcess(sb) => Ok(sb.clock.now()),
            Admin::Remote(base) => {
                let v = self.get(base, "/_sandbox/clock").await?;
                let text = v["now"].as_str().unwrap_or_default();
                OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("the sandbox's clock reads '{text}'"))
            }
        }
    }

    /// Every message the sandbox's SNS sent, oldest first (JSON as `/_sandbox/outbox`).
    pub async fn outbox(&self) -> Result<Vec<Value>> {
        match self {
            Admin::InProcess(sb) => Ok(sb
                .outbox(0)
                .into_iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect()),
            Admin::Remote(base) => Ok(self.get(base, "/_sandbox/outbox?after=0").await?
                ["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()),
        }
    }

    /// Move the sandbox clock forward and let what is due happen (alarm evaluation, expiry).
    pub async fn advance(&self, seconds: f64) -> Result<()> {
        match self {
            Admin::InProcess(sb) => {
                sb.advance_clock(time::Duration::seconds_f64(seconds))
                    .map_err(|e| anyhow::anyhow!("cannot move the sandbox clock: {}", e.message))?;
                sb.tick();
                Ok(())
            }
            Admin::Remote(base) => {
                let resp = reqwest::Client::new()
                    .post(format!("{base}/_sandbox/clock/advance?seconds={seconds}"))
                    .send()
                    .await
                    .with_context(|| format!("cannot reach the sandbox at {base}"))?;
                if !resp.status().is_success() {
                    bail!("the sandbox refused to move its clock ({})", resp.status());
                }
                Ok(())
            }
        }
    }

    /// Let the sandbox do what is due now, without moving its clock.
    pub async fn tick(&self) -> Result<()> {
        self.advance(0.0).await
    }
}
