//! One component per page.

pub mod accounts;
pub mod activity;
pub mod explore;
pub mod home;
pub mod immutability;
pub mod members;
pub mod nodes;
pub mod not_found;
pub mod password;
pub mod repositories;
pub mod repository;
pub mod retention;
pub mod setup;
pub mod sign_in;
pub mod tag;
pub mod tokens;
pub mod trash;
pub mod webhooks;
