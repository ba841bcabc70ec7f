//! Scratch PostgreSQL databases: created fresh for one measurement, dropped after it. The server
//! is `$ECHO_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`, the development one).

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use sqlx::{Connection, PgConnection};

/// A database that exists until [`Scratch::drop_now`].
pub struct Scratch {
    pub name: String,
}

/// The server's URL, without a database.
pub fn server_url() -> String {
    std::env::var("ECHO_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

impl Scratch {
    /// Creates an empty database with a name unique to this process and purpose. UTF-8 with the
    /// C collation, as Synapse requires.
    pub async fn create(purpose: &str) -> anyhow::Result<Scratch> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "echo_bench_{purpose}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        admin(&format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        ))
        .await?;
        Ok(Scratch { name })
    }

    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }

    /// Drops the database, closing whatever connections are still open to it.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await
    }
}

/// `statement` is built from this module's own names only, never from input.
async fn admin(statement: &str) -> anyhow::Result<()> {
    let url = format!("{}/postgres", server_url());
    let mut connection = PgConnection::connect(&url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {url} (set ECHO_BENCH_POSTGRES)"))?;
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut connection)
        .await
        .with_context(|| format!("running {statement:?}"))?;
    connection.close().await?;
    Ok(())
}
