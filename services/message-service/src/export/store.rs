//! What an export reads: a workspace's people, channels, files, and its messages a page at a
//! time with their reactions, earlier versions and files.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use echo_db::Db;
use echo_domain::time::rfc3339;
use uuid::Uuid;

use super::{ChannelRecord, EditRecord, FileRecord, MessageRecord, Person, ReactionRecord, file_path};
use crate::model::{ChannelKind, Role};
use crate::store::StoreResult;

#[derive(sqlx::FromRow)]
struct PersonRow {
    user_id: Uuid,
    role: Option<String>,
    joined_at: Option<i64>,
    display_name: Option<String>,
    email: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: Uuid,
    name: Option<String>,
    kind: String,
    topic: String,
    archived: bool,
    created_by: Uuid,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    author_id: Uuid,
    text: String,
    thread_root_id: Option<Uuid>,
    created_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: Uuid,
    name: String,
    content_type: String,
    size: i64,
    uploader_id: Uuid,
    created_at: i64,
}

#[async_trait]
pub trait ExportStore: Send + Sync + 'static {
    /// The workspace's name and creation time.
    async fn workspace(&self, workspace_id: Uuid) -> StoreResult<Option<(String, i64)>>;
    /// Its members, and anyone else its messages or reactions name (former members).
    async fn people(&self, workspace_id: Uuid) -> StoreResult<Vec<Person>>;
    /// Every channel, private channel and DM, with members, oldest first.
    async fn channels(&self, workspace_id: Uuid) -> StoreResult<Vec<ChannelRecord>>;
    /// How many messages (tombstones included) the workspace holds.
    async fn message_count(&self, workspace_id: Uuid) -> StoreResult<u64>;
    /// Up to `limit` of a channel's messages after `after`, oldest first, replies included.
    async fn messages(
        &self,
        channel_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// The files live messages of the workspace show.
    async fn files(&self, workspace_id: Uuid) -> StoreResult<Vec<FileRecord>>;
}

/// Groups `(id, value)` rows by id, keeping their order.
fn grouped<T>(rows: Vec<(Uuid, T)>) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for (id, value) in rows {
        out.entry(id).or_default().push(value);
    }
    out
}

