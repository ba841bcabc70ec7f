//! The Web API methods. Each resolves Slack's arguments (ts, `#name`, user ids) to Echo's ids,
//! calls the handler the Echo API uses, and answers in Slack's shapes.

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_domain::time::now_ms;
use echo_http::{Json, Path, Query};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Ctx, SlackError, SlackResult, files, objects, ts};
use crate::error::MessageError;
use crate::http::access::{channel_access, message_access, workspace_member};
use crate::http::channels::{CreateChannel, OpenDm, Visibility};
use crate::http::messages::{EditMessage, PostMessage};
use crate::integrations::scopes;
use crate::model::{ChannelKind, Message, Role};
use crate::store::Page;

pub async fn dispatch(method: &str, ctx: &Ctx) -> SlackResult {
    match method {
        "api.test" => Ok(Map::new()),
        "auth.test" => auth_test(ctx).await,
        "chat.postMessage" => post_message(ctx).await,
        "chat.update" => update_message(ctx).await,
        "chat.delete" => delete_message(ctx).await,
        "chat.getPermalink" => permalink(ctx).await,
        "conversations.list" => conversations_list(ctx).await,
        "conversations.info" => conversations_info(ctx).await,
        "conversations.history" => history(ctx).await,
        "conversations.replies" => replies(ctx).await,
        "conversations.create" => create(ctx).await,
        "conversations.join" => join(ctx).await,
        "conversations.members" => members(ctx).await,
        "conversations.open" => open(ctx).await,
        "users.info" => users_info(ctx).await,
        "users.list" => users_list(ctx).await,
        "users.lookupByEmail" => lookup_by_email(ctx).await,
        "reactions.add" => react(ctx, true).await,
        "reactions.remove" => react(ctx, false).await,
        "reactions.get" => reactions_get(ctx).await,
        "files.getUploadURLExternal" => files::get_upload_url(ctx).await,
        "files.completeUploadExternal" => files::complete_upload(ctx).await,
        "search.messages" => search(ctx).await,
        _ => Err(SlackError::new("unknown_method")),
    }
}

pub fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An opaque cursor over a position.
fn cursor(kind: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

fn read_cursor(ctx: &Ctx, kind: &str) -> Result<Option<String>, SlackError> {
    let Some(raw) = ctx.params.str("cursor") else {
        return Ok(None);
    };
    let decoded = URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(&format!("{kind}:")).map(str::to_owned));
    decoded.map(Some).ok_or_else(|| SlackError::new("invalid_cursor"))
}

fn offset_cursor(ctx: &Ctx) -> Result<usize, SlackError> {
    match read_cursor(ctx, "o")? {
        None => Ok(0),
        Some(raw) => raw.parse().map_err(|_| SlackError::new("invalid_cursor")),
    }
}

fn metadata(next: Option<String>) -> Value {
    json!({"next_cursor": next.unwrap_or_default()})
}

/// A channel argument: an id, `#name` (or a bare name) in the call's workspace, or a user id
/// (their DM with the caller, opened if needed).
async fn channel_arg(ctx: &Ctx, name: &str) -> Result<Uuid, SlackError> {
    channel_param(ctx, name).await
}

pub async fn channel_param(ctx: &Ctx, name: &str) -> Result<Uuid, SlackError> {
    let raw = ctx
        .params
        .str(name)
        .ok_or_else(|| SlackError::new("channel_not_found"))?;
    channel_value(ctx, &raw).await
}

pub async fn channel_value(ctx: &Ctx, raw: &str) -> Result<Uuid, SlackError> {
    if let Ok(id) = Uuid::parse_str(raw.trim()) {
        if ctx.state.store.channel(id).await?.is_some() {
            return Ok(id);
        }
        let ws = ctx.workspace().await?;
        if id != ctx.user_id() && ctx.state.store.member(ws, id).await?.is_some() {
            let (_, channel) = open_dm(ctx, ws, vec![id]).await?;
            return Ok(channel.id);
        }
        return Err(SlackError::new("channel_not_found"));
    }
    let wanted = raw.trim().trim_start_matches('#');
    let ws = ctx.workspace().await?;
    let list = ctx.state.store.channel_list(ws, ctx.user_id(), true).await?;
    list.into_iter()
        .find(|c| !c.channel.kind.is_dm() && c.channel.name == wanted)
        .map(|c| c.channel.id)
        .ok_or_else(|| SlackError::new("channel_not_found"))
}

