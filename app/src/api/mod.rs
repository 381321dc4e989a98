//! Server functions, grouped by resource.

pub mod credentials;
pub mod repositories;
pub mod session;
