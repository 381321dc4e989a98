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

/// Splits `name@digest`, or `name:tag` where the tag follows the last slash (a name
/// has slashes, a tag none), into the repository name and the reference, unparsed:
/// how the portal's Tag page addresses a manifest.
pub fn split_named_reference(s: &str) -> Option<(&str, &str)> {
    if let Some(split) = s.split_once('@') {
        return Some(split);
    }
    let slash = s.rfind('/').unwrap_or(0);
    let colon = s[slash..].find(':')? + slash;
    Some((&s[..colon], &s[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_references_split_at_the_digest_or_the_last_tag() {
        assert_eq!(
            split_named_reference("acme/app:1.0"),
            Some(("acme/app", "1.0"))
        );
        assert_eq!(
            split_named_reference("acme/a:b/app:v2"),
            Some(("acme/a:b/app", "v2"))
        );
        assert_eq!(
            split_named_reference("acme/app@sha256:ab"),
            Some(("acme/app", "sha256:ab"))
        );
        assert_eq!(split_named_reference("acme/app"), None);
    }

    #[test]
    fn tells_tags_from_digests() {
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        let d = Digest::sha256_of(b"x").to_string();
        assert!(matches!(Reference::parse(&d), Ok(Reference::Digest(_))));
        assert!(Reference::parse("sha256:xyz").is_err());
        assert!(Reference::parse("").is_err());
    }
}
