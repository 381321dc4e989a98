//! Pure types with no I/O. Everything that arrives from outside (URL paths, query
//! strings, headers, CLI arguments) is parsed into one of these at the edge, so the
//! services only ever see values that are already known to be valid.

pub mod access;
pub mod digest;
pub mod listing;
pub mod media;
pub mod names;
pub mod pattern;
pub mod range;
pub mod reference;
pub mod retention;
pub mod scope;
pub mod size;
pub mod webhook;

pub use access::{Action, Role, TokenAccess, Visibility};
pub use digest::{Algorithm, Digest};
pub use listing::RepositoryOrder;
pub use names::{AccountName, NodeName, RepositoryName, TagName, Username};
pub use pattern::TagPattern;
pub use range::{ByteRange, ContentRange};
pub use reference::Reference;
pub use retention::{RetentionPolicy, TagFacts};
pub use scope::Scope;
pub use webhook::{EventKind, EventSet, RepositoryGlob};

/// Why a piece of outside input was refused. The message is safe to show to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Every parser of outside input, fed arbitrary text: it answers with a value or a
/// `ParseError`, never a panic; and what it accepts prints back as it came.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text that looks like what clients send, and plain noise.
    fn input() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9._/:@+=-]{0,80}",
            "(sha256|sha512|md5):[0-9a-fA-F]{0,130}",
            "repository:[a-z0-9/._-]{0,40}:(pull|push|delete|\\*|,){0,6}",
            "bytes[ =][0-9-]{0,30}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn names_never_panic_and_round_trip(s in input()) {
            if let Ok(n) = AccountName::parse(&s) { prop_assert_eq!(n.as_str(), s.as_str()); }
            if let Ok(n) = RepositoryName::parse(&s) { prop_assert_eq!(n.as_str(), s.as_str()); }
            if let Ok(n) = TagName::parse(&s) { prop_assert_eq!(n.as_str(), s.as_str()); }
            let _ = Username::parse(&s);
            let _ = NodeName::parse(&s);
        }

        #[test]
        fn digests_and_references_never_panic(s in input()) {
            if let Ok(d) = Digest::parse(&s) { prop_assert_eq!(d.to_string(), s.clone()); }
            if let Ok(r) = Reference::parse(&s) { prop_assert_eq!(r.to_string(), s); }
        }

        #[test]
        fn scopes_ranges_and_roles_never_panic(s in input()) {
            let _ = Scope::parse(&s);
            let _ = ContentRange::parse(&s);
            let _ = ByteRange::parse(&s);
            let _ = Role::parse(&s);
            let _ = TokenAccess::parse(&s);
            let _ = RepositoryOrder::parse(&s);
        }

        #[test]
        fn content_ranges_that_parse_are_ordered(a in 0u64..1 << 40, len in 0u64..1 << 30) {
            let s = format!("{a}-{}", a + len);
            let r = ContentRange::parse(&s).unwrap();
            prop_assert!(r.start <= r.end);
        }
    }
}
