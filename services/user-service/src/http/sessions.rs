//! The caller's sessions (one per login), and revoking them.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::{now_ms, rfc3339};
use echo_http::{ErrorBody, Json, Path};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::auth::revoke;
use crate::error::{UserError, UserResult};
use crate::sign_ins::Revocation;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(delete))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: String,
    pub last_used_at: String,
    pub user_agent: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/users/me/sessions", operation_id = "list_sessions", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list(State(state): State<AppState>, caller: Caller) -> UserResult<Json<SessionList>> {
    let sessions = state.store.live_sessions(caller.user_id, now_ms()).await?;
    let sessions = sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.id == caller.session_id,
            id: s.id,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// Revoke one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/users/me/sessions/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "session id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, session_id = %id))]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> UserResult<StatusCode> {
    let session = state.store.session(id).await?;
    match session {
        Some(s) if s.user_id == caller.user_id && s.revoked_at.is_none() => {
            revoke(&state, &s, Revocation::Revoked).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(UserError::NotFound("session")),
    }
}
