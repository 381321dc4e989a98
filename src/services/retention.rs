//! Retention: per account or repository, which tags to keep (the last N pushed, those
//! pushed or pulled within a period, among the tags a glob selects) and when untagged
//! images go. What a run removes goes to the trash, restorable as any delete; immutable
//! tags, the referrers (signatures, SBOMs) of what stays, and an index's platforms are
//! never removed. The dry run, the portal's preview and the run share one plan.

use super::access::{Caller, Permission, Resource};
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{Account, Repository, RepositoryFacts, RetentionRow};
use crate::domain::{AccountName, RepositoryName, RetentionPolicy, TagFacts, TagPattern};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Who the trash and the audit log name as having removed what a policy removes.
pub const RETENTION_ACTOR: &str = "retention";

/// A stored policy, as the command line and the portal show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRetention {
    /// The repository's name within the account; `None` for the account's policy.
    pub repository: Option<String>,
    pub policy: RetentionPolicy,
    pub updated_by: String,
    pub updated_at: i64,
}

/// What a run removed, or a dry run or preview would remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetentionReport {
    pub tags: u64,
    pub manifests: u64,
    /// Bytes of the images that went to the trash, shared layers counted once and
    /// layers still used by what stays in their repository not at all.
    pub bytes: u64,
    #[serde(skip)]
    pub removed: Vec<Removal>,
}

/// One thing a policy removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub repository: String,
    /// The tag; `None` for an untagged image.
    pub tag: Option<String>,
    pub digest: String,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
    pub bytes: u64,
    what: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The tag pointed at this manifest, pushed at that time, when planned.
    Tag {
        manifest_id: i64,
        pushed_at: i64,
    },
    Manifest {
        id: i64,
        cutoff: i64,
    },
}

impl Services {
    /// Sets the policy of an account (`repository` `None`) or of one repository of it
    /// (its name within the account), for the account's admins. Audited.
    pub async fn set_retention(
        &self,
        caller: &Caller,
        account: &AccountName,
        repository: Option<&str>,
        policy: &RetentionPolicy,
    ) -> Result<()> {
        let (a, actor) = self.administered(caller, account).await?;
        policy
            .check()
            .map_err(|e| Error::Invalid(super::Invalid::Request(e.0)))?;
        let within = super::immutability::within_account(account, repository)?;
        self.db
            .put_retention_policy(crate::db::NewRetention {
                account_id: a.id,
                repository: &within,
                keep_last: policy.keep_last.map(|n| n as i32),
                keep_within: policy.keep_within.map(|d| d.as_secs() as i64),
                tag_pattern: policy.tag.as_ref().map(TagPattern::as_str),
                exclude_pattern: policy.exclude.as_ref().map(TagPattern::as_str),
                untagged_older_than: policy.untagged_older_than.map(|d| d.as_secs() as i64),
                updated_by: &actor,
                updated_at: now_ms(),
            })
            .await?;
        self.audit(
            Some(a.id),
            &actor,
            "retention.set",
            None,
            Some(format!("{}: {}", scope(&within), policy.describe())),
        )
        .await;
        Ok(())
    }

    /// Removes a policy, for the account's admins. Audited.
    pub async fn unset_retention(
        &self,
        caller: &Caller,
        account: &AccountName,
        repository: Option<&str>,
    ) -> Result<()> {
        let (a, actor) = self.administered(caller, account).await?;
        let within = super::immutability::within_account(account, repository)?;
        if !self.db.remove_retention_policy(a.id, &within).await? {
            return Err(Error::NotFound(Thing::Policy));
        }
        self.audit(
            Some(a.id),
            &actor,
            "retention.unset",
            None,
            Some(scope(&within)),
        )
        .await;
        Ok(())
    }

