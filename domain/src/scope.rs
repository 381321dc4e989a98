//! Token scopes: `repository:acme/app:pull,push`, `registry:catalog:*`.

use super::{Action, ParseError, RepositoryName};

/// One parsed `scope` parameter of a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Repository {
        name: RepositoryName,
        actions: Vec<Action>,
    },
    /// `registry:catalog:*`: listing what the caller may see.
    Catalog,
}

impl Scope {
    /// Parses one scope. Unknown resource types and actions are an error so that a
    /// client never silently receives less than it asked for without a trace in logs;
    /// the token endpoint skips such scopes rather than failing the whole request.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut parts = s.splitn(2, ':');
        let kind = parts.next().unwrap_or_default();
        let rest = parts
            .next()
            .ok_or_else(|| ParseError::new(format!("invalid scope {s:?}")))?;
        // The name may not contain ':' but actions follow the last one.
        let (name, actions) = rest
            .rsplit_once(':')
            .ok_or_else(|| ParseError::new(format!("invalid scope {s:?}")))?;
        match kind {
            "repository" => {
                // A type may carry a class suffix, like `repository(plugin)`; docker never
                // sends one to us, and we refuse it rather than guess.
                let name = RepositoryName::parse(name)?;
                let mut list = Vec::new();
                for a in actions.split(',').filter(|a| !a.is_empty()) {
                    if a == "*" {
                        list.extend([Action::Pull, Action::Push, Action::Delete]);
                    } else {
                        list.push(Action::parse(a)?);
                    }
                }
                list.sort();
                list.dedup();
                Ok(Scope::Repository {
                    name,
                    actions: list,
                })
            }
            "registry" if name == "catalog" => Ok(Scope::Catalog),
            _ => Err(ParseError::new(format!("unsupported scope {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repository_scopes() {
        let s = Scope::parse("repository:acme/app:push,pull").unwrap();
        assert_eq!(
            s,
            Scope::Repository {
                name: RepositoryName::parse("acme/app").unwrap(),
                actions: vec![Action::Pull, Action::Push]
            }
        );
        let all = Scope::parse("repository:acme/a/b:*").unwrap();
        assert!(matches!(all, Scope::Repository { ref actions, .. } if actions.len() == 3));
        assert_eq!(Scope::parse("registry:catalog:*").unwrap(), Scope::Catalog);
    }

    #[test]
    fn refuses_bad_scopes() {
        for bad in [
            "",
            "repository",
            "repository:acme/app",
            "repository:Acme/app:pull",
            "repository:acme/app:fly",
            "user:x:y",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }
}
