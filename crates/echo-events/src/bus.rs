//! The `EventBus` interface shared by the Redis Streams and SQLite implementations.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::envelope::{Envelope, Logged};
use crate::error::BusError;
use crate::position::Position;

/// Capacity of the channel behind [`EventBus::tail`]. A slow receiver only slows its own tail
/// task (which reads from the durable log), so nothing is dropped.
pub const TAIL_CHANNEL_CAPACITY: usize = 1024;

/// Where a new consumer group starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupStart {
    /// Every retained event.
    #[default]
    Oldest,
    /// Only events appended after the group is created.
    Latest,
    /// Events strictly after this position.
    After(Position),
}

/// One event handed to one consumer of a group, with how many times it has been delivered
/// (1 on the first delivery; redeliveries after a crash or lease expiry count up).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub logged: Logged,
    pub attempts: u32,
}

/// Options for [`EventBus::fetch`].
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// The most deliveries to return.
    pub limit: usize,
    /// Deliveries pending (unacknowledged) for longer than this are taken over by the caller.
    pub claim_idle: Duration,
    /// How long to wait for new events when there are none.
    pub block: Duration,
}

/// An event a consumer group gave up on, kept until it is re-driven.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The id of this dead letter (an entry of the dead-letter stream or table).
    pub id: Position,
    /// The consumer group that gave up.
    pub group: String,
    /// Where the event sits in the main log.
    pub position: Position,
    /// The event; `None` when the stored entry was not a valid envelope (see `raw`).
    pub envelope: Option<Envelope>,
    /// The entry as stored, for entries that could not be decoded.
    pub raw: String,
    /// Why the group gave up: the handler's last error or the reason it parked the event.
    pub reason: String,
    /// How many times it was tried.
    pub attempts: u32,
    pub failed_at: DateTime<Utc>,
}

/// What happened to one dead letter on re-drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redrive {
    /// Put back into the group's pending list: only that group sees it again, right away.
    Redelivered,
    /// The original entry had been trimmed from the log, so the envelope was appended again
    /// (every group and tail sees it again; they deduplicate on the envelope id).
    Republished,
}

/// State of one consumer group, for admin listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub name: String,
    /// The last position handed to any consumer of the group.
    pub last_delivered: Position,
    /// Deliveries not yet acknowledged.
    pub pending: u64,
}

/// The event bus: an append-only, ordered log with fan-out tails and consumer groups.
///
/// Implementations: [`crate::redis::RedisBus`] (Redis Streams) and [`crate::sqlite::SqliteBus`]
/// (a durable log in one SQLite file). Services hold it as `Arc<dyn EventBus>`; the trait is
/// dyn-compatible on purpose.
///
/// Consumer-group semantics are those of Redis Streams on both backends: a group has a "last
/// delivered" position; `fetch` hands out events after it and records them as pending for the
/// consumer; `ack` removes them; pending events whose consumer went quiet for `claim_idle` are
/// handed to whoever fetches next (this is the lease expiry), with their attempt count raised.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Appends events in order and returns their positions (all or none are appended).
    async fn publish(&self, events: &[Envelope]) -> Result<Vec<Position>, BusError>;

    /// Up to `limit` events strictly after `after` (None = from the oldest retained), in log order.
    async fn read_after(&self, after: Option<Position>, limit: usize) -> Result<Vec<Logged>, BusError>;

    /// Oldest retained and newest positions, None when the log is empty.
    async fn bounds(&self) -> Result<(Option<Position>, Option<Position>), BusError>;

    /// First position whose append time is at or after `at` (for replay by time).
    async fn position_at(&self, at: DateTime<Utc>) -> Result<Option<Position>, BusError>;

    /// A live tail of every event appended after `after`; with `None`, of events appended after
    /// the tail task has started (pass the newest position from [`EventBus::bounds`] to be exact).
    ///
    /// Every caller sees every event (fan-out, not a group). A channel rather than a `Stream` so
    /// that the WebSocket hub can `select!` on it without pinning; the tail task ends when the
    /// receiver is dropped. A backend error is logged and retried with backoff, so the channel
    /// only closes when the bus is dropped.
    fn tail(&self, after: Option<Position>) -> mpsc::Receiver<Logged>;

    /// Creates the group if it does not exist (an existing group keeps its position).
    async fn ensure_group(&self, group: &str, start: GroupStart) -> Result<(), BusError>;

    /// Takes over deliveries left pending longer than `claim_idle`, else hands out new events
    /// (waiting up to `block` for some). Fails with [`BusError::NoGroup`] if the group is gone.
    async fn fetch(
        &self,
        group: &str,
        consumer: &str,
        options: &FetchOptions,
    ) -> Result<Vec<Delivery>, BusError>;

    /// Acknowledges deliveries: they will not be delivered to the group again.
    async fn ack(&self, group: &str, positions: &[Position]) -> Result<(), BusError>;

    /// Moves a delivery to the dead-letter list with a reason, and acknowledges it.
    async fn dead_letter(&self, group: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError>;

    /// Dead letters, oldest first, optionally of one group only.
    async fn dead_letters(&self, group: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>, BusError>;

    /// Re-drives one dead letter to its group and removes it from the dead-letter list.
    async fn redrive(&self, dead_letter: Position) -> Result<Redrive, BusError>;

    /// Moves a group so that its next new delivery is the first event after `after`
    /// (None = from the oldest retained): replay, or skipping ahead. Pending deliveries stay pending.
    async fn reset_group(&self, group: &str, after: Option<Position>) -> Result<(), BusError>;

    /// Every consumer group.
    async fn groups(&self) -> Result<Vec<GroupInfo>, BusError>;
}
