//! Server functions, grouped by resource.

pub mod repositories;
pub mod session;
