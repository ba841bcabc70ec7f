//! The events message-service publishes (through its outbox), version 1 of each. Every payload
//! carries `workspace_id` so the real-time hub can route it without a lookup.

use echo_events::Envelope;
use serde_json::json;
use uuid::Uuid;

use crate::model::{Channel, FileObject, Member, Message, Workspace};
use crate::store::ChannelPatch;

pub const PRODUCER: &str = "message-service";
pub const VERSION: u16 = 1;

fn event(kind: &str, payload: serde_json::Value) -> Envelope {
    Envelope::new(kind, VERSION, PRODUCER, payload)
}

/// The same event, naming who caused it (`actor_id`), for changes one person makes to another's
/// things: the audit log records them.
pub fn by(actor: Uuid, mut event: Envelope) -> Envelope {
    if let Some(fields) = event.payload.as_object_mut() {
        fields.insert("actor_id".to_owned(), json!(actor));
    }
    event
}

/// An owner or admin started downloading the workspace's export (for the audit log; it names no
/// channel, so no one's socket receives it).
pub fn export_started(workspace_id: Uuid, actor_id: Uuid) -> Envelope {
    event(
        "export.started",
        json!({"workspace_id": workspace_id, "actor_id": actor_id}),
    )
}

pub fn message_created(workspace_id: Uuid, message: &Message) -> Envelope {
    event(
        "message.created",
        json!({"workspace_id": workspace_id, "channel_id": message.channel_id, "message": message}),
    )
}

pub fn message_updated(workspace_id: Uuid, message: &Message) -> Envelope {
    event(
        "message.updated",
        json!({"workspace_id": workspace_id, "channel_id": message.channel_id, "message": message}),
    )
}

pub fn message_deleted(workspace_id: Uuid, tombstone: &Message) -> Envelope {
    event(
        "message.deleted",
        json!({"workspace_id": workspace_id, "channel_id": tombstone.channel_id, "message_id": tombstone.id, "message": tombstone}),
    )
}

pub fn reaction(
    added: bool,
    workspace_id: Uuid,
    channel_id: Uuid,
    message_id: Uuid,
    emoji: &str,
    user_id: Uuid,
) -> Envelope {
    event(
        if added {
            "reaction.added"
        } else {
            "reaction.removed"
        },
        json!({"workspace_id": workspace_id, "channel_id": channel_id, "message_id": message_id, "emoji": emoji, "user_id": user_id}),
    )
}

pub fn pin(added: bool, workspace_id: Uuid, channel_id: Uuid, message_id: Uuid, user_id: Uuid) -> Envelope {
    event(
        if added { "pin.added" } else { "pin.removed" },
        json!({"workspace_id": workspace_id, "channel_id": channel_id, "message_id": message_id, "user_id": user_id}),
    )
}

pub fn channel_created(channel: &Channel) -> Envelope {
    event(
        "channel.created",
        json!({"workspace_id": channel.workspace_id, "channel_id": channel.id, "channel": channel}),
    )
}

/// `changes` holds the fields the update set (`name`, `topic`, `archived`).
pub fn channel_updated(channel: &Channel, patch: &ChannelPatch) -> Envelope {
    event(
        "channel.updated",
        json!({"workspace_id": channel.workspace_id, "channel_id": channel.id, "channel": channel, "changes": {
            "name": patch.name, "topic": patch.topic, "archived": patch.archived,
        }}),
    )
}

pub fn channel_member(joined: bool, channel: &Channel, user_id: Uuid) -> Envelope {
    event(
        if joined {
            "channel.member_joined"
        } else {
            "channel.member_left"
        },
        json!({"workspace_id": channel.workspace_id, "channel_id": channel.id, "user_id": user_id, "channel": channel}),
    )
}

pub fn read_marker_updated(
    workspace_id: Uuid,
    channel_id: Uuid,
    message_id: Uuid,
    user_id: Uuid,
) -> Envelope {
    event(
        "read_marker.updated",
        json!({"workspace_id": workspace_id, "channel_id": channel_id, "message_id": message_id, "user_id": user_id}),
    )
}

pub fn workspace_created(workspace: &Workspace) -> Envelope {
    event(
        "workspace.created",
        json!({"workspace_id": workspace.id, "workspace": workspace}),
    )
}

/// `kind` is `member_joined`, `member_left` or `member_updated`.
pub fn workspace_member(kind: &str, workspace_id: Uuid, member: &Member) -> Envelope {
    event(
        &format!("workspace.{kind}"),
        json!({"workspace_id": workspace_id, "user_id": member.user_id, "member": member}),
    )
}

pub fn invite_created(workspace_id: Uuid, code_hint: &str, created_by: Uuid) -> Envelope {
    event(
        "invite.created",
        json!({"workspace_id": workspace_id, "code_hint": code_hint, "created_by": created_by}),
    )
}

/// A file was uploaded; only its uploader can read it until it is shared.
pub fn file_uploaded(file: &FileObject) -> Envelope {
    event(
        "file.uploaded",
        json!({"workspace_id": file.workspace_id, "file_id": file.id, "uploader_id": file.uploader_id, "file": file}),
    )
}