async fn message_arg(
    ctx: &Ctx,
    channel_id: Uuid,
    name: &str,
    missing: &'static str,
) -> Result<Uuid, SlackError> {
    let raw = ctx
        .params
        .str(name)
        .ok_or_else(|| SlackError::with("invalid_arguments", format!("{name} is required")))?;
    ts::resolve(ctx.state.integrations.as_ref(), channel_id, &raw)
        .await?
        .ok_or_else(|| SlackError::new(missing))
}

/// The text of a message from `text`, else from `blocks`, else from attachments' fallbacks.
pub fn text_of(text: Option<String>, blocks: Option<&Value>, attachments: Option<&Value>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
        .or_else(|| blocks.map(blocks_text).filter(|t| !t.trim().is_empty()))
        .or_else(|| {
            let parts: Vec<String> = attachments?
                .as_array()?
                .iter()
                .filter_map(|a| {
                    a.get("fallback")
                        .or_else(|| a.get("text"))
                        .or_else(|| a.get("pretext"))?
                        .as_str()
                        .map(str::to_owned)
                })
                .collect();
            Some(parts.join("\n")).filter(|t| !t.trim().is_empty())
        })
}

/// Block Kit rendered to plain text: every text object, in order, one block per line.
pub fn blocks_text(blocks: &Value) -> String {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(text)) = object.get("text")
                    && object
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| matches!(t, "plain_text" | "mrkdwn" | "text" | "link" | "emoji"))
                {
                    out.push(text.clone());
                }
                for (key, child) in object {
                    if key != "text" || !child.is_string() {
                        walk(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let Some(blocks) = blocks.as_array() else {
        return String::new();
    };
    blocks
        .iter()
        .map(|block| {
            let mut parts = Vec::new();
            walk(block, &mut parts);
            parts.join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn text_error(e: MessageError, forbidden: &'static str) -> SlackError {
    match e {
        MessageError::Invalid(invalid) if invalid.field == "text" => {
            if invalid.message.contains("at most") {
                SlackError::new("msg_too_long")
            } else {
                SlackError::new("no_text")
            }
        }
        other => SlackError::from_echo(other, forbidden),
    }
}

async fn auth_test(ctx: &Ctx) -> SlackResult {
    let user_id = ctx.user_id();
    let workspace = match ctx.workspace().await {
        Ok(ws) => ctx.state.store.workspace(ws, user_id).await?,
        Err(_) => None,
    };
    let name = ctx
        .state
        .integrations
        .user_name(user_id)
        .await?
        .unwrap_or_default();
    let mut out = json!({
        "url": format!("{}/", ctx.base),
        "team": workspace.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
        "user": name.to_lowercase().replace(' ', "."),
        "team_id": workspace.as_ref().map(|w| w.id.to_string()).unwrap_or_default(),
        "user_id": user_id,
        "is_enterprise_install": false,
    });
    if let Some(bot_id) = ctx.token.as_ref().and_then(|t| t.bot_id) {
        out["bot_id"] = json!(bot_id);
    }
    Ok(fields(out))
}

/// Posts as the caller; used by `chat.postMessage` and file sharing.
pub async fn post(
    ctx: &Ctx,
    channel_id: Uuid,
    text: String,
    thread_ts: Option<String>,
    file_ids: Vec<Uuid>,
) -> Result<Message, SlackError> {
    let thread_root_id = match thread_ts {
        Some(raw) => Some(
            ts::resolve(ctx.state.integrations.as_ref(), channel_id, &raw)
                .await?
                .ok_or_else(|| SlackError::new("thread_not_found"))?,
        ),
        None => None,
    };
    let body = PostMessage {
        text,
        thread_root_id,
        client_msg_id: ctx.params.str("client_msg_id"),
        file_ids,
    };
    let (_, Json(message)) = crate::http::messages::post_message(
        State(ctx.state.clone()),
        ctx.caller.clone(),
        Path(channel_id),
        Json(body),
    )
    .await
    .map_err(|e| text_error(e, "restricted_action"))?;
    Ok(message)
}

async fn post_message(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::CHAT_WRITE)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let text = text_of(
        ctx.params.str("text"),
        ctx.params.json("blocks")?.as_ref(),
        ctx.params.json("attachments")?.as_ref(),
    )
    .ok_or_else(|| SlackError::new("no_text"))?;
    let message = post(ctx, channel_id, text, ctx.params.str("thread_ts"), Vec::new()).await?;
    let slack = objects::message(ctx, &message).await?;
    Ok(fields(
        json!({"channel": channel_id, "ts": slack["ts"], "message": slack}),
    ))
}

async fn update_message(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::CHAT_WRITE)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let id = message_arg(ctx, channel_id, "ts", "message_not_found").await?;
    let text = text_of(
        ctx.params.str("text"),
        ctx.params.json("blocks")?.as_ref(),
        ctx.params.json("attachments")?.as_ref(),
    )
    .ok_or_else(|| SlackError::new("no_text"))?;
    let Json(message) = crate::http::messages::edit_message(
        State(ctx.state.clone()),
        ctx.caller.clone(),
        Path(id),
        Json(EditMessage { text }),
    )
    .await
    .map_err(|e| text_error(e, "cant_update_message"))?;
    let slack = objects::message(ctx, &message).await?;
    Ok(fields(
        json!({"channel": channel_id, "ts": slack["ts"], "text": message.text, "message": slack}),
    ))
}

async fn delete_message(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::CHAT_WRITE)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let id = message_arg(ctx, channel_id, "ts", "message_not_found").await?;
    let ts = ts::of(ctx.state.integrations.as_ref(), id, channel_id).await?;
    crate::http::messages::delete_message(State(ctx.state.clone()), ctx.caller.clone(), Path(id))
        .await
        .map_err(|e| SlackError::from_echo(e, "cant_delete_message"))?;
    Ok(fields(json!({"channel": channel_id, "ts": ts})))
}

async fn permalink(ctx: &Ctx) -> SlackResult {
    let channel_id = channel_arg(ctx, "channel").await?;
    channel_access(&ctx.state, channel_id, ctx.user_id())
        .await
        .map_err(|e| SlackError::from_echo(e, "channel_not_found"))?;
    let id = message_arg(ctx, channel_id, "message_ts", "message_not_found").await?;
    let ts = ts::of(ctx.state.integrations.as_ref(), id, channel_id).await?;
    let link = format!("{}/archives/{channel_id}/p{}", ctx.base, ts.replace('.', ""));
    Ok(fields(json!({"channel": channel_id, "permalink": link})))
}

/// Which kinds `types` asks for (public channels when it names none).
fn kinds(raw: Option<String>) -> Result<Vec<ChannelKind>, SlackError> {
    let raw = raw.unwrap_or_else(|| "public_channel".into());
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t {
            "public_channel" => Ok(ChannelKind::Public),
            "private_channel" => Ok(ChannelKind::Private),
            "im" => Ok(ChannelKind::Dm),
            "mpim" => Ok(ChannelKind::GroupDm),
            _ => Err(SlackError::new("invalid_types")),
        })
        .collect()
}

async fn conversations_list(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::READ)?;
    let ws = ctx.workspace().await?;
    let me = workspace_member(&ctx.state, ws, ctx.user_id())
        .await
        .map_err(|_| SlackError::new("team_not_found"))?;
    let kinds = kinds(ctx.params.str("types"))?;
    let exclude_archived = ctx.params.bool("exclude_archived");
    let limit = ctx.params.limit("limit", 100, 1000)? as usize;
    let offset = offset_cursor(ctx)?;
    let mut list = ctx
        .state
        .store
        .channel_list(ws, ctx.user_id(), me.role != Role::Guest)
        .await?;
    list.retain(|c| kinds.contains(&c.channel.kind) && !(exclude_archived && c.channel.archived));
    list.sort_by_key(|c| c.channel.id);
    let page: Vec<Value> = list
        .iter()
        .skip(offset)
        .take(limit)
        .map(|c| objects::channel(ctx, &c.channel, c.is_member))
        .collect();
    let next = (offset + limit < list.len()).then(|| cursor("o", &(offset + limit).to_string()));
    Ok(fields(
        json!({"channels": page, "response_metadata": metadata(next)}),
    ))
}

