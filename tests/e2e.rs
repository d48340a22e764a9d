//! End-to-end tests of the `kms-workshop` binary and its sandbox, through the real `aws` CLI,
//! the Rust SDK and `moto_server`, one module per area. They share one test binary because
//! every separate binary links all the SDK crates again (minutes of linking and gigabytes of
//! disk each on a 2-core machine). The soak test is the exception: it measures its own
//! process's memory, so it runs alone in `tests/soak.rs`.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod common;

mod aws_cli;
mod classroom_cli;
mod cleanup_cli;
mod cleanup_confirmation;
mod cloudformation_cli;
mod cloudformation_differential;
mod cloudwatch_cli;
mod differential;
mod differential_sns_events;
mod ec2_cli;
mod ec2_differential;
mod fidelity;
mod iam_cli;
mod iam_differential;
mod inventory_trust;
mod pipeline;
mod prepare_cli;
mod realism;
mod robustness;
mod run_cli;
mod run_console;
mod run_diy;
mod run_pty;
mod s3_cli;
mod s3_differential;
