//! What several services need and must do the same way: paging, wildcards (and, as they move
//! here, tags and policy evaluation). A service imports these instead of writing its own.

pub mod paging;
pub mod wildcard;
