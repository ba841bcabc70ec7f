//! The embedded event log: one SQLite file (WAL) behind the [`EventBus`] interface.
//!
//! Positions are `(rowid, 0)` of an `AUTOINCREMENT` table, so they never repeat even after old
//! events are pruned. Consumer groups, pending deliveries and dead letters live in the same file,
//! so everything survives a restart. Writes are serialized by an in-process mutex (SQLite has one
//! writer anyway, and waiting on a tokio mutex is cheaper than spinning on `SQLITE_BUSY`); reads
//! run in parallel on the pool thanks to WAL. Tails and blocked fetches are woken through a
//! `watch` channel carrying the newest position, so a published event reaches them in
//! microseconds instead of a polling interval; they still poll every 250 ms as a safety net for
//! writers in another process.
//!
//! In embedded mode all four services run in one process and each opens the bus from its own
//! configuration; [`SqliteBus::open`] hands them the *same* instance for the same file (a
//! process-wide registry), so they share the write lock and the wake-ups instead of contending
//! on `SQLITE_BUSY` and waiting for the safety poll.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{Mutex, mpsc, watch};

use crate::bus::{
    DeadLetter, Delivery, EventBus, FetchOptions, GroupInfo, GroupStart, Redrive, TAIL_CHANNEL_CAPACITY,
};
use crate::envelope::{Envelope, Logged};
use crate::error::BusError;
use crate::position::Position;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS bus_events (
    pos            INTEGER PRIMARY KEY AUTOINCREMENT,
    appended_at_ms INTEGER NOT NULL,
    body           TEXT NOT NULL,
    event_id       TEXT
);
CREATE INDEX IF NOT EXISTS bus_events_appended ON bus_events (appended_at_ms);
CREATE TABLE IF NOT EXISTS bus_groups (
    name           TEXT PRIMARY KEY,
    last_delivered INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_pending (
    grp             TEXT NOT NULL,
    pos             INTEGER NOT NULL,
    consumer        TEXT NOT NULL,
    delivered_at_ms INTEGER NOT NULL,
    deliveries      INTEGER NOT NULL,
    PRIMARY KEY (grp, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bus_pending_idle ON bus_pending (grp, delivered_at_ms);
CREATE TABLE IF NOT EXISTS bus_dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    grp          TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    body         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    failed_at_ms INTEGER NOT NULL
);
"#;

/// Rows per multi-row INSERT: well under SQLite's bound-parameter limit, large enough that a
/// batch costs a handful of statements.
const INSERT_CHUNK: usize = 400;
/// How often blocked fetches and tails re-check without a wake-up (other processes, leases).
const SAFETY_POLL: Duration = Duration::from_millis(250);
const TAIL_BATCH: usize = 512;

/// The durable embedded log. Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct SqliteBus {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    path: PathBuf,
    /// Held by every write transaction; also guards `last_appended_ms`.
    write: Mutex<WriteState>,
    newest: watch::Sender<i64>,
    retention_max_len: u64,
}

struct WriteState {
    /// Append times are kept non-decreasing along positions (a clock step back must not make
    /// `position_at` skip events), so this remembers the last one handed out.
    last_appended_ms: i64,
    /// Lowest retained position as last seen, to decide cheaply when pruning is due.
    oldest: i64,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Positions beyond i64 (such as `Position::before` of the first entry's successor) clamp.
fn rowid(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn position(rowid: i64) -> Position {
    Position::new(u64::try_from(rowid).unwrap_or(0), 0)
}

fn time_of(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Logs open in this process, by canonical path (see the module docs).
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Inner>>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Inner>>>> = OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashMap::new()))
}

impl SqliteBus {
    /// Opens (creating if needed) the log at `path`, keeping at most `retention_max_len` events.
    ///
    /// If this process already has the file open, returns that instance (whose retention, set
    /// by the first opener, stays in force).
    #[tracing::instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub async fn open(path: impl AsRef<Path>, retention_max_len: u64) -> Result<Self, BusError> {
        let path = path.as_ref().to_path_buf();
        let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => parent.to_path_buf(),
            None => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let key = std::fs::canonicalize(&parent)?.join(path.file_name().unwrap_or_default());
        let mut open = registry().lock().await;
        open.retain(|_, inner| inner.strong_count() > 0);
        if let Some(inner) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(Self { inner });
        }
        let bus = Self::open_new(path, retention_max_len).await?;
        open.insert(key, Arc::downgrade(&bus.inner));
        Ok(bus)
    }

    async fn open_new(path: PathBuf, retention_max_len: u64) -> Result<Self, BusError> {
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode loses at most the last commits on power loss, never corrupts,
            // and avoids an fsync per publish (the ≥10k events/s target needs that).
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        // Logs from before events were appended once: add the column their index needs.
        let has_event_ids: bool = sqlx::query_scalar(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('bus_events') WHERE name = 'event_id'",
        )
        .fetch_one(&pool)
        .await?;
        if !has_event_ids {
            sqlx::query("ALTER TABLE bus_events ADD COLUMN event_id TEXT")
                .execute(&pool)
                .await?;
        }
        sqlx::query("CREATE UNIQUE INDEX IF NOT EXISTS bus_events_event_id ON bus_events (event_id)")
            .execute(&pool)
            .await?;
        let row = sqlx::query(
            "SELECT COALESCE(MIN(pos), 0), COALESCE(MAX(pos), 0), COALESCE(MAX(appended_at_ms), 0) FROM bus_events",
        )
        .fetch_one(&pool)
        .await?;
        let (oldest, newest, last_appended_ms): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let (newest_tx, _) = watch::channel(newest);
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                path,
                write: Mutex::new(WriteState {
                    last_appended_ms,
                    oldest,
                }),
                newest: newest_tx,
                retention_max_len: retention_max_len.max(1),
            }),
        })
    }

    /// The file this log lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Closes the pool (for tests that reopen the same file).
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Deletes events beyond the retention length now (publishing also does it as it goes).
    #[tracing::instrument(skip_all)]
    pub async fn prune(&self) -> Result<u64, BusError> {
        let mut state = self.inner.write.lock().await;
        self.prune_locked(&mut state).await
    }

    async fn prune_locked(&self, state: &mut WriteState) -> Result<u64, BusError> {
        let newest = *self.inner.newest.borrow();
        let keep_from = newest - i64::try_from(self.inner.retention_max_len).unwrap_or(i64::MAX) + 1;
        if keep_from <= state.oldest {
            return Ok(0);
        }
        let deleted = sqlx::query("DELETE FROM bus_events WHERE pos < $1")
            .bind(keep_from)
            .execute(&self.inner.pool)
            .await?
            .rows_affected();
        state.oldest = keep_from;
        Ok(deleted)
    }

    /// Appends events in order. One whose id the log already holds is not appended again (an
    /// outbox relay that died between publishing and deleting its rows publishes them twice):
    /// its earlier position is returned instead.
    async fn append_locked(
        &self,
        state: &mut WriteState,
        tx: &mut sqlx::SqliteConnection,
        events: &[(String, String)],
    ) -> Result<Vec<Position>, BusError> {
        let appended_at = now_ms().max(state.last_appended_ms);
        let mut positions = Vec::with_capacity(events.len());
        for chunk in events.chunks(INSERT_CHUNK) {
            let mut known: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT event_id, pos FROM bus_events WHERE event_id IN (");
            let mut ids = known.separated(", ");
            for (id, _) in chunk {
                ids.push_bind(id.as_str());
            }
            known.push(")");
            let mut at: HashMap<String, i64> = known
                .build_query_as()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            let fresh: Vec<&(String, String)> = chunk.iter().filter(|(id, _)| !at.contains_key(id)).collect();
            if !fresh.is_empty() {
                let mut insert: QueryBuilder<Sqlite> =
                    QueryBuilder::new("INSERT INTO bus_events (appended_at_ms, event_id, body) ");
                insert.push_values(fresh, |mut row, (id, body)| {
                    row.push_bind(appended_at)
                        .push_bind(id.as_str())
                        .push_bind(body.as_str());
                });
                insert.push(" RETURNING event_id, pos");
                let inserted: Vec<(String, i64)> = insert.build_query_as().fetch_all(&mut *tx).await?;
                at.extend(inserted);
            }
            for (id, _) in chunk {
                let pos = at.get(id).copied().ok_or(sqlx::Error::RowNotFound)?;
                positions.push(position(pos));
            }
        }
        state.last_appended_ms = appended_at;
        Ok(positions)
    }

    fn announce(&self, positions: &[Position]) {
        if let Some(newest) = positions.iter().map(|p| rowid(p.ms)).max() {
            self.inner.newest.send_if_modified(|known| {
                let later = newest > *known;
                *known = (*known).max(newest);
                later
            });
        }
    }

    /// One attempt at handing out deliveries; empty when there is nothing to do right now.
    async fn fetch_once(
        &self,
        group: &str,
        consumer: &str,
        options: &FetchOptions,
    ) -> Result<Vec<Delivery>, BusError> {
        let _state = self.inner.write.lock().await;
        let mut tx = self.inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        let limit = i64::try_from(options.limit.max(1)).unwrap_or(i64::MAX);
        let idle_before = now - i64::try_from(options.claim_idle.as_millis()).unwrap_or(i64::MAX);
        // Whether any lease expired comes with the group's position: usually none has, and the
        // look-up for them is skipped.
        let group_row: Option<(i64, bool)> = sqlx::query_as(
            "SELECT last_delivered,
                    EXISTS (SELECT 1 FROM bus_pending WHERE grp = $1 AND delivered_at_ms <= $2)
             FROM bus_groups WHERE name = $1",
        )
        .bind(group)
        .bind(idle_before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((last, expired)) = group_row else {
            return Err(BusError::NoGroup(group.to_owned()));
        };

        // Lease expiry first, as XAUTOCLAIM comes before XREADGROUP on Redis.
        let stuck = if !expired {
            Vec::new()
        } else {
            sqlx::query(
                "SELECT p.pos, p.deliveries, e.body FROM bus_pending p LEFT JOIN bus_events e ON e.pos = p.pos
                 WHERE p.grp = $1 AND p.delivered_at_ms <= $2 ORDER BY p.pos LIMIT $3",
            )
            .bind(group)
            .bind(idle_before)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
        };
        let mut out = Vec::new();
        let mut undecodable = Vec::new();
        for row in stuck {
            let pos: i64 = row.get(0);
            let deliveries: i64 = row.get(1);
            let body: Option<String> = row.get(2);
            let Some(body) = body else {
                // Trimmed by retention while pending: nothing left to deliver (Redis drops these too).
                sqlx::query("DELETE FROM bus_pending WHERE grp = $1 AND pos = $2")
                    .bind(group)
                    .bind(pos)
                    .execute(&mut *tx)
                    .await?;
                continue;
            };
            sqlx::query(
                "UPDATE bus_pending SET consumer = $3, delivered_at_ms = $4, deliveries = deliveries + 1
                 WHERE grp = $1 AND pos = $2",
            )
            .bind(group)
            .bind(pos)
            .bind(consumer)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let attempts = u32::try_from(deliveries + 1).unwrap_or(u32::MAX);
            match serde_json::from_str::<Envelope>(&body) {
                Ok(envelope) => out.push(Delivery {
                    logged: Logged {
                        position: position(pos),
                        envelope,
                    },
                    attempts,
                }),
                Err(error) => undecodable.push((pos, body, error.to_string(), attempts)),
            }
        }

        let room = options.limit.max(1).saturating_sub(out.len() + undecodable.len());
        if room > 0 {
            let fresh = sqlx::query("SELECT pos, body FROM bus_events WHERE pos > $1 ORDER BY pos LIMIT $2")
                .bind(last)
                .bind(i64::try_from(room).unwrap_or(i64::MAX))
                .fetch_all(&mut *tx)
                .await?;
            if let Some(max) = fresh.last().map(|row| row.get::<i64, _>(0)) {
                let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT OR REPLACE INTO bus_pending (grp, pos, consumer, delivered_at_ms, deliveries) ",
                );
                insert.push_values(&fresh, |mut b, row| {
                    b.push_bind(group)
                        .push_bind(row.get::<i64, _>(0))
                        .push_bind(consumer)
                        .push_bind(now)
                        .push_bind(1_i64);
                });
                insert.build().execute(&mut *tx).await?;
                sqlx::query("UPDATE bus_groups SET last_delivered = $2 WHERE name = $1")
                    .bind(group)
                    .bind(max)
                    .execute(&mut *tx)
                    .await?;
            }
            for row in fresh {
                let pos: i64 = row.get(0);
                let body: String = row.get(1);
                match serde_json::from_str::<Envelope>(&body) {
                    Ok(envelope) => out.push(Delivery {
                        logged: Logged {
                            position: position(pos),
                            envelope,
                        },
                        attempts: 1,
                    }),
                    Err(error) => undecodable.push((pos, body, error.to_string(), 1)),
                }
            }
        }
        // An entry that is not an envelope at all can never be handled: park it at once.
        for (pos, body, error, attempts) in undecodable {
            tracing::warn!(group, pos, %error, "dead-lettering an undecodable entry");
            insert_dead_letter(
                &mut tx,
                group,
                pos,
                &body,
                &format!("undecodable envelope: {error}"),
                attempts,
            )
            .await?;
        }
        tx.commit().await?;
        out.sort_by_key(|d| d.logged.position);
        Ok(out)
    }
}

