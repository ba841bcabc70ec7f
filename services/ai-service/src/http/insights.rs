//! `GET /api/v1/ai/insights`: a channel's topics, mood, action items and activity.

use std::collections::HashSet;

use axum::extract::State;
use echo_auth::Caller;
use echo_http::{ApiResult, ErrorBody, Json, Query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::index::{Doc, Scope};
use crate::insights::{self, Insights};
use crate::state::AppState;
use crate::summarize;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(channel_insights))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightParams {
    pub channel_id: Uuid,
}

#[utoipa::path(get, path = "/api/v1/ai/insights", tag = "ai", security(("bearer" = [])), params(InsightParams),
    responses((status = 200, body = Insights), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %params.channel_id))]
async fn channel_insights(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<InsightParams>,
) -> ApiResult<Json<Insights>> {
    let core = &state.core;
    let (workspace_id, docs) = {
        let index = core.read();
        let (workspace_id, _) = super::readable_channel(&index, params.channel_id, caller.user_id)?;
        let scope = Scope {
            channels: HashSet::from([params.channel_id]),
        };
        let mut docs: Vec<Doc> = index.docs_in(workspace_id, &scope).cloned().collect();
        docs.sort_by_key(|d| (d.created_at, d.id));
        (workspace_id, docs)
    };
    Ok(Json(Insights {
        topics: summarize::keywords(core, workspace_id, &docs, 8),
        sentiment: insights::sentiment(&docs),
        action_items: insights::action_items(&docs),
        activity: insights::activity(&docs),
    }))
}
