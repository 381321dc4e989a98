//! When manifests were last pulled. A pull must not cost a database write, so pulls
//! are remembered in memory and written in one transaction every few seconds (and at
//! shutdown); readers merge what is not written yet.

use super::webhooks::EventFacts;
use super::{Result, Services, now_ms};
use crate::db::Manifest;
use crate::domain::{EventKind, Reference, RepositoryName};
use std::collections::HashMap;
use std::sync::Mutex;

/// How often remembered pulls are written.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// The most pulls remembered for webhooks between two writes; beyond it (thousands of
/// pulls a second) pull events are dropped, counted in the log.
const MAX_PENDING_EVENTS: usize = 20_000;

/// Pull times not yet written, by manifest id, and the pulls webhooks may hear.
#[derive(Default)]
pub struct PendingPulls(Mutex<HashMap<i64, i64>>, Mutex<PendingEvents>);

#[derive(Default)]
struct PendingEvents {
    pulls: Vec<Pulled>,
    dropped: u64,
}

/// One pull, as a `pull` event tells it.
struct Pulled {
    repository: RepositoryName,
    tag: Option<String>,
    digest: String,
    media_type: String,
    size: u64,
    actor: String,
    at: i64,
}

impl Services {
    /// Remembers that a manifest was pulled now, by whom and by which reference.
    pub fn record_pull(
        &self,
        m: &Manifest,
        repository: &RepositoryName,
        reference: &Reference,
        actor: &str,
    ) {
        let at = now_ms();
        if let Ok(mut p) = self.pulls.0.lock() {
            p.insert(m.id, at);
        }
        if let Ok(mut e) = self.pulls.1.lock() {
            if e.pulls.len() >= MAX_PENDING_EVENTS {
                e.dropped += 1;
                return;
            }
            e.pulls.push(Pulled {
                repository: repository.clone(),
                tag: match reference {
                    Reference::Tag(t) => Some(t.to_string()),
                    Reference::Digest(_) => None,
                },
                digest: m.digest.clone(),
                media_type: m.media_type.clone(),
                size: m.content.len() as u64,
                actor: actor.to_owned(),
                at,
            });
        }
    }

    /// The latest pull of a manifest, written or not.
    pub fn last_pulled(&self, manifest_id: i64, stored: Option<i64>) -> Option<i64> {
        let pending = self
            .pulls
            .0
            .lock()
            .ok()
            .and_then(|p| p.get(&manifest_id).copied());
        pending.max(stored)
    }

    /// Writes the remembered pulls; on failure they are kept for the next try.
    pub async fn flush_pulls(&self) -> Result<()> {
        let batch: Vec<(i64, i64)> = match self.pulls.0.lock() {
            Ok(mut p) => p.drain().collect(),
            Err(_) => return Ok(()),
        };
        let (pulled, dropped) = match self.pulls.1.lock() {
            Ok(mut e) => (std::mem::take(&mut e.pulls), std::mem::take(&mut e.dropped)),
            Err(_) => (Vec::new(), 0),
        };
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "too many pulls at once: some pull webhook events were dropped"
            );
        }
        if batch.is_empty() {
            return Ok(());
        }
        let events = self.pull_events(pulled).await;
        if let Err(e) = self.db.record_pulls(&batch, &events).await {
            if let Ok(mut p) = self.pulls.0.lock() {
                for (id, at) in batch {
                    let t = p.entry(id).or_insert(at);
                    *t = (*t).max(at);
                }
            }
            return Err(e.into());
        }
        if !events.is_empty() {
            self.events_written();
        }
        Ok(())
    }

    /// The events of the pulls whose account has a webhook hearing pulls (most have
    /// none, so most pulls cost no payload).
    async fn pull_events(&self, pulled: Vec<Pulled>) -> Vec<crate::db::Event> {
        if pulled.is_empty() {
            return Vec::new();
        }
        let hearing: HashMap<String, i64> = match self.db.accounts_hearing(EventKind::Pull).await {
            Ok(h) => h.into_iter().map(|(id, name)| (name, id)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read which webhooks hear pulls");
                return Vec::new();
            }
        };
        pulled
            .iter()
            .filter_map(|p| {
                let account_id = *hearing.get(p.repository.namespace()?)?;
                let mut facts = EventFacts::new(EventKind::Pull, account_id, &p.actor);
                facts.repository = Some(&p.repository);
                facts.tag = p.tag.as_deref();
                facts.digest = Some(&p.digest);
                facts.media_type = Some(&p.media_type);
                facts.size = Some(p.size);
                Some(facts.event(p.at))
            })
            .collect()
    }
}
