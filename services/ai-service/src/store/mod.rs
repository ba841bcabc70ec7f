//! ai-service's storage: the durable copy of its projection (members, channels, read markers,
//! messages with their embeddings) and its consumer position. One trait; the SQL is the same text
//! on both backends (sqlx-sqlite accepts `$n`, ids compare bytewise on both), so it is written
//! once in [`sql`] and instantiated for each pool type.

mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::Db;
use uuid::Uuid;

pub use self::sql::{PostgresStore, SqliteStore};

pub type StoreResult<T> = Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: String,
    pub archived: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub channel_id: Uuid,
    pub author_id: Uuid,
    pub thread_root_id: Option<Uuid>,
    pub text: String,
    pub created_at: i64,
}

/// A stored embedding and the model that made it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredVector {
    pub embedding: Option<Vec<u8>>,
    pub embedder: Option<String>,
}

/// A live message as an upsert left it: its id and what embedding it kept.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpsertedMessage {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub vector: StoredVector,
}

/// A read marker: `user_id` has read `channel_id` up to `message_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMarker {
    pub channel_id: Uuid,
    pub user_id: Uuid,
    pub message_id: Uuid,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotMessage {
    #[sqlx(flatten)]
    pub message: MessageRow,
    #[sqlx(flatten)]
    pub vector: StoredVector,
}

/// Everything the in-memory index is rebuilt from.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// (workspace, user, role)
    pub members: Vec<(Uuid, Uuid, String)>,
    pub channels: Vec<ChannelRow>,
    /// (channel, user)
    pub channel_members: Vec<(Uuid, Uuid)>,
    /// Live messages only.
    pub messages: Vec<SnapshotMessage>,
}

/// An embedding to store for a message whose text is still `text`.
#[derive(Debug, Clone)]
pub struct NewVector {
    pub id: Uuid,
    pub text: String,
    pub bytes: Vec<u8>,
}

/// A message's id and current text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageText {
    pub id: Uuid,
    pub text: String,
}

/// The storage of ai-service's projection.
#[async_trait]
pub trait AiStore: Send + Sync + 'static {
    /// Everything, for rebuilding the in-memory index at start-up.
    async fn snapshot(&self) -> StoreResult<Snapshot>;

    /// Records a workspace member or updates their role.
    async fn upsert_member(&self, workspace_id: Uuid, user_id: Uuid, role: &str) -> StoreResult<()>;
    /// Forgets a workspace member.
    async fn delete_member(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<()>;

    /// Records a channel or updates its name, kind and archived flag.
    async fn upsert_channel(&self, channel: &ChannelRow) -> StoreResult<()>;
    /// Adds (`joined`) or removes a channel member.
    async fn set_channel_member(&self, channel_id: Uuid, user_id: Uuid, joined: bool) -> StoreResult<()>;

    /// Stores messages' texts in one transaction, each keeping its embedding only if its text is
    /// unchanged. Returns the live ones with their stored embeddings: a message that is already
    /// a tombstone stays deleted and is left out. Ids must be distinct.
    async fn upsert_messages(&self, messages: &[MessageRow]) -> StoreResult<Vec<UpsertedMessage>>;
    /// Turns a message into a tombstone: no text, no embedding.
    async fn delete_message(&self, message: &MessageRow) -> StoreResult<()>;
    /// Stores embeddings, each only if its message still has the text it was computed from.
    async fn set_embeddings(&self, vectors: &[NewVector], embedder: &str) -> StoreResult<()>;
    /// How many live (not deleted) messages there are.
    async fn count_messages(&self) -> StoreResult<u64>;
    /// Up to `limit` live messages with ids above `after` (all of them from `Uuid::nil()`), in id
    /// order: pages for re-embedding everything without holding it all in memory.
    async fn message_texts_after(&self, after: Uuid, limit: u32) -> StoreResult<Vec<MessageText>>;

    /// A user's read marker in a channel.
    async fn read_marker(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<Uuid>>;
    /// Moves read markers forward (never back: events may be replayed), in one transaction.
    /// Each channel and user at most once.
    async fn set_read_markers(&self, markers: &[ReadMarker]) -> StoreResult<()>;

    /// The last bus position a consumer processed.
    async fn position(&self, name: &str) -> StoreResult<Option<String>>;
    /// Records the last bus position a consumer processed.
    async fn set_position(&self, name: &str, position: &str, now: i64) -> StoreResult<()>;
}

/// The store over an open database.
pub fn for_db(db: &Db) -> Arc<dyn AiStore> {
    match db {
        Db::Sqlite(pool) => Arc::new(SqliteStore::new(pool.clone())),
        Db::Postgres(pool) => Arc::new(PostgresStore::new(pool.clone())),
    }
}
