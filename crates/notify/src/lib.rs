//! kms-workshop notify.
