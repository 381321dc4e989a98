//! Berth: a multi-tenant private container registry with a customer portal, in one
//! binary. See README.md for the code map and the invariants.

pub mod backup;
pub mod cli;
pub mod config;
pub mod connections;
pub mod db;
pub use domain;
pub mod forwarded;
pub mod portal;
pub mod registry;
pub mod services;
pub mod startup;
pub mod storage;
pub mod tls;
