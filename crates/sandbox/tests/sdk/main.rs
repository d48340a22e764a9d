//! The Rust AWS SDK against an in-process sandbox, one module per service area. They share one
//! test binary because each separate binary would link every SDK crate again: on a 2-core
//! machine that is minutes of linking and gigabytes of disk per binary.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

mod classroom;
mod classroom_seeding;
mod clock_bounds;
mod cloudformation;
mod cloudwatch;
mod control_api_locked;
mod cross_account_delivery;
mod ec2;
mod encryption_context_logged;
mod iam;
mod kms_sts_trail;
mod no_secrets_in_cloudtrail;
mod oversize_bodies;
mod pathological_policies;
mod presigned_urls;
mod s3;
mod s3_writes_cost_what_they_change;
mod signed_chunks;
mod state_at_rest;
mod unsigned_sns_links;
