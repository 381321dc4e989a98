//! Webhooks' words: the events an endpoint hears, and the repository glob that narrows
//! them. What a message says and how it is signed is the server's (`services/webhooks`).

use crate::ParseError;
use crate::pattern::glob_matches;
use std::fmt;

/// What happened, as a webhook's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A manifest was stored (with its tags, if any).
    Push,
    /// A tag, a manifest or a repository was deleted.
    Delete,
    /// A manifest was pulled (opt-in: it is noisy).
    Pull,
    /// A push was refused for the account's quota.
    Quota,
    /// A retention run removed something.
    Retention,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Push,
        EventKind::Delete,
        EventKind::Pull,
        EventKind::Quota,
        EventKind::Retention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Push => "push",
            EventKind::Delete => "delete",
            EventKind::Pull => "pull",
            EventKind::Quota => "quota",
            EventKind::Retention => "retention",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "unknown event {s:?}: use push, delete, pull, quota or retention"
                ))
            })
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The events an endpoint hears: at least one, each once, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSet(Vec<EventKind>);

impl Default for EventSet {
    /// `push,delete`: pulls are opt-in.
    fn default() -> Self {
        Self(vec![EventKind::Push, EventKind::Delete])
    }
}

impl EventSet {
    /// A comma-separated list such as `push,delete,quota`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut kinds = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            kinds.push(EventKind::parse(part)?);
        }
        if kinds.is_empty() {
            return Err(ParseError::new(
                "name at least one event: push, delete, pull, quota or retention",
            ));
        }
        kinds.sort();
        kinds.dedup();
        Ok(Self(kinds))
    }

    pub fn contains(&self, kind: EventKind) -> bool {
        self.0.contains(&kind)
    }

    pub fn kinds(&self) -> &[EventKind] {
        &self.0
    }
}

impl fmt::Display for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|k| k.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// A glob over repository names within an account (`app`, `team/*`, `*-prod`): `*`
/// spans `/` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryGlob(String);

impl RepositoryGlob {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=255).contains(&s.len())
            && s.bytes().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, b'_' | b'.' | b'-' | b'/' | b'*' | b'?')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "invalid repository pattern {s:?}: use repository-name characters (a-z, 0-9, _ . - /) with * and ?"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the repository's name within its account matches.
    pub fn matches(&self, name_within_account: &str) -> bool {
        glob_matches(&self.0, name_within_account)
    }
}

impl fmt::Display for RepositoryGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_sets_parse_in_a_fixed_order_and_refuse_unknown_names() {
        let s = EventSet::parse("quota, push,push,delete").unwrap();
        assert_eq!(s.to_string(), "push,delete,quota");
        assert!(s.contains(EventKind::Quota) && !s.contains(EventKind::Pull));
        assert_eq!(EventSet::default().to_string(), "push,delete");
        assert!(EventSet::parse("push,pushed").is_err());
        assert!(EventSet::parse(" , ").is_err());
    }

    #[test]
    fn repository_globs_span_slashes() {
        let g = RepositoryGlob::parse("team/*").unwrap();
        assert!(g.matches("team/app") && g.matches("team/a/b") && !g.matches("app"));
        assert!(RepositoryGlob::parse("*-prod").unwrap().matches("web-prod"));
        assert!(RepositoryGlob::parse("App").is_err());
        assert!(RepositoryGlob::parse("").is_err());
    }
}
