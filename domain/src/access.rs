//! Who may do what: account roles, token access levels and registry actions.

use super::ParseError;
use serde::{Deserialize, Serialize};

/// An action on a repository, as in token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "pull" => Ok(Action::Pull),
            "push" => Ok(Action::Push),
            "delete" => Ok(Action::Delete),
            _ => Err(ParseError::new(format!("unknown action {s:?}"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }
}

/// Who may pull a repository: its account's people and nodes, or anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Public,
}

impl Visibility {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            _ => Err(ParseError::new(format!(
                "unknown visibility {s:?}: use public or private"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    pub fn is_public(self) -> bool {
        self == Visibility::Public
    }

    pub fn of(public: bool) -> Self {
        if public {
            Visibility::Public
        } else {
            Visibility::Private
        }
    }
}

/// A member's role in an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pull.
    Read,
    /// Pull, push, delete tags and manifests.
    Write,
    /// On the registry the same as write; in the account it also manages people,
    /// tokens and nodes and deletes whole repositories (the portal's part).
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "read" => Ok(Role::Read),
            "write" => Ok(Role::Write),
            "admin" => Ok(Role::Admin),
            _ => Err(ParseError::new(format!(
                "unknown role {s:?}: use read, write or admin"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    pub fn allows(self, action: Action) -> bool {
        match self {
            Role::Read => action == Action::Pull,
            Role::Write | Role::Admin => true,
        }
    }
}

/// The access level of a personal access token: a ceiling on top of its owner's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenAccess {
    Pull,
    Push,
    Delete,
}

impl TokenAccess {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "pull" => Ok(TokenAccess::Pull),
            "push" => Ok(TokenAccess::Push),
            "delete" => Ok(TokenAccess::Delete),
            _ => Err(ParseError::new(format!(
                "unknown access {s:?}: use pull, push or delete"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAccess::Pull => "pull",
            TokenAccess::Push => "push",
            TokenAccess::Delete => "delete",
        }
    }

    pub fn allows(self, action: Action) -> bool {
        match self {
            TokenAccess::Pull => action == Action::Pull,
            TokenAccess::Push => action != Action::Delete,
            TokenAccess::Delete => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_token_levels_nest() {
        assert!(Role::Read.allows(Action::Pull));
        assert!(!Role::Read.allows(Action::Push));
        assert!(Role::Write.allows(Action::Delete));
        assert!(TokenAccess::Push.allows(Action::Push));
        assert!(!TokenAccess::Push.allows(Action::Delete));
        assert!(!TokenAccess::Pull.allows(Action::Push));
        assert_eq!(Visibility::parse("public"), Ok(Visibility::Public));
        assert_eq!(
            Visibility::parse("private").map(Visibility::is_public),
            Ok(false)
        );
        assert!(Visibility::parse("Public").is_err());
        assert!(Role::parse("owner").is_err());
    }
}