    /// An account's policies, the account's own first, for those who may see it.
    pub async fn retention_policies(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<StoredRetention>> {
        let a = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?
            .account
            .ok_or(Error::Forbidden)?;
        Ok(self
            .db
            .retention_policies(Some(a.id))
            .await?
            .into_iter()
            .filter_map(stored)
            .collect())
    }

    /// What `policy`, were it saved for the account or the repository, would remove
    /// now; for the account's admins, before they save it.
    pub async fn preview_retention(
        &self,
        caller: &Caller,
        account: &AccountName,
        repository: Option<&str>,
        policy: &RetentionPolicy,
    ) -> Result<RetentionReport> {
        let (a, _) = self.administered(caller, account).await?;
        let within = super::immutability::within_account(account, repository)?;
        let mut policies: Vec<StoredRetention> = self
            .db
            .retention_policies(Some(a.id))
            .await?
            .into_iter()
            .filter_map(stored)
            .filter(|p| p.repository.as_deref().unwrap_or("") != within)
            .collect();
        policies.push(StoredRetention {
            repository: (!within.is_empty()).then_some(within.clone()),
            policy: policy.clone(),
            updated_by: String::new(),
            updated_at: 0,
        });
        let mut report = RetentionReport::default();
        for repo in self.db.account_repositories(a.id).await? {
            if !within.is_empty() && name_within(&repo) != within {
                continue;
            }
            let Some(applying) = policy_for(&policies, &repo) else {
                continue;
            };
            // An account-wide draft previews only where it would apply.
            if within.is_empty() && applying.repository.is_some() {
                continue;
            }
            report.add(self.plan_repository(&a, &repo, &applying.policy).await?);
        }
        Ok(report)
    }

    /// Applies the policies of one account, or of every account that has one; `dry_run`
    /// only plans. The account's admins run their own; every account is for site admins
    /// and the operator. Audited per account when something went.
    pub async fn run_retention(
        &self,
        caller: &Caller,
        account: Option<&AccountName>,
        dry_run: bool,
    ) -> Result<RetentionReport> {
        let rows = match account {
            Some(name) => {
                let (a, _) = self.administered(caller, name).await?;
                self.db.retention_policies(Some(a.id)).await?
            }
            None => {
                self.decide(caller, Permission::Administer, Resource::Site)
                    .await?;
                self.db.retention_policies(None).await?
            }
        };
        let mut by_account: HashMap<i64, Vec<StoredRetention>> = HashMap::new();
        for row in rows {
            let id = row.account_id;
            if let Some(p) = stored(row) {
                by_account.entry(id).or_default().push(p);
            }
        }
        let mut ids: Vec<i64> = by_account.keys().copied().collect();
        ids.sort_unstable();
        let mut total = RetentionReport::default();
        for id in ids {
            let Some(a) = self.db.account_by_id(id).await? else {
                continue;
            };
            let mut report = RetentionReport::default();
            // One repository that fails is skipped (and logged), not every one after it.
            for repo in self.db.account_repositories(a.id).await? {
                let Some(applying) = policy_for(&by_account[&id], &repo) else {
                    continue;
                };
                let plan = match self.plan_repository(&a, &repo, &applying.policy).await {
                    Ok(plan) => plan,
                    Err(e) => {
                        tracing::warn!(repository = %repo.name, error = ?e, "retention skipped a repository");
                        continue;
                    }
                };
                report.add(if dry_run {
                    plan
                } else {
                    self.apply(&repo, plan).await
                });
            }
            if !dry_run && (report.tags > 0 || report.manifests > 0) {
                self.audit(
                    Some(a.id),
                    RETENTION_ACTOR,
                    "retention.run",
                    None,
                    Some(format!(
                        "moved {}, {} ({}) to the trash",
                        app::model::count(report.tags, "tag"),
                        app::model::count(report.manifests, "untagged image"),
                        app::model::count(report.bytes, "byte")
                    )),
                )
                .await;
                let mut facts = super::webhooks::EventFacts::new(
                    crate::domain::EventKind::Retention,
                    a.id,
                    RETENTION_ACTOR,
                );
                facts.account = Some(&a.name);
                facts.size = Some(report.bytes);
                facts.extra = Some(serde_json::json!({
                    "tags": report.tags,
                    "manifests": report.manifests,
                    "bytes": report.bytes,
                }));
                self.raise_events(vec![facts.event(now_ms())]).await;
            }
            total.add(report);
        }
        if !dry_run {
            tracing::info!(
                tags = total.tags,
                manifests = total.manifests,
                bytes = total.bytes,
                "retention"
            );
        }
        Ok(total)
    }

    /// What the policy removes from one repository now.
    async fn plan_repository(
        &self,
        account: &Account,
        repo: &Repository,
        policy: &RetentionPolicy,
    ) -> Result<RetentionReport> {
        let name =
            RepositoryName::parse(&repo.name).map_err(|_| Error::NotFound(Thing::Repository))?;
        let frozen = self.immutability_patterns(account.id, &name).await?;
        let facts = self.db.repository_facts(repo.id).await?;
        Ok(plan(&repo.name, &facts, policy, &frozen, now_ms()))
    }

    /// Moves what a plan names to the trash, each in its own transaction that checks
    /// it is still as planned (a tag pushed again since stays). Counts what went; one
    /// that fails (a conflict with a concurrent writer) is skipped until the next run.
    async fn apply(&self, repo: &Repository, plan: RetentionReport) -> RetentionReport {
        let deletion = self.deletion(RETENTION_ACTOR, &[]);
        let mut done = RetentionReport::default();
        for r in plan.removed {
            let gone = match r.what {
                Target::Tag {
                    manifest_id,
                    pushed_at,
                } => {
                    let tag = r.tag.as_deref().unwrap_or_default();
                    self.db
                        .trash_tag(
                            repo,
                            tag,
                            r.bytes as i64,
                            &deletion,
                            Some((manifest_id, pushed_at)),
                        )
                        .await
                }
                Target::Manifest { id, cutoff } => {
                    self.db
                        .trash_manifest(repo, id, cutoff, r.bytes as i64, &deletion)
                        .await
                }
            };
            match gone {
                Ok(true) => done.push(r),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(repository = %repo.name, digest = %r.digest, error = ?e, "retention skipped an item")
                }
            }
        }
        done
    }

