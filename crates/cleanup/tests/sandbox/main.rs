//! The clean-up against an in-process sandbox. One test binary for both modules, so the SDK
//! crates are linked once.

mod discover_execute;
mod faults;
