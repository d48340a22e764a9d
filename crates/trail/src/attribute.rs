//! The eight attributes `LookupEvents` filters on (one per request).

use std::fmt;
use std::str::FromStr;

use aws_sdk_cloudtrail::types::LookupAttributeKey;

use crate::TrailError;

/// A `LookupEvents` attribute, as the console's event-history filter offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl Attribute {
    pub const ALL: [Attribute; 8] = [
        Attribute::EventId,
        Attribute::EventName,
        Attribute::ReadOnly,
        Attribute::Username,
        Attribute::ResourceType,
        Attribute::ResourceName,
        Attribute::EventSource,
        Attribute::AccessKeyId,
    ];

    /// The `AttributeKey` as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::EventId => "EventId",
            Attribute::EventName => "EventName",
            Attribute::ReadOnly => "ReadOnly",
            Attribute::Username => "Username",
            Attribute::ResourceType => "ResourceType",
            Attribute::ResourceName => "ResourceName",
            Attribute::EventSource => "EventSource",
            Attribute::AccessKeyId => "AccessKeyId",
        }
    }

    pub(crate) fn sdk(self) -> LookupAttributeKey {
        match self {
            Attribute::EventId => LookupAttributeKey::EventId,
            Attribute::EventName => LookupAttributeKey::EventName,
            Attribute::ReadOnly => LookupAttributeKey::ReadOnly,
            Attribute::Username => LookupAttributeKey::Username,
            Attribute::ResourceType => LookupAttributeKey::ResourceType,
            Attribute::ResourceName => LookupAttributeKey::ResourceName,
            Attribute::EventSource => LookupAttributeKey::EventSource,
            Attribute::AccessKeyId => LookupAttributeKey::AccessKeyId,
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Attribute {
    type Err = TrailError;

    /// AWS's spelling, case-insensitively (`eventname`, `EventName`); an unknown name is an
    /// error listing the eight.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Attribute::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| TrailError::InvalidInput {
                field: "AttributeKey",
                reason: format!(
                    "'{wanted}' is not a lookup attribute; expected one of {}",
                    Attribute::ALL.map(Attribute::as_str).join(", ")
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_errors_list_them() {
        for a in Attribute::ALL {
            assert_eq!(a.to_string().parse::<Attribute>().ok(), Some(a));
            assert_eq!(a.sdk().as_str(), a.as_str());
        }
        assert_eq!(
            "username".parse::<Attribute>().ok(),
            Some(Attribute::Username)
        );
        let err = "UserName2"
            .parse::<Attribute>()
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        for a in Attribute::ALL {
            assert!(err.contains(a.as_str()), "{err}");
        }
        assert!(err.contains("UserName2"));
    }
}
