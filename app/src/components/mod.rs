//! Pieces shared by pages.

pub mod confirm_dialog;
pub mod copy_button;
pub mod layout;
pub mod server_error;
