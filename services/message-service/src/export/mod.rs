//! Workspace export and import: everything a workspace said, in a ZIP whose layout is documented
//! in `docs/export.md` and mirrored by the types below.
//!
//! ```text
//! export.json                          what this is: format, version, the workspace, counts
//! people.json                          members, and former members who still appear in history
//! channels.json                        channels, private channels and DMs, with their members
//! channels/<channel id>/messages.jsonl one message per line, oldest first (a thread's root
//!                                      before its replies), with reactions, edit history, files
//! files.json                           the files messages show
//! files/<file id>/<name>               their bytes
//! ```
//!
//! [`store`] reads a workspace a page at a time, [`archive`] writes the ZIP as it goes (to a
//! file, or to an HTTP response through [`http`]), and [`import`] reads one back into a
//! workspace, here or on another Echo.

pub mod archive;
pub mod http;
pub mod import;
pub mod store;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{ChannelKind, Role};

/// `export.json`'s `format`.
pub const FORMAT: &str = "echo-export";
/// `export.json`'s `version`: changes only when a reader of the old layout would misread the new.
pub const VERSION: u32 = 1;

/// `export.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// RFC 3339.
    pub exported_at: String,
    pub workspace: WorkspaceRecord,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub people: u64,
    pub channels: u64,
    pub messages: u64,
    pub files: u64,
}

/// One entry of `people.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    /// How an import recognises them on another Echo; absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their role, or absent for someone no longer a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<String>,
}

/// One entry of `channels.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRecord {
    pub id: Uuid,
    /// Empty for DMs.
    pub name: String,
    pub kind: ChannelKind,
    pub topic: String,
    pub archived: bool,
    pub created_by: Uuid,
    pub created_at: String,
    pub members: Vec<Uuid>,
}

/// One line of `channels/<id>/messages.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: Uuid,
    pub author_id: Uuid,
    /// The current text, with mentions as `<@user id>` (ids of `people.json`); empty when deleted.
    pub text: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// The root of the thread this is a reply in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_root_id: Option<Uuid>,
    /// A tombstone, kept so the replies of a deleted root keep their thread.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionRecord>,
    /// Earlier texts, oldest first, each with when it was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditRecord>,
    /// Ids of `files.json`, in the order the message shows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReactionRecord {
    pub emoji: String,
    /// Who reacted, first first.
    pub users: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRecord {
    pub text: String,
    pub written_at: String,
}

/// One entry of `files.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub uploader_id: Uuid,
    pub created_at: String,
    /// Where its bytes are in the archive.
    pub path: String,
}

/// The archive path of a channel's messages.
pub fn messages_path(channel_id: Uuid) -> String {
    format!("channels/{channel_id}/messages.jsonl")
}

/// The archive path of a file's bytes: its id keeps names unique, the name keeps them readable.
pub fn file_path(file_id: Uuid, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("files/{file_id}/{name}")
}

/// An RFC 3339 time of the export back in milliseconds.
pub fn parse_time(field: &str, raw: &str) -> anyhow::Result<i64> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.timestamp_millis())
        .map_err(|e| anyhow::anyhow!("{field}: {raw:?} is not an RFC 3339 time ({e})"))
}
