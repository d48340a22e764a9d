//! The clean-up against an in-process sandbox. One test binary for every module, so the SDK
//! crates are linked once.

mod account;
mod discover_execute;
mod faults;
mod foreign;
