//! Checks made before calling AWS, so a typo is an error naming the field, not a round trip.

use crate::NotifyError;

/// The workshop asks for a display name of at most 10 characters: SMS messages show only the
/// first 10 (SNS itself allows 100).
pub const DISPLAY_NAME_LIMIT: usize = 10;

/// SNS topic names: 1 to 256 letters, digits, `_` or `-` (FIFO topics end in `.fifo`).
pub fn validate_topic_name(name: &str) -> Result<(), NotifyError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let len = name.chars().count();
    if len > 256 {
        return Err(NotifyError::TooLong {
            field: "Name",
            limit: 256,
            actual: len,
            why: "SNS topic names are 1 to 256 characters",
        });
    }
    if base.is_empty() {
        return Err(NotifyError::Invalid {
            field: "Name",
            reason: "empty: a topic name needs 1 to 256 letters, digits, '_' or '-'".into(),
        });
    }
    if let Some(bad) = base
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(NotifyError::Invalid {
            field: "Name",
            reason: format!(
                "'{bad}' is not allowed: topic names hold only letters, digits, '_' and '-'"
            ),
        });
    }
    Ok(())
}

/// The workshop's display name: at most [`DISPLAY_NAME_LIMIT`] characters.
pub fn validate_display_name(display_name: &str) -> Result<(), NotifyError> {
    let len = display_name.chars().count();
    if len > DISPLAY_NAME_LIMIT {
        return Err(NotifyError::TooLong {
            field: "DisplayName",
            limit: DISPLAY_NAME_LIMIT,
            actual: len,
            why: "the workshop's limit: SMS shows only the first 10 characters",
        });
    }
    if display_name.chars().any(char::is_control) {
        return Err(NotifyError::Invalid {
            field: "DisplayName",
            reason: "control characters are not allowed".into(),
        });
    }
    Ok(())
}

/// A plausible email address: `local@domain.tld`, no spaces, at most 254 characters.
pub fn validate_email(address: &str) -> Result<(), NotifyError> {
    let invalid = |reason: &str| NotifyError::Invalid {
        field: "Endpoint",
        reason: format!("'{address}' is not an email address: {reason}"),
    };
    if address.chars().count() > 254 {
        return Err(invalid("longer than 254 characters"));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains spaces or control characters"));
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(invalid("no '@'"));
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(invalid(
            "the part before '@' must be 1 to 64 characters without '@'",
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(invalid("the domain after '@' must look like example.com"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert!(validate_topic_name("snsworkshop").is_ok());
        assert!(validate_topic_name("a-b_C9").is_ok());
        assert!(validate_topic_name("orders.fifo").is_ok());
        assert!(validate_topic_name(&"a".repeat(256)).is_ok());
        let e = validate_topic_name(&"a".repeat(257)).err();
        assert!(matches!(
            e,
            Some(NotifyError::TooLong {
                field: "Name",
                limit: 256,
                actual: 257,
                ..
            })
        ));
        assert_eq!(
            validate_topic_name("").err().and_then(|e| e.field()),
            Some("Name")
        );
        let e = validate_topic_name("sns workshop")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("' '")));
        assert!(validate_topic_name("a.b").is_err());
    }

    #[test]
    fn display_names() {
        assert!(validate_display_name("KMSWorksho").is_ok());
        assert!(validate_display_name("").is_ok());
        let e = validate_display_name("KMSWorkshop").err();
        let Some(e) = e else {
            panic!("11 characters must be refused")
        };
        assert_eq!(e.field(), Some("DisplayName"));
        assert!(matches!(
            e,
            NotifyError::TooLong {
                limit: 10,
                actual: 11,
                ..
            }
        ));
        let text = e.to_string();
        assert!(
            text.contains("DisplayName") && text.contains("10") && text.contains("11"),
            "{text}"
        );
    }

    #[test]
    fn emails() {
        assert!(validate_email("learner@example.com").is_ok());
        assert!(validate_email("first.last+kms@mail.example.co.uk").is_ok());
        for bad in [
            "",
            "learner",
            "learner@",
            "@example.com",
            "learner@example",
            "a b@example.com",
            "learner@exa_mple.com",
            "learner@.com",
        ] {
            let e = validate_email(bad).err();
            assert_eq!(e.and_then(|e| e.field()), Some("Endpoint"), "{bad}");
        }
    }
}
