//! ai-service's HTTP API, one module per resource. Every handler resolves what the caller may
//! read from the projection first (404 for another workspace's things, as the contract wants)
//! and only then looks at content.

mod ask;
mod insights;
mod recommendations;
mod search;
mod status;
mod summaries;

use echo_http::ApiError;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::index::{Index, Scope};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(search::router())
        .merge(summaries::router())
        .merge(ask::router())
        .merge(insights::router())
        .merge(recommendations::router())
        .merge(status::router())
}

/// What the caller may read in a workspace, or 404 when they are not in it.
fn workspace_scope(index: &Index, workspace_id: Uuid, user_id: Uuid) -> Result<Scope, ApiError> {
    index
        .scope(workspace_id, user_id)
        .ok_or_else(|| ApiError::not_found("workspace"))
}

/// A channel the caller may read (its workspace and name), or 404.
fn readable_channel(index: &Index, channel_id: Uuid, user_id: Uuid) -> Result<(Uuid, String), ApiError> {
    index
        .readable_channel(user_id, channel_id)
        .map(|c| (c.workspace_id, c.name.clone()))
        .ok_or_else(|| ApiError::not_found("channel"))
}
