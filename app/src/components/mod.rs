//! Pieces shared by pages.

pub mod confirm_dialog;
pub mod copy_button;
pub mod digest;
pub mod layout;
pub mod live;
pub mod server_error;
pub mod title;
