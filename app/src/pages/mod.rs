//! One component per page.

pub mod home;
pub mod not_found;
