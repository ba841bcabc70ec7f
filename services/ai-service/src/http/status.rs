//! `GET /api/v1/ai/status`: what the AI features run on and how far indexing has got.

use anyhow::Context;
use axum::extract::State;
use echo_auth::Caller;
use echo_http::{ApiResult, ErrorBody, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// The embedding model in use; `lexical` when no model is loaded (keyword and TF-IDF methods).
    pub embedder: String,
    /// The configured LLM endpoint's model; null when summaries and answers are extractive.
    pub llm: Option<String>,
    /// Messages searchable (embedded, or lexically indexed without a model).
    pub indexed_messages: u64,
    /// Bus events not yet processed plus messages waiting for their embedding.
    pub lag: u64,
}

#[utoipa::path(get, path = "/api/v1/ai/status", tag = "ai", security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %_caller.user_id))]
async fn status(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Status>> {
    let core = &state.core;
    let lag = core.lag().await.context("measuring the indexing lag")?;
    Ok(Json(Status {
        embedder: core.embedder_name().to_owned(),
        llm: core.llm.as_ref().map(|l| l.model().to_owned()),
        indexed_messages: core.indexed(),
        lag,
    }))
}
