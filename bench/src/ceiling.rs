//! The durable-send ceiling: single-row inserts, one transaction each, straight into the database,
//! with nothing else in the way. A chat server's acknowledged post is at least one such commit,
//! so no server on this machine acknowledges posts faster than this.
//!
//! SQLite gets the settings Echo's embedded stores use (`echo-db`: WAL, `synchronous = NORMAL`)
//! and one connection (SQLite has one writer); PostgreSQL its defaults (`synchronous_commit = on`)
//! in a fresh database.

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::postgres::Scratch;
use crate::stats::{Summary, ms};

/// A message-shaped row: ids, text and a timestamp.
const TABLE: &str = "CREATE TABLE messages (id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, author_id TEXT NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL)";

pub struct Inserts {
    pub database: &'static str,
    pub connections: usize,
    pub per_sec: f64,
    pub latency: Summary,
}

pub const HEADER: &str =
    "| database | connections | commits/s | commit median | commit p99 |\n|---|---:|---:|---:|---:|";

impl Inserts {
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.3} ms | {:.3} ms |",
            self.database,
            self.connections,
            self.per_sec,
            ms(self.latency.median),
            ms(self.latency.p99)
        )
    }
}

pub async fn sqlite(duration: Duration) -> anyhow::Result<Inserts> {
    let dir = tempfile::tempdir()?;
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.path().join("ceiling.db").display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    pool.execute(TABLE).await?;
    let (per_sec, latency) = insert_for(1, duration, move || {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO messages VALUES (?, ?, ?, ?, ?)")
                .bind(Uuid::now_v7().to_string())
                .bind(CHANNEL.to_string())
                .bind(AUTHOR.to_string())
                .bind("ceiling")
                .bind(0i64)
                .execute(&pool)
                .await
        }
    })
    .await?;
    Ok(Inserts {
        database: "SQLite (WAL, synchronous=NORMAL)",
        connections: 1,
        per_sec,
        latency,
    })
}

pub async fn postgres(connections: usize, duration: Duration) -> anyhow::Result<Inserts> {
    let database = Scratch::create("ceiling").await?;
    let measured = async {
        let pool = PgPoolOptions::new()
            .max_connections(connections as u32)
            .connect(&database.url())
            .await?;
        pool.execute(TABLE).await?;
        let measured = insert_for(connections, duration, {
            let pool = pool.clone();
            move || {
                let pool = pool.clone();
                async move {
                    sqlx::query("INSERT INTO messages VALUES ($1, $2, $3, $4, $5)")
                        .bind(Uuid::now_v7().to_string())
                        .bind(CHANNEL.to_string())
                        .bind(AUTHOR.to_string())
                        .bind("ceiling")
                        .bind(0i64)
                        .execute(&pool)
                        .await
                }
            }
        })
        .await;
        pool.close().await;
        measured
    }
    .await;
    database.drop_now().await?;
    let (per_sec, latency) = measured?;
    Ok(Inserts {
        database: "PostgreSQL (synchronous_commit=on)",
        connections,
        per_sec,
        latency,
    })
}

const CHANNEL: Uuid = Uuid::from_u128(1);
const AUTHOR: Uuid = Uuid::from_u128(2);

/// Runs `writers` loops of `insert` for `duration`; commits per second and each commit's latency.
async fn insert_for<F, Fut, T>(
    writers: usize,
    duration: Duration,
    insert: F,
) -> anyhow::Result<(f64, Summary)>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, sqlx::Error>> + Send,
    T: Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut loops = JoinSet::new();
    for _ in 0..writers {
        let insert = insert.clone();
        loops.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let began = Instant::now();
                insert().await?;
                latencies.push(began.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = loops.join_next().await {
        latencies.extend(done??);
    }
    let per_sec = latencies.len() as f64 / start.elapsed().as_secs_f64();
    Ok((per_sec, Summary::of(latencies)))
}