    /// The scheduled run, beside garbage collection and under its lease.
    pub(super) async fn run_retention_scheduled(&self) {
        if let Err(e) = self.run_retention(&Caller::Operator, None, false).await {
            tracing::error!(error = ?e, "retention failed");
        }
    }
}

impl RetentionReport {
    fn push(&mut self, r: Removal) {
        match r.tag {
            Some(_) => self.tags += 1,
            None => self.manifests += 1,
        }
        self.bytes += r.bytes;
        self.removed.push(r);
    }

    fn add(&mut self, other: RetentionReport) {
        for r in other.removed {
            self.push(r);
        }
    }
}

/// A policy row as the domain reads it; `None` (and logged) for one a later version
/// could not read.
fn stored(row: RetentionRow) -> Option<StoredRetention> {
    let pattern = |p: &Option<String>| p.as_deref().map(TagPattern::parse).transpose();
    let (Ok(tag), Ok(exclude)) = (pattern(&row.tag_pattern), pattern(&row.exclude_pattern)) else {
        tracing::error!(policy = row.id, "unreadable retention policy skipped");
        return None;
    };
    let secs = |s: Option<i64>| s.map(|s| Duration::from_secs(s.max(0) as u64));
    Some(StoredRetention {
        repository: (!row.repository.is_empty()).then_some(row.repository),
        policy: RetentionPolicy {
            keep_last: row.keep_last.map(|n| n.max(0) as u32),
            keep_within: secs(row.keep_within),
            tag,
            exclude,
            untagged_older_than: secs(row.untagged_older_than),
        },
        updated_by: row.updated_by,
        updated_at: row.updated_at,
    })
}

/// The repository's own policy, else its account's.
fn policy_for<'a>(
    policies: &'a [StoredRetention],
    repo: &Repository,
) -> Option<&'a StoredRetention> {
    let within = name_within(repo);
    policies
        .iter()
        .find(|p| p.repository.as_deref() == Some(within))
        .or_else(|| policies.iter().find(|p| p.repository.is_none()))
}

fn name_within(repo: &Repository) -> &str {
    repo.name.split_once('/').map_or("", |(_, rest)| rest)
}

fn scope(within: &str) -> String {
    if within.is_empty() {
        "every repository".to_owned()
    } else {
        within.to_owned()
    }
}

