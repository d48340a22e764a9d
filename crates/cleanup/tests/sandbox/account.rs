//! The workshop's seeded account in an in-process sandbox, with the clean-up's clients, a pace
//! that does not hold a test up, and the SDK clients the tests arrange it with.

use aws_config::SdkConfig;
use kms_workshop_cleanup::{
    discover, Clients, Event, ExecOptions, Executor, Found, Inventory, Pace,
};
use kms_workshop_sandbox::seed;
use kms_workshop_testkit as testkit;
use tokio::sync::mpsc::UnboundedSender;

/// The workshop's seeded account in an in-process sandbox, the clean-up's clients for it and
/// a pace that does not hold a test up.
pub(crate) struct Account {
    pub(crate) env: testkit::Env,
    pub(crate) clients: Clients,
    pub(crate) pace: Pace,
}

impl Account {
    pub(crate) async fn seeded() -> Account {
        let env = testkit::workshop().await;
        let clients = Clients::new(&env.cfg, seed::ACCOUNT, &[seed::REGION.to_string()], true);
        Account {
            env,
            clients,
            pace: Pace::new(8, 1000.0, 1000.0),
        }
    }

    pub(crate) fn config(&self) -> &SdkConfig {
        &self.env.cfg
    }

    pub(crate) async fn discover(&self, inventory: &Inventory) -> Found {
        discover(&self.clients, &self.pace, inventory)
            .await
            .expect("discover")
    }

    pub(crate) fn executor(&self, events: Option<UnboundedSender<Event>>) -> Executor {
        Executor::new(
            self.clients.clone(),
            self.pace.clone(),
            ExecOptions::default(),
            events,
        )
    }

    pub(crate) fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(self.config())
    }

    pub(crate) fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(self.config())
    }

    /// S3 path-style, as the sandbox serves it.
    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(self.config())
                .force_path_style(true)
                .build(),
        )
    }

    /// The id of the key `key` (an id, ARN or alias) names.
    pub(crate) async fn key_id(&self, key: &str) -> String {
        self.kms()
            .describe_key()
            .key_id(key)
            .send()
            .await
            .expect("describe key")
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .expect("metadata")
    }

    /// A new key with `description`: its id and ARN.
    pub(crate) async fn create_key(&self, description: &str) -> (String, String) {
        let created = self
            .kms()
            .create_key()
            .description(description)
            .send()
            .await
            .expect("create key");
        let meta = created.key_metadata().expect("metadata");
        (
            meta.key_id().to_string(),
            meta.arn().unwrap_or_default().to_string(),
        )
    }

    pub(crate) async fn shutdown(self) {
        self.env.running.shutdown().await;
    }
}
