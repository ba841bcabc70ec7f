//! `GET /api/v1/ai/search`: hybrid (keyword + semantic) search over what the caller can read.

use axum::extract::State;
use echo_auth::Caller;
use echo_http::{ApiError, ApiResult, ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::search::{self, Mode};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_messages))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    pub workspace_id: Uuid,
    /// The query, in plain words.
    pub q: String,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `hybrid` (default), `semantic` or `keyword` (to compare the legs).
    #[param(inline)]
    pub mode: Option<Mode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SemanticSearchResults {
    pub results: Vec<SemanticSearchResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SemanticSearchResult {
    pub message: MessageView,
    pub channel_id: Uuid,
    /// Higher is better: reciprocal-rank-fusion score (hybrid), cosine (semantic) or BM25 (keyword).
    pub score: f32,
}

/// The message as ai-service knows it (the fields it projects).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub thread_root_id: Option<Uuid>,
    pub created_at: String,
    pub deleted: bool,
}

#[utoipa::path(get, path = "/api/v1/ai/search", tag = "ai", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = SemanticSearchResults), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %params.workspace_id))]
async fn search_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<SemanticSearchResults>> {
    let q = params.q.trim();
    if q.is_empty() || q.chars().count() > 1000 {
        return Err(ApiError::invalid_field("q", "must be 1 to 1000 characters"));
    }
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be between 1 and 100"));
    }
    let mode = params.mode.unwrap_or_default();
    let core = &state.core;
    // Check membership before spending CPU on the query's embedding.
    super::workspace_scope(&core.read(), params.workspace_id, caller.user_id)?;
    let vector = if mode == Mode::Keyword {
        None
    } else {
        core.embed_now(vec![q.to_owned()])
            .await?
            .and_then(|mut v| v.pop())
    };
    let index = core.read();
    let scope = super::workspace_scope(&index, params.workspace_id, caller.user_id)?;
    let hits = search::rank(
        &index,
        params.workspace_id,
        &scope,
        q,
        vector.as_deref(),
        mode,
        limit,
    );
    let results = hits
        .into_iter()
        .filter_map(|hit| {
            let d = index.doc(params.workspace_id, hit.id)?;
            let message = MessageView {
                id: d.id,
                channel_id: d.channel_id,
                author_id: d.author_id,
                text: d.text.clone(),
                thread_root_id: d.thread_root_id,
                created_at: echo_domain::time::rfc3339(d.created_at),
                deleted: false,
            };
            Some(SemanticSearchResult {
                channel_id: d.channel_id,
                message,
                score: hit.score,
            })
        })
        .collect();
    Ok(Json(SemanticSearchResults { results }))
}