async fn conversations_info(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::READ)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let access = channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
    let mut channel = objects::channel(ctx, &access.channel, access.is_member);
    if ctx.params.bool("include_num_members") {
        channel["num_members"] = json!(ctx.state.store.channel_member_ids(channel_id).await?.len());
    }
    Ok(fields(json!({"channel": channel})))
}

/// A message bound from a ts argument: the message it names, else the instant.
async fn bound(ctx: &Ctx, channel_id: Uuid, name: &str) -> Result<Option<Uuid>, SlackError> {
    let Some(raw) = ctx.params.str(name) else {
        return Ok(None);
    };
    if let Some(id) = ts::resolve(ctx.state.integrations.as_ref(), channel_id, &raw).await? {
        return Ok(Some(id));
    }
    ts::lower_id(&raw)
        .map(Some)
        .ok_or_else(|| SlackError::with("invalid_arguments", format!("{name} is not a timestamp")))
}

async fn history(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::HISTORY)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
    let limit = ctx.params.limit("limit", 100, 200)?;
    let before = match read_cursor(ctx, "b")? {
        Some(raw) => Some(Uuid::parse_str(&raw).map_err(|_| SlackError::new("invalid_cursor"))?),
        None => bound(ctx, channel_id, "latest").await?,
    };
    let after = bound(ctx, channel_id, "oldest").await?;
    let (messages, has_more) = ctx
        .state
        .store
        .history(channel_id, &Page { before, after, limit })
        .await?;
    let next = if has_more {
        messages.last().map(|m| cursor("b", &m.id.to_string()))
    } else {
        None
    };
    let mut out = Vec::with_capacity(messages.len());
    for m in messages.iter().filter(|m| !m.deleted || m.reply_count > 0) {
        out.push(objects::message(ctx, m).await?);
    }
    Ok(fields(
        json!({"messages": out, "has_more": has_more, "pin_count": 0, "response_metadata": metadata(next)}),
    ))
}

