//! The indexer: consumes message-service's events (this replica's group, see [`crate::engine::group`],
//! from the oldest retained event, so it catches up after downtime) into ai-service's own store and index. Every effect is
//! an upsert or a delete keyed by ids, so redelivery and replay are harmless; an unknown version
//! of a known event is parked in the dead-letter list rather than guessed at.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use echo_events::{EventHandler, HandleError, Logged, Position};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::embed;
use crate::engine::Core;
use crate::index::{ChannelKind, Doc};
use crate::store::{ChannelRow, MessageRow, ReadMarker};

pub struct Indexer {
    pub core: Arc<Core>,
    /// The position last written down.
    saved: Mutex<Option<Position>>,
    held: Mutex<Held>,
}

/// New message texts and read markers, held to be written with one statement each per batch.
/// Any other event writes them first, so the store sees every effect in the log's order.
#[derive(Default)]
struct Held {
    /// The latest version of each message, in order of first arrival.
    messages: Vec<MessageRow>,
    /// Where each message is in `messages`.
    slots: HashMap<Uuid, usize>,
    /// The furthest read message of each channel and user.
    read_markers: HashMap<(Uuid, Uuid), Uuid>,
    /// The last event held (or passed over while holding), processed once they are written.
    position: Option<Position>,
}

impl Held {
    fn message(&mut self, row: MessageRow) {
        match self.slots.get(&row.id) {
            Some(&slot) => self.messages[slot] = row,
            None => {
                self.slots.insert(row.id, self.messages.len());
                self.messages.push(row);
            }
        }
    }

    fn read_marker(&mut self, marker: ReadMarker) {
        let furthest = self
            .read_markers
            .entry((marker.channel_id, marker.user_id))
            .or_insert(marker.message_id);
        *furthest = (*furthest).max(marker.message_id);
    }

    fn is_empty(&self) -> bool {
        self.position.is_none()
    }
}

