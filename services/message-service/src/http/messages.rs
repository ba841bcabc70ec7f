//! Messages: post (idempotent by `client_msg_id`), history, threads, edits with history, deletes.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_domain::{Invalid, MessageText, new_id};
use echo_http::{ErrorBody, Json, Paging, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::{channel_access, message_access};
use crate::error::{MessageError, MessageResult};
use crate::mentions::{self, Mentions};
use crate::model::{Message, Version};
use crate::state::AppState;
use crate::store::{NewMessage, Page};

const MAX_CLIENT_MSG_ID: usize = 128;
const MAX_FILES_PER_MESSAGE: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(history, post_message))
        .routes(routes!(get_message, edit_message, delete_message))
        .routes(routes!(replies))
        .routes(routes!(versions))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostMessage {
    pub text: String,
    pub thread_root_id: Option<Uuid>,
    /// The sender's own id for this message: resending it returns the first message.
    pub client_msg_id: Option<String>,
    /// Files to share with the message: the author's own uploads to this workspace.
    #[serde(default)]
    pub file_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessage {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub versions: Vec<Version>,
}

fn page_of(paging: &Paging) -> MessageResult<Page> {
    Ok(Page {
        before: paging.before_id()?,
        after: paging.after_id()?,
        limit: paging.limit()?,
    })
}

/// The files to attach, in order and without repeats; each must be the author's own (not deleted)
/// upload to this workspace, and anything else is the same 400 so that ids cannot be probed.
async fn attachable_files(
    state: &AppState,
    workspace_id: Uuid,
    author_id: Uuid,
    ids: &[Uuid],
) -> MessageResult<Vec<Uuid>> {
    let mut unique: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.len() > MAX_FILES_PER_MESSAGE {
        return Err(Invalid::new(
            "file_ids",
            format!("at most {MAX_FILES_PER_MESSAGE} files per message"),
        )
        .into());
    }
    for id in &unique {
        let usable = state.store.file(*id).await?.is_some_and(|f| {
            f.uploader_id == author_id && f.workspace_id == Some(workspace_id) && f.detached_at.is_none()
        });
        if !usable {
            return Err(Invalid::new(
                "file_ids",
                format!("{id} is not a file you uploaded to this workspace"),
            )
            .into());
        }
    }
    Ok(unique)
}

/// Parses mentions and keeps only people in the workspace.
async fn mentions_in(state: &AppState, workspace_id: Uuid, text: &str) -> MessageResult<Mentions> {
    let parsed = mentions::parse(text);
    if parsed.user_ids.is_empty() {
        return Ok(parsed);
    }
    let members = state.store.workspace_member_ids(workspace_id).await?;
    Ok(parsed.retain_users(|id| members.contains(id)))
}

/// Post a message, or a reply when `thread_root_id` is set (a reply to a reply joins the root's
/// thread). 201 when posted, 200 with the first message when `client_msg_id` was seen before.
#[utoipa::path(post, path = "/api/v1/channels/{ch}/messages", tag = "messages", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")), request_body = PostMessage,
    responses((status = 201, body = Message), (status = 200, description = "a resend", body = Message),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
pub(crate) async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Json(body): Json<PostMessage>,
) -> MessageResult<(StatusCode, Json<Message>)> {
    let access = channel_access(&state, ch, caller.user_id).await?;
    access.require_member()?;
    access.writable()?;
    let text = MessageText::parse(&body.text, !body.file_ids.is_empty())?;
    let client_msg_id = body
        .client_msg_id
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    if client_msg_id
        .as_ref()
        .is_some_and(|id| id.chars().count() > MAX_CLIENT_MSG_ID)
    {
        return Err(Invalid::new(
            "client_msg_id",
            format!("must be at most {MAX_CLIENT_MSG_ID} characters"),
        )
        .into());
    }
    let thread_root_id = match body.thread_root_id {
        None => None,
        Some(id) => {
            let not_here = || Invalid::new("thread_root_id", "is not a message of this channel");
            let (root, _) = state.store.message(id).await?.ok_or_else(not_here)?;
            if root.channel_id != ch {
                return Err(not_here().into());
            }
            Some(root.thread_root_id.unwrap_or(root.id))
        }
    };
    let workspace_id = access.channel.workspace_id;
    let mentions = mentions_in(&state, workspace_id, text.as_str()).await?;
    let file_ids = attachable_files(&state, workspace_id, caller.user_id, &body.file_ids).await?;
    let new = NewMessage {
        id: new_id(),
        channel_id: ch,
        workspace_id,
        author_id: caller.user_id,
        text: text.into_inner(),
        thread_root_id,
        client_msg_id,
        mentions,
        file_ids,
        now: now_ms(),
    };
    let (message, created) = state.posts.post(new).await?;
    if created {
        state.published();
    }
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    ))
}