async fn replies(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::HISTORY)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
    let id = message_arg(ctx, channel_id, "ts", "thread_not_found").await?;
    let (message, _) = message_access(&ctx.state, id, ctx.user_id()).await?;
    let root_id = message.thread_root_id.unwrap_or(message.id);
    let limit = ctx.params.limit("limit", 100, 200)?;
    let after = match read_cursor(ctx, "a")? {
        Some(raw) => Some(Uuid::parse_str(&raw).map_err(|_| SlackError::new("invalid_cursor"))?),
        None => None,
    };
    let first_page = after.is_none();
    let (page, has_more) = ctx
        .state
        .store
        .replies(
            root_id,
            &Page {
                before: None,
                after,
                limit,
            },
        )
        .await?;
    let mut out = Vec::with_capacity(page.len() + 1);
    if first_page {
        let (root, _) = ctx
            .state
            .store
            .message(root_id)
            .await?
            .ok_or_else(|| SlackError::new("thread_not_found"))?;
        out.push(objects::message(ctx, &root).await?);
    }
    for m in &page {
        out.push(objects::message(ctx, m).await?);
    }
    let next = if has_more {
        page.last().map(|m| cursor("a", &m.id.to_string()))
    } else {
        None
    };
    Ok(fields(
        json!({"messages": out, "has_more": has_more, "response_metadata": metadata(next)}),
    ))
}

async fn create(ctx: &Ctx) -> SlackResult {
    let private = ctx.params.bool("is_private");
    ctx.require(if private {
        &["groups:write"]
    } else {
        &["channels:manage"]
    })?;
    let name = ctx.params.required("name")?;
    let ws = ctx.workspace().await?;
    let body = CreateChannel {
        name,
        visibility: if private {
            Visibility::Private
        } else {
            Visibility::Public
        },
        topic: None,
    };
    let (_, Json(channel)) = crate::http::channels::create_channel(
        State(ctx.state.clone()),
        ctx.caller.clone(),
        Path(ws),
        Json(body),
    )
    .await
    .map_err(|e| match e {
        MessageError::Invalid(invalid) if invalid.field == "name" => {
            SlackError::with("invalid_name_specials", invalid.message)
        }
        other => SlackError::from_echo(other, "restricted_action"),
    })?;
    Ok(fields(json!({"channel": objects::channel(ctx, &channel, true)})))
}

async fn join(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::JOIN)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let access = channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
    if access.channel.kind != ChannelKind::Public {
        return Err(SlackError::new("method_not_supported_for_channel_type"));
    }
    let already = access.is_member;
    crate::http::channels::join_channel(State(ctx.state.clone()), ctx.caller.clone(), Path(channel_id))
        .await?;
    let mut out = json!({"channel": objects::channel(ctx, &access.channel, true)});
    if already {
        out["already_in_channel"] = json!(true);
    }
    Ok(fields(out))
}

