//! Database plumbing shared by Echo's services, and no service's schema.
//!
//! Every service owns one database and picks its backend by URL, as configuration and never as a
//! code fork: `sqlite://path/to/file.db` (embedded mode, created on first start) or
//! `postgres://…` (scaled mode). [`Db`] holds the pool of whichever it is; each service keeps its own
//! migrations for both backends and a store implementation per backend.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use echo_http::ops::{Probe, Sampler};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A service's connection pool, on one backend or the other.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A service's migrations for each backend (`sqlx::migrate!("./migrations/sqlite")` etc.).
pub struct Migrations {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
}

/// Pool sizing; SQLite has one writer at a time whatever the pool size, so its pool stays small.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub postgres: u32,
    pub sqlite: u32,
}

impl Default for PoolSize {
    fn default() -> Self {
        Self {
            postgres: 10,
            sqlite: 8,
        }
    }
}

impl Db {
    /// Connects by URL and brings the schema up to date.
    pub async fn connect(url: &str, migrations: &Migrations, size: PoolSize) -> anyhow::Result<Self> {
        let db = if is_postgres(url) {
            let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(size.postgres)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .with_context(|| format!("connecting to {}", redact(url)))?;
            migrations
                .postgres
                .run(&pool)
                .await
                .context("migrating the PostgreSQL schema")?;
            Db::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)
                .context("parsing the SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL is durable against a process crash; only an OS crash can lose the
                // last commits, the trade every embedded chat server on SQLite makes for speed.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                // Reads through a memory map rather than a read() per page: a search that looks up
                // hundreds of rows scattered over a large database spends most of its time
                // copying pages otherwise. Untouched pages cost no memory.
                .pragma("mmap_size", "1073741824")
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(size.sqlite)
                .connect_with(options)
                .await
                .with_context(|| format!("opening {url}"))?;
            migrations
                .sqlite
                .run(&pool)
                .await
                .context("migrating the SQLite schema")?;
            Db::Sqlite(pool)
        };
        Ok(db)
    }

    /// A readiness probe: the database answers a trivial query.
    pub fn probe(&self) -> Probe {
        let db = self.clone();
        std::sync::Arc::new(move || {
            let db = db.clone();
            Box::pin(async move {
                let result = match &db {
                    Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
                    Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
                };
                result.map_err(|e| e.to_string())
            })
        })
    }

    /// Gauges of the pool's use, `db_pool_connections{db, state = in_use | idle}` and
    /// `db_pool_max_connections{db}`, set at each scrape.
    pub fn sampler(&self, name: &'static str) -> Sampler {
        let db = self.clone();
        std::sync::Arc::new(move || {
            let (size, idle, max) = match &db {
                Db::Sqlite(pool) => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
                Db::Postgres(pool) => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
            };
            let idle = u32::try_from(idle).unwrap_or(u32::MAX);
            metrics::gauge!("db_pool_connections", "db" => name, "state" => "in_use")
                .set(f64::from(size.saturating_sub(idle)));
            metrics::gauge!("db_pool_connections", "db" => name, "state" => "idle").set(f64::from(idle));
            metrics::gauge!("db_pool_max_connections", "db" => name).set(f64::from(max));
            Box::pin(std::future::ready(()))
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A URL with its password hidden, for logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether an error is a unique-constraint violation. Call sites use it where exactly one unique
/// constraint can fail, so the kind alone identifies which.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Starting a transaction that writes.
///
/// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that
/// reads and then writes fails with `SQLITE_BUSY` if another connection committed in between,
/// whatever the busy timeout, while an immediate one waits its turn. PostgreSQL's `BEGIN` is fine.
pub trait BeginWrite {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}