/// A channel's messages, newest first; thread replies are not listed.
#[utoipa::path(get, path = "/api/v1/channels/{ch}/messages", tag = "messages", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id"), Paging),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Query(paging): Query<Paging>,
) -> MessageResult<Json<MessagePage>> {
    let page = page_of(&paging)?;
    channel_access(&state, ch, caller.user_id).await?;
    let (messages, has_more) = state.store.history(ch, &page).await?;
    Ok(Json(MessagePage { messages, has_more }))
}

/// A message.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id")),
    responses((status = 200, body = Message), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<Json<Message>> {
    let (message, _) = message_access(&state, id, caller.user_id).await?;
    Ok(Json(message))
}

/// A thread's replies, oldest first.
#[utoipa::path(get, path = "/api/v1/messages/{id}/replies", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the thread's root message id"), Paging),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
async fn replies(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(paging): Query<Paging>,
) -> MessageResult<Json<MessagePage>> {
    let page = page_of(&paging)?;
    let (message, _) = message_access(&state, id, caller.user_id).await?;
    let root = message.thread_root_id.unwrap_or(message.id);
    let (messages, has_more) = state.store.replies(root, &page).await?;
    Ok(Json(MessagePage { messages, has_more }))
}

/// Edit one's own message; the previous text is kept in its history.
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id")), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
pub(crate) async fn edit_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<EditMessage>,
) -> MessageResult<Json<Message>> {
    let (message, access) = message_access(&state, id, caller.user_id).await?;
    if message.author_id != caller.user_id {
        return Err(MessageError::forbidden("only the author edits a message"));
    }
    if message.deleted {
        return Err(MessageError::Forbidden(
            "message_deleted",
            "a deleted message cannot be edited",
        ));
    }
    access.writable()?;
    let text = MessageText::parse(&body.text, false)?;
    let mentions = mentions_in(&state, access.channel.workspace_id, text.as_str()).await?;
    let edited = state
        .store
        .edit_message(id, text.as_str(), &mentions, now_ms())
        .await?
        .ok_or(MessageError::Forbidden(
            "message_deleted",
            "a deleted message cannot be edited",
        ))?;
    state.published();
    Ok(Json(edited))
}

/// Earlier versions of a message, oldest first.
#[utoipa::path(get, path = "/api/v1/messages/{id}/history", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id")),
    responses((status = 200, body = VersionList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<Json<VersionList>> {
    message_access(&state, id, caller.user_id).await?;
    Ok(Json(VersionList {
        versions: state.store.versions(id).await?,
    }))
}

/// Delete a message (its author, or a workspace owner or admin): it stays as a tombstone with
/// no text, and the text is erased from storage and edit history.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "message id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
pub(crate) async fn delete_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    let (message, access) = message_access(&state, id, caller.user_id).await?;
    if message.author_id != caller.user_id && !access.role.is_admin() {
        return Err(MessageError::forbidden(
            "only the author or a workspace admin deletes a message",
        ));
    }
    if message.deleted {
        return Ok(StatusCode::NO_CONTENT);
    }
    access.writable()?;
    if let Some(deleted) = state.store.delete_message(id, now_ms(), caller.user_id).await? {
        state.published();
        for file_id in deleted.freed_files {
            state.files.remove_file(file_id).await;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
