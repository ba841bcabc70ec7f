//! user-service's storage: one trait, one implementation per backend. The SQL is the same text on
//! both (sqlx-sqlite accepts `$n` placeholders, instants are integer milliseconds), so it is
//! written once in [`sql`] and instantiated for each pool type.

mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::{Db, Migrations};
use echo_events::Envelope;
use uuid::Uuid;

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("./migrations/sqlite"),
    postgres: &sqlx::migrate!("./migrations/postgres"),
};

/// Makes the event that records a change, from the changed row.
pub type EventOf<'a> = &'a (dyn Fn(&UserRow) -> Envelope + Send + Sync);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("email already registered")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Outbox(#[from] echo_events::BusError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub title: String,
    pub timezone: String,
    pub status_text: String,
    pub status_emoji: String,
    pub avatar_file_id: Option<Uuid>,
    pub is_bot: bool,
    pub created_at: i64,
}

impl UserRow {
    /// The row a new user will have.
    pub fn from_new(user: &NewUser) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            title: String::new(),
            timezone: "UTC".into(),
            status_text: String::new(),
            status_emoji: String::new(),
            avatar_file_id: None,
            is_bot: user.is_bot,
            created_at: user.now,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub is_bot: bool,
    pub now: i64,
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub timezone: Option<String>,
    pub status_text: Option<String>,
    pub status_emoji: Option<String>,
    pub avatar_file_id: Option<Option<Uuid>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_agent: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl SessionRow {
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_agent: String,
    pub refresh_hash: Vec<u8>,
    pub now: i64,
    pub expires_at: i64,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The token was current: it is now replaced by the new one.
    Rotated(SessionRow),
    /// The token had already been rotated (or lost a race with its own rotation): a copy is in
    /// someone else's hands, so the session was revoked.
    Reused { session_id: Uuid },
    /// Unknown token, or its session is revoked or expired.
    Rejected,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates a user and records `events`; [`StoreError::EmailTaken`] if the email is in use.
    async fn create_user(&self, user: &NewUser, events: &[Envelope]) -> StoreResult<()>;
    /// A user by id.
    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRow>>;
    /// Users by id, in no particular order; unknown ids are skipped.
    async fn users(&self, ids: &[Uuid]) -> StoreResult<Vec<UserRow>>;
    /// The id and password hash of the account with this (normalised) email.
    async fn credentials(&self, email: &str) -> StoreResult<Option<(Uuid, String)>>;
    /// Applies a profile patch, records the event `event_of` makes of the result, returns the user.
    async fn update_profile(
        &self,
        id: Uuid,
        patch: &ProfilePatch,
        now: i64,
        event_of: EventOf<'_>,
    ) -> StoreResult<Option<UserRow>>;
    /// The user's preferences document (JSON text).
    async fn preferences(&self, id: Uuid) -> StoreResult<Option<String>>;
    /// Replaces the user's preferences document.
    async fn set_preferences(&self, id: Uuid, json: &str, now: i64) -> StoreResult<()>;

    /// Creates a session with its first refresh token.
    async fn create_session(&self, session: &NewSession, events: &[Envelope]) -> StoreResult<()>;
    /// A session by id.
    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRow>>;
    /// The user's live sessions, newest first.
    async fn live_sessions(&self, user_id: Uuid, now: i64) -> StoreResult<Vec<SessionRow>>;
    /// Exchanges a refresh token for a new one, detecting reuse of rotated tokens.
    async fn rotate_refresh(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> StoreResult<Rotation>;
    /// Revokes a session; false if it was unknown or already revoked.
    async fn revoke_session(&self, id: Uuid, now: i64, events: &[Envelope]) -> StoreResult<bool>;
    /// Records events that change nothing here (a failed login, for the audit log).
    async fn record(&self, events: &[Envelope]) -> StoreResult<()>;
    /// Sessions revoked at or after `since` (to re-arm the revocation list after a restart).
    async fn revoked_since(&self, since: i64) -> StoreResult<Vec<(Uuid, i64)>>;

    /// Signing keys not retired before `retired_after`, newest first.
    async fn signing_keys(&self, retired_after: i64) -> StoreResult<Vec<KeyRow>>;
    /// Adds a signing key; it becomes the one that signs.
    async fn add_signing_key(&self, kid: &str, pkcs8: &[u8], now: i64) -> StoreResult<()>;
    /// Marks every key but `keep` retired (they keep verifying until their tokens expire).
    async fn retire_signing_keys_except(&self, keep: &str, now: i64) -> StoreResult<()>;

    /// Sets the status a user chose and records the resulting `presence.changed`.
    async fn set_presence(&self, user_id: Uuid, status: &str, now: i64) -> StoreResult<()>;
    /// Records a live connection held by `replica` (idempotent); `presence.changed` when the user
    /// comes online.
    async fn open_connection(
        &self,
        connection_id: &str,
        user_id: Uuid,
        replica: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// Notes a sign of life from a message-service replica at `at` (never moving it back).
    async fn replica_seen(&self, replica: &str, at: i64) -> StoreResult<()>;
    /// Closes the connections of replicas silent for `timeout_ms` while another replica was heard
    /// since (so a lagging consumer, which hears no one, closes nothing); returns how many.
    async fn close_silent_replicas(&self, timeout_ms: i64, now: i64) -> StoreResult<usize>;
    /// Forgets a connection (idempotent); `presence.changed` when the user goes offline.
    async fn close_connection(&self, connection_id: &str, now: i64) -> StoreResult<()>;
    /// Chosen status and live connection count of each known user among `ids`.
    async fn presence(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, String, i64)>>;

    /// Records that a user is (or is no longer) in a workspace.
    async fn set_workspace_member(&self, workspace_id: Uuid, user_id: Uuid, member: bool) -> StoreResult<()>;
    /// Whether two users share a workspace.
    async fn shares_workspace(&self, a: Uuid, b: Uuid) -> StoreResult<bool>;
}

/// Opens the store the URL names and migrates it.
pub async fn open(url: &str) -> anyhow::Result<(Db, Arc<dyn UserStore>)> {
    let db = Db::connect(url, &MIGRATIONS, Default::default()).await?;
    let store: Arc<dyn UserStore> = match &db {
        Db::Sqlite(pool) => Arc::new(SqliteStore::new(pool.clone())),
        Db::Postgres(pool) => Arc::new(PostgresStore::new(pool.clone())),
    };
    Ok((db, store))
}
