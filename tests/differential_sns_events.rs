//! placeholder
#![allow(clippy::unwrap_used, clippy::expect_used)]
use aws_sdk_eventbridge as _;
use aws_sdk_sns as _;
