//! ai-service: embeddings and a vector index of the messages people can read, summaries, the
//! assistant, insights and recommendations, all fed from the event bus into its own store.
//!
//! This crate currently provides the service frame — its database (SQLite or PostgreSQL by URL),
//! operations routes and `GET /api/v1/ai/status` — that the AI features are built into.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use echo_auth::{Caller, HasVerifier, Verifier};
use echo_db::{Db, Migrations};
use echo_http::ops::Readiness;
use echo_http::{ErrorBody, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub static MIGRATIONS: Migrations =
    Migrations { sqlite: &sqlx::migrate!("./migrations/sqlite"), postgres: &sqlx::migrate!("./migrations/postgres") };

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Self { database_url: "sqlite://data/ai.db".into() }
    }
}

pub struct Deps {
    pub verifier: Arc<Verifier>,
    pub bus: Arc<dyn echo_events::EventBus>,
    pub shutdown: tokio_util::sync::CancellationToken,
}

#[derive(Clone)]
pub struct AppState {
    verifier: Arc<Verifier>,
}

impl HasVerifier for AppState {
    fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }
}

pub struct AiService {
    state: AppState,
    db: Db,
}

impl AiService {
    pub async fn build(config: Config, deps: Deps) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url, &MIGRATIONS, Default::default()).await.context("opening the AI store")?;
        let _ = (deps.bus, deps.shutdown);
        Ok(Self { state: AppState { verifier: deps.verifier }, db })
    }

    pub fn router(&self) -> (Router, OpenApi) {
        let (router, openapi) = routes().split_for_parts();
        (router.with_state(self.state.clone()), openapi)
    }

    pub fn readiness(&self) -> Readiness {
        Readiness::default().with("ai_db", self.db.probe())
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// The service's API description.
pub fn openapi() -> OpenApi {
    routes().split_for_parts().1
}

/// What the AI features run on and how far indexing has got.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// The embedding model in use; `lexical` when no model is loaded.
    pub embedder: String,
    /// The configured LLM endpoint's model, if any.
    pub llm: Option<String>,
    pub indexed_messages: u64,
    /// Events published but not yet indexed.
    pub lag: u64,
}

#[utoipa::path(get, path = "/api/v1/ai/status", tag = "ai", security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 401, body = ErrorBody)))]
async fn status(State(_state): State<AppState>, _caller: Caller) -> Json<Status> {
    Json(Status { embedder: "lexical".into(), llm: None, indexed_messages: 0, lag: 0 })
}
