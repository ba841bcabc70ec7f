//! The storage behind delivery beyond the inbox: browsers' push subscriptions, the VAPID key,
//! email addresses, the unsubscribe key and the delivery log ([`super::delivery_sql`] holds its SQL, for both backends).

use async_trait::async_trait;
use echo_domain::time::{now_ms, rfc3339};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::NotificationsConfig;
use crate::store::StoreResult;

/// A browser's Web Push subscription as the API shows it (never its keys).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Subscription {
    pub id: Uuid,
    pub endpoint: String,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub endpoint: String,
    pub created_at: i64,
}

impl SubscriptionRow {
    pub fn into_subscription(self) -> Subscription {
        Subscription {
            id: self.id,
            endpoint: self.endpoint,
            created_at: rfc3339(self.created_at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub id: Uuid,
    pub user_id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub now: i64,
}

/// Which row of the delivery log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryKey {
    pub notification_id: Uuid,
    pub target: Uuid,
}

/// A push that is due, with everything needed to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushJob {
    pub notification_id: Uuid,
    /// The subscription.
    pub target: Uuid,
    pub user_id: Uuid,
    pub attempts: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub kind: String,
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub workspace_id: Uuid,
    pub created_at: i64,
    pub author_id: Uuid,
    /// The message's current text (empty once deleted).
    pub text: String,
    pub deleted: bool,
}

impl PushJob {
    pub fn key(&self) -> DeliveryKey {
        DeliveryKey {
            notification_id: self.notification_id,
            target: self.target,
        }
    }
}

/// A notification claimed for a person's next email, with what the email says about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailItem {
    pub notification_id: Uuid,
    pub kind: String,
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub created_at: i64,
    pub attempts: i64,
    pub channel_name: Option<String>,
    pub channel_kind: String,
    pub author_name: Option<String>,
    pub text: String,
    pub deleted: bool,
    /// Neither the notification nor the message has been read.
    pub unread: bool,
    /// The person can still read the channel.
    pub visible: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Try again at this instant.
    Retry {
        at: i64,
        error: String,
    },
    /// Never again: `failed` (attempts exhausted, refused), `gone` (the subscription expired), or
    /// `skipped` (nothing left to say, e.g. the message was deleted).
    Final {
        status: &'static str,
        error: String,
    },
}

impl Outcome {
    /// After failed attempt number `attempt`: another try after an exponential backoff, or
    /// `failed` once the configured attempts are spent.
    pub fn after_failure(config: &NotificationsConfig, attempt: u32, error: String) -> Outcome {
        if attempt >= config.delivery_max_attempts {
            return Outcome::Final {
                status: "failed",
                error,
            };
        }
        let factor = 2_u64.saturating_pow(attempt.saturating_sub(1).min(20));
        let delay = config
            .delivery_backoff_ms
            .saturating_mul(factor)
            .min(config.delivery_backoff_max_ms);
        Outcome::Retry {
            at: now_ms().saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
            error,
        }
    }

    /// The delivery row's `(status, due_at, last_error, sent_at)` after this outcome at `now`.
    pub fn columns(&self, now: i64) -> (&str, i64, Option<&str>, Option<i64>) {
        match self {
            Outcome::Sent => ("sent", now, None, Some(now)),
            Outcome::Retry { at, error } => ("pending", *at, Some(error.as_str()), None),
            Outcome::Final { status, error } => (status, now, Some(error.as_str()), None),
        }
    }
}

#[async_trait]
pub trait DeliveryStore: Send + Sync + 'static {
    /// Registers a browser's subscription, or updates the keys of the same endpoint.
    async fn create_subscription(&self, new: &NewSubscription) -> StoreResult<SubscriptionRow>;
    /// A person's subscriptions, oldest first.
    async fn subscriptions(&self, user_id: Uuid) -> StoreResult<Vec<SubscriptionRow>>;
    /// Deletes one of a person's subscriptions; false when it is not theirs.
    async fn delete_subscription(&self, id: Uuid, user_id: Uuid) -> StoreResult<bool>;

    /// The stored VAPID key, storing `generated` first when there is none (so every replica
    /// agrees on the first one written).
    async fn vapid_key(&self, generated: &str, now: i64) -> StoreResult<String>;

    /// Pushes due at `now`, oldest first.
    async fn due_pushes(&self, now: i64, limit: u32) -> StoreResult<Vec<PushJob>>;
    /// Takes a due push until `lease_until` and counts the attempt; false when another sender
    /// took it first.
    async fn claim_push(&self, key: DeliveryKey, now: i64, lease_until: i64) -> StoreResult<bool>;
    /// Records how an attempt ended; a `gone` subscription is deleted.
    async fn settle_push(&self, key: DeliveryKey, outcome: &Outcome, now: i64) -> StoreResult<()>;
    /// Records a person's email address (user-service reports it).
    async fn set_email_address(&self, user_id: Uuid, email: &str, now: i64) -> StoreResult<()>;
    /// A person's email address, when known.
    async fn email_address(&self, user_id: Uuid) -> StoreResult<Option<String>>;
    /// The key that signs unsubscribe links, storing `generated` first when there is none.
    async fn email_secret(&self, generated: &str, now: i64) -> StoreResult<String>;
    /// People with notification emails due at `now`.
    async fn due_email_recipients(&self, now: i64, limit: u32) -> StoreResult<Vec<Uuid>>;
    /// Claims the person's emails due at `now`, and those not yet due that were never tried (one
    /// email says everything pending), until `lease_until` (counting an attempt); returns them,
    /// oldest first.
    async fn claim_emails(&self, user_id: Uuid, now: i64, lease_until: i64) -> StoreResult<Vec<EmailItem>>;
    /// Records how one claimed email delivery ended.
    async fn settle_email(
        &self,
        notification_id: Uuid,
        user_id: Uuid,
        outcome: &Outcome,
        now: i64,
    ) -> StoreResult<()>;

    /// The channels beyond the inbox that delivered the person's notification of a message.
    async fn delivered_via(&self, message_id: Uuid, user_id: Uuid) -> StoreResult<Vec<String>>;
}
