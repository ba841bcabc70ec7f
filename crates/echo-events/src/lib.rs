//! `echo-events`: Echo's event bus.
//!
//! Services publish versioned [`Envelope`]s; consumers in groups receive them at least once, in
//! log order, with retries, a dead-letter list and replay. One interface, [`EventBus`], has two
//! implementations chosen by URL (see [`connect`]):
//! - [`redis::RedisBus`]: Redis Streams, for the scaled mode (many processes and replicas);
//! - [`sqlite::SqliteBus`]: a durable log in one SQLite file, for the single-process embedded mode.
//!
//! Producers never publish directly from a request: they enqueue envelopes in their database's
//! `event_outbox` inside the transaction of the change, and an [`outbox::OutboxRelay`] moves them
//! to the bus (see [`outbox`] for the guarantees).
//!
//! Layout: [`envelope`] and [`position`] are the data types; [`bus`] is the trait and its
//! consumer-group vocabulary; [`sqlite`] and [`redis`] implement it; [`consumer`] runs a handler
//! over a group; [`outbox`] is the producer side; [`admin`] holds the operations behind the
//! `echo-server events` commands; [`error`] is the one error type.
//!
//! ```no_run
//! # async fn demo(db: sqlx::SqlitePool) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use echo_events::{outbox, ConsumerConfig, Envelope, EventHandler, HandleError, Logged};
//! use tokio_util::sync::CancellationToken;
//!
//! let bus = echo_events::connect("sqlite://data/events.db").await?;
//! let shutdown = CancellationToken::new();
//!
//! // Producer: enqueue inside the transaction of the change, then wake the relay.
//! let (relay, _task) = outbox::OutboxRelay::spawn(outbox::OutboxSource::Sqlite(db.clone()), bus.clone(), shutdown.clone());
//! let mut tx = db.begin().await?;
//! // … the change itself …
//! let event = Envelope::new("message.created", 1, "message-service", serde_json::json!({"id": "…"}));
//! outbox::enqueue_sqlite(&mut tx, &[event]).await?;
//! tx.commit().await?;
//! relay.notify();
//!
//! // Consumer: idempotent, parks what it cannot read.
//! struct Indexer;
//! #[async_trait::async_trait]
//! impl EventHandler for Indexer {
//!     async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
//!         match (event.envelope.kind.as_str(), event.envelope.version) {
//!             ("message.created", 1) => Ok(()), // upsert keyed by the message id
//!             (_, v) if v > 1 => Err(HandleError::Park(format!("unknown version {v}"))),
//!             _ => Ok(()),
//!         }
//!     }
//! }
//! let config = ConsumerConfig::new("ai-indexer", "replica-1");
//! echo_events::spawn_consumer(bus.clone(), config, Arc::new(Indexer), shutdown.clone());
//!
//! // Live fan-out for the WebSocket hub, from an exact position.
//! let (_, newest) = bus.bounds().await?;
//! let mut live = bus.tail(newest);
//! while let Some(logged) = live.recv().await { let _ = logged.position; }
//! # Ok(()) }
//! ```
//!
//! Things every user must know:
//! - Delivery is at least once (redelivery after a crash, outbox duplicates after a relay
//!   crash): deduplicate on [`Envelope::id`] or make the effect idempotent.
//! - Positions are comparable only within one backend; they are opaque cursors for clients.
//! - A cursor older than `bounds().0` has been trimmed: the caller must resynchronise.

pub mod admin;
pub mod bus;
pub mod consumer;
pub mod envelope;
pub mod error;
pub mod outbox;
pub mod position;
pub mod redis;
pub mod sqlite;

use std::sync::Arc;

use serde::Deserialize;

pub use crate::bus::{DeadLetter, Delivery, EventBus, FetchOptions, GroupInfo, GroupStart, Redrive};
pub use crate::consumer::{Backoff, ConsumerConfig, EventHandler, HandleError, spawn_consumer};
pub use crate::envelope::{Envelope, Logged};
pub use crate::error::BusError;
pub use crate::outbox::{OutboxRelay, OutboxSource, RelayConfig, RelayHandle};
pub use crate::position::Position;

/// Which bus to use, embeddable in a service's typed configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct BusConfig {
    /// `redis://host:port[/db]` for Redis Streams; `sqlite://path`, `sqlite:path` or a bare path
    /// for the embedded log.
    pub url: String,
    /// Prefix of the Redis keys (`{prefix}:events`, `{prefix}:dlq`); unused by SQLite.
    pub stream_prefix: String,
    /// Events kept in the log; older ones are trimmed (approximately, on Redis).
    pub retention_max_len: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://events.db".to_owned(),
            stream_prefix: "echo".to_owned(),
            retention_max_len: 1_000_000,
        }
    }
}

impl From<&str> for BusConfig {
    fn from(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            ..Self::default()
        }
    }
}

impl From<String> for BusConfig {
    fn from(url: String) -> Self {
        Self {
            url,
            ..Self::default()
        }
    }
}

impl From<&BusConfig> for BusConfig {
    fn from(config: &BusConfig) -> Self {
        config.clone()
    }
}

/// Opens the bus a configuration (or a bare URL) names.
///
/// A Redis bus connects lazily (this succeeds while Redis is down); a SQLite log is opened (and
/// created) right away.
#[tracing::instrument(skip_all)]
pub async fn connect(config: impl Into<BusConfig>) -> Result<Arc<dyn EventBus>, BusError> {
    let config = config.into();
    let url = config.url.trim();
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        let bus = redis::RedisBus::connect(url, &config.stream_prefix, config.retention_max_len).await?;
        return Ok(Arc::new(bus));
    }
    let looks_like_other_scheme = url.contains("://") && !url.starts_with("sqlite://");
    if url.is_empty() || looks_like_other_scheme {
        return Err(BusError::UnsupportedUrl(config.url.clone()));
    }
    let bus = sqlite::SqliteBus::open(sqlite::path_from_url(url), config.retention_max_len).await?;
    Ok(Arc::new(bus))
}
