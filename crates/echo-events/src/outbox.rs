//! The transactional outbox: an event is published if and only if its change committed.
//!
//! A service writes its envelopes into its own `event_outbox` table with [`enqueue_sqlite`] or
//! [`enqueue_postgres`], *inside the transaction that makes the change*; the commit makes both
//! durable together. An [`OutboxRelay`] then moves rows to the bus in `seq` order and deletes them
//! only after the bus acknowledged the publish. While the bus is down rows simply wait, and the
//! relay retries with exponential backoff.
//!
//! Guarantees and their limits:
//! - Nothing acknowledged is lost: a row leaves the outbox only after the bus has it.
//! - No duplicates in the log: if the relay dies between the publish and the delete, the next
//!   relay publishes those rows again (same envelope ids), and the bus appends an id it already
//!   holds only once (the SQLite log by a unique index, Redis by remembering published ids for a
//!   day). Delivery to a consumer group is still at least once, so consumers dedupe on
//!   `Envelope::id` all the same.
//! - Order: rows are published in `seq` order. In SQLite, writers are serialized, so `seq` is
//!   commit order. In PostgreSQL `seq` is taken at insert time, so two concurrent transactions may
//!   commit in the other order; the relay never skips the late one (it publishes whatever is in
//!   the table, oldest `seq` first), but it may publish it after a higher `seq`. Changes to the
//!   same row are serialized by the row lock, so their events stay in order.
//! - PostgreSQL with several replicas: only the replica holding a session-level advisory lock
//!   (`pg_try_advisory_lock`, on a dedicated connection) relays; if it dies, its session ends,
//!   the lock is released and another replica takes over within about a second.
//! - Wake-ups: [`RelayHandle::notify`] wakes the relay of the same process. In PostgreSQL the
//!   active relay may be in another replica, so [`enqueue_postgres`] also sends
//!   `NOTIFY echo_event_outbox` (delivered on commit) and the active relay `LISTEN`s to it; the
//!   ~200 ms poll remains as a safety net.
//!
//! Add the DDL below to each service's migrations (SQLite and PostgreSQL folders respectively).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::types::Json;
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::EventBus;
use crate::consumer::Backoff;
use crate::envelope::Envelope;
use crate::error::BusError;

/// The outbox table for a SQLite service database (copy into a migration).
pub const SQLITE_OUTBOX_DDL: &str = r#"CREATE TABLE IF NOT EXISTS event_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);"#;

/// The outbox table for a PostgreSQL service database (copy into a migration).
pub const POSTGRES_OUTBOX_DDL: &str = r#"CREATE TABLE IF NOT EXISTS event_outbox (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   UUID NOT NULL,
    envelope   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);"#;

/// Writes envelopes into the outbox on `conn`; call it inside the transaction of the change.
#[tracing::instrument(skip_all, fields(count = events.len()))]
pub async fn enqueue_sqlite(conn: &mut SqliteConnection, events: &[Envelope]) -> Result<(), BusError> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|event| Ok((event.id.to_string(), serde_json::to_string(event)?)))
            .collect::<Result<Vec<_>, BusError>>()?;
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO event_outbox (event_id, envelope) ");
        insert.push_values(rows, |mut row, (id, envelope)| {
            row.push_bind(id).push_bind(envelope);
        });
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Events per multi-row insert, well under either database's limit on bound values.
const ROWS_PER_INSERT: usize = 1_000;

/// PostgreSQL channel the active relay listens on; a `NOTIFY` is delivered only on commit.
pub const POSTGRES_NOTIFY_CHANNEL: &str = "echo_event_outbox";

