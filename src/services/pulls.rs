//! When manifests were last pulled. A pull must not cost a database write, so pulls
//! are remembered in memory and written in one transaction every few seconds (and at
//! shutdown); readers merge what is not written yet.

use super::{Result, Services, now_ms};
use std::collections::HashMap;
use std::sync::Mutex;

/// How often remembered pulls are written.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Pull times not yet written, by manifest id.
#[derive(Default)]
pub struct PendingPulls(Mutex<HashMap<i64, i64>>);

impl Services {
    /// Remembers that a manifest was pulled now.
    pub fn record_pull(&self, manifest_id: i64) {
        if let Ok(mut p) = self.pulls.0.lock() {
            p.insert(manifest_id, now_ms());
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
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.db.record_pulls(&batch).await {
            if let Ok(mut p) = self.pulls.0.lock() {
                for (id, at) in batch {
                    let t = p.entry(id).or_insert(at);
                    *t = (*t).max(at);
                }
            }
            return Err(e.into());
        }
        Ok(())
    }
}
