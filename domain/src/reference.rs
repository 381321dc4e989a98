//! The `<reference>` of `/v2/<name>/manifests/<reference>`: a tag or a digest.

use super::{Digest, ParseError, TagName};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(TagName),
    Digest(Digest),
}

impl Reference {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.contains(':') {
            Digest::parse(s).map(Reference::Digest)
        } else {
            TagName::parse(s).map(Reference::Tag)
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_tags_from_digests() {
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        let d = Digest::sha256_of(b"x").to_string();
        assert!(matches!(Reference::parse(&d), Ok(Reference::Digest(_))));
        assert!(Reference::parse("sha256:xyz").is_err());
        assert!(Reference::parse("").is_err());
    }
}
