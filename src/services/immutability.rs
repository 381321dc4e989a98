//! Immutable tags: an account's rules (a tag glob, in one repository or in all) whose
//! matching tags can be neither re-pointed to another digest nor deleted, by tag, by
//! digest or with their repository. Account admins add rules; only site admins (and
//! the operator) remove them, so a rule holds against the account itself.

use super::access::{Caller, Permission, Resource};
use super::{Error, Invalid, Result, Services, now_ms};
use crate::db::{DbError, ImmutabilityRule};
use crate::domain::{AccountName, RepositoryName, TagPattern};

impl Services {
    /// Adds a rule, for the account's admins and the operator. `repository` is a name
    /// within the account (`app` for `acme/app`); `None` for every repository. Audited.
    pub async fn add_immutability(
        &self,
        caller: &Caller,
        account: &AccountName,
        pattern: &TagPattern,
        repository: Option<&str>,
    ) -> Result<()> {
        let (a, actor) = self.administered(caller, account).await?;
        let within = within_account(account, repository)?;
        match self
            .db
            .add_immutability_rule(a.id, &within, pattern.as_str(), now_ms())
            .await
        {
            Err(DbError::Conflict) => {
                return Err(Error::Conflict(format!(
                    "{} already has that rule",
                    account
                )));
            }
            r => r?,
        }
        self.audit(
            Some(a.id),
            &actor,
            "immutability.add",
            None,
            Some(describe(pattern.as_str(), &within)),
        )
        .await;
        Ok(())
    }

    /// Removes a rule, for site admins and the operator only. Audited.
    pub async fn remove_immutability(
        &self,
        caller: &Caller,
        account: &AccountName,
        pattern: &TagPattern,
        repository: Option<&str>,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let a = self.account(account).await?;
        let within = within_account(account, repository)?;
        if !self
            .db
            .remove_immutability_rule(a.id, &within, pattern.as_str())
            .await?
        {
            return Err(Error::NotFound(super::Thing::Rule));
        }
        self.audit(
            Some(a.id),
            &actor,
            "immutability.remove",
            None,
            Some(describe(pattern.as_str(), &within)),
        )
        .await;
        Ok(())
    }

    /// An account's rules, for those who may see it.
    pub async fn immutability_rules(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<ImmutabilityRule>> {
        let a = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?
            .account
            .ok_or(Error::Forbidden)?;
        Ok(self.db.immutability_rules(a.id).await?)
    }

    /// The patterns of the account's rules that apply to the repository.
    pub(super) async fn immutability_patterns(
        &self,
        account_id: i64,
        repository: &RepositoryName,
    ) -> Result<Vec<TagPattern>> {
        let rules = self.db.immutability_rules(account_id).await?;
        let within = repository
            .as_str()
            .split_once('/')
            .map_or("", |(_, rest)| rest);
        Ok(rules
            .iter()
            .filter(|r| r.repository.is_empty() || r.repository == within)
            .filter_map(|r| TagPattern::parse(&r.pattern).ok())
            .collect())
    }

    /// Those of `tags` of the repository that a rule of its account makes immutable.
    pub async fn frozen_tags(
        &self,
        account_id: i64,
        repository: &RepositoryName,
        tags: &[String],
    ) -> Result<Vec<String>> {
        if tags.is_empty() {
            return Ok(vec![]);
        }
        let applying = self.immutability_patterns(account_id, repository).await?;
        Ok(tags
            .iter()
            .filter(|t| applying.iter().any(|p| p.matches(t)))
            .cloned()
            .collect())
    }

    /// Refuses when any of `tags` is immutable, naming it.
    pub(super) async fn refuse_frozen(
        &self,
        account_id: i64,
        repository: &RepositoryName,
        tags: &[String],
    ) -> Result<()> {
        match self
            .frozen_tags(account_id, repository, tags)
            .await?
            .first()
        {
            Some(tag) => Err(immutable(repository, tag)),
            None => Ok(()),
        }
    }
}

/// The refusal of a change to an immutable tag, in words docker prints.
pub(super) fn immutable(repository: &RepositoryName, tag: &str) -> Error {
    Error::Denied(format!(
        "the tag {tag} of {repository} is immutable: it cannot be overwritten or deleted"
    ))
}

/// The stored form of a rule's repository: its name within the account, checked to
/// make a valid repository name; empty for all.
pub(super) fn within_account(account: &AccountName, repository: Option<&str>) -> Result<String> {
    let Some(name) = repository.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(String::new());
    };
    let name = name.strip_prefix(&format!("{account}/")).unwrap_or(name);
    RepositoryName::parse(&format!("{account}/{name}"))
        .map_err(|e| Error::Invalid(Invalid::Name(e.0)))?;
    Ok(name.to_owned())
}

fn describe(pattern: &str, within: &str) -> String {
    if within.is_empty() {
        format!("{pattern} in every repository")
    } else {
        format!("{pattern} in {within}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_repositories_are_named_within_the_account() {
        let acme = AccountName::parse("acme").unwrap();
        assert_eq!(within_account(&acme, None).unwrap(), "");
        assert_eq!(within_account(&acme, Some("app")).unwrap(), "app");
        assert_eq!(
            within_account(&acme, Some("acme/team/app")).unwrap(),
            "team/app"
        );
        assert!(within_account(&acme, Some("Bad Name")).is_err());
    }
}