/// Writes envelopes into the outbox on `conn`; call it inside the transaction of the change.
/// Also queues a `NOTIFY` so the active relay, in whichever replica, wakes on commit.
#[tracing::instrument(skip_all, fields(count = events.len()))]
pub async fn enqueue_postgres(conn: &mut PgConnection, events: &[Envelope]) -> Result<(), BusError> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new("INSERT INTO event_outbox (event_id, envelope) ");
        insert.push_values(chunk, |mut row, event| {
            row.push_bind(event.id).push_bind(Json(event));
        });
        insert.build().execute(&mut *conn).await?;
    }
    if !events.is_empty() {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(POSTGRES_NOTIFY_CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The database whose `event_outbox` a relay drains.
#[derive(Clone, Debug)]
pub enum OutboxSource {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Tuning of a relay; the defaults suit every service.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Rows moved per publish.
    pub batch: usize,
    /// Safety-net polling interval, for commits nobody called [`RelayHandle::notify`] for.
    pub poll: Duration,
    /// Backoff while the bus or the database fails.
    pub backoff: Backoff,
    /// PostgreSQL advisory lock key that elects the active relay (advisory locks are per
    /// database, so one constant serves every service).
    pub lock_key: i64,
    /// How often a standby replica tries to become the active relay, and how often the active
    /// one checks that its lock connection is still alive.
    pub leader_check: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            poll: Duration::from_millis(200),
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(5),
            },
            // "echo-outbox" in ASCII, truncated to 8 bytes.
            lock_key: 0x6563_686f_2d6f_7574,
            leader_check: Duration::from_secs(1),
        }
    }
}

/// Wakes a relay right after a commit, so events go out without waiting for the poll.
#[derive(Clone, Debug)]
pub struct RelayHandle {
    wake: Arc<Notify>,
}

impl RelayHandle {
    /// Call after committing a transaction that enqueued events.
    pub fn notify(&self) {
        // notify_one keeps a permit when the relay is busy, so a wake-up is never lost.
        self.wake.notify_one();
    }
}

/// Moves outbox rows to the bus.
pub struct OutboxRelay;

impl OutboxRelay {
    /// Starts a relay with the default [`RelayConfig`]; it stops when `shutdown` is cancelled.
    pub fn spawn(
        source: OutboxSource,
        bus: Arc<dyn EventBus>,
        shutdown: CancellationToken,
    ) -> (RelayHandle, JoinHandle<()>) {
        Self::spawn_with(source, bus, RelayConfig::default(), shutdown)
    }

    /// Starts a relay with explicit tuning.
    pub fn spawn_with(
        source: OutboxSource,
        bus: Arc<dyn EventBus>,
        config: RelayConfig,
        shutdown: CancellationToken,
    ) -> (RelayHandle, JoinHandle<()>) {
        let wake = Arc::new(Notify::new());
        let relay = Relay {
            source,
            bus,
            config,
            shutdown,
            wake: wake.clone(),
            lock: None,
        };
        (RelayHandle { wake }, tokio::spawn(relay.run()))
    }
}

struct Relay {
    source: OutboxSource,
    bus: Arc<dyn EventBus>,
    config: RelayConfig,
    shutdown: CancellationToken,
    wake: Arc<Notify>,
    /// PostgreSQL only: the connection holding the advisory lock while this relay is active.
    lock: Option<PgConnection>,
}

