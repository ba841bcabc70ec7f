//! What the store takes and the rows it reads, with their conversion to the API's objects.

use echo_domain::time::rfc3339;
use uuid::Uuid;

use crate::mentions::Mentions;
use crate::model::{Channel, ChannelKind, FileObject, Member, Message, Role, Workspace};

#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    /// The id of its `general` channel.
    pub general_id: Uuid,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct NewInvite {
    pub code_hash: String,
    pub code_hint: String,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub now: i64,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRow {
    pub code_hash: String,
    pub code_hint: String,
    pub workspace_id: Uuid,
    pub workspace_name: String,
    pub created_by: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

impl InviteRow {
    pub fn usable(&self, now: i64) -> bool {
        self.expires_at > now && self.max_uses.is_none_or(|max| self.uses < max)
    }
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: ChannelKind,
    pub topic: String,
    pub created_by: Uuid,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct NewDm {
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Everyone in the DM, the opener included, sorted and without duplicates.
    pub member_ids: Vec<Uuid>,
    pub created_by: Uuid,
    pub now: i64,
}

impl NewDm {
    /// The canonical key of a set of people: their sorted ids.
    pub fn key(&self) -> String {
        dm_key(&self.member_ids)
    }
}

pub fn dm_key(sorted_ids: &[Uuid]) -> String {
    sorted_ids
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Channel fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub archived: Option<bool>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelMembership {
    pub joined_at: i64,
    pub last_read_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    /// The thread's root (never a reply: replies to replies are attached to the root).
    pub thread_root_id: Option<Uuid>,
    pub client_msg_id: Option<String>,
    /// Already restricted to workspace members.
    pub mentions: Mentions,
    /// Files to attach, already checked to be the author's own in this workspace.
    pub file_ids: Vec<Uuid>,
    pub now: i64,
}

impl NewMessage {
    /// The message as just posted, without files: no replies or reactions yet.
    pub fn posted(&self) -> Message {
        MessageRow {
            id: self.id,
            channel_id: self.channel_id,
            workspace_id: self.workspace_id,
            author_id: self.author_id,
            text: self.text.clone(),
            thread_root_id: self.thread_root_id,
            client_msg_id: self.client_msg_id.clone(),
            mention_channel: self.mentions.channel,
            mention_here: self.mentions.here,
            created_at: self.now,
            edited_at: None,
            deleted: false,
            reply_count: 0,
        }
        .into_message(Vec::new(), self.mentions.user_ids.clone(), Vec::new())
    }
}

/// A page request over ids.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub before: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: u32,
}

/// A message with where it lives, for changes that publish events about it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub workspace_id: Uuid,
    pub channel_id: Uuid,
    pub message_id: Uuid,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkspaceRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
    pub role: String,
}

impl From<WorkspaceRow> for Workspace {
    fn from(row: WorkspaceRow) -> Self {
        Workspace {
            id: row.id,
            name: row.name,
            created_at: rfc3339(row.created_at),
            role: Role::from_db(&row.role),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub role: String,
    pub joined_at: i64,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        Member {
            user_id: row.user_id,
            role: Role::from_db(&row.role),
            joined_at: rfc3339(row.joined_at),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Option<String>,
    pub kind: String,
    pub topic: String,
    pub archived: bool,
    pub created_by: Uuid,
    pub created_at: i64,
    pub dm_key: Option<String>,
}

/// A channel with one workspace member's place in it, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StandingRow {
    #[sqlx(flatten)]
    pub channel: ChannelRow,
    pub role: String,
    pub is_member: bool,
}

/// A [`StandingRow`] with the user it is of.
#[derive(Debug, sqlx::FromRow)]
pub struct UserStandingRow {
    pub user_id: Uuid,
    #[sqlx(flatten)]
    pub standing: StandingRow,
}

/// A channel with one workspace member's place in it: their role in the channel's workspace and
/// whether they joined the channel.
#[derive(Debug, Clone)]
pub struct ChannelStanding {
    pub channel: Channel,
    pub role: Role,
    pub is_member: bool,
}

impl From<StandingRow> for ChannelStanding {
    fn from(row: StandingRow) -> Self {
        ChannelStanding {
            channel: row.channel.into(),
            role: Role::from_db(&row.role),
            is_member: row.is_member,
        }
    }
}

impl From<ChannelRow> for Channel {
    fn from(row: ChannelRow) -> Self {
        let kind = ChannelKind::from_db(&row.kind);
        let member_ids = row
            .dm_key
            .filter(|_| kind.is_dm())
            .map(|key| key.split(',').filter_map(|id| Uuid::parse_str(id).ok()).collect());
        Channel {
            id: row.id,
            workspace_id: row.workspace_id,
            name: row.name.unwrap_or_default(),
            kind,
            topic: row.topic,
            archived: row.archived,
            created_at: rfc3339(row.created_at),
            created_by: row.created_by,
            member_ids,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelListRow {
    #[sqlx(flatten)]
    pub channel: ChannelRow,
    pub is_member: bool,
    pub unread_count: i64,
    pub mention_count: i64,
    pub last_read_id: Option<Uuid>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub thread_root_id: Option<Uuid>,
    pub client_msg_id: Option<String>,
    pub mention_channel: bool,
    pub mention_here: bool,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub reply_count: i64,
}

impl MessageRow {
    /// The contract object, given the reactions and mentions loaded alongside.
    pub fn into_message(
        self,
        reactions: Vec<crate::model::Reaction>,
        mentions: Vec<Uuid>,
        files: Vec<FileObject>,
    ) -> Message {
        // A tombstone shows nothing of what it was.
        let (reactions, mentions, files) = if self.deleted {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            (reactions, mentions, files)
        };
        Message {
            id: self.id,
            channel_id: self.channel_id,
            author_id: self.author_id,
            text: if self.deleted { String::new() } else { self.text },
            thread_root_id: self.thread_root_id,
            reply_count: self.reply_count,
            reactions,
            files,
            mentions,
            mentions_channel: self.mention_channel && !self.deleted,
            mentions_here: self.mention_here && !self.deleted,
            created_at: rfc3339(self.created_at),
            edited_at: self.edited_at.map(rfc3339),
            deleted: self.deleted,
            client_msg_id: self.client_msg_id,
        }
    }
}

/// An uploaded file's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub uploader_id: Uuid,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub has_thumbnail: bool,
    pub purpose: String,
    pub created_at: i64,
    pub detached_at: Option<i64>,
}

impl FileRow {
    pub fn to_object(&self) -> FileObject {
        FileObject {
            id: self.id,
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
            url: format!("/api/v1/files/{}/content", self.id),
            thumbnail_url: self
                .has_thumbnail
                .then(|| format!("/api/v1/files/{}/thumbnail", self.id)),
            workspace_id: self.workspace_id,
            uploader_id: self.uploader_id,
            purpose: self.purpose.clone(),
            created_at: rfc3339(self.created_at),
        }
    }
}

/// A file to record after its bytes are stored.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub row: FileRow,
    /// The head of a text file, for search.
    pub text_content: String,
}

/// What deleting a message left behind: the tombstone, and files no message uses any more
/// (their rows are gone; their bytes are the caller's to remove from the object store).
#[derive(Debug, Clone)]
pub struct DeletedMessage {
    pub tombstone: Message,
    pub freed_files: Vec<Uuid>,
}

/// What a file deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileDeletion {
    /// Not the caller's, or unknown.
    NotFound,
    /// Messages still show it: it stays until they are deleted.
    Detached,
    /// The row is gone; remove the bytes.
    Freed,
}

/// A search result before highlighting: the message and what was searched of it.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub message: Message,
    pub body: String,
}

/// A file row with the message it is attached to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachedFileRow {
    pub message_id: Uuid,
    #[sqlx(flatten)]
    pub file: FileRow,
}

/// A message row with its search text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchRow {
    #[sqlx(flatten)]
    pub message: MessageRow,
    pub body: String,
}
