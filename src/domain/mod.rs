//! Pure types with no I/O. Everything that arrives from outside (URL paths, query
//! strings, headers, CLI arguments) is parsed into one of these at the edge, so the
//! services only ever see values that are already known to be valid.

pub mod access;
pub mod digest;
pub mod listing;
pub mod media;
pub mod names;
pub mod range;
pub mod reference;
pub mod scope;

pub use access::{Action, Role, TokenAccess};
pub use digest::{Algorithm, Digest};
pub use listing::RepositoryOrder;
pub use names::{AccountName, NodeName, RepositoryName, TagName, Username};
pub use range::{ByteRange, ContentRange};
pub use reference::Reference;
pub use scope::Scope;

/// Why a piece of outside input was refused. The message is safe to show to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
