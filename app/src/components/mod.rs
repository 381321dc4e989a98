//! Pieces shared by pages.

pub mod copy_button;
pub mod layout;