async fn insert_dead_letter(
    tx: &mut sqlx::SqliteConnection,
    group: &str,
    pos: i64,
    body: &str,
    reason: &str,
    attempts: u32,
) -> Result<(), BusError> {
    sqlx::query(
        "INSERT INTO bus_dead_letters (grp, pos, body, reason, attempts, failed_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(group)
    .bind(pos)
    .bind(body)
    .bind(reason)
    .bind(i64::from(attempts))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM bus_pending WHERE grp = $1 AND pos = $2")
        .bind(group)
        .bind(pos)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn decode_rows(rows: Vec<sqlx::sqlite::SqliteRow>) -> Vec<Logged> {
    rows.into_iter()
        .filter_map(|row| {
            let pos: i64 = row.get(0);
            let body: String = row.get(1);
            match serde_json::from_str(&body) {
                Ok(envelope) => Some(Logged {
                    position: position(pos),
                    envelope,
                }),
                Err(error) => {
                    // Readers of the whole log cannot park an entry; groups dead-letter it.
                    tracing::warn!(pos, %error, "skipping an undecodable entry");
                    None
                }
            }
        })
        .collect()
}

#[async_trait::async_trait]
impl EventBus for SqliteBus {
    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn publish(&self, events: &[Envelope]) -> Result<Vec<Position>, BusError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let bodies = events
            .iter()
            .map(|e| Ok((e.id.to_string(), serde_json::to_string(e)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let mut state = self.inner.write.lock().await;
        let mut tx = self.inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        let positions = self.append_locked(&mut state, &mut tx, &bodies).await?;
        tx.commit().await?;
        self.announce(&positions);
        // Like Redis' `MAXLEN ~`: trim in steps of about 1 % so each publish does not pay for it.
        let retained = positions
            .iter()
            .map(|p| rowid(p.ms))
            .max()
            .map_or(0, |newest| newest - state.oldest.max(1) + 1);
        let max_len = i64::try_from(self.inner.retention_max_len).unwrap_or(i64::MAX);
        if retained > max_len.saturating_add((max_len / 100).max(1))
            && let Err(error) = self.prune_locked(&mut state).await
        {
            tracing::warn!(%error, "pruning the event log failed; will retry on a later publish");
        }
        Ok(positions)
    }

    #[tracing::instrument(skip_all, fields(after = ?after, limit = limit))]
    async fn read_after(&self, after: Option<Position>, limit: usize) -> Result<Vec<Logged>, BusError> {
        let rows = sqlx::query("SELECT pos, body FROM bus_events WHERE pos > $1 ORDER BY pos LIMIT $2")
            .bind(after.map(|p| rowid(p.ms)).unwrap_or(0))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.inner.pool)
            .await?;
        Ok(decode_rows(rows))
    }

    #[tracing::instrument(skip_all)]
    async fn bounds(&self) -> Result<(Option<Position>, Option<Position>), BusError> {
        let row = sqlx::query("SELECT MIN(pos), MAX(pos) FROM bus_events")
            .fetch_one(&self.inner.pool)
            .await?;
        let (oldest, newest): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok((oldest.map(position), newest.map(position)))
    }

    #[tracing::instrument(skip_all, fields(%at))]
    async fn position_at(&self, at: DateTime<Utc>) -> Result<Option<Position>, BusError> {
        let pos: Option<i64> = sqlx::query_scalar(
            "SELECT pos FROM bus_events WHERE appended_at_ms >= $1 ORDER BY appended_at_ms, pos LIMIT 1",
        )
        .bind(at.timestamp_millis())
        .fetch_optional(&self.inner.pool)
        .await?;
        Ok(pos.map(position))
    }

    fn tail(&self, after: Option<Position>) -> mpsc::Receiver<Logged> {
        let (tx, rx) = mpsc::channel(TAIL_CHANNEL_CAPACITY);
        let bus = self.clone();
        tokio::spawn(async move {
            let mut wake = bus.inner.newest.subscribe();
            let mut cursor = match after {
                Some(p) => p,
                None => position(*wake.borrow_and_update()),
            };
            let mut backoff = Duration::from_millis(50);
            loop {
                // Mark the current value seen *before* reading, so an append that lands after
                // the read still wakes us.
                wake.borrow_and_update();
                match bus.read_after(Some(cursor), TAIL_BATCH).await {
                    Ok(batch) if !batch.is_empty() => {
                        backoff = Duration::from_millis(50);
                        for logged in batch {
                            cursor = logged.position;
                            if tx.send(logged).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "tail read failed; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = tx.closed() => return,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
                tokio::select! {
                    _ = wake.changed() => {}
                    _ = tokio::time::sleep(SAFETY_POLL) => {}
                    _ = tx.closed() => return,
                }
            }
        });
        rx
    }

    #[tracing::instrument(skip_all, fields(group = %group, start = ?start))]
    async fn ensure_group(&self, group: &str, start: GroupStart) -> Result<(), BusError> {
        let _state = self.inner.write.lock().await;
        let last = match start {
            GroupStart::Oldest => 0,
            GroupStart::Latest => *self.inner.newest.borrow(),
            GroupStart::After(p) => rowid(p.ms),
        };
        sqlx::query("INSERT OR IGNORE INTO bus_groups (name, last_delivered) VALUES ($1, $2)")
            .bind(group)
            .bind(last)
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(group = %group, consumer = %consumer))]
    async fn fetch(
        &self,
        group: &str,
        consumer: &str,
        options: &FetchOptions,
    ) -> Result<Vec<Delivery>, BusError> {
        let deadline = Instant::now() + options.block;
        let mut wake = self.inner.newest.subscribe();
        loop {
            wake.borrow_and_update();
            let out = self.fetch_once(group, consumer, options).await?;
            let now = Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            let wait = (deadline - now).min(SAFETY_POLL);
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    #[tracing::instrument(skip_all, fields(group = %group, count = positions.len()))]
    async fn ack(&self, group: &str, positions: &[Position]) -> Result<(), BusError> {
        let _state = self.inner.write.lock().await;
        let mut tx = self.inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in positions.chunks(INSERT_CHUNK) {
            let mut delete: QueryBuilder<Sqlite> = QueryBuilder::new("DELETE FROM bus_pending WHERE grp = ");
            delete.push_bind(group).push(" AND pos IN (");
            let mut listed = delete.separated(", ");
            for p in chunk {
                listed.push_bind(rowid(p.ms));
            }
            delete.push(")");
            delete.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(group = %group, position = %delivery.logged.position))]
    async fn dead_letter(&self, group: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let body = serde_json::to_string(&delivery.logged.envelope)?;
        let _state = self.inner.write.lock().await;
        let mut tx = self.inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        insert_dead_letter(
            &mut tx,
            group,
            rowid(delivery.logged.position.ms),
            &body,
            reason,
            delivery.attempts,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(group = ?group, limit = limit))]
    async fn dead_letters(&self, group: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let rows = sqlx::query(
            "SELECT id, grp, pos, body, reason, attempts, failed_at_ms FROM bus_dead_letters
             WHERE $1 IS NULL OR grp = $1 ORDER BY id LIMIT $2",
        )
        .bind(group)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.inner.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let raw: String = row.get(3);
                DeadLetter {
                    id: position(row.get(0)),
                    group: row.get(1),
                    position: position(row.get(2)),
                    envelope: serde_json::from_str(&raw).ok(),
                    raw,
                    reason: row.get(4),
                    attempts: u32::try_from(row.get::<i64, _>(5)).unwrap_or(0),
                    failed_at: time_of(row.get(6)),
                }
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(%dead_letter))]
    async fn redrive(&self, dead_letter: Position) -> Result<Redrive, BusError> {
        let mut state = self.inner.write.lock().await;
        let mut tx = self.inner.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT grp, pos, body FROM bus_dead_letters WHERE id = $1")
            .bind(rowid(dead_letter.ms))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| BusError::DeadLetterNotFound(dead_letter.to_string()))?;
        let (group, pos, body): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        let retained: Option<i64> = sqlx::query_scalar("SELECT pos FROM bus_events WHERE pos = $1")
            .bind(pos)
            .fetch_optional(&mut *tx)
            .await?;
        let (outcome, appended) = if retained.is_some() {
            // Idle since the epoch and never delivered: the group's next fetch takes it over as
            // a first attempt, and no other group or tail sees it again.
            sqlx::query(
                "INSERT OR REPLACE INTO bus_pending (grp, pos, consumer, delivered_at_ms, deliveries) VALUES ($1, $2, '', 0, 0)",
            )
            .bind(&group)
            .bind(pos)
            .execute(&mut *tx)
            .await?;
            (Redrive::Redelivered, Vec::new())
        } else {
            let id = serde_json::from_str::<Envelope>(&body).map(|e| e.id.to_string())?;
            let appended = self.append_locked(&mut state, &mut tx, &[(id, body)]).await?;
            (Redrive::Republished, appended)
        };
        sqlx::query("DELETE FROM bus_dead_letters WHERE id = $1")
            .bind(rowid(dead_letter.ms))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.announce(&appended);
        // Wake blocked fetches so the redelivery does not wait for the safety poll.
        self.inner.newest.send_modify(|_| {});
        Ok(outcome)
    }

    #[tracing::instrument(skip_all, fields(group = %group, after = ?after))]
    async fn reset_group(&self, group: &str, after: Option<Position>) -> Result<(), BusError> {
        let _state = self.inner.write.lock().await;
        sqlx::query(
            "INSERT INTO bus_groups (name, last_delivered) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET last_delivered = excluded.last_delivered",
        )
        .bind(group)
        .bind(after.map(|p| rowid(p.ms)).unwrap_or(0))
        .execute(&self.inner.pool)
        .await?;
        self.inner.newest.send_modify(|_| {});
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn groups(&self) -> Result<Vec<GroupInfo>, BusError> {
        let rows = sqlx::query(
            "SELECT g.name, g.last_delivered, (SELECT COUNT(*) FROM bus_pending p WHERE p.grp = g.name)
             FROM bus_groups g ORDER BY g.name",
        )
        .fetch_all(&self.inner.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| GroupInfo {
                name: row.get(0),
                last_delivered: position(row.get(1)),
                pending: u64::try_from(row.get::<i64, _>(2)).unwrap_or(0),
            })
            .collect())
    }
}

/// Parses `sqlite://path`, `sqlite:path` or a bare path into a file path.
pub fn path_from_url(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    // Drop connection parameters such as `?mode=rwc`; the log sets its own.
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from_str(rest).unwrap_or_default()
}