async fn members(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::READ)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
    let limit = ctx.params.limit("limit", 100, 1000)? as usize;
    let offset = offset_cursor(ctx)?;
    let all = ctx.state.store.channel_members(channel_id).await?;
    let page: Vec<Uuid> = all.iter().skip(offset).take(limit).map(|m| m.user_id).collect();
    let next = (offset + limit < all.len()).then(|| cursor("o", &(offset + limit).to_string()));
    Ok(fields(
        json!({"members": page, "response_metadata": metadata(next)}),
    ))
}

async fn open_dm(
    ctx: &Ctx,
    ws: Uuid,
    others: Vec<Uuid>,
) -> Result<(bool, crate::model::Channel), SlackError> {
    let (status, Json(channel)) = crate::http::channels::open_dm(
        State(ctx.state.clone()),
        ctx.caller.clone(),
        Path(ws),
        Json(OpenDm { user_ids: others }),
    )
    .await
    .map_err(|e| match e {
        MessageError::Invalid(_) => SlackError::new("user_not_found"),
        other => SlackError::from(other),
    })?;
    Ok((status == axum::http::StatusCode::OK, channel))
}

async fn open(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::OPEN)?;
    if ctx.params.str("users").is_none() && ctx.params.str("channel").is_some() {
        let channel_id = channel_arg(ctx, "channel").await?;
        let access = channel_access(&ctx.state, channel_id, ctx.user_id()).await?;
        return Ok(fields(
            json!({"channel": objects::channel(ctx, &access.channel, access.is_member), "already_open": true}),
        ));
    }
    let users = ctx
        .params
        .str("users")
        .ok_or_else(|| SlackError::new("users_list_not_supplied"))?;
    let mut others = Vec::new();
    for raw in users.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        others.push(Uuid::parse_str(raw).map_err(|_| SlackError::new("user_not_found"))?);
    }
    let ws = ctx.workspace().await?;
    let (already, channel) = open_dm(ctx, ws, others).await?;
    let mut channel_json = objects::channel(ctx, &channel, true);
    if !ctx.params.bool("return_im") {
        channel_json = json!({"id": channel.id});
    }
    Ok(fields(
        json!({"channel": channel_json, "already_open": already, "no_op": already}),
    ))
}

async fn user_arg(ctx: &Ctx, name: &str) -> Result<Uuid, SlackError> {
    let raw = ctx.params.required(name)?;
    Uuid::parse_str(raw.trim()).map_err(|_| SlackError::new("user_not_found"))
}

async fn users_info(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::USERS)?;
    let user_id = user_arg(ctx, "user").await?;
    let ws = ctx.workspace().await?;
    let member = ctx
        .state
        .store
        .member(ws, user_id)
        .await?
        .ok_or_else(|| SlackError::new("user_not_found"))?;
    Ok(fields(
        json!({"user": objects::user(ctx, user_id, ws, Some(member.role)).await?}),
    ))
}

async fn users_list(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::USERS)?;
    let ws = ctx.workspace().await?;
    workspace_member(&ctx.state, ws, ctx.user_id())
        .await
        .map_err(|_| SlackError::new("team_not_found"))?;
    let limit = ctx.params.limit("limit", 200, 1000)? as usize;
    let offset = offset_cursor(ctx)?;
    let all = ctx.state.store.members(ws).await?;
    let mut page = Vec::new();
    for m in all.iter().skip(offset).take(limit) {
        page.push(objects::user(ctx, m.user_id, ws, Some(m.role)).await?);
    }
    let next = (offset + limit < all.len()).then(|| cursor("o", &(offset + limit).to_string()));
    Ok(fields(
        json!({"members": page, "cache_ts": now_ms() / 1000, "response_metadata": metadata(next)}),
    ))
}

async fn lookup_by_email(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::USERS_EMAIL)?;
    let email = ctx.params.required("email")?;
    let ws = ctx.workspace().await?;
    let user_id = ctx
        .state
        .integrations
        .user_by_email(email.trim())
        .await?
        .ok_or_else(|| SlackError::new("users_not_found"))?;
    let member = ctx
        .state
        .store
        .member(ws, user_id)
        .await?
        .ok_or_else(|| SlackError::new("users_not_found"))?;
    Ok(fields(
        json!({"user": objects::user(ctx, user_id, ws, Some(member.role)).await?}),
    ))
}

