//! The consumer that decides notifications, and keeps the projections its rules read.
//!
//! It also keeps the email addresses of `user.registered` (user-service owns accounts), for
//! notification emails.
//!
//! One consumer group for every replica: each event is handled by one of them. The projections
//! (`presence.changed` from user-service, `connection.opened`/`closed` from any replica's
//! WebSocket endpoint) are upserts and deletes keyed by user or connection, so redelivery is
//! harmless; they come through the same group as the messages, so a message is judged with the
//! presence that preceded it in the log.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use echo_domain::time::now_ms;
use echo_events::{EventHandler, HandleError, Logged, RelayHandle};
use serde::Deserialize;
use tokio::sync::Notify;
use uuid::Uuid;

use super::delivery_store::DeliveryStore;
use super::rules::{self, MessageFacts, Person};
use super::store::{CandidateQuery, Decided, NotificationStore, Run};
use super::{Kind, Level};
use crate::model::{ChannelKind, Message, Role};
use crate::store::MessageStore;

/// The consumer group of the notifier.
pub const GROUP: &str = "messages-notifications";
/// Characters of the message text carried by the live event.
const PREVIEW_CHARS: usize = 140;
/// Messages older than this when first seen notify nobody: the group starts at the oldest event
/// of the log, and a deployment that gains notifications (or a replay from long ago) must not
/// notify, push and email its whole history.
const MAX_AGE_MS: i64 = 6 * 3600 * 1000;

pub struct Notifier {
    pub messages: Arc<dyn MessageStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Wakes the outbox relay after notifications were stored with their events.
    pub relay: RelayHandle,
    /// Wakes the push sender after notifications were stored (some may have pushes to send).
    pub pushes: Arc<Notify>,
    /// How long a mention or DM waits unread before it is emailed; None when email is off.
    pub email_delay_ms: Option<i64>,
    /// What is kept over the batch of events being handled.
    pub batch: std::sync::Mutex<Batch>,
}

/// What the notifier keeps over one batch of events.
#[derive(Default)]
pub struct Batch {
    /// The decisions, recorded together when the batch is through.
    runs: Vec<Run>,
    /// The channels the batch's messages are in: read once per channel.
    channels: HashMap<Uuid, ChannelFacts>,
}

/// What deciding needs to know of a channel.
#[derive(Clone, Copy)]
struct ChannelFacts {
    kind: ChannelKind,
    /// Whether any member watches for keywords.
    keyword_watchers: bool,
}

#[derive(Debug, Deserialize)]
struct MessageCreated {
    workspace_id: Uuid,
    message: Message,
}

#[derive(Debug, Deserialize)]
struct PresenceChanged {
    user_id: Uuid,
    status: String,
}

#[derive(Debug, Deserialize)]
struct Registered {
    user_id: Uuid,
    /// Absent from events of user-service versions that did not carry it.
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Connection {
    connection_id: String,
    user_id: Uuid,
}

fn unreadable(kind: &str, error: serde_json::Error) -> HandleError {
    HandleError::Park(format!("unreadable {kind} payload: {error}"))
}

#[async_trait]
impl EventHandler for Notifier {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        let kind = envelope.kind.as_str();
        match (kind, envelope.version) {
            ("message.created", 1) => {
                let payload: MessageCreated = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.decide(payload.workspace_id, &payload.message).await?;
            }
            ("presence.changed", 1) => {
                let payload: PresenceChanged = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.notifications
                    .set_presence(payload.user_id, &payload.status, now_ms())
                    .await
                    .context("storing presence")?;
            }
            ("connection.opened", 1) => {
                let c: Connection = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.notifications
                    .open_connection(&c.connection_id, c.user_id, now_ms())
                    .await
                    .context("storing a connection")?;
            }
            ("connection.closed", 1) => {
                let c: Connection = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.notifications
                    .close_connection(&c.connection_id)
                    .await
                    .context("forgetting a connection")?;
            }
            ("user.registered", 1) => {
                let r: Registered = envelope.decode().map_err(|e| unreadable(kind, e))?;
                if let Some(email) = r.email {
                    self.deliveries
                        .set_email_address(r.user_id, &email, now_ms())
                        .await
                        .context("storing an email address")?;
                }
            }
            ("message.created" | "presence.changed" | "connection.opened" | "connection.closed", v) => {
                return Err(HandleError::Park(format!("unknown version {v} of {kind}")));
            }
            _ => {}
        }
        Ok(())
    }