impl Indexer {
    pub fn new(core: Arc<Core>) -> Self {
        Self {
            core,
            saved: Mutex::new(None),
            held: Mutex::new(Held::default()),
        }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `position` processed (for the status's lag).
    fn processed(&self, position: Position) {
        let mut processed = self.core.processed.lock().unwrap_or_else(|e| e.into_inner());
        if processed.is_none_or(|p| p < position) {
            *processed = Some(position);
        }
    }
}

/// The event kinds this consumer understands, all at version 1.
const KINDS: &[&str] = &[
    "message.created",
    "message.updated",
    "message.deleted",
    "channel.created",
    "channel.updated",
    "channel.member_joined",
    "channel.member_left",
    "workspace.member_joined",
    "workspace.member_updated",
    "workspace.member_left",
    "read_marker.updated",
];

#[derive(Deserialize)]
struct MessagePayload {
    workspace_id: Uuid,
    message: MessageBody,
}

#[derive(Deserialize)]
struct MessageBody {
    id: Uuid,
    channel_id: Uuid,
    author_id: Uuid,
    #[serde(default)]
    text: String,
    #[serde(default)]
    thread_root_id: Option<Uuid>,
    created_at: String,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct ChannelPayload {
    channel: ChannelBody,
}

#[derive(Deserialize)]
struct ChannelBody {
    id: Uuid,
    workspace_id: Uuid,
    #[serde(default)]
    name: String,
    kind: String,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    member_ids: Option<Vec<Uuid>>,
}

#[derive(Deserialize)]
struct ChannelMemberPayload {
    user_id: Uuid,
    channel: ChannelBody,
}

#[derive(Deserialize)]
struct WorkspaceMemberPayload {
    workspace_id: Uuid,
    user_id: Uuid,
    member: MemberBody,
}

#[derive(Deserialize)]
struct MemberBody {
    role: String,
}

#[derive(Deserialize)]
struct ReadMarkerPayload {
    channel_id: Uuid,
    message_id: Uuid,
    user_id: Uuid,
}

fn decode<T: DeserializeOwned>(event: &Logged) -> Result<T, HandleError> {
    event
        .envelope
        .decode()
        .map_err(|e| HandleError::Park(format!("invalid {} payload: {e}", event.envelope.kind)))
}

fn retry(error: sqlx::Error) -> HandleError {
    HandleError::Retry(anyhow::Error::new(error).context("writing the AI store"))
}

#[async_trait]
impl EventHandler for Indexer {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        let kind = envelope.kind.as_str();
        if !KINDS.contains(&kind) {
            let mut held = self.held();
            if held.is_empty() {
                drop(held);
                self.processed(event.position);
            } else {
                held.position = Some(event.position);
            }
            return Ok(());
        }
        if envelope.version != 1 {
            return Err(HandleError::Park(format!(
                "unknown version {} of {kind}",
                envelope.version
            )));
        }
        if self.hold(kind, event)? {
            self.held().position = Some(event.position);
            return Ok(());
        }
        self.write_held().await?;
        self.apply(kind, event).await?;
        self.processed(event.position);
        Ok(())
    }

    /// Writes what is held (a failure is retried: the batch is not acknowledged before it is
    /// written), then how far the consumer got. The bus remembers the group's position anyway;
    /// this one only feeds the status's lag after a restart, so failing to write it only makes that
    /// lag look larger until the next batch and is not retried.
    async fn flush(&self) -> anyhow::Result<()> {
        self.write_held().await.map_err(|error| match error {
            HandleError::Retry(error) => error,
            HandleError::Park(reason) => anyhow::anyhow!(reason),
        })?;
        let processed = *self.core.processed.lock().unwrap_or_else(|e| e.into_inner());
        let Some(position) = processed else { return Ok(()) };
        if *self.saved.lock().unwrap_or_else(|e| e.into_inner()) == Some(position) {
            return Ok(());
        }
        let now = echo_domain::time::now_ms();
        match self
            .core
            .store
            .set_position(&self.core.group, &position.to_string(), now)
            .await
        {
            Ok(()) => *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(position),
            Err(error) => tracing::warn!(%error, "recording the consumer position failed"),
        }
        Ok(())
    }
}

impl Indexer {
    /// Holds a new message text or read marker for [`Self::write_held`]; false for any other event.
    fn hold(&self, kind: &str, event: &Logged) -> Result<bool, HandleError> {
        match kind {
            "message.created" | "message.updated" => {
                let p: MessagePayload = decode(event)?;
                let (row, deleted) = message_row(p.workspace_id, p.message);
                if deleted {
                    return Ok(false);
                }
                self.held().message(row);
            }
            "read_marker.updated" => {
                let p: ReadMarkerPayload = decode(event)?;
                self.held().read_marker(ReadMarker {
                    channel_id: p.channel_id,
                    user_id: p.user_id,
                    message_id: p.message_id,
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Writes what is held, then marks its events processed; kept for a retry if writing fails.
    async fn write_held(&self) -> Result<(), HandleError> {
        let held = std::mem::take(&mut *self.held());
        let Some(position) = held.position else {
            return Ok(());
        };
        if let Err(error) = self.write(&held).await {
            *self.held() = held;
            return Err(error);
        }
        self.processed(position);
        Ok(())
    }

    async fn write(&self, held: &Held) -> Result<(), HandleError> {
        let core = &self.core;
        if !held.messages.is_empty() {
            let live: HashMap<Uuid, _> = core
                .store
                .upsert_messages(&held.messages)
                .await
                .map_err(retry)?
                .into_iter()
                .map(|m| (m.id, m.vector))
                .collect();
            let model = core.embedder.as_ref().map(|e| e.name());
            let mut index = core.write();
            // A message missing from `live` was deleted already: a late or replayed event must
            // not revive it.
            for (row, stored) in held
                .messages
                .iter()
                .filter_map(|row| Some((row, live.get(&row.id)?)))
            {
                let vector = match (&stored.embedding, &stored.embedder) {
                    (Some(bytes), Some(by)) if Some(by.as_str()) == model => embed::from_bytes(bytes),
                    _ => None,
                };
                let doc = Doc::new(
                    row.id,
                    row.workspace_id,
                    row.channel_id,
                    row.author_id,
                    row.thread_root_id,
                    row.text.clone(),
                    row.created_at,
                );
                index.upsert(doc, vector.as_deref(), model.is_some());
            }
            drop(index);
            core.wake.notify_one();
        }
        if !held.read_markers.is_empty() {
            let markers: Vec<ReadMarker> = held
                .read_markers
                .iter()
                .map(|(&(channel_id, user_id), &message_id)| ReadMarker {
                    channel_id,
                    user_id,
                    message_id,
                })
                .collect();
            core.store.set_read_markers(&markers).await.map_err(retry)?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%kind, position = %event.position))]
    async fn apply(&self, kind: &str, event: &Logged) -> Result<(), HandleError> {
        let core = &self.core;
        match kind {
            "message.created" | "message.updated" => {
                // Only a tombstone gets here (see `hold`).
                let p: MessagePayload = decode(event)?;
                let (row, _) = message_row(p.workspace_id, p.message);
                self.delete(&row).await?;
            }
            "message.deleted" => {
                let p: MessagePayload = decode(event)?;
                let (row, _) = message_row(p.workspace_id, p.message);
                self.delete(&row).await?;
            }
            "channel.created" | "channel.updated" => {
                let p: ChannelPayload = decode(event)?;
                self.channel(&p.channel).await?;
                for user_id in p.channel.member_ids.iter().flatten() {
                    core.store
                        .set_channel_member(p.channel.id, *user_id, true)
                        .await
                        .map_err(retry)?;
                    core.write().set_channel_member(p.channel.id, *user_id, true);
                }
            }
            "channel.member_joined" | "channel.member_left" => {
                let p: ChannelMemberPayload = decode(event)?;
                let joined = kind == "channel.member_joined";
                self.channel(&p.channel).await?;
                core.store
                    .set_channel_member(p.channel.id, p.user_id, joined)
                    .await
                    .map_err(retry)?;
                core.write().set_channel_member(p.channel.id, p.user_id, joined);
            }
            "workspace.member_joined" | "workspace.member_updated" => {
                let p: WorkspaceMemberPayload = decode(event)?;
                core.store
                    .upsert_member(p.workspace_id, p.user_id, &p.member.role)
                    .await
                    .map_err(retry)?;
                core.write()
                    .set_member(p.workspace_id, p.user_id, Some(&p.member.role));
            }
            "workspace.member_left" => {
                let p: WorkspaceMemberPayload = decode(event)?;
                core.store
                    .delete_member(p.workspace_id, p.user_id)
                    .await
                    .map_err(retry)?;
                core.write().set_member(p.workspace_id, p.user_id, None);
            }
            _ => {}
        }
        Ok(())
    }

    async fn delete(&self, row: &MessageRow) -> Result<(), HandleError> {
        self.core.store.delete_message(row).await.map_err(retry)?;
        self.core.write().remove(row.workspace_id, row.id);
        Ok(())
    }

    async fn channel(&self, c: &ChannelBody) -> Result<(), HandleError> {
        let row = ChannelRow {
            id: c.id,
            workspace_id: c.workspace_id,
            name: c.name.clone(),
            kind: c.kind.clone(),
            archived: c.archived,
        };
        self.core.store.upsert_channel(&row).await.map_err(retry)?;
        self.core.write().upsert_channel(
            c.id,
            c.workspace_id,
            &c.name,
            ChannelKind::parse(&c.kind),
            c.archived,
        );
        Ok(())
    }
}

/// The stored form of a message payload, and whether it is a tombstone.
fn message_row(workspace_id: Uuid, m: MessageBody) -> (MessageRow, bool) {
    let created_at = chrono::DateTime::parse_from_rfc3339(&m.created_at)
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|_| {
            // UUIDv7 ids carry their creation time; use it when the timestamp does not parse.
            m.id.get_timestamp().map_or(0, |t| {
                let (secs, nanos) = t.to_unix();
                (secs * 1000 + u64::from(nanos) / 1_000_000) as i64
            })
        });
    let row = MessageRow {
        id: m.id,
        workspace_id,
        channel_id: m.channel_id,
        author_id: m.author_id,
        thread_root_id: m.thread_root_id,
        text: m.text,
        created_at,
    };
    (row, m.deleted)
}
