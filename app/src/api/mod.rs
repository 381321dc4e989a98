//! Server functions, grouped by resource.

pub mod accounts;
pub mod activity;
pub mod credentials;
pub mod repositories;
pub mod session;
