//! Names of accounts, repositories, tags and users.

use super::ParseError;
use std::fmt;

/// Names that may never be an account's namespace because they collide with our own
/// routes or would confuse people reading a pull URI.
const RESERVED_NAMESPACES: &[&str] = &[
    "v1",
    "v2",
    "auth",
    "api",
    "pkg",
    "healthz",
    "metrics",
    "static",
    "admin",
    "login",
    "logout",
    "setup",
    "settings",
    "accounts",
    "account",
    "berth",
    "library",
    "public",
    "assets",
    "favicon.ico",
    "_catalog",
];

/// Longest repository name we accept, as distribution does, so every name fits in a URL
/// and in an index column.
pub const MAX_REPOSITORY_NAME: usize = 255;

/// One path component of the OCI grammar: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

/// The name of an account, which is also its namespace: the first path component of
/// each of its repositories.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() > 64 {
            return Err(ParseError::new("an account name has at most 64 characters"));
        }
        if !is_path_component(s) {
            return Err(ParseError::new(format!(
                "invalid account name {s:?}: use lowercase letters and digits, separated by '.', '_', '__' or '-'"
            )));
        }
        if RESERVED_NAMESPACES.contains(&s) {
            return Err(ParseError::new(format!("the name {s:?} is reserved")));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A full repository name, `namespace/name[/more]`, following the OCI grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);

impl RepositoryName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() || s.len() > MAX_REPOSITORY_NAME {
            return Err(ParseError::new("a repository name has 1 to 255 characters"));
        }
        if !s.split('/').all(is_path_component) {
            return Err(ParseError::new(format!("invalid repository name {s:?}")));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first path component, which names the owning account. A single-component
    /// name has no namespace and so belongs to nobody.
    pub fn namespace(&self) -> Option<&str> {
        self.0.split_once('/').map(|(ns, _)| ns)
    }
}

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(String);

impl TagName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b[1..]
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(format!("invalid tag {s:?}")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's login name. Kept apart from account names so a person and a customer can
/// share a name; `+` is refused because it separates account and node in node logins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=64).contains(&s.len())
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "invalid username {s:?}: 1 to 64 letters, digits, '.', '_', '-' or '@'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a node (a machine credential) within its account; it logs in as
/// `account+node`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(String);

impl NodeName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() <= 64 && is_path_component(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "invalid node name {s:?}: use lowercase letters and digits, separated by '.', '_' or '-'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_str!(AccountName, NodeName, RepositoryName, TagName, Username);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_oci_grammar() {
        for ok in [
            "acme/app",
            "a/b/c",
            "acme/my-app",
            "acme/my__app",
            "a0/b.c",
            "x/a---b",
        ] {
            assert!(RepositoryName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Acme/app",
            "acme//app",
            "acme/app/",
            "/acme",
            "acme/-app",
            "acme/a___b",
            "acme/a..b",
            "acme/app_",
            "acme/ap p",
        ] {
            assert!(RepositoryName::parse(bad).is_err(), "{bad}");
        }
        assert!(RepositoryName::parse(&format!("a/{}", "b".repeat(254))).is_err());
        assert_eq!(
            RepositoryName::parse("acme/x/y").unwrap().namespace(),
            Some("acme")
        );
        assert_eq!(RepositoryName::parse("alpine").unwrap().namespace(), None);
    }

    #[test]
    fn account_names_are_one_component_and_not_reserved() {
        assert!(AccountName::parse("acme").is_ok());
        assert!(AccountName::parse("acme-corp.eu").is_ok());
        for bad in ["v2", "auth", "Acme", "a/b", "", "-x"] {
            assert!(AccountName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_follow_the_oci_grammar() {
        for ok in ["latest", "v1.2.3", "_x", "A-b_c.d", &"a".repeat(128)] {
            assert!(TagName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"a".repeat(129)] {
            assert!(TagName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_refuse_separators() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("alice@example.com").is_ok());
        assert!(Username::parse("acme+node").is_err());
        assert!(Username::parse("").is_err());
    }
}
