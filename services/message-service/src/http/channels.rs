//! Channels and DMs: create, list with read state, change, join, leave, members, read markers.
//!
//! Who may change a channel (`PATCH`): the topic, any member of the channel; the name and the
//! archived flag, the workspace's owners and admins or the channel's creator while a member. DMs
//! have neither name nor archive; `general` is neither renamed (invites join it by name) nor
//! archived. An archived channel accepts only being unarchived.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_domain::{ChannelName, Invalid, ShortText, new_id};
use echo_http::{ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::{channel_access, workspace_member};
use crate::error::{MessageError, MessageResult};
use crate::model::{Channel, ChannelKind, ChannelListItem, ChannelMember, Role};
use crate::state::AppState;
use crate::store::{ChannelPatch, NewChannel, NewDm};

/// The most other people a group DM may have.
const MAX_DM_OTHERS: usize = 8;
const MAX_TOPIC: usize = 250;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(open_dm))
        .routes(routes!(get_channel, update_channel))
        .routes(routes!(join_channel))
        .routes(routes!(leave_channel))
        .routes(routes!(list_members, add_member))
        .routes(routes!(mark_read))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Private,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateChannel {
    pub name: String,
    pub visibility: Visibility,
    pub topic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelListItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenDm {
    /// The other people (1–8); the caller is always included.
    pub user_ids: Vec<Uuid>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateChannel {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub archived: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelMemberList {
    pub members: Vec<ChannelMember>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMember {
    pub user_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkRead {
    pub message_id: Uuid,
}

fn parse_topic(raw: &str) -> Result<String, Invalid> {
    ShortText::parse("topic", raw, MAX_TOPIC).map(ShortText::into_inner)
}

/// Create a public or private channel (not guests); the creator joins it.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/channels", tag = "channels", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")), request_body = CreateChannel,
    responses((status = 201, body = Channel), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "name taken", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
pub(crate) async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Json(body): Json<CreateChannel>,
) -> MessageResult<(StatusCode, Json<Channel>)> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if me.role == Role::Guest {
        return Err(MessageError::forbidden("guests cannot create channels"));
    }
    let name = ChannelName::parse(&body.name)?;
    let topic = body
        .topic
        .as_deref()
        .map(parse_topic)
        .transpose()?
        .unwrap_or_default();
    let kind = match body.visibility {
        Visibility::Public => ChannelKind::Public,
        Visibility::Private => ChannelKind::Private,
    };
    let new = NewChannel {
        id: new_id(),
        workspace_id: ws,
        name: name.into_inner(),
        kind,
        topic,
        created_by: caller.user_id,
        now: now_ms(),
    };
    let channel = state.store.create_channel(&new).await?;
    state.published();
    Ok((StatusCode::CREATED, Json(channel)))
}

/// The caller's channels in a workspace, and the public ones (not for guests), with read state.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/channels", tag = "channels", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, body = ChannelList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn list_channels(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Json<ChannelList>> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    let channels = state
        .store
        .channel_list(ws, caller.user_id, me.role != Role::Guest)
        .await?;
    Ok(Json(ChannelList { channels }))
}

/// Open the DM (one other person) or group DM (2–8 others) of exactly these people: 201 when it
/// was created, 200 when it already existed.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/dms", tag = "channels", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")), request_body = OpenDm,
    responses((status = 200, body = Channel), (status = 201, body = Channel), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
pub(crate) async fn open_dm(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Json(body): Json<OpenDm>,
) -> MessageResult<(StatusCode, Json<Channel>)> {
    workspace_member(&state, ws, caller.user_id).await?;
    let others: BTreeSet<Uuid> = body
        .user_ids
        .iter()
        .copied()
        .filter(|u| *u != caller.user_id)
        .collect();
    if others.is_empty() || others.len() > MAX_DM_OTHERS {
        return Err(Invalid::new("user_ids", format!("must name 1 to {MAX_DM_OTHERS} other people")).into());
    }
    let members = state.store.workspace_member_ids(ws).await?;
    if let Some(outsider) = others.iter().find(|u| !members.contains(u)) {
        return Err(Invalid::new(
            "user_ids",
            format!("{outsider} is not a member of this workspace"),
        )
        .into());
    }
    let mut member_ids: Vec<Uuid> = others.into_iter().collect();
    member_ids.push(caller.user_id);
    member_ids.sort();
    let new = NewDm {
        id: new_id(),
        workspace_id: ws,
        member_ids,
        created_by: caller.user_id,
        now: now_ms(),
    };
    let (channel, created) = state.store.open_dm(&new).await?;
    if created {
        state.published();
    }
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(channel),
    ))
}

/// A channel.
#[utoipa::path(get, path = "/api/v1/channels/{ch}", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<Json<Channel>> {
    Ok(Json(channel_access(&state, ch, caller.user_id).await?.channel))
}

/// Rename, re-topic, archive or unarchive a channel (see the module doc for who may).
#[utoipa::path(patch, path = "/api/v1/channels/{ch}", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")), request_body = UpdateChannel,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "name taken", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
pub(crate) async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Json(body): Json<UpdateChannel>,
) -> MessageResult<Json<Channel>> {
    let access = channel_access(&state, ch, caller.user_id).await?;
    let channel = &access.channel;
    let patch = ChannelPatch {
        name: body
            .name
            .as_deref()
            .map(ChannelName::parse)
            .transpose()?
            .map(ChannelName::into_inner),
        topic: body.topic.as_deref().map(parse_topic).transpose()?,
        archived: body.archived,
    };
    let structural = patch.name.is_some() || patch.archived.is_some();
    if structural {
        if channel.kind.is_dm() {
            return Err(MessageError::forbidden(
                "direct messages cannot be renamed or archived",
            ));
        }
        if channel.name == "general" && channel.kind == ChannelKind::Public {
            let renames = patch.name.as_deref().is_some_and(|n| n != "general");
            if renames || patch.archived == Some(true) {
                return Err(MessageError::forbidden("general cannot be renamed or archived"));
            }
        }
        let creator = channel.created_by == caller.user_id && access.is_member && access.role != Role::Guest;
        if !access.role.is_admin() && !creator {
            return Err(MessageError::forbidden(
                "only workspace admins or the channel's creator rename or archive it",
            ));
        }
    }
    if patch.topic.is_some() {
        access.require_member()?;
    }
    // An archived channel is read-only: the one change it accepts is being unarchived.
    if channel.archived && patch.archived != Some(false) {
        return Err(MessageError::Archived);
    }
    let updated = state
        .store
        .update_channel(ch, &patch, caller.user_id)
        .await?
        .ok_or(MessageError::NotFound("channel"))?;
    state.published();
    Ok(Json(updated))
}

