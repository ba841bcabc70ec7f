//! Fresh PostgreSQL databases per test, and clean-up of those earlier runs left behind.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const PREFIX: &str = "echo_t_";

/// A database name that sorts by creation time, so stale ones can be recognised.
pub fn fresh_name(service: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{PREFIX}{secs}_{}_{service}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub async fn create(names: &[&str]) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(&format!("{SERVER}/postgres")).await?;
    drop_stale(&mut conn).await;
    for name in names {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// Test processes end without a chance to clean up, so each new test drops the databases of tests
/// that started more than half an hour ago (none of which can still be running).
async fn drop_stale(conn: &mut PgConnection) {
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_sub(1800);
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'echo\\_t\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}