/// What a manifest lists: its blobs with their sizes, and the manifests it points at.
fn descriptors(content: &[u8]) -> (Vec<(String, u64)>, Vec<String>) {
    let v: serde_json::Value = serde_json::from_slice(content).unwrap_or_default();
    let desc = |d: &serde_json::Value| {
        Some((
            d["digest"].as_str()?.to_owned(),
            d["size"].as_u64().unwrap_or(0),
        ))
    };
    let mut blobs: Vec<(String, u64)> = v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(desc)
        .collect();
    blobs.extend(desc(&v["config"]));
    let children = v["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["digest"].as_str().map(str::to_owned))
        .collect();
    (blobs, children)
}

/// The plan for one repository: its doomed tags, then its expired untagged images,
/// each with the bytes that leave with it.
fn plan(
    repository: &str,
    facts: &RepositoryFacts,
    policy: &RetentionPolicy,
    frozen: &[TagPattern],
    now: i64,
) -> RetentionReport {
    let by_digest: HashMap<&str, i64> = facts
        .manifests
        .iter()
        .map(|(id, m)| (m.digest.as_str(), *id))
        .collect();
    let tag_facts: Vec<TagFacts> = facts
        .tags
        .iter()
        .map(|(name, manifest_id, pushed_at)| TagFacts {
            name: name.clone(),
            pushed_at: *pushed_at,
            pulled_at: facts.manifests.get(manifest_id).and_then(|m| m.pulled_at),
            immutable: frozen.iter().any(|p| p.matches(name)),
            referrer: crate::domain::retention::tagged_subject(name)
                .is_some_and(|d| by_digest.contains_key(d.as_str())),
        })
        .collect();
    let doomed_tags: HashSet<usize> = policy.doomed(&tag_facts, now).into_iter().collect();
    let kept_tagged: HashSet<i64> = facts
        .tags
        .iter()
        .enumerate()
        .filter(|(i, _)| !doomed_tags.contains(i))
        .map(|(_, t)| t.1)
        .collect();
    let tagged: HashSet<i64> = facts.tags.iter().map(|t| t.1).collect();
    let cutoff = policy
        .untagged_older_than
        .map_or(i64::MIN, |d| now.saturating_sub(d.as_millis() as i64));
    // Untagged images that go: not listed by an index, not a referrer (those follow
    // their subject), not already in the trash, older than the period.
    let mut doomed_untagged: Vec<(&i64, &crate::db::ManifestFacts)> = facts
        .manifests
        .iter()
        .filter(|(id, m)| {
            !tagged.contains(id)
                && m.subject.is_none()
                && !facts.listed.contains(&m.digest)
                && !facts.trashed.contains(&m.digest)
                && policy.untagged_expired(m.created_at, now)
        })
        .collect();
    doomed_untagged.sort_by_key(|(id, _)| **id);
    let doomed_ids: HashSet<i64> = facts
        .tags
        .iter()
        .enumerate()
        .filter(|(i, t)| doomed_tags.contains(i) && !kept_tagged.contains(&t.1))
        .map(|(_, t)| t.1)
        .chain(doomed_untagged.iter().map(|(id, _)| **id))
        .collect();
    // Blobs of what stays: every manifest that is not doomed and is not only an
    // index's platform (a platform tagged itself stays on its own), with the platforms
    // it lists.
    let closure = |root: i64| -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut work = vec![root];
        while let Some(id) = work.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(m) = facts.manifests.get(&id) else {
                continue;
            };
            let (blobs, children) = descriptors(&m.content);
            out.extend(blobs);
            work.extend(
                children
                    .iter()
                    .filter_map(|c| by_digest.get(c.as_str()).copied()),
            );
        }
        out
    };
    let mut staying: HashSet<String> = HashSet::new();
    for (id, m) in &facts.manifests {
        if !doomed_ids.contains(id)
            && (!facts.listed.contains(&m.digest) || kept_tagged.contains(id))
        {
            staying.extend(closure(*id).into_iter().map(|(d, _)| d));
        }
    }
    let mut counted: HashSet<String> = staying;
    let mut bytes_of = |id: i64| -> u64 {
        closure(id)
            .into_iter()
            .filter(|(d, _)| counted.insert(d.clone()))
            .map(|(_, s)| s)
            .sum()
    };
    let mut report = RetentionReport::default();
    // Oldest push first, so every listing of a plan reads alike.
    let mut order: Vec<usize> = doomed_tags.into_iter().collect();
    order.sort_by(|&a, &b| {
        let (ta, tb) = (&facts.tags[a], &facts.tags[b]);
        ta.2.cmp(&tb.2).then_with(|| ta.0.cmp(&tb.0))
    });
    for i in order {
        let (name, manifest_id, pushed_at) = &facts.tags[i];
        let Some(m) = facts.manifests.get(manifest_id) else {
            continue;
        };
        let bytes = if doomed_ids.contains(manifest_id) {
            bytes_of(*manifest_id)
        } else {
            0
        };
        report.push(Removal {
            repository: repository.to_owned(),
            tag: Some(name.clone()),
            digest: m.digest.clone(),
            pushed_at: *pushed_at,
            pulled_at: m.pulled_at,
            bytes,
            what: Target::Tag {
                manifest_id: *manifest_id,
                pushed_at: *pushed_at,
            },
        });
    }
    for (id, m) in doomed_untagged {
        report.push(Removal {
            repository: repository.to_owned(),
            tag: None,
            digest: m.digest.clone(),
            pushed_at: m.created_at,
            pulled_at: m.pulled_at,
            bytes: bytes_of(*id),
            what: Target::Manifest { id: *id, cutoff },
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ManifestFacts;

    const DAY: i64 = 86_400_000;

    fn image(
        digest: &str,
        layers: &[(&str, u64)],
        subject: Option<&str>,
        created: i64,
    ) -> ManifestFacts {
        let layers: Vec<serde_json::Value> = layers
            .iter()
            .map(|(d, s)| serde_json::json!({"digest": d, "size": s}))
            .collect();
        ManifestFacts {
            digest: digest.into(),
            subject: subject.map(Into::into),
            created_at: created,
            pulled_at: None,
            content: serde_json::to_vec(&serde_json::json!({
                "config": {"digest": format!("cfg-{digest}"), "size": 1},
                "layers": layers,
            }))
            .unwrap(),
        }
    }

    /// Old tags go with their own layers' bytes, shared layers stay uncounted, the
    /// signature of a removed image stays, an immutable tag stays, and an old untagged
    /// image goes while the referrer beside it does not.
    #[test]
    fn a_plan_counts_only_the_bytes_that_leave_and_spares_referrers() {
        let now = 100 * DAY;
        let facts = RepositoryFacts {
            tags: vec![
                ("v1".into(), 1, now - 50 * DAY),
                ("v2".into(), 2, now - 40 * DAY),
                ("v3".into(), 3, now - DAY),
                ("release".into(), 1, now - 60 * DAY),
            ],
            manifests: [
                (
                    1,
                    image("m1", &[("base", 100), ("one", 10)], None, now - 50 * DAY),
                ),
                (
                    2,
                    image("m2", &[("base", 100), ("two", 20)], None, now - 40 * DAY),
                ),
                (
                    3,
                    image("m3", &[("base", 100), ("three", 30)], None, now - DAY),
                ),
                (
                    4,
                    image("sig2", &[("sigblob", 5)], Some("m2"), now - 40 * DAY),
                ),
                (5, image("orphan", &[("lone", 7)], None, now - 30 * DAY)),
            ]
            .into(),
            listed: HashSet::new(),
            trashed: HashSet::new(),
        };
        let policy = RetentionPolicy {
            keep_last: Some(1),
            untagged_older_than: Some(Duration::from_secs(7 * 86_400)),
            ..Default::default()
        };
        let frozen = [TagPattern::parse("release").unwrap()];
        let report = plan("acme/app", &facts, &policy, &frozen, now);
        let gone: Vec<(Option<&str>, &str, u64)> = report
            .removed
            .iter()
            .map(|r| (r.tag.as_deref(), r.digest.as_str(), r.bytes))
            .collect();
        // v1's image stays through the immutable release tag: the tag goes, no bytes.
        assert_eq!(
            gone,
            vec![
                (Some("v1"), "m1", 0),
                (Some("v2"), "m2", 20 + 1),
                (None, "orphan", 7 + 1),
            ]
        );
        assert_eq!((report.tags, report.manifests, report.bytes), (2, 1, 29));
    }
}
