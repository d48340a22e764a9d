//! kms-workshop alarms.
