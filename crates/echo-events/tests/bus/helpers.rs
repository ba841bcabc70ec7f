//! Fixtures shared by the test modules.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use echo_events::{
    BusConfig, BusError, DeadLetter, Delivery, Envelope, EventBus, EventHandler, FetchOptions, GroupInfo,
    GroupStart, HandleError, Logged, Position, Redrive,
};
use tokio::sync::{Notify, mpsc};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const WAIT: Duration = Duration::from_secs(20);

/// Waits for `future` at most `WAIT`, failing the test with `what` otherwise.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Polls `check` until it holds, at most `WAIT`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(what, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("echo-events-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a test's log lives; `open` may be called again to simulate a process restart.
pub enum Backend {
    Sqlite {
        dir: TempDir,
        retention: u64,
    },
    Redis {
        url: String,
        prefix: String,
        retention: u64,
    },
}

impl Backend {
    pub fn sqlite() -> Self {
        Backend::Sqlite {
            dir: TempDir::new(),
            retention: 1_000_000,
        }
    }

    pub fn redis() -> Self {
        Self::redis_at(REDIS_URL)
    }

    pub fn redis_at(url: &str) -> Self {
        let prefix = format!("test-{}", uuid::Uuid::now_v7().simple());
        Backend::Redis {
            url: url.to_owned(),
            prefix,
            retention: 1_000_000,
        }
    }

    pub fn with_retention(mut self, max_len: u64) -> Self {
        match &mut self {
            Backend::Sqlite { retention, .. } | Backend::Redis { retention, .. } => *retention = max_len,
        }
        self
    }

    pub fn config(&self) -> BusConfig {
        match self {
            Backend::Sqlite { dir, retention } => BusConfig {
                url: format!("sqlite://{}", dir.path().join("events.db").display()),
                retention_max_len: *retention,
                ..BusConfig::default()
            },
            Backend::Redis {
                url,
                prefix,
                retention,
            } => BusConfig {
                url: url.clone(),
                stream_prefix: prefix.clone(),
                retention_max_len: *retention,
            },
        }
    }

    pub async fn open(&self) -> Arc<dyn EventBus> {
        echo_events::connect(self.config()).await.unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Redis { url, prefix, .. } = self {
            // Best effort: the shared Redis should not collect test streams.
            if let Ok(mut conn) = redis::Client::open(url.as_str()).and_then(|c| c.get_connection()) {
                let _: Result<(), _> = redis::cmd("DEL")
                    .arg(format!("{prefix}:events"))
                    .arg(format!("{prefix}:dlq"))
                    .query(&mut conn);
            }
        }
    }
}

pub fn event(kind: &str, n: u64) -> Envelope {
    Envelope::new(kind, 1, "test", serde_json::json!({ "n": n }))
}

pub fn events(n: u64) -> Vec<Envelope> {
    (0..n).map(|i| event("test.happened", i)).collect()
}

pub fn fetch_options(claim_idle: Duration) -> FetchOptions {
    FetchOptions {
        limit: 100,
        claim_idle,
        block: Duration::from_millis(200),
    }
}

/// A handler that records what it handled and can be told to fail.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Logged>>,
    changed: Notify,
    /// Envelopes with `payload.fail_times = k` fail their first k attempts.
    attempts: Mutex<std::collections::HashMap<uuid::Uuid, u32>>,
    /// Envelope versions above this are parked.
    pub max_version: Option<u16>,
    pub panic_once: AtomicBool,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn knowing_versions_up_to(max: u16) -> Arc<Self> {
        Arc::new(Self {
            max_version: Some(max),
            ..Self::default()
        })
    }

    pub fn ids(&self) -> Vec<uuid::Uuid> {
        self.seen.lock().unwrap().iter().map(|l| l.envelope.id).collect()
    }

    /// Distinct envelope ids, in the order first seen (what an idempotent consumer applies).
    pub fn distinct_ids(&self) -> Vec<uuid::Uuid> {
        let mut seen = HashSet::new();
        self.ids().into_iter().filter(|id| seen.insert(*id)).collect()
    }

    pub fn attempts_of(&self, id: uuid::Uuid) -> u32 {
        self.attempts.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    pub async fn wait_for_distinct(&self, n: usize) {
        within(&format!("{n} distinct events"), async {
            loop {
                let notified = self.changed.notified();
                if self.distinct_ids().len() >= n {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
            }
        })
        .await;
    }
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let a = attempts.entry(event.envelope.id).or_insert(0);
            *a += 1;
            *a
        };
        if self.panic_once.swap(false, Ordering::SeqCst) {
            panic!("handler blew up");
        }
        if let Some(max) = self.max_version
            && event.envelope.version > max
        {
            return Err(HandleError::Park(format!(
                "unknown version {}",
                event.envelope.version
            )));
        }
        let fail_times = event
            .envelope
            .payload
            .get("fail_times")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if u64::from(attempt) <= fail_times {
            return Err(HandleError::Retry(anyhow::anyhow!(
                "failure {attempt} of {fail_times}"
            )));
        }
        self.seen.lock().unwrap().push(event.clone());
        self.changed.notify_waiters();
        Ok(())
    }
}

