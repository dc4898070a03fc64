//! `/metrics` in the Prometheus text format: appends and events, events per commit, the commit
//! latency, HTTP requests by route and status, Server-Sent Event subscribers, the
//! projections' lag behind the log, the age of their newest snapshot and whether appends are
//! stopped.

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The server's metrics, registered once.
pub struct Metrics {
    registry: Registry,
    /// Batches committed (each one request's atomic batch).
    pub appends: IntCounter,
    /// Events stored (repeats not counted).
    pub events: IntCounter,
    /// Events stored per group commit.
    pub events_per_commit: Histogram,
    /// Seconds from the start of a group commit to its end (on disk).
    pub commit_seconds: Histogram,
    /// HTTP requests by route template and status.
    pub requests: IntCounterVec,
    /// Server-Sent Event streams open now.
    pub sse_subscribers: IntGauge,
    /// Log positions committed but not yet in the live projections (set at each scrape).
    pub projection_lag: IntGauge,
    /// Seconds since the newest projection snapshot was saved; -1 without one (set at each
    /// scrape).
    pub snapshot_age: Gauge,
    /// 1 while appends are stopped after a storage failure (set at each scrape).
    pub appends_stopped: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("registered once");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("registered once");
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("registered once");
            h
        };
        let requests = IntCounterVec::new(
            Opts::new(
                "rongtook_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        Metrics {
            appends: counter("rongtook_appends_total", "Batches committed"),
            events: counter(
                "rongtook_events_total",
                "Events stored (repeats not counted)",
            ),
            events_per_commit: histogram(
                "rongtook_events_per_commit",
                "Events stored per group commit",
                vec![1.0, 2.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 10000.0],
            ),
            commit_seconds: histogram(
                "rongtook_commit_seconds",
                "Seconds a group commit takes, until it is on disk",
                prometheus::exponential_buckets(0.0005, 2.0, 14).expect("valid buckets"),
            ),
            requests,
            sse_subscribers: gauge(
                "rongtook_sse_subscribers",
                "Server-Sent Event streams open now",
            ),
            projection_lag: gauge(
                "rongtook_projection_lag_positions",
                "Committed log positions not yet in the live projections",
            ),
            appends_stopped: gauge(
                "rongtook_appends_stopped",
                "1 while appends are stopped after a storage failure, until a restart",
            ),
            snapshot_age: {
                let g = Gauge::new(
                    "rongtook_snapshot_age_seconds",
                    "Seconds since the newest projection snapshot was saved (-1: none)",
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("registered once");
                g
            },
            registry,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding never fails");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// Counts an open Server-Sent Event stream for as long as it lives.
pub struct Subscriber(IntGauge);

impl Subscriber {
    pub fn new(gauge: &IntGauge) -> Subscriber {
        gauge.inc();
        Subscriber(gauge.clone())
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.0.dec();
    }
}
