//! The storage of integrations: bots, API tokens, webhooks, Slack timestamps, Slack-style uploads
//! and the Events API delivery log, as one trait with its SQL written once for both backends
//! (in `sql`).

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::Db;
use echo_events::Envelope;
use uuid::Uuid;

use crate::notifications::delivery_store::Outcome;
use crate::store::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub avatar_url: String,
    /// Space-separated.
    pub scopes: String,
    pub request_url: Option<String>,
    pub signing_secret: String,
    pub created_by: Uuid,
    pub created_at: i64,
}

/// A token to store: only its hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub token_hash: String,
    pub hint: String,
    pub user_id: Uuid,
    pub bot_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub name: String,
    pub scopes: String,
    pub created_at: i64,
}

/// A live token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub bot_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub name: String,
    pub scopes: String,
    pub hint: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub channel_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: Uuid,
    pub secret_hash: String,
    pub user_id: Uuid,
    pub name: String,
    pub length: i64,
    pub content_type: Option<String>,
    pub size: Option<i64>,
    pub text_content: Option<String>,
    pub created_at: i64,
    pub uploaded_at: Option<i64>,
}

/// An event delivery that is due, with where it goes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventJob {
    pub bot_id: Uuid,
    pub event_id: String,
    pub body: String,
    pub attempts: i64,
    pub request_url: Option<String>,
    pub signing_secret: String,
}

/// An event to deliver to one bot.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub bot_id: Uuid,
    pub event_id: String,
    pub body: String,
}