/// Join a public channel.
#[utoipa::path(post, path = "/api/v1/channels/{ch}/join", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
pub(crate) async fn join_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<StatusCode> {
    let access = channel_access(&state, ch, caller.user_id).await?;
    if access.is_member {
        return Ok(StatusCode::NO_CONTENT);
    }
    // Visible without being a member means public: private channels and DMs are 404 above.
    access.writable()?;
    if state.store.join_channel(ch, caller.user_id, now_ms()).await? {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Leave a channel; its unread counts leave with it.
#[utoipa::path(post, path = "/api/v1/channels/{ch}/leave", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn leave_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<StatusCode> {
    channel_access(&state, ch, caller.user_id).await?;
    if state.store.leave_channel(ch, caller.user_id).await? {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The members of a channel.
#[utoipa::path(get, path = "/api/v1/channels/{ch}/members", operation_id = "list_channel_members", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 200, body = ChannelMemberList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<Json<ChannelMemberList>> {
    channel_access(&state, ch, caller.user_id).await?;
    Ok(Json(ChannelMemberList {
        members: state.store.channel_members(ch).await?,
    }))
}

/// Add a workspace member to a channel (members of the channel only, not guests; not DMs).
#[utoipa::path(post, path = "/api/v1/channels/{ch}/members", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")), request_body = AddMember,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Json(body): Json<AddMember>,
) -> MessageResult<StatusCode> {
    let access = channel_access(&state, ch, caller.user_id).await?;
    if access.channel.kind.is_dm() {
        return Err(MessageError::forbidden(
            "start a new conversation to add people to a direct message",
        ));
    }
    if access.role == Role::Guest {
        return Err(MessageError::forbidden("guests cannot add people to channels"));
    }
    access.require_member()?;
    access.writable()?;
    state
        .store
        .member(access.channel.workspace_id, body.user_id)
        .await?
        .ok_or(MessageError::NotFound("user"))?;
    if state.store.join_channel(ch, body.user_id, now_ms()).await? {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Move the caller's read marker forward to a message of the channel.
#[utoipa::path(post, path = "/api/v1/channels/{ch}/read", operation_id = "mark_channel_read", tag = "channels", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")), request_body = MarkRead,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Json(body): Json<MarkRead>,
) -> MessageResult<StatusCode> {
    let access = channel_access(&state, ch, caller.user_id).await?;
    access.require_member()?;
    let (message, _) = state
        .store
        .message(body.message_id)
        .await?
        .ok_or(MessageError::NotFound("message"))?;
    if message.channel_id != ch {
        return Err(MessageError::NotFound("message"));
    }
    if let Some(root) = message.thread_root_id {
        // A reply's position says nothing about the channel: read the thread up to it instead.
        state
            .store
            .mark_thread_read(root, caller.user_id, message.id)
            .await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    if state.store.mark_read(ch, caller.user_id, message.id).await? {
        state.published();
    }
    Ok(StatusCode::NO_CONTENT)
}
