//! Counters for `GET /metrics`, kept in memory with atomics: cheap enough for every
//! request.

use super::gc::GcReport;
use std::sync::atomic::{AtomicU64, Ordering};

/// Garbage collection's running totals.
#[derive(Default)]
pub struct Metrics {
    pub gc_runs: AtomicU64,
    pub gc_freed_bytes: AtomicU64,
    pub gc_freed_blobs: AtomicU64,
    pub gc_freed_manifests: AtomicU64,
}

impl Metrics {
    pub fn record_gc(&self, r: &GcReport) {
        if r.dry_run {
            return;
        }
        self.gc_runs.fetch_add(1, Ordering::Relaxed);
        self.gc_freed_bytes.fetch_add(r.bytes, Ordering::Relaxed);
        self.gc_freed_blobs.fetch_add(r.blobs, Ordering::Relaxed);
        self.gc_freed_manifests
            .fetch_add(r.manifests, Ordering::Relaxed);
    }
}
