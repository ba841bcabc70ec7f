//! `GET /api/v1/workspaces/{ws}/audit-log`: the log, newest first, for owners and admins.

use axum::extract::State;
use echo_auth::Caller;
use echo_http::{ErrorBody, Json, Paging, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::Entry;
use crate::error::{MessageError, MessageResult};
use crate::http::access::workspace_member;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only entries of this action (e.g. `login_failed`).
    pub action: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Return entries older than this one (an entry id).
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<Entry>,
    pub has_more: bool,
}

/// The workspace's audit log: sign-ins, revoked sessions, role changes, invites, removals,
/// archived channels and moderators' deletions, newest first. Owners and admins only.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/audit-log", operation_id = "list_audit_log", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ListParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Query(params): Query<ListParams>,
) -> MessageResult<Json<AuditPage>> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if !me.role.is_admin() {
        return Err(MessageError::forbidden(
            "only owners and admins read the audit log",
        ));
    }
    let paging = Paging {
        limit: params.limit,
        before: params.before,
        after: None,
    };
    let (limit, before) = (paging.limit()?, paging.before_id()?);
    let action = params.action.as_deref().filter(|a| !a.is_empty());
    let (entries, has_more) = state.audit.page(ws, action, before, limit).await?;
    Ok(Json(AuditPage { entries, has_more }))
}
