//! What several services need and must do the same way: paging, wildcards, policy evaluation
//! and tags. A service imports these instead of writing its own.

pub mod paging;
pub mod policy;
pub mod tags;
pub mod wildcard;
