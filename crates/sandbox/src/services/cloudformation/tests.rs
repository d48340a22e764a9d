//! Unit tests of CloudFormation's persisted state: statuses keep CloudFormation's strings.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::state::{ResourceStatus, StackStatus};

/// Every status is written as its string and read back from it.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug + Copy>(
    all: &[T],
    as_str: fn(T) -> &'static str,
) {
    for &s in all {
        let v = serde_json::to_value(s).unwrap();
        assert_eq!(v, as_str(s));
        assert_eq!(serde_json::from_value::<T>(v).unwrap(), s);
    }
}

#[test]
fn statuses_are_written_as_cloudformation_spells_them() {
    round_trips(StackStatus::ALL, StackStatus::as_str);
    round_trips(ResourceStatus::ALL, ResourceStatus::as_str);
    assert_eq!(StackStatus::DeleteFailed.as_str(), "DELETE_FAILED");
    assert_eq!(ResourceStatus::DeleteSkipped.as_str(), "DELETE_SKIPPED");
    assert!(serde_json::from_value::<StackStatus>("".into()).is_err());
}
