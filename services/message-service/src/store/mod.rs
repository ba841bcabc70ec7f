//! message-service's storage: one trait, one implementation per backend. The SQL is the same text
//! on both (sqlx-sqlite accepts `$n` placeholders, instants are integer milliseconds, ids compare
//! bytewise on both so UUIDv7 order is time order), so it is written once in [`sql`] and
//! instantiated for each pool type.
//!
//! Every change enqueues its events in the same transaction (the outbox), so an event exists if and
//! only if its change committed. Unread and mention counts are never stored: they are counted from
//! `messages`, `message_mentions` and each member's read marker with indexed queries, so edits,
//! deletes and leaves cannot leave a stale counter behind.

mod group_commit;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod standings;

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::{Db, Migrations};
use uuid::Uuid;

pub use self::group_commit::PostQueue;
pub use self::postgres::PostgresStore;
pub use self::rows::*;
pub use self::sqlite::SqliteStore;
pub use self::standings::StandingReader;
use crate::mentions::Mentions;
use crate::model::{Channel, ChannelListItem, ChannelMember, Member, Message, Pin, Role, Version, Workspace};
use crate::search::query::SearchQuery;
use crate::search::sql::{Dialect, Plan, Resolved};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("./migrations/sqlite"),
    postgres: &sqlx::migrate!("./migrations/postgres"),
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a channel with this name already exists")]
    NameTaken,
    #[error("the workspace must keep at least one owner")]
    LastOwner,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Outbox(#[from] echo_events::BusError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Rows per multi-row statement: 500 rows of up to 10 columns stay well under the bind limits of
/// both backends (32,766 in SQLite, 65,535 in PostgreSQL).
pub const ROWS_PER_STATEMENT: usize = 500;

/// The storage of workspaces, channels and messages.
#[async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Creates a workspace with its owner and its `general` channel.
    async fn create_workspace(&self, new: &NewWorkspace) -> StoreResult<Workspace>;
    /// A workspace as `user_id` sees it; None unless they are a member.
    async fn workspace(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Workspace>>;
    /// The workspaces `user_id` is in, oldest first.
    async fn workspaces_of(&self, user_id: Uuid) -> StoreResult<Vec<Workspace>>;
    /// One membership of a workspace.
    async fn member(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>>;
    /// Every member of a workspace, in joining order.
    async fn members(&self, workspace_id: Uuid) -> StoreResult<Vec<Member>>;
    /// Changes a member's role; [`StoreError::LastOwner`] if no owner would remain.
    async fn set_role(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
        role: Role,
        actor: Uuid,
    ) -> StoreResult<Option<Member>>;
    /// Removes a member from the workspace and every channel of it; false if not a member.
    async fn remove_member(&self, workspace_id: Uuid, user_id: Uuid, actor: Uuid) -> StoreResult<bool>;

    /// Stores an invite (by code hash).
    async fn create_invite(&self, invite: &NewInvite) -> StoreResult<()>;
    /// An invite by code hash, usable or not.
    async fn invite(&self, code_hash: &str) -> StoreResult<Option<InviteRow>>;
    /// Uses an invite: joins the workspace as member and its `general`; None if the invite is
    /// unknown, expired or used up. A member accepting again changes nothing and uses nothing.
    async fn accept_invite(&self, code_hash: &str, user_id: Uuid, now: i64)
    -> StoreResult<Option<Workspace>>;

    /// Creates a public or private channel with its creator as member; [`StoreError::NameTaken`].
    async fn create_channel(&self, new: &NewChannel) -> StoreResult<Channel>;
    /// The DM of exactly these people, created if needed; true when it was created.
    async fn open_dm(&self, new: &NewDm) -> StoreResult<(Channel, bool)>;
    /// A channel by id.
    async fn channel(&self, channel_id: Uuid) -> StoreResult<Option<Channel>>;
    /// A channel by id with the user's workspace role and channel membership; none when either
    /// is not there or the user is not in the channel's workspace.
    async fn channel_standing(
        &self,
        channel_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<ChannelStanding>> {
        let found = self.channel_standings(&[(channel_id, user_id)]).await?;
        Ok(found.into_iter().next().map(|(_, standing)| standing))
    }
    /// [`Self::channel_standing`] of many channels and users in one query, each found one with
    /// its user.
    async fn channel_standings(&self, wanted: &[(Uuid, Uuid)]) -> StoreResult<Vec<(Uuid, ChannelStanding)>>;
    /// The channels of a workspace `user_id` sees (theirs, and public ones if `include_public`),
    /// with their read state.
    async fn channel_list(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelListItem>>;
    /// Renames, re-topics or (un)archives a channel; [`StoreError::NameTaken`].
    async fn update_channel(
        &self,
        channel_id: Uuid,
        patch: &ChannelPatch,
        actor: Uuid,
    ) -> StoreResult<Option<Channel>>;
    /// Adds a member, their read marker at the newest message; false if already a member.
    async fn join_channel(&self, channel_id: Uuid, user_id: Uuid, now: i64) -> StoreResult<bool>;
    /// Removes a member; false if not a member.
    async fn leave_channel(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<bool>;
    /// A user's membership of a channel.
    async fn channel_membership(
        &self,
        channel_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<ChannelMembership>>;
    /// The members of a channel, in joining order.
    async fn channel_members(&self, channel_id: Uuid) -> StoreResult<Vec<ChannelMember>>;
    /// Moves a member's read marker forward to `message_id`; false if it was already there or past.
    async fn mark_read(&self, channel_id: Uuid, user_id: Uuid, message_id: Uuid) -> StoreResult<bool>;

    /// Posts messages (and replies) in one transaction, answering each in the batch's order. A
    /// repeated `client_msg_id` of the same author returns the first message and false.
    async fn post_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<(Message, bool)>>;
    /// Posts one message; see [`post_messages`](Self::post_messages).
    async fn post_message(&self, new: &NewMessage) -> StoreResult<(Message, bool)> {
        let mut posted = self.post_messages(std::slice::from_ref(new)).await?;
        Ok(posted.pop().ok_or(sqlx::Error::RowNotFound)?)
    }
    /// A message by id, hydrated, with its workspace.
    async fn message(&self, message_id: Uuid) -> StoreResult<Option<(Message, Uuid)>>;
    /// A channel's messages (not replies), newest first, and whether more lie beyond the page.
    async fn history(&self, channel_id: Uuid, page: &Page) -> StoreResult<(Vec<Message>, bool)>;
    /// A thread's replies, oldest first, and whether more lie beyond the page.
    async fn replies(&self, root_id: Uuid, page: &Page) -> StoreResult<(Vec<Message>, bool)>;
    /// Replaces a message's text, keeping the old one as a version; None if gone or deleted.
    async fn edit_message(
        &self,
        message_id: Uuid,
        text: &str,
        mentions: &Mentions,
        now: i64,
    ) -> StoreResult<Option<Message>>;
    /// Earlier versions of a message, oldest first.
    async fn versions(&self, message_id: Uuid) -> StoreResult<Vec<Version>>;
    /// Turns a message into a tombstone, erasing its text, versions, mentions, reactions, pins,
    /// search entry and file attachments; files no other message uses are freed.
    async fn delete_message(
        &self,
        message_id: Uuid,
        now: i64,
        actor: Uuid,
    ) -> StoreResult<Option<DeletedMessage>>;
    /// Adds (`on`) or removes a reaction; false if nothing changed.
    async fn set_reaction(
        &self,
        target: &Target,
        emoji: &str,
        user_id: Uuid,
        on: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// Pins (`on`) or unpins a message; false if nothing changed.
    async fn set_pin(&self, target: &Target, user_id: Uuid, on: bool, now: i64) -> StoreResult<bool>;
    /// A channel's pins, newest first.
    async fn pins(&self, channel_id: Uuid) -> StoreResult<Vec<Pin>>;

    /// Unread replies and mentions in a thread `user_id` follows; None if they do not (or unfollowed it).
    async fn thread_unread(&self, root_id: Uuid, user_id: Uuid) -> StoreResult<Option<(i64, i64)>>;
    /// Moves a follower's thread read marker forward; false if it did not move.
    async fn mark_thread_read(&self, root_id: Uuid, user_id: Uuid, message_id: Uuid) -> StoreResult<bool>;

    /// The workspaces a user is in, and the channels they are a member of (for the real-time hub).
    async fn memberships(&self, user_id: Uuid) -> StoreResult<(Vec<Uuid>, Vec<Uuid>)>;
    /// The members of a channel.
    async fn channel_member_ids(&self, channel_id: Uuid) -> StoreResult<Vec<Uuid>>;
    /// The members of a workspace.
    async fn workspace_member_ids(&self, workspace_id: Uuid) -> StoreResult<Vec<Uuid>>;
    /// Whether a user may read a channel: a member of it, or a non-guest member of its workspace
    /// when it is public.
    async fn can_read_channel(&self, user_id: Uuid, channel_id: Uuid) -> StoreResult<bool>;

    /// Records an uploaded file and enqueues `file.uploaded`.
    async fn create_file(&self, new: &NewFile) -> StoreResult<()>;
    /// A file by id, whoever may read it.
    async fn file(&self, file_id: Uuid) -> StoreResult<Option<FileRow>>;
    /// A file `user_id` may read: their own (not deleted by them), an avatar of someone sharing a
    /// workspace with them, or one shared in a live message of a channel they can read.
    async fn readable_file(&self, file_id: Uuid, user_id: Uuid) -> StoreResult<Option<FileRow>>;
    /// The uploader's files (not deleted by them), newest first, optionally of one workspace.
    async fn files_of(
        &self,
        uploader_id: Uuid,
        workspace_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<FileRow>>;
    /// Deletes the uploader's file: freed when no message uses it, else detached.
    async fn delete_file(&self, file_id: Uuid, uploader_id: Uuid) -> StoreResult<FileDeletion>;

    /// Which SQL dialect search plans must be built in.
    fn dialect(&self) -> Dialect;
    /// Looks up what a search query's channel and person names and partial words stand for.
    async fn resolve_search(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
        query: &SearchQuery,
    ) -> StoreResult<Resolved>;
    /// Rebuilds every message's search entry when the index is older than the code's
    /// ([`crate::search::index::VERSION`]); returns how many were rebuilt.
    async fn rebuild_search_index(&self) -> StoreResult<u64>;
    /// Runs a search plan and returns its messages, in the plan's order, with their searched text.
    async fn search(&self, plan: &Plan) -> StoreResult<Vec<SearchHit>>;
    /// Records a user's display name (from user-service's events) for `from:@name`.
    async fn upsert_user_name(&self, user_id: Uuid, display_name: &str) -> StoreResult<()>;
}

/// Opens the store the URL names and migrates it.
pub async fn open(url: &str) -> anyhow::Result<(Db, Arc<dyn MessageStore>)> {
    let db = Db::connect(url, &MIGRATIONS, Default::default()).await?;
    let store: Arc<dyn MessageStore> = match &db {
        Db::Sqlite(pool) => Arc::new(SqliteStore::new(pool.clone())),
        Db::Postgres(pool) => Arc::new(PostgresStore::new(pool.clone())),
    };
    let rebuilt = store.rebuild_search_index().await?;
    if rebuilt > 0 {
        tracing::info!(messages = rebuilt, "search index rebuilt");
    }
    Ok((db, store))
}
