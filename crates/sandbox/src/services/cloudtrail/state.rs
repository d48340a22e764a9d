//! CloudTrail's persisted state: the trails of one account and region (their home region) and
//! their event selectors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Trails of one account and region (their home region).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TrailState {
    pub trails: BTreeMap<String, Trail>,
    /// Buckets whose trail stopped logging (or was deleted) and when: CloudTrail's last log
    /// file for them is still to come (`realism.trail_last_log_file`).
    #[serde(default)]
    pub last_deliveries: BTreeMap<String, OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub s3_bucket: String,
    pub s3_prefix: Option<String>,
    pub sns_topic: Option<String>,
    pub include_global: bool,
    pub multi_region: bool,
    pub log_file_validation: bool,
    pub kms_key_id: Option<String>,
    pub logging: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_logging: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub stop_logging: Option<OffsetDateTime>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The trail's event selectors (`None`: CloudTrail's default, all management events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<EventSelector>>,
    /// An organization's trail, seen from a member account ([`super::organization`]).
    #[serde(default)]
    pub organization: bool,
}

/// Which management events a selector logs, by whether they only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadWriteType {
    #[serde(rename = "ReadOnly")]
    ReadOnly,
    #[serde(rename = "WriteOnly")]
    WriteOnly,
    #[serde(rename = "All")]
    All,
}

impl ReadWriteType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadWriteType::ReadOnly => "ReadOnly",
            ReadWriteType::WriteOnly => "WriteOnly",
            ReadWriteType::All => "All",
        }
    }

    pub fn parse(s: &str) -> Option<ReadWriteType> {
        [
            ReadWriteType::ReadOnly,
            ReadWriteType::WriteOnly,
            ReadWriteType::All,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One basic event selector: which management events a trail logs, and the data events it
/// selects (kept and answered as put; the sandbox records no data events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelector {
    pub read_write_type: ReadWriteType,
    pub include_management_events: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_resources: Vec<DataResource>,
    /// Event sources whose management events the selector leaves out (`kms.amazonaws.com`,
    /// `rdsdata.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_sources: Vec<String>,
}

/// A data-event selector: a resource type and the ARNs (or prefixes) it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataResource {
    pub kind: String,
    pub values: Vec<String>,
}

impl EventSelector {
    /// CloudTrail's default: all management events.
    pub fn all_management() -> EventSelector {
        EventSelector {
            read_write_type: ReadWriteType::All,
            include_management_events: true,
            data_resources: Vec::new(),
            exclude_sources: Vec::new(),
        }
    }

    /// Whether this selector logs a management event from `source` that is (or is not)
    /// read-only.
    pub fn logs(&self, read_only: bool, source: &str) -> bool {
        self.include_management_events
            && !self.exclude_sources.iter().any(|s| s == source)
            && match self.read_write_type {
                ReadWriteType::ReadOnly => read_only,
                ReadWriteType::WriteOnly => !read_only,
                ReadWriteType::All => true,
            }
    }
}

impl Trail {
    /// The selectors in force (CloudTrail's default when none were put).
    pub fn selectors(&self) -> Vec<EventSelector> {
        self.event_selectors
            .clone()
            .unwrap_or_else(|| vec![EventSelector::all_management()])
    }
}
