//! Pins: pin, unpin, list.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_http::{ErrorBody, Json, Path};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::{channel_access, message_access};
use crate::error::{MessageError, MessageResult};
use crate::model::Pin;
use crate::state::AppState;
use crate::store::Target;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pin, unpin))
        .routes(routes!(list_pins))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PinList {
    pub pins: Vec<Pin>,
}

async fn set(state: &AppState, caller: &Caller, ch: Uuid, id: Uuid, on: bool) -> MessageResult<StatusCode> {
    let (message, access) = message_access(state, id, caller.user_id).await?;
    if message.channel_id != ch {
        return Err(MessageError::NotFound("message"));
    }
    access.writable()?;
    if on && message.deleted {
        return Err(MessageError::Forbidden(
            "message_deleted",
            "a deleted message cannot be pinned",
        ));
    }
    let target = Target {
        workspace_id: access.channel.workspace_id,
        channel_id: ch,
        message_id: id,
    };
    if state.store.set_pin(&target, caller.user_id, on, now_ms()).await? {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Pin a message to its channel (anyone who can read it); idempotent.
#[utoipa::path(put, path = "/api/v1/channels/{ch}/pins/{message_id}", tag = "pins", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id"), ("message_id" = Uuid, Path, description = "message id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch, message_id = %id))]
async fn pin(
    State(state): State<AppState>,
    caller: Caller,
    Path((ch, id)): Path<(Uuid, Uuid)>,
) -> MessageResult<StatusCode> {
    set(&state, &caller, ch, id, true).await
}

/// Unpin a message; idempotent.
#[utoipa::path(delete, path = "/api/v1/channels/{ch}/pins/{message_id}", tag = "pins", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id"), ("message_id" = Uuid, Path, description = "message id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch, message_id = %id))]
async fn unpin(
    State(state): State<AppState>,
    caller: Caller,
    Path((ch, id)): Path<(Uuid, Uuid)>,
) -> MessageResult<StatusCode> {
    set(&state, &caller, ch, id, false).await
}

/// A channel's pinned messages, most recently pinned first.
#[utoipa::path(get, path = "/api/v1/channels/{ch}/pins", tag = "pins", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 200, body = PinList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn list_pins(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<Json<PinList>> {
    channel_access(&state, ch, caller.user_id).await?;
    Ok(Json(PinList {
        pins: state.store.pins(ch).await?,
    }))
}