/// Receives `n` events from a tail, with a timeout.
pub async fn take(rx: &mut mpsc::Receiver<Logged>, n: usize) -> Vec<Logged> {
    within(&format!("{n} tailed events"), async {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.push(rx.recv().await.expect("tail closed"));
        }
        out
    })
    .await
}

/// A bus that can be switched off, to test what producers do while the real one is down.
pub struct FlakyBus {
    pub inner: Arc<dyn EventBus>,
    pub down: AtomicBool,
}

impl FlakyBus {
    pub fn new(inner: Arc<dyn EventBus>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            down: AtomicBool::new(false),
        })
    }

    fn check(&self) -> Result<(), BusError> {
        if self.down.load(Ordering::SeqCst) {
            Err(BusError::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "bus is down",
            )))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl EventBus for FlakyBus {
    async fn publish(&self, events: &[Envelope]) -> Result<Vec<Position>, BusError> {
        self.check()?;
        self.inner.publish(events).await
    }
    async fn read_after(&self, after: Option<Position>, limit: usize) -> Result<Vec<Logged>, BusError> {
        self.check()?;
        self.inner.read_after(after, limit).await
    }
    async fn bounds(&self) -> Result<(Option<Position>, Option<Position>), BusError> {
        self.inner.bounds().await
    }
    async fn position_at(&self, at: chrono::DateTime<chrono::Utc>) -> Result<Option<Position>, BusError> {
        self.inner.position_at(at).await
    }
    fn tail(&self, after: Option<Position>) -> mpsc::Receiver<Logged> {
        self.inner.tail(after)
    }
    async fn ensure_group(&self, group: &str, start: GroupStart) -> Result<(), BusError> {
        self.inner.ensure_group(group, start).await
    }
    async fn fetch(
        &self,
        group: &str,
        consumer: &str,
        options: &FetchOptions,
    ) -> Result<Vec<Delivery>, BusError> {
        self.check()?;
        self.inner.fetch(group, consumer, options).await
    }
    async fn ack(&self, group: &str, positions: &[Position]) -> Result<(), BusError> {
        self.inner.ack(group, positions).await
    }
    async fn dead_letter(&self, group: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        self.inner.dead_letter(group, delivery, reason).await
    }
    async fn dead_letters(&self, group: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.inner.dead_letters(group, limit).await
    }
    async fn redrive(&self, dead_letter: Position) -> Result<Redrive, BusError> {
        self.inner.redrive(dead_letter).await
    }
    async fn reset_group(&self, group: &str, after: Option<Position>) -> Result<(), BusError> {
        self.inner.reset_group(group, after).await
    }
    async fn groups(&self) -> Result<Vec<GroupInfo>, BusError> {
        self.inner.groups().await
    }
}

/// A fresh PostgreSQL database, dropped (best effort) with this value.
pub struct PgDatabase {
    pub name: String,
    pub pool: sqlx::PgPool,
}

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl PgDatabase {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let name = format!("echo_ev_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
            .await
            .unwrap();
        sqlx::raw_sql(echo_events::outbox::POSTGRES_OUTBOX_DDL)
            .execute(&pool)
            .await
            .unwrap();
        Self { name, pool }
    }

    pub async fn drop_now(self) {
        use sqlx::Connection;
        self.pool.close().await;
        if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
        }
    }
}

/// A SQLite service database with the outbox table.
pub async fn sqlite_service_db(dir: &TempDir) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("service.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::raw_sql(echo_events::outbox::SQLITE_OUTBOX_DDL)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}
