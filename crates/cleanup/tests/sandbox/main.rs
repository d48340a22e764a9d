//! The clean-up against an in-process sandbox. One test binary for every module, so the SDK
//! crates are linked once.

// A test reads as one scenario; the 120-line limit (clippy.toml) is for the code.
#![allow(clippy::too_many_lines)]

mod account;
mod discover_execute;
mod faults;
mod foreign;
