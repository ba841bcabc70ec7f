//! The storage of notifications, preferences and the projections the rules read (presence, live
//! connections), as one trait with a SQLite and a PostgreSQL implementation sharing their SQL
//! ([`super::sql`]).

use std::sync::Arc;

use async_trait::async_trait;
use echo_db::Db;
use echo_domain::time::rfc3339;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::delivery_store::DeliveryStore;
use super::dnd::{self, Schedule};
use super::rules::{Decision, Preferences};
use super::{Kind, Level};
use crate::store::StoreResult;

/// An inbox entry, as the API and the `notification` event show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `mention`, `dm`, `thread_reply` or `keyword`.
    pub kind: Kind,
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub created_at: String,
    pub read: bool,
}

/// The `notification` event: the notification itself, with its recipient (which routes it to
/// their connections only) and enough of the message to show it.
pub fn notification_event(
    user_id: Uuid,
    notification: &Notification,
    author_id: Uuid,
    preview: &str,
) -> echo_events::Envelope {
    let mut payload = serde_json::to_value(notification).unwrap_or_else(|_| json!({}));
    if let Some(object) = payload.as_object_mut() {
        object.insert("user_id".into(), json!(user_id));
        object.insert("author_id".into(), json!(author_id));
        object.insert("preview".into(), json!(preview));
    }
    echo_events::Envelope::new(
        "notification",
        crate::events::VERSION,
        crate::events::PRODUCER,
        payload,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub message_id: Uuid,
    pub kind: String,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl NotificationRow {
    pub fn into_notification(self) -> Notification {
        Notification {
            id: self.id,
            kind: Kind::from_db(&self.kind).unwrap_or(Kind::Mention),
            message_id: self.message_id,
            channel_id: self.channel_id,
            workspace_id: self.workspace_id,
            created_at: rfc3339(self.created_at),
            read: self.read_at.is_some(),
        }
    }
}

/// A person's stored preferences.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub level: String,
    /// A JSON array of strings.
    pub keywords: String,
    pub dnd_until: Option<i64>,
    pub dnd_start: Option<i64>,
    pub dnd_end: Option<i64>,
    pub timezone: String,
    pub email: bool,
}

impl PreferencesRow {
    pub fn from_preferences(prefs: &Preferences) -> Self {
        Self {
            level: prefs.level.as_str().to_owned(),
            keywords: serde_json::to_string(&prefs.keywords).unwrap_or_else(|_| "[]".into()),
            dnd_until: prefs.dnd_until,
            dnd_start: prefs.schedule.map(|s| i64::from(s.start)),
            dnd_end: prefs.schedule.map(|s| i64::from(s.end)),
            timezone: prefs.timezone.name().to_owned(),
            email: prefs.email,
        }
    }

    pub fn into_preferences(self) -> Preferences {
        let level = match Level::from_db(&self.level) {
            Level::Default => Level::All,
            level => level,
        };
        Preferences {
            level,
            keywords: serde_json::from_str(&self.keywords).unwrap_or_default(),
            dnd_until: self.dnd_until,
            schedule: self
                .dnd_start
                .zip(self.dnd_end)
                .and_then(|(s, e)| Schedule::from_minutes(s, e)),
            timezone: dnd::zone(&self.timezone),
            email: self.email,
        }
    }
}

/// Whom a message may address: its channel's members (only those with keywords unless
/// `broadcast`), its thread's followers, and the people it names.
#[derive(Debug, Clone)]
pub struct CandidateQuery {
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub thread_root_id: Option<Uuid>,
    /// Every member of the channel is addressed (`@channel`, `@here`, a DM).
    pub broadcast: bool,
    /// Some member of the channel watches for keywords, so any message may address them.
    pub keyword_watchers: bool,
}

/// One person a message may address, with what the rules need to know about them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub user_id: Uuid,
    pub is_member: bool,
    pub notify_level: String,
    pub muted: bool,
    /// Their role in the workspace; None when they are not in it.
    pub role: Option<String>,
    pub follows: bool,
    pub level: Option<String>,
    pub keywords: Option<String>,
    pub dnd_until: Option<i64>,
    pub dnd_start: Option<i64>,
    pub dnd_end: Option<i64>,
    pub timezone: Option<String>,
    pub email: Option<bool>,
    /// Their presence as user-service last reported it.
    pub presence: Option<String>,
    /// They have a WebSocket connection open on some replica.
    pub live: bool,
}

impl CandidateRow {
    pub fn preferences(&self) -> Preferences {
        match &self.level {
            None => Preferences::default(),
            Some(level) => PreferencesRow {
                level: level.clone(),
                keywords: self.keywords.clone().unwrap_or_else(|| "[]".into()),
                dnd_until: self.dnd_until,
                dnd_start: self.dnd_start,
                dnd_end: self.dnd_end,
                timezone: self.timezone.clone().unwrap_or_else(|| "UTC".into()),
                email: self.email.unwrap_or(true),
            }
            .into_preferences(),
        }
    }
}

/// The decisions about one message, to store once.
#[derive(Debug, Clone)]
pub struct Run {
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub author_id: Uuid,
    /// The head of the message's text, for the live event.
    pub preview: String,
    pub now: i64,
    pub decisions: Vec<Decided>,
}

