//! The trash of an account: deleted tags and repositories stay restorable for the
//! retention period (`--trash-retention`); then garbage collection frees their bytes.
//! With a zero retention, deletions are final at once.

use super::access::{Caller, Permission, Resource};
use super::{Error, Invalid, Result, Services, now_ms};
use crate::db::{Deletion, Repository, TrashEntry};
use crate::domain::{AccountName, RepositoryName, TagName};

impl Services {
    /// Removes a tag from every read path; kept in the trash when there is one.
    pub(super) async fn remove_tag(
        &self,
        repository: &Repository,
        tag: &TagName,
        actor: &str,
        events: &[crate::db::Event],
    ) -> Result<bool> {
        if self.lifecycle.trash_retention.is_zero() {
            return Ok(self
                .db
                .delete_tag(repository.id, tag.as_str(), events, now_ms())
                .await?);
        }
        let bytes = match self
            .db
            .manifest_by_repository_tag(&repository.name, tag.as_str())
            .await?
        {
            Some(m) => manifest_bytes(&m.content),
            None => return Ok(false),
        };
        Ok(self
            .db
            .trash_tag(
                repository,
                tag.as_str(),
                bytes,
                &self.deletion(actor, events),
                None,
            )
            .await?)
    }

    /// Removes a repository from every read path; kept in the trash when there is one.
    /// Removes a whole repository (to the trash when there is one); refused when one
    /// of its tags is immutable, checked in the removing transaction.
    pub(super) async fn remove_repository(
        &self,
        repository: &Repository,
        name: &RepositoryName,
        actor: &str,
        events: &[crate::db::Event],
    ) -> Result<bool> {
        let frozen = self
            .immutability_patterns(repository.account_id, name)
            .await?;
        let removed = if self.lifecycle.trash_retention.is_zero() {
            self.db
                .delete_repository(repository.id, &frozen, events, now_ms())
                .await?
        } else {
            self.db
                .trash_repository(repository, &self.deletion(actor, events), &frozen)
                .await?
        };
        removed.map_err(|t| super::immutability::immutable(name, &t.0))
    }

    pub(super) fn deletion<'a>(
        &self,
        actor: &'a str,
        events: &'a [crate::db::Event],
    ) -> Deletion<'a> {
        let now = now_ms();
        Deletion {
            actor,
            now,
            expires_at: now + self.lifecycle.trash_retention.as_millis() as i64,
            events,
        }
    }

    /// An account's trash, newest first, for its members.
    pub async fn account_trash(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<TrashEntry>> {
        let account = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?
            .account
            .ok_or(Error::Forbidden)?;
        Ok(self.db.trash_entries(account.id).await?)
    }

    /// Puts a deleted tag or repository back, for the account's admins. Refused in
    /// words when its name was taken meanwhile.
    pub async fn restore_from_trash(
        &self,
        caller: &Caller,
        account: &AccountName,
        entry_id: i64,
    ) -> Result<()> {
        let (account, actor) = self.administered(caller, account).await?;
        let entry = self
            .db
            .trash_entry(entry_id)
            .await?
            .filter(|e| e.account_id == account.id)
            .ok_or(Error::Forbidden)?;
        if let Err(refused) = self.db.restore_trash(entry.id, now_ms()).await? {
            return Err(Error::Conflict(refused.0));
        }
        let what = match (&entry.tag, crate::db::trashed_manifest(&entry)) {
            (Some(t), _) => format!("tag {t}"),
            (None, Some(digest)) => format!("untagged image {digest}"),
            (None, None) => "repository".to_owned(),
        };
        self.audit(
            Some(account.id),
            &actor,
            "trash.restore",
            Some(&entry.repository),
            Some(what),
        )
        .await;
        Ok(())
    }

    /// Deletes everything in an account's trash for good, after the admin typed the
    /// account's name; garbage collection then frees the bytes.
    pub async fn empty_trash(
        &self,
        caller: &Caller,
        account: &AccountName,
        typed: &str,
    ) -> Result<u64> {
        let (account, actor) = self.administered(caller, account).await?;
        if typed.trim() != account.name {
            return Err(Error::Invalid(Invalid::Request(format!(
                "Type the account's name, {}, to confirm.",
                account.name
            ))));
        }
        let n = self.db.purge_trash(Some(account.id), now_ms()).await?;
        self.audit(
            Some(account.id),
            &actor,
            "trash.empty",
            None,
            Some(format!("{n} entries")),
        )
        .await;
        Ok(n)
    }
}

/// Config plus layers of a manifest: what its image holds.
fn manifest_bytes(content: &[u8]) -> i64 {
    let v: serde_json::Value = serde_json::from_slice(content).unwrap_or_default();
    let layers: i64 = v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["size"].as_i64())
        .sum();
    layers + v["config"]["size"].as_i64().unwrap_or(0)
}
