//! Revoked sessions. A revocation only needs to outlive the access tokens of its session (they
//! expire within the access-token lifetime); after that the refresh token, checked by user-service
//! against its database, is what keeps the session dead.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use uuid::Uuid;

#[async_trait]
pub trait Revocations: Send + Sync + 'static {
    /// Marks a session revoked for at least `ttl`.
    async fn revoke(&self, session: Uuid, ttl: Duration) -> anyhow::Result<()>;
    /// Whether the session was revoked.
    async fn is_revoked(&self, session: Uuid) -> anyhow::Result<bool>;
}

/// For one process (embedded mode): user-service and every verifier share one instance.
#[derive(Default)]
pub struct MemoryRevocations {
    until: Mutex<HashMap<Uuid, Instant>>,
}

#[async_trait]
impl Revocations for MemoryRevocations {
    async fn revoke(&self, session: Uuid, ttl: Duration) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut until = self
            .until
            .lock()
            .map_err(|_| anyhow::anyhow!("revocation set poisoned"))?;
        // Forget what has expired, so the set stays the size of the recent revocations.
        until.retain(|_, expires| *expires > now);
        until.insert(session, now + ttl);
        Ok(())
    }

    async fn is_revoked(&self, session: Uuid) -> anyhow::Result<bool> {
        let until = self
            .until
            .lock()
            .map_err(|_| anyhow::anyhow!("revocation set poisoned"))?;
        Ok(until
            .get(&session)
            .is_some_and(|expires| *expires > Instant::now()))
    }
}

/// Shared by replicas (scaled mode): one key per revoked session, expiring by itself.
///
/// While Redis cannot be reached, the revocations this process has seen (its own, and those it
/// read from Redis) still hold and other sessions are let through: access tokens live minutes, and
/// a Redis restart should not take every authenticated request down with it.
pub struct RedisRevocations {
    conn: ConnectionManager,
    prefix: String,
    seen: MemoryRevocations,
}

impl RedisRevocations {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("parsing the Redis URL")?;
        // On every request's path: when Redis is down, answer within a fraction of a second (the
        // caller falls back) rather than after the default reconnect backoff.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(Duration::from_millis(300)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(client, config).context("connecting to Redis")?;
        Ok(Self {
            conn,
            prefix: format!("{prefix}:revoked:"),
            seen: MemoryRevocations::default(),
        })
    }
}

#[async_trait]
impl Revocations for RedisRevocations {
    async fn revoke(&self, session: Uuid, ttl: Duration) -> anyhow::Result<()> {
        self.seen.revoke(session, ttl).await?;
        let mut conn = self.conn.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: () = conn
            .pset_ex(format!("{}{session}", self.prefix), 1u8, millis)
            .await
            .context("recording a revocation")?;
        Ok(())
    }

    async fn is_revoked(&self, session: Uuid) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let key = format!("{}{session}", self.prefix);
        match conn.exists::<_, bool>(&key).await {
            Ok(false) => Ok(false),
            Ok(true) => {
                let ttl: i64 = conn.pttl(&key).await.unwrap_or(0);
                let ttl = Duration::from_millis(u64::try_from(ttl).unwrap_or(60_000));
                self.seen.revoke(session, ttl).await?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(error = %e, "Redis unreachable; checking revocations seen by this process only");
                self.seen.is_revoked(session).await
            }
        }
    }
}
