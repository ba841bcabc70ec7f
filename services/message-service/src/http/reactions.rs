//! Reactions: idempotent add and remove.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::EmojiName;
use echo_domain::time::now_ms;
use echo_http::{ErrorBody, Path};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::message_access;
use crate::error::{MessageError, MessageResult};
use crate::state::AppState;
use crate::store::Target;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_reaction, remove_reaction))
}

async fn set(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    emoji: &str,
    on: bool,
) -> MessageResult<StatusCode> {
    let emoji = EmojiName::parse(emoji)?;
    let (message, access) = message_access(state, id, caller.user_id).await?;
    access.writable()?;
    if message.deleted {
        return Err(MessageError::Forbidden(
            "message_deleted",
            "a deleted message takes no reactions",
        ));
    }
    let target = Target {
        workspace_id: access.channel.workspace_id,
        channel_id: message.channel_id,
        message_id: id,
    };
    if state
        .store
        .set_reaction(&target, emoji.as_str(), caller.user_id, on, now_ms())
        .await?
    {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// React to a message (anyone who can read it); repeating it changes nothing.
#[utoipa::path(put, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "reactions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id"), ("emoji" = String, Path, description = "short name or emoji")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
pub(crate) async fn add_reaction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, emoji)): Path<(Uuid, String)>,
) -> MessageResult<StatusCode> {
    set(&state, &caller, id, &emoji, true).await
}

/// Take one's reaction back; repeating it changes nothing.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "reactions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id"), ("emoji" = String, Path, description = "short name or emoji")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
pub(crate) async fn remove_reaction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, emoji)): Path<(Uuid, String)>,
) -> MessageResult<StatusCode> {
    set(&state, &caller, id, &emoji, false).await
}
