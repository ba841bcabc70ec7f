//! The objects message-service shows, in the contract's shapes. The HTTP answers and the event
//! payloads use the same types, so a client sees one shape whichever way an object reaches it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A workspace role, most powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Guest,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }

    /// Unknown text (only from a hand-edited database) reads as the least powerful role.
    pub fn from_db(raw: &str) -> Self {
        match raw {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "member" => Role::Member,
            _ => Role::Guest,
        }
    }

    /// Owners and admins manage the workspace.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Public,
    Private,
    Dm,
    GroupDm,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Dm => "dm",
            ChannelKind::GroupDm => "group_dm",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "public" => ChannelKind::Public,
            "dm" => ChannelKind::Dm,
            "group_dm" => ChannelKind::GroupDm,
            _ => ChannelKind::Private,
        }
    }

    pub fn is_dm(self) -> bool {
        matches!(self, ChannelKind::Dm | ChannelKind::GroupDm)
    }
}

/// `workspace`: as its member sees it, with their role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub role: Role,
    pub joined_at: String,
}

/// `channel`. DMs have an empty name and list their members in `member_ids`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: ChannelKind,
    pub topic: String,
    pub archived: bool,
    pub created_at: String,
    pub created_by: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub member_ids: Option<Vec<Uuid>>,
}

/// A channel in the caller's channel list, with the caller's read state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelListItem {
    #[serde(flatten)]
    pub channel: Channel,
    pub is_member: bool,
    pub unread_count: i64,
    pub mention_count: i64,
    pub last_read_message_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelMember {
    pub user_id: Uuid,
    pub joined_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub user_ids: Vec<Uuid>,
}

/// `message`. A deleted message is a tombstone: no text, reactions, files or mentions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub thread_root_id: Option<Uuid>,
    pub reply_count: i64,
    pub reactions: Vec<Reaction>,
    /// The files shared with the message, in the order they were attached.
    pub files: Vec<FileObject>,
    pub mentions: Vec<Uuid>,
    pub mentions_channel: bool,
    pub mentions_here: bool,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    pub client_msg_id: Option<String>,
}

/// An earlier version of an edited message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub text: String,
    /// When this version was written (the message's creation for the first one).
    pub edited_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pin {
    pub message: Message,
    pub pinned_by: Uuid,
    pub pinned_at: String,
}

/// `file`: an uploaded file as its readers see it. `url` serves the bytes (with the bearer
/// token); images also have a `thumbnail_url`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileObject {
    pub id: Uuid,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub thumbnail_url: Option<String>,
    pub workspace_id: Option<Uuid>,
    pub uploader_id: Uuid,
    /// `message` (shared in messages) or `avatar` (a profile picture).
    pub purpose: String,
    pub created_at: String,
}