    async fn flush(&self) -> anyhow::Result<()> {
        let runs = {
            let mut batch = self.batch();
            batch.channels.clear();
            std::mem::take(&mut batch.runs)
        };
        if runs.is_empty() {
            return Ok(());
        }
        match self.notifications.record(&runs).await {
            Ok(created) => {
                if !created.is_empty() {
                    self.relay.notify();
                    self.pushes.notify_one();
                }
                tracing::debug!(
                    messages = runs.len(),
                    notified = created.len(),
                    "notifications decided"
                );
                Ok(())
            }
            Err(error) => {
                // Kept for the retry: the batch is not acknowledged until they are recorded.
                self.batch().runs.splice(0..0, runs);
                Err(error).context("recording notifications")
            }
        }
    }
}

impl Notifier {
    /// Decides the notifications of one message, to be stored with the rest of the batch in
    /// `flush`, unless it was decided before (a redelivery is decided again, and
    /// [`NotificationStore::record`] keeps the first decision: rare enough not to look it up for
    /// every message).
    ///
    /// The message is as posted: an edit does not notify again, and a message deleted meanwhile
    /// has no candidates.
    #[tracing::instrument(skip_all, fields(message_id = %message.id))]
    async fn decide(&self, workspace_id: Uuid, message: &Message) -> anyhow::Result<()> {
        let message_id = message.id;
        let Some(channel) = self.channel(message.channel_id).await? else {
            return Ok(());
        };
        let kind = channel.kind;
        let direct = matches!(kind, ChannelKind::Dm | ChannelKind::GroupDm);
        let query = CandidateQuery {
            message_id,
            channel_id: message.channel_id,
            workspace_id,
            thread_root_id: message.thread_root_id,
            broadcast: message.mentions_channel || message.mentions_here || direct,
            keyword_watchers: channel.keyword_watchers,
        };
        let now = Utc::now();
        let stale = chrono::DateTime::parse_from_rfc3339(&message.created_at)
            .is_ok_and(|created| now.timestamp_millis() - created.timestamp_millis() > MAX_AGE_MS);
        // A message that broadcasts nothing, is no reply and mentions nobody can only match
        // keywords: in a channel where nobody watches for any, it addresses nobody.
        let addressed = query.broadcast
            || message.thread_root_id.is_some()
            || !message.mentions.is_empty()
            || query.keyword_watchers;
        let candidates = if message.deleted || stale || !addressed {
            Vec::new()
        } else {
            self.notifications.candidates(&query).await?
        };
        let facts = MessageFacts {
            author_id: message.author_id,
            text: &message.text,
            mentions: &message.mentions,
            mentions_channel: message.mentions_channel,
            mentions_here: message.mentions_here,
            direct,
            reply: message.thread_root_id.is_some(),
        };
        let decisions = candidates
            .iter()
            .filter_map(|row| {
                let role = row.role.as_deref().map(Role::from_db);
                let person = Person {
                    user_id: row.user_id,
                    is_member: row.is_member,
                    can_see: row.is_member
                        || (kind == ChannelKind::Public && role.is_some_and(|r| r != Role::Guest)),
                    channel_level: Level::from_db(&row.notify_level),
                    muted: row.muted,
                    follows_thread: row.follows,
                    online: row.presence.as_deref() == Some("online"),
                    status_dnd: row.presence.as_deref() == Some("dnd"),
                    prefs: row.preferences(),
                };
                let email = person.prefs.email;
                rules::decide(&facts, &person, now).map(|decision| {
                    // Mentions and DMs are worth an email if still unread after the delay.
                    let emailed =
                        email && decision.notified && matches!(decision.kind, Kind::Mention | Kind::Dm);
                    let email_due_at = self
                        .email_delay_ms
                        .filter(|_| emailed)
                        .map(|delay| now.timestamp_millis() + delay);
                    Decided {
                        user_id: row.user_id,
                        decision,
                        live: row.live,
                        email_due_at,
                    }
                })
            })
            .collect();
        let run = Run {
            message_id,
            channel_id: message.channel_id,
            workspace_id,
            author_id: message.author_id,
            preview: message.text.chars().take(PREVIEW_CHARS).collect(),
            now: now.timestamp_millis(),
            decisions,
        };
        self.batch().runs.push(run);
        Ok(())
    }

    async fn channel(&self, channel_id: Uuid) -> anyhow::Result<Option<ChannelFacts>> {
        if let Some(facts) = self.batch().channels.get(&channel_id) {
            return Ok(Some(*facts));
        }
        let Some(channel) = self.messages.channel(channel_id).await? else {
            return Ok(None);
        };
        let facts = ChannelFacts {
            kind: channel.kind,
            keyword_watchers: self.notifications.keyword_watchers(channel_id).await?,
        };
        self.batch().channels.insert(channel_id, facts);
        Ok(Some(facts))
    }

    fn batch(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }
}
