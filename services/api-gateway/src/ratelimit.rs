//! Rate limits, counted in fixed windows per key: in memory for one gateway, in Redis when several
//! gateway replicas must share one count. Fixed windows are coarse at their edges (a burst of up to
//! twice the limit across a boundary) but cost one `INCR` per request and behave the same on both
//! backends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Deserialize;

/// How many requests a key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Limit {
    pub requests: u32,
    /// One minute unless given, so `requests` alone can be set from the environment.
    #[serde(default = "one_minute")]
    pub window_secs: u64,
}

fn one_minute() -> u64 {
    60
}

impl Limit {
    pub const fn per_minute(requests: u32) -> Self {
        Self {
            requests,
            window_secs: 60,
        }
    }

    pub const fn per_hour(requests: u32) -> Self {
        Self {
            requests,
            window_secs: 3600,
        }
    }
}

/// The limits the gateway applies. Defaults suit an office behind one NAT address (hundreds of
/// sign-ups an hour) while staying strict per account.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    pub enabled: bool,
    /// Registrations per client address.
    pub register_per_ip: Limit,
    /// Login attempts per client address.
    pub login_per_ip: Limit,
    /// Failed logins per account before further attempts on it wait.
    pub login_failures_per_account: Limit,
    /// Token refreshes per client address.
    pub refresh_per_ip: Limit,
    /// API requests per authenticated user.
    pub per_user: Limit,
    /// Messages posted per channel (across all its members).
    pub posts_per_channel: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            register_per_ip: Limit::per_hour(600),
            login_per_ip: Limit::per_minute(120),
            login_failures_per_account: Limit {
                requests: 10,
                window_secs: 900,
            },
            refresh_per_ip: Limit::per_minute(300),
            per_user: Limit::per_minute(3000),
            posts_per_channel: Limit::per_minute(1200),
        }
    }
}

/// A request over its limit: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after_secs: u64,
}

#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one request for `key`; `Err` when that exceeds `limit`.
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Result<(), Exceeded>>;
    /// How many requests `key` made in the current window, without counting one.
    async fn count(&self, key: &str, limit: Limit) -> anyhow::Result<u32>;
}

fn window(limit: Limit) -> (u64, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let size = limit.window_secs.max(1);
    (now / size, size - now % size)
}

/// Counts in this process.
#[derive(Default)]
pub struct MemoryRateLimiter {
    counts: Mutex<HashMap<String, (u64, u32)>>,
}

impl MemoryRateLimiter {
    fn bump(&self, key: &str, limit: Limit, add: u32) -> anyhow::Result<(u32, u64)> {
        let (index, left) = window(limit);
        let mut counts = self
            .counts
            .lock()
            .map_err(|_| anyhow::anyhow!("rate-limit table poisoned"))?;
        if counts.len() > 100_000 {
            counts.retain(|_, (i, _)| *i == index);
        }
        let entry = counts.entry(key.to_owned()).or_insert((index, 0));
        if entry.0 != index {
            *entry = (index, 0);
        }
        entry.1 = entry.1.saturating_add(add);
        Ok((entry.1, left))
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Result<(), Exceeded>> {
        let (count, left) = self.bump(key, limit, 1)?;
        Ok(if count > limit.requests {
            Err(Exceeded {
                retry_after_secs: left,
            })
        } else {
            Ok(())
        })
    }

    async fn count(&self, key: &str, limit: Limit) -> anyhow::Result<u32> {
        Ok(self.bump(key, limit, 0)?.0)
    }
}

/// Counts in Redis, shared by every gateway replica.
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisRateLimiter {
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
            prefix: format!("{prefix}:rl:"),
        })
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Result<(), Exceeded>> {
        let (index, left) = window(limit);
        let key = format!("{}{key}:{index}", self.prefix);
        let mut conn = self.conn.clone();
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .ignore()
            .expire(&key, (left + 1) as i64)
            .ignore()
            .get(&key)
            .query_async(&mut conn)
            .await?;
        Ok(if count > limit.requests {
            Err(Exceeded {
                retry_after_secs: left,
            })
        } else {
            Ok(())
        })
    }

    async fn count(&self, key: &str, limit: Limit) -> anyhow::Result<u32> {
        let (index, _) = window(limit);
        let mut conn = self.conn.clone();
        let count: Option<u32> = redis::cmd("GET")
            .arg(format!("{}{key}:{index}", self.prefix))
            .query_async(&mut conn)
            .await?;
        Ok(count.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_limiter_refuses_past_the_limit_and_says_when_to_retry() {
        let limiter = MemoryRateLimiter::default();
        let limit = Limit {
            requests: 3,
            window_secs: 3600,
        };
        for _ in 0..3 {
            assert!(limiter.hit("k", limit).await.unwrap().is_ok());
        }
        let refused = limiter.hit("k", limit).await.unwrap().unwrap_err();
        assert!(refused.retry_after_secs >= 1 && refused.retry_after_secs <= 3600);
        assert!(
            limiter.hit("other", limit).await.unwrap().is_ok(),
            "keys are counted apart"
        );
        assert_eq!(limiter.count("k", limit).await.unwrap(), 4);
    }
}
