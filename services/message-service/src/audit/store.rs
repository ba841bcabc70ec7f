//! Where the audit log lives: appended to by the consumer, read a page at a time.

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::Db;
use echo_domain::time::rfc3339;
use uuid::Uuid;

use super::{Entry, Target};
use crate::store::StoreResult;

/// An entry as stored, with the workspace it belongs to.
#[derive(Debug, Clone)]
pub struct Record {
    pub workspace_id: Uuid,
    pub event_id: Uuid,
    pub action: &'static str,
    pub actor_id: Option<Uuid>,
    pub target: Option<(&'static str, Uuid)>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
    pub occurred_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    event_id: Uuid,
    action: String,
    actor_id: Option<Uuid>,
    target_type: Option<String>,
    target_id: Option<Uuid>,
    ip: Option<String>,
    details: String,
    occurred_at: i64,
}

impl From<Row> for Entry {
    fn from(row: Row) -> Entry {
        Entry {
            id: row.event_id,
            action: row.action,
            actor_id: row.actor_id,
            target: row
                .target_type
                .zip(row.target_id)
                .map(|(kind, id)| Target { kind, id }),
            ip: row.ip,
            details: serde_json::from_str(&row.details).unwrap_or_default(),
            occurred_at: rfc3339(row.occurred_at),
        }
    }
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends records; one already there (a redelivered event) is left as it is.
    async fn append(&self, records: &[Record]) -> StoreResult<()>;
    /// A workspace's entries older than `before`, newest first, optionally of one action; and
    /// whether there are more.
    async fn page(
        &self,
        workspace_id: Uuid,
        action: Option<&str>,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<(Vec<Entry>, bool)>;
    /// Follows a membership change that happened at `at` (milliseconds).
    async fn set_member(&self, workspace_id: Uuid, user_id: Uuid, member: bool, at: i64) -> StoreResult<()>;
    /// The workspaces `user_id` was in at `at`, as far as the changes followed so far tell.
    async fn workspaces_of(&self, user_id: Uuid, at: i64) -> StoreResult<Vec<Uuid>>;
}

macro_rules! impl_audit_store {
    ($store:ident, $pool:ty, $db:ty) => {
        pub struct $store {
            pool: $pool,
        }

        #[async_trait]
        impl AuditStore for $store {
            #[tracing::instrument(skip_all, fields(records = records.len()))]
            async fn append(&self, records: &[Record]) -> StoreResult<()> {
                let mut tx = echo_db::BeginWrite::begin_write(&self.pool).await?;
                for r in records {
                    sqlx::query(
                        "INSERT INTO audit_log (workspace_id, event_id, action, actor_id, target_type, target_id, ip, details, occurred_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (workspace_id, event_id) DO NOTHING",
                    )
                    .bind(r.workspace_id)
                    .bind(r.event_id)
                    .bind(r.action)
                    .bind(r.actor_id)
                    .bind(r.target.map(|(kind, _)| kind))
                    .bind(r.target.map(|(_, id)| id))
                    .bind(&r.ip)
                    .bind(r.details.to_string())
                    .bind(r.occurred_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
            async fn page(&self, workspace_id: Uuid, action: Option<&str>, before: Option<Uuid>, limit: u32) -> StoreResult<(Vec<Entry>, bool)> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT event_id, action, actor_id, target_type, target_id, ip, details, occurred_at
                     FROM audit_log WHERE workspace_id = ",
                );
                query.push_bind(workspace_id);
                if let Some(action) = action {
                    query.push(" AND action = ").push_bind(action);
                }
                if let Some(before) = before {
                    query.push(" AND event_id < ").push_bind(before);
                }
                query.push(" ORDER BY event_id DESC LIMIT ").push_bind(i64::from(limit) + 1);
                let mut rows: Vec<Row> = query.build_query_as().fetch_all(&self.pool).await?;
                let has_more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                Ok((rows.into_iter().map(Entry::from).collect(), has_more))
            }

            #[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, user_id = %user_id))]
            async fn set_member(&self, workspace_id: Uuid, user_id: Uuid, member: bool, at: i64) -> StoreResult<()> {
                // A join reopens a membership that ended before it; a redelivered older join does not.
                let sql = if member {
                    "INSERT INTO audit_members (workspace_id, user_id, joined_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id, workspace_id) DO UPDATE SET joined_at = excluded.joined_at, left_at = NULL
                     WHERE audit_members.left_at IS NOT NULL AND audit_members.left_at <= excluded.joined_at"
                } else {
                    "UPDATE audit_members SET left_at = $3 WHERE workspace_id = $1 AND user_id = $2 AND joined_at <= $3"
                };
                sqlx::query(sql).bind(workspace_id).bind(user_id).bind(at).execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id))]
            async fn workspaces_of(&self, user_id: Uuid, at: i64) -> StoreResult<Vec<Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT workspace_id FROM audit_members
                     WHERE user_id = $1 AND joined_at <= $2 AND (left_at IS NULL OR left_at > $2)",
                )
                .bind(user_id)
                .bind(at)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_audit_store!(SqliteAudit, sqlx::SqlitePool, sqlx::Sqlite);
impl_audit_store!(PostgresAudit, sqlx::PgPool, sqlx::Postgres);

pub fn open(db: &Db) -> Arc<dyn AuditStore> {
    match db {
        Db::Sqlite(pool) => Arc::new(SqliteAudit { pool: pool.clone() }),
        Db::Postgres(pool) => Arc::new(PostgresAudit { pool: pool.clone() }),
    }
}