async fn react(ctx: &Ctx, on: bool) -> SlackResult {
    ctx.require(scopes::REACTIONS_WRITE)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let id = message_arg(ctx, channel_id, "timestamp", "message_not_found").await?;
    let name = ctx.params.required("name")?;
    let name = name.trim().trim_matches(':').to_owned();
    let (message, _) = message_access(&ctx.state, id, ctx.user_id()).await?;
    let mine = message
        .reactions
        .iter()
        .any(|r| r.emoji == name && r.user_ids.contains(&ctx.user_id()));
    if on && mine {
        return Err(SlackError::new("already_reacted"));
    }
    if !on && !mine {
        return Err(SlackError::new("no_reaction"));
    }
    let (state, caller) = (State(ctx.state.clone()), ctx.caller.clone());
    let done = if on {
        crate::http::reactions::add_reaction(state, caller, Path((id, name))).await
    } else {
        crate::http::reactions::remove_reaction(state, caller, Path((id, name))).await
    };
    done.map_err(|e| match e {
        MessageError::Invalid(_) => SlackError::new("invalid_name"),
        other => SlackError::from(other),
    })?;
    Ok(Map::new())
}

async fn reactions_get(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::REACTIONS_READ)?;
    let channel_id = channel_arg(ctx, "channel").await?;
    let id = message_arg(ctx, channel_id, "timestamp", "message_not_found").await?;
    let (message, _) = message_access(&ctx.state, id, ctx.user_id()).await?;
    Ok(fields(
        json!({"type": "message", "channel": channel_id, "message": objects::message(ctx, &message).await?}),
    ))
}

async fn search(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::SEARCH)?;
    let query = ctx.params.required("query")?;
    let count = ctx.params.limit("count", 20, 100)?;
    let page = match ctx.params.str("page") {
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|p| *p >= 1 && *p <= 100)
            .ok_or_else(|| SlackError::new("invalid_arguments"))?,
        None => 1,
    };
    let ws = ctx.workspace().await?;
    let offset = i64::from((page - 1) * count);
    let before = (offset > 0).then(|| {
        crate::search::http::Cursor {
            offset,
            now: now_ms(),
        }
        .encode()
    });
    let params = crate::search::http::SearchParams {
        q: query.clone(),
        limit: Some(count),
        before,
    };
    let Json(found) = crate::search::http::search(
        State(ctx.state.clone()),
        ctx.caller.clone(),
        Path(ws),
        Query(params),
    )
    .await
    .map_err(|e| match e {
        MessageError::Client(_) | MessageError::Invalid(_) => SlackError::new("invalid_search_query"),
        other => SlackError::from(other),
    })?;
    let mut matches = Vec::with_capacity(found.results.len());
    for hit in &found.results {
        let mut m = objects::message(ctx, &hit.message).await?;
        let channel = ctx.state.store.channel(hit.channel_id).await?;
        let name = channel.as_ref().map(|c| c.name.clone()).unwrap_or_default();
        let username = ctx
            .state
            .integrations
            .user_name(hit.message.author_id)
            .await?
            .unwrap_or_default();
        m["channel"] = json!({"id": hit.channel_id, "name": name,
            "is_private": channel.as_ref().is_some_and(|c| c.kind != ChannelKind::Public)});
        m["username"] = json!(username);
        m["permalink"] = json!(format!(
            "{}/archives/{}/p{}",
            ctx.base,
            hit.channel_id,
            m["ts"].as_str().unwrap_or("").replace('.', "")
        ));
        m["iid"] = json!(hit.message.id);
        matches.push(m);
    }
    let seen = offset as u64 + matches.len() as u64;
    let total = if found.has_more { seen + 1 } else { seen };
    let pages = if found.has_more { page + 1 } else { page };
    Ok(fields(json!({
        "query": query,
        "messages": {
            "total": total,
            "matches": matches,
            "paging": {"count": count, "total": total, "page": page, "pages": pages},
            "pagination": {"total_count": total, "page": page, "per_page": count, "page_count": pages,
                           "first": offset + 1, "last": seen},
        },
    })))
}
