//! How a list of repositories is ordered, as a person picks it in the portal.

use super::ParseError;

/// The order of an account's repository list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepositoryOrder {
    /// By name, A to Z.
    #[default]
    Name,
    /// Most recently pushed first.
    LastPushed,
    /// Largest first.
    Size,
}

impl RepositoryOrder {
    /// `name`, `pushed` or `size`; empty means by name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "" | "name" => Ok(Self::Name),
            "pushed" => Ok(Self::LastPushed),
            "size" => Ok(Self::Size),
            other => Err(ParseError::new(format!(
                "Unknown sort order {other:?}: use name, pushed or size."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RepositoryOrder;

    #[test]
    fn orders_parse_from_their_query_words() {
        assert_eq!(RepositoryOrder::parse(""), Ok(RepositoryOrder::Name));
        assert_eq!(
            RepositoryOrder::parse("pushed"),
            Ok(RepositoryOrder::LastPushed)
        );
        assert_eq!(RepositoryOrder::parse("size"), Ok(RepositoryOrder::Size));
        assert!(RepositoryOrder::parse("size desc").is_err());
    }
}
