//! Counters for `GET /metrics` (Prometheus text format), kept in memory: requests by
//! route and status, latency histograms, bytes in and out, garbage collection. Gauges
//! that the database knows (storage, uploads in progress) are read at scrape time.

use super::gc::GcReport;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub gc_runs: AtomicU64,
    pub gc_freed_bytes: AtomicU64,
    pub gc_freed_blobs: AtomicU64,
    pub gc_freed_manifests: AtomicU64,
    /// Manifests served to callers with credentials, and to anonymous ones.
    pub pulls: AtomicU64,
    pub anonymous_pulls: AtomicU64,
    /// Webhook delivery attempts answered with a 2xx, and all others.
    pub webhooks_delivered: AtomicU64,
    pub webhooks_failed: AtomicU64,
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the database says at scrape time.
pub struct Gauges {
    pub storage_bytes: u64,
    pub blobs: u64,
    pub uploads_in_progress: u64,
    pub repositories: u64,
}

impl Metrics {
    /// Counts one finished request.
    pub fn record_request(
        &self,
        route: &'static str,
        method: &str,
        status: u16,
        elapsed: Duration,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, method.to_owned(), status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
        self.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
    }

    /// Counts a manifest served, apart for anonymous callers (public pulls).
    pub fn record_pull(&self, anonymous: bool) {
        let counter = if anonymous {
            &self.anonymous_pulls
        } else {
            &self.pulls
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

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

    pub fn record_webhook(&self, ok: bool) {
        let counter = if ok {
            &self.webhooks_delivered
        } else {
            &self.webhooks_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        let _ = writeln!(
            out,
            "# HELP berth_http_requests_total HTTP requests by route, method and status.\n# TYPE berth_http_requests_total counter"
        );
        if let Ok(r) = self.requests.lock() {
            for ((route, method, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "berth_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP berth_http_request_duration_seconds Time to answer, by route.\n# TYPE berth_http_request_duration_seconds histogram"
        );
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "berth_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "berth_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nberth_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nberth_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "berth_http_received_bytes_total",
            "Request body bytes received.",
            load(&self.bytes_in),
        );
        counter(
            &mut out,
            "berth_http_sent_bytes_total",
            "Response body bytes sent.",
            load(&self.bytes_out),
        );
        counter(
            &mut out,
            "berth_gc_runs_total",
            "Garbage collection runs.",
            load(&self.gc_runs),
        );
        counter(
            &mut out,
            "berth_gc_freed_bytes_total",
            "Bytes of blobs freed by garbage collection.",
            load(&self.gc_freed_bytes),
        );
        counter(
            &mut out,
            "berth_gc_freed_blobs_total",
            "Blobs freed by garbage collection.",
            load(&self.gc_freed_blobs),
        );
        counter(
            &mut out,
            "berth_gc_freed_manifests_total",
            "Manifests freed by garbage collection.",
            load(&self.gc_freed_manifests),
        );
        let _ = writeln!(
            out,
            "# HELP berth_manifest_pulls_total Manifests served (GET), by whether the caller \
             had credentials.\n# TYPE berth_manifest_pulls_total counter\n\
             berth_manifest_pulls_total{{caller=\"authenticated\"}} {}\n\
             berth_manifest_pulls_total{{caller=\"anonymous\"}} {}",
            load(&self.pulls),
            load(&self.anonymous_pulls)
        );
        let _ = writeln!(
            out,
            "# HELP berth_webhook_attempts_total Webhook delivery attempts, by outcome.\n\
             # TYPE berth_webhook_attempts_total counter\n\
             berth_webhook_attempts_total{{outcome=\"delivered\"}} {}\n\
             berth_webhook_attempts_total{{outcome=\"failed\"}} {}",
            load(&self.webhooks_delivered),
            load(&self.webhooks_failed)
        );
        gauge(
            &mut out,
            "berth_storage_bytes",
            "Bytes of all stored blobs.",
            g.storage_bytes,
        );
        gauge(&mut out, "berth_blobs", "Stored blobs.", g.blobs);
        gauge(
            &mut out,
            "berth_repositories",
            "Repositories.",
            g.repositories,
        );
        gauge(
            &mut out,
            "berth_uploads_in_progress",
            "Upload sessions not finished yet.",
            g.uploads_in_progress,
        );
        out
    }
}

/// The route family of a path, for metric labels (few and fixed, never a name).
pub fn route_of(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    if let Some(rest) = path.strip_prefix("/v2/") {
        if rest.is_empty() {
            "registry.base"
        } else if rest == "_catalog" {
            "registry.catalog"
        } else if rest.contains("/blobs/uploads") {
            "registry.upload"
        } else if rest.contains("/blobs/") {
            "registry.blob"
        } else if rest.contains("/manifests/") {
            "registry.manifest"
        } else if rest.ends_with("/tags/list") {
            "registry.tags"
        } else if rest.contains("/referrers/") {
            "registry.referrers"
        } else {
            "registry.other"
        }
    } else if path.starts_with("/auth/token") {
        "token"
    } else if path.starts_with("/v1/search") {
        "registry.search"
    } else if path.starts_with("/api/") {
        if method == "GET" {
            "portal.api.read"
        } else {
            "portal.api"
        }
    } else if path.starts_with("/events/") {
        "portal.events"
    } else if path.starts_with("/pkg/") || path == "/favicon.svg" {
        "portal.assets"
    } else if path == "/healthz" {
        "healthz"
    } else if path == "/metrics" {
        "metrics"
    } else {
        "portal.page"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_few_families_never_names() {
        assert_eq!(
            route_of("PATCH", "/v2/acme/app/blobs/uploads/abc"),
            "registry.upload"
        );
        assert_eq!(
            route_of("GET", "/v2/acme/a/b/blobs/sha256:00"),
            "registry.blob"
        );
        assert_eq!(
            route_of("GET", "/v2/acme/app/manifests/1.0"),
            "registry.manifest"
        );
        assert_eq!(
            route_of("GET", "/v2/acme/app/tags/list?n=10"),
            "registry.tags"
        );
        assert_eq!(route_of("GET", "/a/acme"), "portal.page");
    }

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record_request(
            "registry.blob",
            "GET",
            200,
            Duration::from_millis(3),
            0,
            1000,
        );
        let text = m.render(&Gauges {
            storage_bytes: 5,
            blobs: 1,
            uploads_in_progress: 0,
            repositories: 1,
        });
        assert!(text.contains(
            "berth_http_requests_total{route=\"registry.blob\",method=\"GET\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "berth_http_request_duration_seconds_bucket{route=\"registry.blob\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "berth_http_request_duration_seconds_bucket{route=\"registry.blob\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains("berth_http_sent_bytes_total 1000"));
        assert!(text.contains("berth_storage_bytes 5"));
    }
}
