//! One component per page.

pub mod activity;
pub mod home;
pub mod nodes;
pub mod not_found;
pub mod repositories;
pub mod repository;
pub mod setup;
pub mod sign_in;
pub mod tokens;
