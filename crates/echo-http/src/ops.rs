//! The operations endpoints every service serves: `/healthz` (the process is alive), `/readyz` (its
//! database, bus and storage answer) and `/metrics` (Prometheus text, with gauges of pool use and
//! bus lag read fresh at each scrape).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value, json};

/// One dependency check: resolves to `Err(reason)` when the dependency does not answer.
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Sets gauges from a dependency's current state (a pool's connections, a bus's lag).
pub type Sampler = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// The named checks `/readyz` runs, each bounded by a time-out, and the samplers `/metrics` runs
/// before it answers.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<(&'static str, Probe)>,
    samplers: Vec<Sampler>,
}

impl Readiness {
    pub fn with(mut self, name: &'static str, probe: Probe) -> Self {
        self.probes.push((name, probe));
        self
    }

    pub fn sampled(mut self, sampler: Sampler) -> Self {
        self.samplers.push(sampler);
        self
    }

    /// Joins two sets of checks (the gateway reports those of the services it embeds).
    pub fn merge(mut self, other: Readiness) -> Self {
        self.probes.extend(other.probes);
        self.samplers.extend(other.samplers);
        self
    }

    /// Runs every sampler, each bounded by a time-out (a slow one leaves its gauges as they were).
    async fn sample(&self) {
        futures::future::join_all(
            self.samplers
                .iter()
                .map(|sampler| tokio::time::timeout(Duration::from_secs(2), sampler())),
        )
        .await;
    }

    /// Runs every check concurrently; true when all pass.
    pub async fn check(&self) -> (bool, Value) {
        let results = futures::future::join_all(self.probes.iter().map(|(name, probe)| async move {
            let outcome = match tokio::time::timeout(Duration::from_secs(2), probe()).await {
                Ok(result) => result,
                Err(_) => Err("timed out".to_owned()),
            };
            (*name, outcome)
        }))
        .await;
        let ready = results.iter().all(|(_, r)| r.is_ok());
        let checks: Map<String, Value> = results
            .into_iter()
            .map(|(name, r)| {
                (
                    name.to_owned(),
                    r.map_or_else(
                        |e| json!({"status": "down", "error": e}),
                        |()| json!({"status": "up"}),
                    ),
                )
            })
            .collect();
        (
            ready,
            json!({"status": if ready { "ready" } else { "not_ready" }, "checks": checks}),
        )
    }
}

/// The process-wide Prometheus recorder. The `metrics` facade is global by design, so it is installed
/// once however many services run in this process.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; ours still renders, just empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// `/healthz`, `/readyz` and `/metrics`, for any router state.
pub fn router<S: Clone + Send + Sync + 'static>(readiness: Readiness) -> Router<S> {
    let handle = metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { axum::Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(move |State(readiness): State<Readiness>| async move {
                readiness.sample().await;
                handle.render()
            }),
        )
        .with_state(readiness)
}

async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let (ready, body) = readiness.check().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}
