//! Server functions, grouped by resource.

pub mod activity;
pub mod credentials;
pub mod repositories;
pub mod session;
