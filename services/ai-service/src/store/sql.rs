//! The SQL of [`AiStore`](super::AiStore), written once for both backends.

macro_rules! impl_ai_store {
    ($store:ident, $pool:ty, $db:ty) => {
        pub struct $store {
            pool: $pool,
        }

        impl $store {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait::async_trait]
        impl super::AiStore for $store {
            #[tracing::instrument(skip_all)]
            async fn snapshot(&self) -> StoreResult<Snapshot> {
                let members = sqlx::query_as("SELECT workspace_id, user_id, role FROM ai_workspace_members").fetch_all(&self.pool).await?;
                let channels = sqlx::query_as("SELECT id, workspace_id, name, kind, archived FROM ai_channels").fetch_all(&self.pool).await?;
                let channel_members = sqlx::query_as("SELECT channel_id, user_id FROM ai_channel_members").fetch_all(&self.pool).await?;
                let messages = sqlx::query_as(
                    "SELECT id, workspace_id, channel_id, author_id, thread_root_id, text, created_at, embedding, embedder
                     FROM ai_messages WHERE deleted = FALSE ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(Snapshot { members, channels, channel_members, messages })
            }

            #[tracing::instrument(skip_all, fields(%workspace_id, %user_id))]
            async fn upsert_member(&self, workspace_id: Uuid, user_id: Uuid, role: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO ai_workspace_members (workspace_id, user_id, role) VALUES ($1, $2, $3)
                     ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(workspace_id)
                .bind(user_id)
                .bind(role)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(%workspace_id, %user_id))]
            async fn delete_member(&self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<()> {
                sqlx::query("DELETE FROM ai_workspace_members WHERE workspace_id = $1 AND user_id = $2")
                    .bind(workspace_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(channel_id = %channel.id))]
            async fn upsert_channel(&self, channel: &ChannelRow) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO ai_channels (id, workspace_id, name, kind, archived) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, archived = excluded.archived",
                )
                .bind(channel.id)
                .bind(channel.workspace_id)
                .bind(&channel.name)
                .bind(&channel.kind)
                .bind(channel.archived)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(%channel_id, %user_id, joined))]
            async fn set_channel_member(&self, channel_id: Uuid, user_id: Uuid, joined: bool) -> StoreResult<()> {
                let sql = if joined {
                    "INSERT INTO ai_channel_members (channel_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM ai_channel_members WHERE channel_id = $1 AND user_id = $2"
                };
                sqlx::query(sql).bind(channel_id).bind(user_id).execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(count = messages.len()))]
            async fn upsert_messages(&self, messages: &[MessageRow]) -> StoreResult<Vec<UpsertedMessage>> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                let mut live = Vec::with_capacity(messages.len());
                for chunk in messages.chunks(ROWS_PER_STATEMENT) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO ai_messages (id, workspace_id, channel_id, author_id, thread_root_id, text, created_at, deleted) ",
                    );
                    upsert.push_values(chunk, |mut row, m| {
                        row.push_bind(m.id).push_bind(m.workspace_id).push_bind(m.channel_id).push_bind(m.author_id)
                            .push_bind(m.thread_root_id).push_bind(&m.text).push_bind(m.created_at).push("FALSE");
                    });
                    upsert.push(
                        " ON CONFLICT (id) DO UPDATE SET
                             text = excluded.text,
                             embedding = CASE WHEN ai_messages.text = excluded.text THEN ai_messages.embedding ELSE NULL END,
                             embedder = CASE WHEN ai_messages.text = excluded.text THEN ai_messages.embedder ELSE NULL END
                         WHERE ai_messages.deleted = FALSE
                         RETURNING id, embedding, embedder",
                    );
                    live.extend(upsert.build_query_as::<UpsertedMessage>().fetch_all(&mut *tx).await?);
                }
                tx.commit().await?;
                Ok(live)
            }

            #[tracing::instrument(skip_all, fields(message_id = %message.id))]
            async fn delete_message(&self, message: &MessageRow) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO ai_messages (id, workspace_id, channel_id, author_id, thread_root_id, text, created_at, deleted)
                     VALUES ($1, $2, $3, $4, NULL, '', $5, TRUE)
                     ON CONFLICT (id) DO UPDATE SET deleted = TRUE, text = '', embedding = NULL, embedder = NULL",
                )
                .bind(message.id)
                .bind(message.workspace_id)
                .bind(message.channel_id)
                .bind(message.author_id)
                .bind(message.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(count = vectors.len()))]
            async fn set_embeddings(&self, vectors: &[NewVector], embedder: &str) -> StoreResult<()> {
                // One statement per chunk; a message edited or deleted meanwhile keeps no vector
                // (its text no longer matches), and its next version is embedded in turn.
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                for chunk in vectors.chunks(ROWS_PER_STATEMENT) {
                    let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE ai_messages SET embedding = v.column1, embedder = ");
                    update.push_bind(embedder).push(" FROM (");
                    update.push_values(chunk, |mut row, vector| {
                        row.push_bind(&vector.bytes).push_bind(vector.id).push_bind(&vector.text);
                    });
                    update.push(") AS v WHERE ai_messages.id = v.column2 AND ai_messages.text = v.column3 AND ai_messages.deleted = FALSE");
                    update.build().execute(&mut *tx).await?;
                }
                tx.commit().await
            }

            #[tracing::instrument(skip_all)]
            async fn count_messages(&self) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ai_messages WHERE deleted = FALSE")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            #[tracing::instrument(skip_all, fields(%after, limit))]
            async fn message_texts_after(&self, after: Uuid, limit: u32) -> StoreResult<Vec<MessageText>> {
                sqlx::query_as("SELECT id, text FROM ai_messages WHERE deleted = FALSE AND id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }

            #[tracing::instrument(skip_all, fields(%channel_id, %user_id))]
            async fn read_marker(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<Uuid>> {
                sqlx::query_scalar("SELECT message_id FROM ai_read_markers WHERE channel_id = $1 AND user_id = $2")
                    .bind(channel_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
            }

            #[tracing::instrument(skip_all, fields(count = markers.len()))]
            async fn set_read_markers(&self, markers: &[ReadMarker]) -> StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                for chunk in markers.chunks(ROWS_PER_STATEMENT) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new("INSERT INTO ai_read_markers (channel_id, user_id, message_id) ");
                    upsert.push_values(chunk, |mut row, m| {
                        row.push_bind(m.channel_id).push_bind(m.user_id).push_bind(m.message_id);
                    });
                    upsert.push(
                        " ON CONFLICT (channel_id, user_id) DO UPDATE SET message_id = excluded.message_id
                         WHERE ai_read_markers.message_id < excluded.message_id",
                    );
                    upsert.build().execute(&mut *tx).await?;
                }
                tx.commit().await
            }

            #[tracing::instrument(skip_all)]
            async fn position(&self, name: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT position FROM consumer_state WHERE name = $1").bind(name).fetch_optional(&self.pool).await
            }

            #[tracing::instrument(skip_all)]
            async fn set_position(&self, name: &str, position: &str, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO consumer_state (name, position, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(position)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

use uuid::Uuid;

use super::{
    ChannelRow, MessageRow, MessageText, NewVector, ReadMarker, Snapshot, StoreResult, UpsertedMessage,
};

/// Rows per multi-row statement, well under either backend's limit on bound values.
const ROWS_PER_STATEMENT: usize = 500;

impl_ai_store!(SqliteStore, sqlx::SqlitePool, sqlx::Sqlite);
impl_ai_store!(PostgresStore, sqlx::PgPool, sqlx::Postgres);