macro_rules! impl_export_store {
    ($store:ident, $pool:ty) => {
        pub struct $store {
            pool: $pool,
        }

        #[async_trait]
        impl ExportStore for $store {
            async fn workspace(&self, workspace_id: Uuid) -> StoreResult<Option<(String, i64)>> {
                Ok(sqlx::query_as("SELECT name, created_at FROM workspaces WHERE id = $1")
                    .bind(workspace_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn people(&self, workspace_id: Uuid) -> StoreResult<Vec<Person>> {
                let rows: Vec<PersonRow> = sqlx::query_as(
                    "SELECT p.user_id, wm.role, wm.joined_at, d.display_name, e.email
                     FROM (SELECT user_id FROM workspace_members WHERE workspace_id = $1
                           UNION SELECT author_id FROM messages WHERE workspace_id = $1
                           UNION SELECT r.user_id FROM reactions r JOIN messages m ON m.id = r.message_id
                                 WHERE m.workspace_id = $1) p
                     LEFT JOIN workspace_members wm ON wm.workspace_id = $1 AND wm.user_id = p.user_id
                     LEFT JOIN user_directory d ON d.user_id = p.user_id
                     LEFT JOIN notification_emails e ON e.user_id = p.user_id
                     ORDER BY wm.joined_at IS NULL, wm.joined_at, p.user_id",
                )
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| Person {
                        id: r.user_id,
                        display_name: r.display_name.unwrap_or_default(),
                        email: r.email,
                        role: r.role.as_deref().map(Role::from_db),
                        joined_at: r.joined_at.map(rfc3339),
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn channels(&self, workspace_id: Uuid) -> StoreResult<Vec<ChannelRecord>> {
                let rows: Vec<ChannelRow> = sqlx::query_as(
                    "SELECT id, name, kind, topic, archived, created_by, created_at FROM channels
                     WHERE workspace_id = $1 ORDER BY created_at, id",
                )
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
                let members: Vec<(Uuid, Uuid)> = sqlx::query_as(
                    "SELECT cm.channel_id, cm.user_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
                     WHERE c.workspace_id = $1 ORDER BY cm.joined_at, cm.user_id",
                )
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
                let mut members = grouped(members);
                Ok(rows
                    .into_iter()
                    .map(|r| ChannelRecord {
                        members: members.remove(&r.id).unwrap_or_default(),
                        id: r.id,
                        name: r.name.unwrap_or_default(),
                        kind: ChannelKind::from_db(&r.kind),
                        topic: r.topic,
                        archived: r.archived,
                        created_by: r.created_by,
                        created_at: rfc3339(r.created_at),
                    })
                    .collect())
            }

            async fn message_count(&self, workspace_id: Uuid) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE workspace_id = $1")
                    .bind(workspace_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
            async fn messages(&self, channel_id: Uuid, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<MessageRecord>> {
                let rows: Vec<MessageRow> = sqlx::query_as(
                    "SELECT id, author_id, text, thread_root_id, created_at, edited_at, deleted FROM messages
                     WHERE channel_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
                )
                .bind(channel_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
                    return Ok(Vec::new());
                };
                // The page's reactions, versions and files, each in one query over the page's id range.
                let reactions: Vec<(Uuid, String, Uuid)> = sqlx::query_as(
                    "SELECT x.message_id, x.emoji, x.user_id FROM reactions x JOIN messages m ON m.id = x.message_id
                     WHERE m.channel_id = $1 AND m.id >= $2 AND m.id <= $3 ORDER BY x.message_id, x.created_at, x.emoji",
                )
                .bind(channel_id)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
                let versions: Vec<(Uuid, String, i64)> = sqlx::query_as(
                    "SELECT x.message_id, x.text, x.written_at FROM message_versions x JOIN messages m ON m.id = x.message_id
                     WHERE m.channel_id = $1 AND m.id >= $2 AND m.id <= $3 ORDER BY x.message_id, x.version",
                )
                .bind(channel_id)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
                let files: Vec<(Uuid, Uuid)> = sqlx::query_as(
                    "SELECT x.message_id, x.file_id FROM message_files x JOIN messages m ON m.id = x.message_id
                     WHERE m.channel_id = $1 AND m.id >= $2 AND m.id <= $3 ORDER BY x.message_id, x.position",
                )
                .bind(channel_id)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
                let mut reactions = grouped(reactions.into_iter().map(|(m, emoji, user)| (m, (emoji, user))).collect());
                let mut versions = grouped(versions.into_iter().map(|(m, text, at)| (m, (text, at))).collect());
                let mut files = grouped(files);
                Ok(rows
                    .into_iter()
                    .map(|r| MessageRecord {
                        reactions: group_reactions(reactions.remove(&r.id).unwrap_or_default()),
                        edits: versions
                            .remove(&r.id)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(text, at)| EditRecord { text, written_at: rfc3339(at) })
                            .collect(),
                        files: files.remove(&r.id).unwrap_or_default(),
                        id: r.id,
                        author_id: r.author_id,
                        text: r.text,
                        created_at: rfc3339(r.created_at),
                        edited_at: r.edited_at.map(rfc3339),
                        thread_root_id: r.thread_root_id,
                        deleted: r.deleted,
                    })
                    .collect())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn files(&self, workspace_id: Uuid) -> StoreResult<Vec<FileRecord>> {
                let rows: Vec<FileRow> = sqlx::query_as(
                    "SELECT f.id, f.name, f.content_type, f.size, f.uploader_id, f.created_at FROM files f
                     WHERE f.id IN (SELECT mf.file_id FROM message_files mf JOIN messages m ON m.id = mf.message_id
                                    WHERE m.workspace_id = $1 AND m.deleted = FALSE)
                     ORDER BY f.id",
                )
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| FileRecord {
                        path: file_path(r.id, &r.name),
                        id: r.id,
                        name: r.name,
                        content_type: r.content_type,
                        size: u64::try_from(r.size).unwrap_or(0),
                        uploader_id: r.uploader_id,
                        created_at: rfc3339(r.created_at),
                    })
                    .collect())
            }
        }
    };
}

/// `(emoji, user)` pairs in reaction order, as one record per emoji in order of first use.
fn group_reactions(pairs: Vec<(String, Uuid)>) -> Vec<ReactionRecord> {
    let mut out: Vec<ReactionRecord> = Vec::new();
    for (emoji, user) in pairs {
        match out.iter_mut().find(|r| r.emoji == emoji) {
            Some(record) => record.users.push(user),
            None => out.push(ReactionRecord {
                emoji,
                users: vec![user],
            }),
        }
    }
    out
}

impl_export_store!(SqliteExport, sqlx::SqlitePool);
impl_export_store!(PostgresExport, sqlx::PgPool);

pub fn open(db: &Db) -> Arc<dyn ExportStore> {
    match db {
        Db::Sqlite(pool) => Arc::new(SqliteExport { pool: pool.clone() }),
        Db::Postgres(pool) => Arc::new(PostgresExport { pool: pool.clone() }),
    }
}
