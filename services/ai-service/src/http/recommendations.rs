//! `GET /api/v1/ai/recommendations`: channels to join and people to talk to.

use axum::extract::State;
use echo_auth::Caller;
use echo_http::{ApiResult, ErrorBody, Json, Query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::recommend::{self, Recommendations};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recommendations))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationParams {
    pub workspace_id: Uuid,
}

#[utoipa::path(get, path = "/api/v1/ai/recommendations", tag = "ai", security(("bearer" = [])), params(RecommendationParams),
    responses((status = 200, body = Recommendations), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %params.workspace_id))]
async fn recommendations(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RecommendationParams>,
) -> ApiResult<Json<Recommendations>> {
    let core = &state.core;
    let dense = core.embedder.is_some();
    let index = core.read();
    let scope = super::workspace_scope(&index, params.workspace_id, caller.user_id)?;
    Ok(Json(recommend::recommend(
        &index,
        params.workspace_id,
        caller.user_id,
        &scope,
        dense,
    )))
}
