//! Echo's objects in Slack's shapes: messages, conversations, users, files.

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Ctx, SlackError, ts};
use crate::model::{Channel, ChannelKind, FileObject, Message};

fn secs(rfc: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// A message; its thread's root ts when it is a reply (or has replies).
pub async fn message(ctx: &Ctx, m: &Message) -> Result<Value, SlackError> {
    let store = ctx.state.integrations.as_ref();
    let ts = ts::of(store, m.id, m.channel_id).await?;
    let mut out = json!({
        "type": "message",
        "user": m.author_id,
        "text": m.text,
        "ts": ts,
        "channel": m.channel_id,
    });
    if let Some(root) = m.thread_root_id {
        out["thread_ts"] = json!(ts::of(store, root, m.channel_id).await?);
    } else if m.reply_count > 0 {
        out["thread_ts"] = json!(ts);
        out["reply_count"] = json!(m.reply_count);
    }
    if m.deleted {
        out["subtype"] = json!("tombstone");
        out["text"] = json!("This message was deleted.");
    }
    if let Some(bot_id) = ctx.bot_id_of(m.author_id).await? {
        out["bot_id"] = json!(bot_id);
    }
    if let Some(id) = &m.client_msg_id {
        out["client_msg_id"] = json!(id);
    }
    if let Some(edited) = &m.edited_at {
        out["edited"] = json!({"user": m.author_id, "ts": format!("{}.000000", secs(edited))});
    }
    if !m.reactions.is_empty() {
        out["reactions"] = m
            .reactions
            .iter()
            .map(|r| json!({"name": r.emoji, "count": r.count, "users": r.user_ids}))
            .collect();
    }
    if !m.files.is_empty() {
        out["files"] = m.files.iter().map(|f| file(ctx, f)).collect();
    }
    Ok(out)
}

/// A file: Slack's fields, with download URLs on Echo's API (bearer token required).
pub fn file(ctx: &Ctx, f: &FileObject) -> Value {
    let url = format!("{}/api/v1/files/{}/content", ctx.base, f.id);
    json!({
        "id": f.id,
        "created": secs(&f.created_at),
        "timestamp": secs(&f.created_at),
        "name": f.name,
        "title": f.name,
        "mimetype": f.content_type,
        "filetype": f.name.rsplit_once('.').map_or("", |(_, ext)| ext).to_lowercase(),
        "user": f.uploader_id,
        "size": f.size,
        "url_private": url,
        "url_private_download": url,
        "permalink": url,
        "is_public": false,
    })
}

/// A conversation: public and private channels, DMs (`is_im`, with the other `user`) and group
/// DMs (`is_mpim`).
pub fn channel(ctx: &Ctx, c: &Channel, is_member: bool) -> Value {
    let kind = c.kind;
    let mut out = json!({
        "id": c.id,
        "name": if kind.is_dm() { format!("dm-{}", c.id.simple()) } else { c.name.clone() },
        "is_channel": kind == ChannelKind::Public,
        "is_group": kind == ChannelKind::Private,
        "is_im": kind == ChannelKind::Dm,
        "is_mpim": kind == ChannelKind::GroupDm,
        "is_private": kind != ChannelKind::Public,
        "is_archived": c.archived,
        "is_general": kind == ChannelKind::Public && c.name == "general",
        "is_member": is_member,
        "is_shared": false,
        "is_ext_shared": false,
        "is_org_shared": false,
        "created": secs(&c.created_at),
        "creator": c.created_by,
        "context_team_id": c.workspace_id,
        "name_normalized": c.name,
        "topic": {"value": c.topic, "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    });
    if kind == ChannelKind::Dm {
        let other = c
            .member_ids
            .iter()
            .flatten()
            .find(|id| **id != ctx.user_id())
            .copied();
        out["user"] = json!(other.unwrap_or(ctx.user_id()));
    }
    out
}

/// A user as Slack shows one, from what message-service knows (the directory of names, the
/// addresses user-service reported, the bots).
pub async fn user(
    ctx: &Ctx,
    user_id: Uuid,
    workspace_id: Uuid,
    role: Option<crate::model::Role>,
) -> Result<Value, SlackError> {
    let store = &ctx.state.integrations;
    let name = store.user_name(user_id).await?.unwrap_or_default();
    let bot = store.bot_by_user(user_id).await?;
    let webhook = bot.is_none()
        && store
            .webhooks(workspace_id)
            .await?
            .iter()
            .any(|w| w.user_id == user_id);
    let is_bot = bot.is_some() || webhook;
    let mut profile = json!({
        "display_name": name,
        "real_name": name,
        "display_name_normalized": name,
        "real_name_normalized": name,
        "team": workspace_id,
    });
    if let Some(bot) = &bot {
        profile["bot_id"] = json!(bot.id);
        if !bot.avatar_url.is_empty() {
            for size in ["image_24", "image_48", "image_72", "image_192", "image_512"] {
                profile[size] = json!(bot.avatar_url);
            }
        }
    }
    let may_read_email = ctx
        .token
        .as_ref()
        .is_none_or(|t| t.allows_any(super::super::scopes::USERS_EMAIL));
    if !is_bot
        && may_read_email
        && let Some(email) = store.user_email(user_id).await?
    {
        profile["email"] = json!(email);
    }
    let handle: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '.' } else { c })
        .collect();
    Ok(json!({
        "id": user_id,
        "team_id": workspace_id,
        "name": handle,
        "real_name": name,
        "deleted": false,
        "is_bot": is_bot,
        "is_app_user": false,
        "is_admin": role.is_some_and(|r| r.is_admin()),
        "is_owner": role == Some(crate::model::Role::Owner),
        "is_restricted": role == Some(crate::model::Role::Guest),
        "tz": "UTC",
        "updated": 0,
        "profile": profile,
    }))
}
