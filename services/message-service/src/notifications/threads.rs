//! The Threads view: the threads a person follows in a workspace, with their unread replies.

use axum::extract::State;
use echo_auth::Caller;
use echo_http::paging::{DEFAULT_LIMIT, MAX_LIMIT};
use echo_http::{ApiError, ErrorBody, Json, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::error::MessageResult;
use crate::http::access::workspace_member;
use crate::model::Message;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(followed_threads))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadParams {
    /// Only threads with unread replies.
    #[serde(default)]
    pub unread: bool,
    /// At most this many threads, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedThread {
    /// The thread's root message (with its `reply_count`).
    pub root: Message,
    pub channel_id: Uuid,
    /// Replies by others the caller has not read.
    pub unread_replies: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadList {
    /// Most recently replied first.
    pub threads: Vec<FollowedThread>,
}

/// The threads the caller follows in a workspace, most recently replied first.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/threads", tag = "notifications", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ThreadParams),
    responses((status = 200, body = ThreadList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn followed_threads(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Query(params): Query<ThreadParams>,
) -> MessageResult<Json<ThreadList>> {
    workspace_member(&state, ws, caller.user_id).await?;
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(n @ 1..=MAX_LIMIT) => n,
        Some(_) => {
            return Err(
                ApiError::invalid_field("limit", format!("must be between 1 and {MAX_LIMIT}")).into(),
            );
        }
    };
    let followed = state
        .notifications
        .followed_threads(caller.user_id, ws, params.unread, limit)
        .await?;
    let mut threads = Vec::with_capacity(followed.len());
    for (root_id, unread_replies) in followed {
        if let Some((root, _)) = state.store.message(root_id).await? {
            threads.push(FollowedThread {
                channel_id: root.channel_id,
                root,
                unread_replies,
            });
        }
    }
    Ok(Json(ThreadList { threads }))
}