/// The decision about one person, and whether they had a live connection to receive it on.
#[derive(Debug, Clone)]
pub struct Decided {
    pub user_id: Uuid,
    pub decision: Decision,
    pub live: bool,
    /// When to email the notification if it is still unread then; None for no email.
    pub email_due_at: Option<i64>,
}

impl Decided {
    /// The channels a notification goes by when it is stored.
    pub fn via(&self) -> Vec<&'static str> {
        match (self.decision.notified, self.live) {
            (false, _) => Vec::new(),
            (true, false) => vec!["inbox"],
            (true, true) => vec!["inbox", "websocket"],
        }
    }
}

/// A stored decision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub notified: bool,
    pub kind: String,
    /// A JSON array of reason codes.
    pub reasons: String,
    /// A JSON array of delivery channels.
    pub via: String,
    pub decided_at: i64,
}

#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// A person's preferences; None until they set some.
    async fn preferences(&self, user_id: Uuid) -> StoreResult<Option<PreferencesRow>>;
    /// Replaces a person's preferences.
    async fn put_preferences(&self, user_id: Uuid, row: &PreferencesRow, now: i64) -> StoreResult<()>;
    /// A member's level and mute for a channel; None when not a member.
    async fn channel_settings(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<(String, bool)>>;
    /// Changes what is given of a member's settings for a channel; false when not a member.
    async fn set_channel_settings(
        &self,
        channel_id: Uuid,
        user_id: Uuid,
        level: Option<Level>,
        muted: Option<bool>,
    ) -> StoreResult<bool>;
    /// The threads of a workspace a person follows in channels they can read, with their unread
    /// replies (not their own), most recently replied first; only those with unread replies when
    /// `unread_only`.
    async fn followed_threads(
        &self,
        user_id: Uuid,
        workspace_id: Uuid,
        unread_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<(Uuid, i64)>>;
    /// Whether a person follows a thread.
    async fn following(&self, root_id: Uuid, user_id: Uuid) -> StoreResult<bool>;
    /// Follows (`on`) or unfollows a thread; an unfollowed thread stays so until they reply.
    async fn set_following(&self, root_id: Uuid, user_id: Uuid, on: bool) -> StoreResult<()>;

    /// Records a presence change reported by user-service.
    async fn set_presence(&self, user_id: Uuid, status: &str, now: i64) -> StoreResult<()>;
    /// Records a WebSocket connection opened on any replica (idempotent).
    async fn open_connection(&self, connection_id: &str, user_id: Uuid, now: i64) -> StoreResult<()>;
    /// Forgets a closed connection (idempotent).
    async fn close_connection(&self, connection_id: &str) -> StoreResult<()>;

    /// Whether a message's notifications were decided.
    async fn decided(&self, message_id: Uuid) -> StoreResult<bool>;
    /// The people a message may address, and what the rules need to know about each.
    async fn candidates(&self, query: &CandidateQuery) -> StoreResult<Vec<CandidateRow>>;
    /// Whether any member of the channel watches for keywords.
    async fn keyword_watchers(&self, channel_id: Uuid) -> StoreResult<bool>;
    /// Stores the decisions of messages, the notifications of those notified, their events and
    /// (for those without a live connection) their pushes to deliver, in one transaction, and
    /// returns the notifications created. A message decided before is skipped: its first
    /// decision stands.
    async fn record(&self, runs: &[Run]) -> StoreResult<Vec<Notification>>;
    /// The decision about one person for a message.
    async fn decision(&self, message_id: Uuid, user_id: Uuid) -> StoreResult<Option<DecisionRow>>;

    /// A person's notifications in channels they can still read, newest first, and whether more
    /// lie beyond the page.
    async fn list(
        &self,
        user_id: Uuid,
        unread_only: bool,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<(Vec<Notification>, bool)>;
    /// Marks these notifications read; false (and nothing changed) when one is not the person's.
    async fn mark_read(&self, user_id: Uuid, ids: &[Uuid], now: i64) -> StoreResult<bool>;
    /// Marks every notification of the person read.
    async fn mark_all_read(&self, user_id: Uuid, now: i64) -> StoreResult<()>;
}

pub struct SqliteNotifications {
    pool: sqlx::SqlitePool,
}

pub struct PostgresNotifications {
    pool: sqlx::PgPool,
}

mod sqlite {
    crate::notifications::sql::impl_notification_store!(
        super::SqliteNotifications,
        sqlx::Sqlite,
        sqlx::SqliteConnection,
        echo_events::outbox::enqueue_sqlite
    );
    crate::notifications::delivery_sql::impl_delivery_store!(super::SqliteNotifications);
}

mod postgres {
    crate::notifications::sql::impl_notification_store!(
        super::PostgresNotifications,
        sqlx::Postgres,
        sqlx::PgConnection,
        echo_events::outbox::enqueue_postgres
    );
    crate::notifications::delivery_sql::impl_delivery_store!(super::PostgresNotifications);
}

/// The notification and delivery stores on the database message-service already opened.
pub fn open(db: &Db) -> (Arc<dyn NotificationStore>, Arc<dyn DeliveryStore>) {
    match db {
        Db::Sqlite(pool) => {
            let store = Arc::new(SqliteNotifications { pool: pool.clone() });
            (store.clone(), store)
        }
        Db::Postgres(pool) => {
            let store = Arc::new(PostgresNotifications { pool: pool.clone() });
            (store.clone(), store)
        }
    }
}
