//! Online garbage collection: reclaims manifests, blob links and blobs that nothing
//! reachable references (tags, the trash, index children, referrers' subjects), and
//! expired upload sessions and trash entries, while pushes and pulls go on. Marking
//! reads; each deletion is its own short transaction that re-checks (see `db::gc`).

use super::{Result, Services, now_ms};
use crate::domain::Digest;
use crate::storage::StoredBlob;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long things live, from `berth serve` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// How long deleted tags and repositories stay restorable; zero: no trash.
    pub trash_retention: Duration,
    /// Blobs and manifests younger than this are never collected: a push in progress
    /// uploads its blobs before the manifest that references them.
    pub grace: Duration,
    /// Upload sessions older than this are abandoned.
    pub upload_expiry: Duration,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            trash_retention: Duration::from_secs(7 * 86_400),
            grace: Duration::from_secs(3600),
            upload_expiry: Duration::from_secs(86_400),
        }
    }
}

/// What one run freed (or, in a dry run, would free).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    pub manifests: u64,
    pub links: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub uploads: u64,
    pub trash_entries: u64,
    /// Stored files or objects no row records (their bytes are in `bytes`).
    pub orphans: u64,
}

impl std::fmt::Display for GcReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use app::model::count;
        write!(
            f,
            "{} {}, {}, {} ({}), {}, {}, {}",
            if self.dry_run { "would free" } else { "freed" },
            count(self.manifests, "manifest"),
            count(self.links, "blob link"),
            count(self.blobs, "blob"),
            count(self.bytes, "byte"),
            count(self.uploads, "abandoned upload"),
            count(self.trash_entries, "expired trash entry"),
            count(self.orphans, "orphaned file")
        )
    }
}

/// How long a process's claim on a scheduled run lasts: longer than a run takes, and
/// short enough that one that died mid-run holds the others up only a while.
const SCHEDULED_LEASE: Duration = Duration::from_secs(600);

impl Services {
    /// A scheduled run, unless another process on the database is running one (it
    /// holds the `gc` lease): replicas take turns instead of doing the same work at
    /// once. `None` when skipped. (Runs are safe side by side, each deletion
    /// re-checking in its own transaction; this only spares the work.)
    pub async fn collect_garbage_scheduled(&self) -> Result<Option<GcReport>> {
        let holder = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let until = now + SCHEDULED_LEASE.as_millis() as i64;
        if !self.db.take_site_lease("gc", &holder, now, until).await? {
            tracing::debug!("garbage collection skipped: another process is running it");
            return Ok(None);
        }
        // Retention first, so what it moves to the trash is counted by this run; the
        // server's own schedule acts for the operator who started it.
        self.run_retention_scheduled().await;
        let report = self
            .collect_garbage(&super::access::Caller::Operator, false)
            .await;
        if let Err(e) = self.db.release_site_lease("gc", &holder).await {
            tracing::warn!(error = %e, "could not end the garbage collection lease");
        }
        report.map(Some)
    }

    /// One garbage collection run, for site admins and the operator; `dry_run` only
    /// counts. The run is recorded in the audit log.
    pub async fn collect_garbage(
        &self,
        caller: &super::access::Caller,
        dry_run: bool,
    ) -> Result<GcReport> {
        self.decide(
            caller,
            super::access::Permission::Administer,
            super::access::Resource::Site,
        )
        .await?;
        let _running = self.gc_running.lock().await;
        let now = now_ms();
        let cutoff = now - self.lifecycle.grace.as_millis() as i64;
        let mut report = GcReport {
            dry_run,
            ..Default::default()
        };
        if !dry_run {
            report.trash_entries = self.db.purge_trash(None, now).await?;
            report.uploads = self.expire_uploads(now).await?;
            self.expire_refresh_grants(now).await?;
            let stale = now - super::limiter::FORGET_AFTER.as_millis() as i64;
            self.db.forget_stale_login_failures(stale).await?;
        }
        // A dry run deletes nothing, so later phases count what earlier ones would free.
        // A real run passes over the manifests until one frees nothing: a child goes
        // only once no index lists it, so a chain of indexes takes a pass per level.
        let mut would_go = HashSet::new();
        loop {
            let doomed = unreachable_manifests(&self.db.gc_graph().await?, cutoff);
            let mut freed = 0;
            for id in &doomed {
                if dry_run || settled(self.db.gc_delete_manifest(*id, cutoff).await) {
                    freed += 1;
                }
            }
            report.manifests += freed;
            if dry_run {
                would_go.extend(doomed);
                break;
            }
            if freed == 0 {
                break;
            }
        }
        let links = self.db.gc_link_candidates(cutoff, &would_go).await?;
        let mut unlinked = Vec::new();
        for link in links {
            if dry_run || settled(self.db.gc_delete_link(&link, cutoff).await) {
                report.links += 1;
                if dry_run {
                    unlinked.push(link);
                }
            }
        }
        for (digest, size) in self
            .db
            .gc_blob_candidates(cutoff, &unlinked, &would_go)
            .await?
        {
            let Ok(parsed) = Digest::parse(&digest) else {
                continue;
            };
            let gone = dry_run
                || match self
                    .db
                    .gc_delete_blob(&digest, cutoff, |object| async move {
                        let blob = StoredBlob {
                            digest: parsed,
                            object,
                        };
                        self.store.delete_blob(&blob).await
                    })
                    .await
                {
                    Ok(Ok(gone)) => gone,
                    Ok(Err(e)) => {
                        tracing::warn!(%digest, error = %e, "could not delete a collected blob");
                        false
                    }
                    Err(e) => settled(Err(e)),
                };
            if gone {
                report.blobs += 1;
                report.bytes += size.max(0) as u64;
            }
        }
        // Bytes no row records: the restart's own pass cannot see what a killed
        // process's last request to an object store put there after it.
        let orphans = self.remove_orphan_blobs(dry_run).await?;
        report.orphans = orphans.files;
        report.bytes += orphans.bytes;
        if !dry_run {
            self.audit(None, "berth", "gc.run", None, Some(report.to_string()))
                .await;
        }
        self.metrics.record_gc(&report);
        tracing::info!(%report, "garbage collection");
        Ok(report)
    }
}

