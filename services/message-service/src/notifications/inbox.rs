//! The inbox (list, mark read, mark all read) and explain: for a message and the caller, whether
//! they were notified, by which channel, or which rule held it back.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::{now_ms, rfc3339};
use echo_http::paging::MAX_LIMIT;
use echo_http::{ApiError, ErrorBody, Json, Paging, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::Kind;
use super::store::Notification;
use crate::error::{MessageError, MessageResult};
use crate::http::access::message_access;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
        .routes(routes!(explain))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only unread notifications.
    #[serde(default)]
    pub unread: bool,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Return notifications older than this one (a notification id).
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    pub has_more: bool,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "notifications", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> MessageResult<Json<NotificationPage>> {
    let paging = Paging {
        limit: params.limit,
        before: params.before,
        after: None,
    };
    let (limit, before) = (paging.limit()?, paging.before_id()?);
    let (notifications, has_more) = state
        .notifications
        .list(caller.user_id, params.unread, before, limit)
        .await?;
    Ok(Json(NotificationPage {
        notifications,
        has_more,
    }))
}

/// Which notifications to mark read: `{"ids": [...]}` or `{"all": true}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub ids: Option<Vec<Uuid>>,
    pub all: Option<bool>,
}

/// Mark some or all of the caller's notifications read; idempotent.
#[utoipa::path(post, path = "/api/v1/notifications/read", operation_id = "mark_notifications_read", tag = "notifications", security(("bearer" = [])),
    request_body = MarkRead,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<MarkRead>,
) -> MessageResult<StatusCode> {
    match (body.ids, body.all) {
        (None, Some(true)) => {
            state
                .notifications
                .mark_all_read(caller.user_id, now_ms())
                .await?
        }
        (Some(ids), None | Some(false)) => {
            if ids.len() > MAX_LIMIT as usize {
                return Err(ApiError::invalid_field("ids", format!("at most {MAX_LIMIT} at a time")).into());
            }
            if !state
                .notifications
                .mark_read(caller.user_id, &ids, now_ms())
                .await?
            {
                return Err(MessageError::NotFound("notification"));
            }
        }
        _ => return Err(ApiError::bad_request("invalid_input", "give either ids or all: true").into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    pub message_id: Uuid,
}

/// Whether the caller was notified of a message, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub notified: bool,
    /// The channels it went by: `inbox`, `websocket` (a live connection), `web_push` (sent).
    pub via: Vec<String>,
    /// When notified, why (`mentioned`, `channel_mention`, `here_mention`, `direct_message`,
    /// `followed_thread`, `keyword`); otherwise what held it back (`cannot_see_message`,
    /// `channel_muted`, `level_nothing`, `level_mentions`, `do_not_disturb`, `dnd_schedule`,
    /// `status_dnd`, `not_online`), or `own_message`, `not_addressed`, or `pending` while the
    /// message is still being decided.
    pub reasons: Vec<String>,
    /// The kind of notification it is (or would have been).
    pub kind: Option<Kind>,
    pub decided_at: Option<String>,
}

impl Explanation {
    fn not_notified(reason: &str) -> Self {
        Self {
            notified: false,
            via: Vec::new(),
            reasons: vec![reason.to_owned()],
            kind: None,
            decided_at: None,
        }
    }
}

/// Explain whether and why the caller was (not) notified of a message they can see.
#[utoipa::path(get, path = "/api/v1/notifications/explain", tag = "notifications", security(("bearer" = [])),
    params(ExplainParams),
    responses((status = 200, body = Explanation), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %params.message_id))]
async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ExplainParams>,
) -> MessageResult<Json<Explanation>> {
    let (message, _) = message_access(&state, params.message_id, caller.user_id).await?;
    if message.author_id == caller.user_id {
        return Ok(Json(Explanation::not_notified("own_message")));
    }
    // The run first: it commits with the decisions, so once it is seen they are too.
    if !state.notifications.decided(message.id).await? {
        return Ok(Json(Explanation::not_notified("pending")));
    }
    let Some(row) = state.notifications.decision(message.id, caller.user_id).await? else {
        return Ok(Json(Explanation::not_notified("not_addressed")));
    };
    let mut via: Vec<String> = serde_json::from_str(&row.via).unwrap_or_default();
    via.extend(state.deliveries.delivered_via(message.id, caller.user_id).await?);
    Ok(Json(Explanation {
        notified: row.notified,
        via,
        reasons: serde_json::from_str(&row.reasons).unwrap_or_default(),
        kind: Kind::from_db(&row.kind),
        decided_at: Some(rfc3339(row.decided_at)),
    }))
}
