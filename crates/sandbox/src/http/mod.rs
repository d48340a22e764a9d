//! The HTTP front. Requests under `/_sandbox/` are the sandbox's own control API
//! ([`admin`], typed routes; [`admin_api`] holds its paths, types and the one client); every
//! other request is an AWS request ([`aws`]: authenticate → decode → dispatch → encode).
//! [`guard`] checks every request's `Host` and `Origin` first;
//! [`listen`] binds and runs the server with its periodic tick; [`wire`] holds the plumbing and
//! the early errors in each protocol's wording; [`faults`] injects throttling and 5xx for
//! resilience tests.

pub mod admin;
pub mod admin_api;
mod aws;
pub mod faults;
mod guard;
pub mod listen;
mod rest;
mod wire;

pub(crate) use aws::{in_process, Seeding};
pub use listen::{serve, serve_with, Running};

/// Largest body accepted for the JSON/query/CBOR services (AWS's own limits are far lower for
/// every operation the workshop uses); S3 uploads get more room.
pub const MAX_BODY: usize = 1024 * 1024;
pub const MAX_S3_BODY: usize = 64 * 1024 * 1024;
