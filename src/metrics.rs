//! Prometheus metrics, served at `/metrics`: requests and their latency by
//! route, the provisioning queue, reconciliation outcomes by error kind and
//! billing-run durations. Counters live in the process; the queue gauges are
//! read from the database at scrape time, so every replica reports the
//! shared queue the same way.

use std::sync::OnceLock;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/v1/bookings/{id}`), never the raw path:
    /// ids would make a series per object.
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
    kind: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    reconciles: Family<OutcomeLabels, Counter>,
    billing_runs: Histogram,
    job_runs: Family<JobLabels, Counter>,
    queue_pending: Gauge,
    queue_failing: Gauge,
    deliveries: Family<DeliveryLabels, Counter>,
    notify_pending: Gauge,
    notify_failing: Gauge,
}

fn latency_buckets() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("kontor");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let latency: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_buckets as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            latency.clone(),
        );
        let reconciles = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciliations by outcome (ok, error) and error kind",
            reconciles.clone(),
        );
        let billing_runs = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "billing_run_duration_seconds",
            "Duration of the job that closes finished billing months",
            billing_runs.clone(),
        );
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register(
            "job_runs",
            "Scheduled job runs by this replica (each slot runs on one replica only)",
            job_runs.clone(),
        );
        let queue_pending = Gauge::default();
        registry.register(
            "provisioning_queue_pending",
            "Environments waiting for the reconciler (all replicas)",
            queue_pending.clone(),
        );
        let queue_failing = Gauge::default();
        registry.register(
            "provisioning_queue_failing",
            "Of those, the ones whose last attempt failed",
            queue_failing.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "notification_attempts",
            "Delivery attempts of notifications by channel and outcome (zugestellt, fehler, abgelehnt)",
            deliveries.clone(),
        );
        let notify_pending = Gauge::default();
        registry.register(
            "notification_queue_pending",
            "Notification deliveries not sent yet (all replicas)",
            notify_pending.clone(),
        );
        let notify_failing = Gauge::default();
        registry.register(
            "notification_queue_failing",
            "Of those, the ones whose last attempt failed",
            notify_failing.clone(),
        );
        Metrics {
            registry,
            deliveries,
            notify_pending,
            notify_failing,
            requests,
            latency,
            reconciles,
            billing_runs,
            job_runs,
            queue_pending,
            queue_failing,
        }
    })
}

/// One answered HTTP request.
pub fn request(method: &str, route: &str, status: u16, seconds: f64) {
    let m = metrics();
    m.requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.to_string(),
        })
        .inc();
    m.latency
        .get_or_create(&RouteLabels {
            method: method.to_owned(),
            route: route.to_owned(),
        })
        .observe(seconds);
}

/// One reconciliation: `kind` is the error kind, empty when it worked.
pub fn reconciled(kind: Option<&str>) {
    metrics()
        .reconciles
        .get_or_create(&OutcomeLabels {
            outcome: if kind.is_some() { "error" } else { "ok" }.into(),
            kind: kind.unwrap_or("").into(),
        })
        .inc();
}

/// One run of a scheduled job on this replica.
pub fn job_run(job: &str) {
    metrics()
        .job_runs
        .get_or_create(&JobLabels {
            job: job.to_owned(),
        })
        .inc();
}

/// One attempt to deliver a notification.
pub fn notification(channel: &str, outcome: &str) {
    metrics()
        .deliveries
        .get_or_create(&DeliveryLabels {
            channel: channel.to_owned(),
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// One run of the billing-close job.
pub fn billing_run(seconds: f64) {
    metrics().billing_runs.observe(seconds);
}

/// The text exposition, with the queue read from the database now.
pub async fn render(db: &crate::db::Db) -> String {
    let m = metrics();
    if let Ok(depth) = crate::db::outbox::depth(&db.pool).await {
        m.queue_pending.set(depth.pending);
        m.queue_failing.set(depth.failing);
    }
    if let Ok(counts) = crate::db::notifications::counts(&db.pool).await {
        m.notify_pending.set(counts.pending);
        m.notify_failing.set(counts.failing);
    }
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &m.registry);
    text
}

/// Axum middleware (as a route layer, so the route template is known).
pub async fn track(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    self::request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
