//! kms-workshop trail.
