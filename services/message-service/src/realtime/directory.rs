//! What the hub needs to know about memberships, read from message-service's own tables.

use async_trait::async_trait;
use echo_db::Db;
use echo_realtime::{Directory, Memberships};
use uuid::Uuid;

pub struct DbDirectory {
    pub db: Db,
}

const WORKSPACES: &str = "SELECT workspace_id FROM workspace_members WHERE user_id = $1";
const CHANNELS: &str =
    "SELECT cm.channel_id, c.workspace_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
     WHERE cm.user_id = $1";
/// A channel is readable by its members, and by the non-guest members of its workspace when public.
const READABLE: &str = "SELECT c.workspace_id FROM channels c
     WHERE c.id = $2 AND (
        EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = $1)
        OR (c.kind = 'public' AND EXISTS (SELECT 1 FROM workspace_members w
            WHERE w.workspace_id = c.workspace_id AND w.user_id = $1 AND w.role <> 'guest')))";

#[async_trait]
impl Directory for DbDirectory {
    async fn memberships(&self, user_id: Uuid) -> anyhow::Result<Memberships> {
        let (workspaces, channels): (Vec<Uuid>, Vec<(Uuid, Uuid)>) = match &self.db {
            Db::Sqlite(pool) => (
                sqlx::query_scalar(WORKSPACES)
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as(CHANNELS).bind(user_id).fetch_all(pool).await?,
            ),
            Db::Postgres(pool) => (
                sqlx::query_scalar(WORKSPACES)
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as(CHANNELS).bind(user_id).fetch_all(pool).await?,
            ),
        };
        Ok(Memberships {
            workspaces: workspaces.into_iter().collect(),
            channels: channels.into_iter().collect(),
        })
    }

    async fn readable_channel(&self, user_id: Uuid, channel_id: Uuid) -> anyhow::Result<Option<Uuid>> {
        Ok(match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_scalar(READABLE)
                    .bind(user_id)
                    .bind(channel_id)
                    .fetch_optional(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar(READABLE)
                    .bind(user_id)
                    .bind(channel_id)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }
}