/// Whether one deletion happened. A database error on one item (a conflict with a
/// concurrent writer, typically) skips it: the next run tries again.
fn settled(r: crate::db::DbResult<bool>) -> bool {
    r.unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "garbage collection skipped an item");
        false
    })
}

/// Manifests older than `cutoff` that no tag, trashed tag, reachable index or
/// reachable subject keeps.
fn unreachable_manifests(g: &crate::db::GcGraph, cutoff: i64) -> Vec<i64> {
    let by_digest: HashMap<(i64, &str), i64> = g
        .manifests
        .iter()
        .map(|m| ((m.repository_id, m.digest.as_str()), m.id))
        .collect();
    let mut referrers: HashMap<(i64, &str), Vec<i64>> = HashMap::new();
    for m in &g.manifests {
        if let Some(s) = &m.subject {
            referrers
                .entry((m.repository_id, s.as_str()))
                .or_default()
                .push(m.id);
        }
    }
    let nodes: HashMap<i64, &crate::db::ManifestNode> =
        g.manifests.iter().map(|m| (m.id, m)).collect();
    let mut reachable: HashSet<i64> = HashSet::new();
    let mut work: Vec<i64> = g
        .manifests
        .iter()
        .filter(|m| {
            g.tagged.contains(&m.id)
                || g.trashed.contains(&(m.repository_id, m.digest.clone()))
                || m.created_at >= cutoff
        })
        .map(|m| m.id)
        .collect();
    while let Some(id) = work.pop() {
        if !reachable.insert(id) {
            continue;
        }
        let Some(m) = nodes.get(&id) else { continue };
        for child in g.children.get(&id).into_iter().flatten() {
            if let Some(c) = by_digest.get(&(m.repository_id, child.as_str())) {
                work.push(*c);
            }
        }
        for r in referrers
            .get(&(m.repository_id, m.digest.as_str()))
            .into_iter()
            .flatten()
        {
            work.push(*r);
        }
    }
    g.manifests
        .iter()
        .filter(|m| !reachable.contains(&m.id))
        .map(|m| m.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::unreachable_manifests;
    use crate::db::{GcGraph, ManifestNode};

    fn node(id: i64, digest: &str, subject: Option<&str>, created_at: i64) -> ManifestNode {
        ManifestNode {
            id,
            repository_id: 1,
            digest: digest.into(),
            subject: subject.map(Into::into),
            created_at,
        }
    }

    #[test]
    fn tags_trash_indexes_referrers_and_youth_keep_manifests() {
        let g = GcGraph {
            manifests: vec![
                node(1, "index", None, 0),
                node(2, "child", None, 0),
                node(3, "signature-of-child", Some("child"), 0),
                node(4, "orphan", None, 0),
                node(5, "signature-of-orphan", Some("orphan"), 0),
                node(6, "in-trash", None, 0),
                node(7, "just-pushed", None, 100),
            ],
            tagged: [1].into(),
            trashed: [(1, "in-trash".to_string())].into(),
            children: [(1, vec!["child".to_string()])].into(),
        };
        let mut doomed = unreachable_manifests(&g, 50);
        doomed.sort();
        assert_eq!(doomed, vec![4, 5]);
    }
}