#[async_trait]
pub trait IntegrationStore: Send + Sync + 'static {
    /// Creates a bot: its row, its token, its workspace membership and display name, and its events.
    async fn create_bot(&self, bot: &BotRow, token: &NewToken, events: &[Envelope]) -> StoreResult<()>;
    /// A live bot by id.
    async fn bot(&self, id: Uuid) -> StoreResult<Option<BotRow>>;
    /// The live bot whose user this is.
    async fn bot_by_user(&self, user_id: Uuid) -> StoreResult<Option<BotRow>>;
    /// A workspace's live bots, oldest first.
    async fn bots(&self, workspace_id: Uuid) -> StoreResult<Vec<BotRow>>;
    /// Sets or clears a bot's request URL; false if the bot is gone.
    async fn set_request_url(&self, id: Uuid, url: Option<&str>) -> StoreResult<bool>;
    /// Revokes a bot and its tokens; false if it was not live.
    async fn revoke_bot(&self, workspace_id: Uuid, id: Uuid, now: i64) -> StoreResult<bool>;

    /// Stores a personal access token.
    async fn create_token(&self, new: &NewToken) -> StoreResult<()>;
    /// The live token with this hash, noting its use.
    async fn token_by_hash(&self, hash: &str, now: i64) -> StoreResult<Option<TokenRow>>;
    /// A person's live personal tokens, oldest first.
    async fn tokens_of(&self, user_id: Uuid) -> StoreResult<Vec<TokenRow>>;
    /// Revokes one of a person's personal tokens; false if it is not theirs or not live.
    async fn revoke_token(&self, id: Uuid, user_id: Uuid, now: i64) -> StoreResult<bool>;

    /// Creates a webhook with its user (member of the workspace and the channel) and its events.
    async fn create_webhook(
        &self,
        row: &WebhookRow,
        secret_hash: &str,
        events: &[Envelope],
    ) -> StoreResult<()>;
    /// The live webhook with this secret hash.
    async fn webhook_by_secret(&self, secret_hash: &str) -> StoreResult<Option<WebhookRow>>;
    /// A workspace's live webhooks, oldest first.
    async fn webhooks(&self, workspace_id: Uuid) -> StoreResult<Vec<WebhookRow>>;
    /// Revokes a webhook; false if it was not live.
    async fn revoke_webhook(&self, workspace_id: Uuid, id: Uuid, now: i64) -> StoreResult<bool>;

    /// The message's Slack ts, assigning the first free one from `preferred_micros` on first use.
    async fn ts_of(&self, message_id: Uuid, channel_id: Uuid, preferred_micros: i64) -> StoreResult<String>;
    /// The message with this ts in a channel, if one was assigned it.
    async fn message_by_ts(&self, channel_id: Uuid, ts: &str) -> StoreResult<Option<Uuid>>;
    /// A channel's messages (replies too) with ids in `lo..=hi`, oldest first.
    async fn messages_between(&self, channel_id: Uuid, lo: Uuid, hi: Uuid) -> StoreResult<Vec<Uuid>>;

    /// A person's display name, from the directory.
    async fn user_name(&self, user_id: Uuid) -> StoreResult<Option<String>>;
    /// A person's email address, as user-service reported it.
    async fn user_email(&self, user_id: Uuid) -> StoreResult<Option<String>>;
    /// The person with this email address (case-insensitive).
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Uuid>>;

    /// Records an upload URL handed out.
    async fn create_upload(&self, row: &UploadRow) -> StoreResult<()>;
    /// An upload by id.
    async fn upload(&self, id: Uuid) -> StoreResult<Option<UploadRow>>;
    /// Records that an upload's bytes arrived.
    async fn finish_upload(
        &self,
        id: Uuid,
        content_type: &str,
        size: i64,
        text: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Forgets an upload (completed or abandoned).
    async fn delete_upload(&self, id: Uuid) -> StoreResult<()>;

    /// The Echo user a Slack user (or `bot:` id) of an import became in this workspace.
    async fn import_user(&self, workspace_id: Uuid, slack_key: &str) -> StoreResult<Option<Uuid>>;
    /// Creates a placeholder for a Slack user: a workspace member with a name, and its events.
    async fn create_import_user(
        &self,
        workspace_id: Uuid,
        slack_key: &str,
        user_id: Uuid,
        name: &str,
        now: i64,
        events: &[Envelope],
    ) -> StoreResult<()>;
    /// The public or private channel of this name in a workspace.
    async fn channel_by_name(&self, workspace_id: Uuid, name: &str) -> StoreResult<Option<Uuid>>;

    /// The live bots of a workspace with a request URL.
    async fn subscribed_bots(&self, workspace_id: Uuid) -> StoreResult<Vec<BotRow>>;
    /// Queues event deliveries, skipping those queued before; how many were new.
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery], now: i64) -> StoreResult<usize>;
    /// Deliveries due at `now`, oldest first.
    async fn due_deliveries(&self, now: i64, limit: u32) -> StoreResult<Vec<EventJob>>;
    /// Takes a due delivery until `lease_until`, counting the attempt; false if another took it.
    async fn claim_delivery(
        &self,
        bot_id: Uuid,
        event_id: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    /// Records how an attempt ended.
    async fn settle_delivery(
        &self,
        bot_id: Uuid,
        event_id: &str,
        outcome: &Outcome,
        now: i64,
    ) -> StoreResult<()>;
    /// A delivery's status and attempts (for operators and tests).
    async fn delivery_status(&self, bot_id: Uuid, event_id: &str) -> StoreResult<Option<(String, i64)>>;
}

pub struct SqliteIntegrations {
    pool: sqlx::SqlitePool,
}

pub struct PostgresIntegrations {
    pool: sqlx::PgPool,
}

super::sql::impl_integration_store!(SqliteIntegrations, echo_events::outbox::enqueue_sqlite);
super::sql::impl_integration_store!(PostgresIntegrations, echo_events::outbox::enqueue_postgres);

pub fn open(db: &Db) -> Arc<dyn IntegrationStore> {
    match db {
        Db::Sqlite(pool) => Arc::new(SqliteIntegrations { pool: pool.clone() }),
        Db::Postgres(pool) => Arc::new(PostgresIntegrations { pool: pool.clone() }),
    }
}