impl Relay {
    #[tracing::instrument(name = "outbox_relay", skip_all)]
    async fn run(mut self) {
        let mut failures = 0_u32;
        let mut last_leader_check = tokio::time::Instant::now();
        let mut listener: Option<PgListener> = None;
        while !self.shutdown.is_cancelled() {
            if let OutboxSource::Postgres(pool) = &self.source {
                let pool = pool.clone();
                let due = last_leader_check.elapsed() >= self.config.leader_check;
                if self.lock.is_none() || due {
                    last_leader_check = tokio::time::Instant::now();
                    if !self.hold_lock(&pool).await {
                        listener = None;
                        if self.wait(self.config.leader_check).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    if listener.is_none() {
                        listener = listen(&pool).await;
                    }
                }
            }
            match self.relay_once().await {
                Ok(moved) => {
                    failures = 0;
                    if moved >= self.config.batch.max(1) {
                        // A full batch: more is probably waiting.
                        continue;
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, failures, "relaying the outbox failed; retrying with backoff");
                    if self.wait(self.config.backoff.delay(failures)).await.is_err() {
                        break;
                    }
                    continue;
                }
            }
            let notified = self.wake.notified();
            tokio::select! {
                _ = notified => {}
                _ = next_notification(&mut listener) => {}
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
        if let Some(conn) = self.lock.take() {
            // Closing the session releases the advisory lock for another replica right away.
            let _ = conn.close().await;
        }
    }

    async fn wait(&self, duration: Duration) -> Result<(), ()> {
        tokio::select! {
            _ = tokio::time::sleep(duration) => Ok(()),
            _ = self.shutdown.cancelled() => Err(()),
        }
    }

    /// Makes sure this relay holds the advisory lock; `false` while another replica holds it
    /// or the database is unreachable.
    async fn hold_lock(&mut self, pool: &PgPool) -> bool {
        if let Some(conn) = self.lock.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            tracing::warn!("lost the outbox relay lock connection; stepping down");
            self.lock = None;
        }
        let attempt = async {
            // Detached from the pool: the lock lives exactly as long as this session.
            let mut conn = pool.acquire().await?.detach();
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(self.config.lock_key)
                .fetch_one(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>((locked, conn))
        };
        match attempt.await {
            Ok((true, conn)) => {
                tracing::info!("this replica is now the active outbox relay");
                self.lock = Some(conn);
                true
            }
            Ok((false, conn)) => {
                let _ = conn.close().await;
                false
            }
            Err(error) => {
                tracing::warn!(%error, "could not try the outbox relay lock");
                false
            }
        }
    }

    /// Publishes one batch and deletes it; returns how many rows it moved.
    async fn relay_once(&self) -> Result<usize, BusError> {
        let limit = i64::try_from(self.config.batch.max(1)).unwrap_or(i64::MAX);
        match &self.source {
            OutboxSource::Sqlite(pool) => {
                let rows = sqlx::query("SELECT seq, envelope FROM event_outbox ORDER BY seq LIMIT $1")
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                let Some(last_seq) = rows.last().map(|r| r.get::<i64, _>(0)) else {
                    return Ok(0);
                };
                let envelopes: Vec<Envelope> = rows
                    .iter()
                    .filter_map(|row| {
                        let body: String = row.get(1);
                        decode_row(row.get(0), serde_json::from_str(&body))
                    })
                    .collect();
                self.bus.publish(&envelopes).await?;
                // SQLite serializes writers, so no lower seq can still be uncommitted.
                sqlx::query("DELETE FROM event_outbox WHERE seq <= $1")
                    .bind(last_seq)
                    .execute(pool)
                    .await?;
                Ok(rows.len())
            }
            OutboxSource::Postgres(pool) => {
                let rows = sqlx::query("SELECT seq, envelope::text FROM event_outbox ORDER BY seq LIMIT $1")
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                if rows.is_empty() {
                    return Ok(0);
                }
                let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                let envelopes: Vec<Envelope> = rows
                    .iter()
                    .filter_map(|row| {
                        let body: String = row.get(1);
                        decode_row(row.get(0), serde_json::from_str(&body))
                    })
                    .collect();
                self.bus.publish(&envelopes).await?;
                // Delete exactly what was published: a lower seq may commit after we read.
                sqlx::query("DELETE FROM event_outbox WHERE seq = ANY($1)")
                    .bind(&seqs)
                    .execute(pool)
                    .await?;
                Ok(rows.len())
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let attempt = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(POSTGRES_NOTIFY_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match attempt.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for outbox notifications; polling only");
            None
        }
    }
}

/// Resolves on the next outbox notification; never, without a listener.
async fn next_notification(listener: &mut Option<PgListener>) {
    match listener {
        Some(l) => {
            if let Err(error) = l.recv().await {
                // The listener reconnects on the next recv; until then the poll covers us.
                tracing::debug!(%error, "outbox listener interrupted");
                *listener = None;
            }
        }
        None => std::future::pending().await,
    }
}

/// A row that is not an envelope can never be published; keeping it would block the outbox
/// forever, so it is logged in full and dropped with the batch.
fn decode_row(seq: i64, decoded: Result<Envelope, serde_json::Error>) -> Option<Envelope> {
    match decoded {
        Ok(envelope) => Some(envelope),
        Err(error) => {
            tracing::error!(seq, %error, "dropping an outbox row that is not an envelope");
            None
        }
    }
}
