//! The scaled-mode bus on Redis Streams.
//!
//! One stream (`{prefix}:events`) holds the log, trimmed with `XADD MAXLEN ~`; consumer groups
//! are Redis consumer groups (`XREADGROUP`, `XACK`, `XAUTOCLAIM` for deliveries whose consumer
//! died); dead letters go to a second stream (`{prefix}:dlq`). Each entry carries its envelope as
//! JSON in the field `env`.
//!
//! Connections: short commands share one [`ConnectionManager`] (it reconnects by itself after a
//! Redis restart). Blocking reads (`XREAD BLOCK`, `XREADGROUP BLOCK`) would stall every command
//! pipelined behind them on a shared connection, and the client's default 500 ms response
//! timeout would cut them short, so each blocking caller borrows a dedicated connection from a
//! small pool, with a response timeout a little longer than its block time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Value};
use tokio::sync::mpsc;

use crate::bus::{
    DeadLetter, Delivery, EventBus, FetchOptions, GroupInfo, GroupStart, Redrive, TAIL_CHANNEL_CAPACITY,
};
use crate::envelope::{Envelope, Logged};
use crate::error::BusError;
use crate::position::Position;

const FIELD_ENVELOPE: &str = "env";
/// How long a published event id is remembered, to append an event republished that late once.
const PUBLISHED_TTL_SECS: u64 = 24 * 3600;
/// KEYS: the stream, then one "published" key per event; ARGV: the stream's maximum length, the
/// keys' time to live, the envelope field's name, then the envelopes. Returns each event's entry
/// id: the new one, or the one it was appended under before.
static PUBLISH_ONCE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        local ids = {}
        for i = 2, #KEYS do
            local id = redis.call('GET', KEYS[i])
            if not id then
                id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[3], ARGV[i + 2])
                redis.call('SET', KEYS[i], id, 'EX', ARGV[2])
            end
            ids[#ids + 1] = id
        end
        return ids
        ",
    )
});
const TAIL_BATCH: usize = 512;
/// How long one `XREAD BLOCK` of a tail waits before looping (it also notices a dropped receiver).
const TAIL_BLOCK: Duration = Duration::from_secs(5);
/// Extra time a blocking command gets over its block time before the client gives up on it.
const BLOCK_GRACE: Duration = Duration::from_secs(3);
const SHORT_TIMEOUT: Duration = Duration::from_secs(3);
/// Dead letters are few; the cap only guards against a runaway poison flood.
const DLQ_MAX_LEN: u64 = 100_000;

/// The Redis Streams bus. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct RedisBus {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    idle_blocking: Mutex<Vec<MultiplexedConnection>>,
    /// The key prefix of everything this bus keeps in Redis.
    prefix: String,
    stream: String,
    dlq: String,
    retention_max_len: u64,
}

/// A stream entry: its id and its fields.
type Entry = (Position, HashMap<String, String>);

impl RedisBus {
    /// Connects to `url` (`redis://host:port/db`). The connection is made lazily, so this
    /// succeeds while Redis is down; commands fail until it is back.
    #[tracing::instrument(skip_all, fields(prefix = %prefix))]
    pub async fn connect(url: &str, prefix: &str, retention_max_len: u64) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(SHORT_TIMEOUT))
            .set_connection_timeout(Some(SHORT_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                conn,
                idle_blocking: Mutex::new(Vec::new()),
                prefix: prefix.to_owned(),
                stream: format!("{prefix}:events"),
                dlq: format!("{prefix}:dlq"),
                retention_max_len: retention_max_len.max(1),
            }),
        })
    }

    /// The key of the event stream.
    pub fn stream_key(&self) -> &str {
        &self.inner.stream
    }

    /// The key of the dead-letter stream.
    pub fn dlq_key(&self) -> &str {
        &self.inner.dlq
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    async fn new_blocking_conn(&self) -> Result<MultiplexedConnection, BusError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(SHORT_TIMEOUT))
            .set_response_timeout(Some(SHORT_TIMEOUT));
        Ok(self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }

    async fn take_blocking_conn(&self) -> Result<MultiplexedConnection, BusError> {
        let pooled = self
            .inner
            .idle_blocking
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        match pooled {
            Some(conn) => Ok(conn),
            None => self.new_blocking_conn().await,
        }
    }

    fn return_blocking_conn(&self, conn: MultiplexedConnection) {
        if let Ok(mut idle) = self.inner.idle_blocking.lock() {
            idle.push(conn);
        }
    }

    /// Runs a blocking command on a dedicated connection; the connection goes back to the pool
    /// only if the command worked (a failed one may be broken, e.g. after a Redis restart).
    async fn blocking_query(&self, cmd: &redis::Cmd, block: Duration) -> Result<Value, BusError> {
        let mut conn = self.take_blocking_conn().await?;
        conn.set_response_timeout(block + BLOCK_GRACE);
        let result: Result<Value, redis::RedisError> = cmd.query_async(&mut conn).await;
        match result {
            Ok(value) => {
                self.return_blocking_conn(conn);
                Ok(value)
            }
            Err(error) => {
                if error.code().is_some() {
                    // A server error reply leaves the connection healthy.
                    self.return_blocking_conn(conn);
                }
                Err(error.into())
            }
        }
    }

    fn xadd(&self, body: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.inner.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.inner.retention_max_len)
            .arg("*")
            .arg(FIELD_ENVELOPE)
            .arg(body);
        cmd
    }

    async fn xrange(&self, key: &str, start: &str, end: &str, count: usize) -> Result<Vec<Entry>, BusError> {
        let value: Value = redis::cmd("XRANGE")
            .arg(key)
            .arg(start)
            .arg(end)
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await?;
        parse_entries(value)
    }

    /// Dead-letters entries that are not envelopes, inside the group that found them.
    async fn park_undecodable(
        &self,
        group: &str,
        entries: Vec<(Position, String, String, u32)>,
    ) -> Result<(), BusError> {
        for (position, body, error, attempts) in entries {
            tracing::warn!(group, %position, %error, "dead-lettering an undecodable entry");
            self.dead_letter_raw(
                group,
                position,
                &body,
                &format!("undecodable envelope: {error}"),
                attempts,
            )
            .await?;
        }
        Ok(())
    }

    async fn dead_letter_raw(
        &self,
        group: &str,
        position: Position,
        body: &str,
        reason: &str,
        attempts: u32,
    ) -> Result<(), BusError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(&self.inner.dlq)
            .arg("MAXLEN")
            .arg("~")
            .arg(DLQ_MAX_LEN)
            .arg("*")
            .arg("group")
            .arg(group)
            .arg("pos")
            .arg(position.to_string())
            .arg(FIELD_ENVELOPE)
            .arg(body)
            .arg("reason")
            .arg(reason)
            .arg("attempts")
            .arg(attempts)
            .arg("failed_at")
            .arg(Utc::now().timestamp_millis())
            .ignore()
            .cmd("XACK")
            .arg(&self.inner.stream)
            .arg(group)
            .arg(position.to_string())
            .ignore();
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn newest(&self) -> Result<Option<Position>, BusError> {
        let value: Value = redis::cmd("XREVRANGE")
            .arg(&self.inner.stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(parse_entries(value)?.first().map(|(p, _)| *p))
    }

    async fn run_tail(&self, after: Option<Position>, tx: mpsc::Sender<Logged>) {
        let mut backoff = Duration::from_millis(50);
        let mut cursor = after;
        let mut conn: Option<MultiplexedConnection> = None;
        loop {
            let step = async {
                let start = match cursor {
                    Some(p) => p,
                    None => self.newest().await?.unwrap_or(Position::ZERO),
                };
                cursor = Some(start);
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => conn.insert(self.new_blocking_conn().await?),
                };
                c.set_response_timeout(TAIL_BLOCK + BLOCK_GRACE);
                let value: Value = redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(TAIL_BATCH)
                    .arg("BLOCK")
                    .arg(u64::try_from(TAIL_BLOCK.as_millis()).unwrap_or(u64::MAX))
                    .arg("STREAMS")
                    .arg(&self.inner.stream)
                    .arg(start.to_string())
                    .query_async(c)
                    .await?;
                parse_read_reply(value)
            };
            let result = tokio::select! {
                result = step => result,
                _ = tx.closed() => return,
            };
            match result {
                Ok(entries) => {
                    backoff = Duration::from_millis(50);
                    for (position, fields) in entries {
                        cursor = Some(position);
                        let Some(envelope) = decode_fields(position, &fields) else {
                            continue;
                        };
                        if tx.send(Logged { position, envelope }).await.is_err() {
                            return;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "tail read failed; reconnecting");
                    conn = None;
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = tx.closed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        other => text(other)?.parse().ok(),
    }
}

fn unexpected(what: &str, value: &Value) -> BusError {
    BusError::UnexpectedReply(format!("{what}: {value:?}"))
}

/// Flat `[k, v, k, v]` arrays (RESP2) and maps (RESP3) alike.
fn pairs(value: Value) -> Result<Vec<(Value, Value)>, BusError> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) => {
            if items.len() % 2 != 0 {
                return Err(BusError::UnexpectedReply("odd field list".to_owned()));
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            Ok(out)
        }
        Value::Nil => Ok(Vec::new()),
        other => Err(unexpected("field list", &other)),
    }
}

/// `[[id, [field, value, …]], …]` as returned by XRANGE, XREAD and XAUTOCLAIM.
fn parse_entries(value: Value) -> Result<Vec<Entry>, BusError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Nil => return Ok(Vec::new()),
        other => return Err(unexpected("entry list", &other)),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Array(mut parts) = item else {
            return Err(unexpected("entry", &item));
        };
        if parts.len() != 2 {
            return Err(BusError::UnexpectedReply("entry is not [id, fields]".to_owned()));
        }
        let fields = parts.pop().unwrap_or(Value::Nil);
        let id = parts.pop().unwrap_or(Value::Nil);
        let position: Position = text(&id).ok_or_else(|| unexpected("entry id", &id))?.parse()?;
        let mut map = HashMap::new();
        for (k, v) in pairs(fields)? {
            if let (Some(k), Some(v)) = (text(&k), text(&v)) {
                map.insert(k, v);
            }
        }
        out.push((position, map));
    }
    Ok(out)
}

/// XREAD / XREADGROUP reply for one stream: nil on timeout, else `[[key, entries]]`.
fn parse_read_reply(value: Value) -> Result<Vec<Entry>, BusError> {
    let streams = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Map(pairs) => pairs.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                let Value::Array(mut kv) = item else {
                    return Err(unexpected("stream reply", &item));
                };
                out.push(kv.pop().unwrap_or(Value::Nil));
            }
            out
        }
        other => return Err(unexpected("read reply", &other)),
    };
    let mut out = Vec::new();
    for entries in streams {
        out.extend(parse_entries(entries)?);
    }
    Ok(out)
}

fn decode_fields(position: Position, fields: &HashMap<String, String>) -> Option<Envelope> {
    let body = fields.get(FIELD_ENVELOPE)?;
    match serde_json::from_str(body) {
        Ok(envelope) => Some(envelope),
        Err(error) => {
            tracing::warn!(%position, %error, "skipping an undecodable entry");
            None
        }
    }
}

fn is_code(error: &redis::RedisError, code: &str) -> bool {
    error.code() == Some(code)
}

fn map_group_error(error: redis::RedisError, group: &str) -> BusError {
    if is_code(&error, "NOGROUP") {
        BusError::NoGroup(group.to_owned())
    } else {
        error.into()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    #[tracing::instrument(skip_all, fields(count = events.len()))]
    async fn publish(&self, events: &[Envelope]) -> Result<Vec<Position>, BusError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // One script: the batch is appended whole or not at all, contiguously, and an event id
        // already appended within the last day (an outbox relay that died between publishing
        // and deleting its rows, and the next one publishing them again) is not appended twice.
        let mut publish = PUBLISH_ONCE.prepare_invoke();
        publish.key(&self.inner.stream);
        for event in events {
            publish.key(format!("{}:published:{}", self.inner.prefix, event.id));
        }
        publish
            .arg(self.inner.retention_max_len)
            .arg(PUBLISHED_TTL_SECS)
            .arg(FIELD_ENVELOPE);
        for event in events {
            publish.arg(serde_json::to_string(event)?);
        }
        let ids: Vec<String> = publish.invoke_async(&mut self.conn()).await?;
        ids.iter().map(|id| id.parse()).collect()
    }

    #[tracing::instrument(skip_all, fields(after = ?after, limit = limit))]
    async fn read_after(&self, after: Option<Position>, limit: usize) -> Result<Vec<Logged>, BusError> {
        let start = after.map(|p| format!("({p}")).unwrap_or_else(|| "-".to_owned());
        let entries = self.xrange(&self.inner.stream, &start, "+", limit.max(1)).await?;
        Ok(entries
            .into_iter()
            .filter_map(|(position, fields)| {
                Some(Logged {
                    position,
                    envelope: decode_fields(position, &fields)?,
                })
            })
            .take(limit)
            .collect())
    }

    #[tracing::instrument(skip_all)]
    async fn bounds(&self) -> Result<(Option<Position>, Option<Position>), BusError> {
        let oldest = self
            .xrange(&self.inner.stream, "-", "+", 1)
            .await?
            .first()
            .map(|(p, _)| *p);
        let newest = self.newest().await?;
        Ok((oldest, newest))
    }

    #[tracing::instrument(skip_all, fields(%at))]
    async fn position_at(&self, at: DateTime<Utc>) -> Result<Option<Position>, BusError> {
        let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let first = self
            .xrange(&self.inner.stream, &format!("{ms}-0"), "+", 1)
            .await?;
        Ok(first.first().map(|(p, _)| *p))
    }

    fn tail(&self, after: Option<Position>) -> mpsc::Receiver<Logged> {
        let (tx, rx) = mpsc::channel(TAIL_CHANNEL_CAPACITY);
        let bus = self.clone();
        tokio::spawn(async move { bus.run_tail(after, tx).await });
        rx
    }

    #[tracing::instrument(skip_all, fields(group = %group, start = ?start))]
    async fn ensure_group(&self, group: &str, start: GroupStart) -> Result<(), BusError> {
        let id = match start {
            GroupStart::Oldest => "0".to_owned(),
            GroupStart::Latest => "$".to_owned(),
            GroupStart::After(p) => p.to_string(),
        };
        let result: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.inner.stream)
            .arg(group)
            .arg(id)
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match result {
            Err(error) if !is_code(&error, "BUSYGROUP") => Err(error.into()),
            _ => Ok(()),
        }
    }

    #[tracing::instrument(skip_all, fields(group = %group, consumer = %consumer))]
    async fn fetch(
        &self,
        group: &str,
        consumer: &str,
        options: &FetchOptions,
    ) -> Result<Vec<Delivery>, BusError> {
        let limit = options.limit.max(1);
        let mut out = Vec::new();
        let mut undecodable = Vec::new();

        // 1. Deliveries whose consumer went quiet for `claim_idle` (crashed, or stuck).
        let claimed: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.inner.stream)
            .arg(group)
            .arg(consumer)
            .arg(millis(options.claim_idle))
            .arg("0-0")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| map_group_error(e, group))?;
        let claimed_entries = match claimed {
            Value::Array(mut parts) if parts.len() >= 2 => parse_entries(parts.swap_remove(1))?,
            other => return Err(unexpected("XAUTOCLAIM reply", &other)),
        };
        if !claimed_entries.is_empty() {
            // XAUTOCLAIM does not report delivery counts; XPENDING does (already incremented).
            let mut pipe = redis::pipe();
            for (position, _) in &claimed_entries {
                let id = position.to_string();
                pipe.cmd("XPENDING")
                    .arg(&self.inner.stream)
                    .arg(group)
                    .arg(&id)
                    .arg(&id)
                    .arg(1);
            }
            let counts: Vec<Value> = pipe.query_async(&mut self.conn()).await?;
            for ((position, fields), pending) in claimed_entries.into_iter().zip(counts) {
                let attempts = match pending {
                    Value::Array(rows) => rows.first().and_then(|row| match row {
                        Value::Array(cols) => cols.get(3).and_then(int),
                        _ => None,
                    }),
                    _ => None,
                }
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1)
                .max(1);
                match fields
                    .get(FIELD_ENVELOPE)
                    .map(|b| (b, serde_json::from_str::<Envelope>(b)))
                {
                    Some((_, Ok(envelope))) => out.push(Delivery {
                        logged: Logged { position, envelope },
                        attempts,
                    }),
                    Some((body, Err(error))) => {
                        undecodable.push((position, body.clone(), error.to_string(), attempts))
                    }
                    None => {
                        undecodable.push((position, String::new(), "no envelope field".to_owned(), attempts))
                    }
                }
            }
        }

        // 2. New events; block only when there was nothing to reclaim.
        let room = limit.saturating_sub(out.len() + undecodable.len());
        if room > 0 {
            let block = if out.is_empty() && undecodable.is_empty() {
                options.block
            } else {
                Duration::ZERO
            };
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(room);
            if !block.is_zero() {
                cmd.arg("BLOCK").arg(millis(block));
            }
            cmd.arg("STREAMS").arg(&self.inner.stream).arg(">");
            let value = if block.is_zero() {
                cmd.query_async(&mut self.conn())
                    .await
                    .map_err(|e| map_group_error(e, group))?
            } else {
                match self.blocking_query(&cmd, block).await {
                    Err(BusError::Redis(e)) => return Err(map_group_error(e, group)),
                    other => other?,
                }
            };
            for (position, fields) in parse_read_reply(value)? {
                match fields
                    .get(FIELD_ENVELOPE)
                    .map(|b| (b, serde_json::from_str::<Envelope>(b)))
                {
                    Some((_, Ok(envelope))) => out.push(Delivery {
                        logged: Logged { position, envelope },
                        attempts: 1,
                    }),
                    Some((body, Err(error))) => {
                        undecodable.push((position, body.clone(), error.to_string(), 1))
                    }
                    None => undecodable.push((position, String::new(), "no envelope field".to_owned(), 1)),
                }
            }
        }
        self.park_undecodable(group, undecodable).await?;
        out.sort_by_key(|d| d.logged.position);
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(group = %group, count = positions.len()))]
    async fn ack(&self, group: &str, positions: &[Position]) -> Result<(), BusError> {
        if positions.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("XACK");
        cmd.arg(&self.inner.stream).arg(group);
        for p in positions {
            cmd.arg(p.to_string());
        }
        let _acked: i64 = cmd.query_async(&mut self.conn()).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(group = %group, position = %delivery.logged.position))]
    async fn dead_letter(&self, group: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let body = serde_json::to_string(&delivery.logged.envelope)?;
        self.dead_letter_raw(group, delivery.logged.position, &body, reason, delivery.attempts)
            .await
    }

    #[tracing::instrument(skip_all, fields(group = ?group, limit = limit))]
    async fn dead_letters(&self, group: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let mut out = Vec::new();
        let mut start = "-".to_owned();
        // Filtering by group means scanning: the dead-letter stream is small by design.
        while out.len() < limit {
            let page = self.xrange(&self.inner.dlq, &start, "+", 500).await?;
            let Some(last) = page.last().map(|(p, _)| *p) else {
                break;
            };
            for (id, fields) in page {
                let entry_group = fields.get("group").cloned().unwrap_or_default();
                if group.is_some_and(|g| g != entry_group) {
                    continue;
                }
                let raw = fields.get(FIELD_ENVELOPE).cloned().unwrap_or_default();
                out.push(DeadLetter {
                    id,
                    group: entry_group,
                    position: fields.get("pos").and_then(|p| p.parse().ok()).unwrap_or_default(),
                    envelope: serde_json::from_str(&raw).ok(),
                    raw,
                    reason: fields.get("reason").cloned().unwrap_or_default(),
                    attempts: fields.get("attempts").and_then(|a| a.parse().ok()).unwrap_or(0),
                    failed_at: fields
                        .get("failed_at")
                        .and_then(|t| t.parse().ok())
                        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                        .unwrap_or_default(),
                });
                if out.len() >= limit {
                    break;
                }
            }
            start = format!("({last}");
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(%dead_letter))]
    async fn redrive(&self, dead_letter: Position) -> Result<Redrive, BusError> {
        let id = dead_letter.to_string();
        let (_, fields) = self
            .xrange(&self.inner.dlq, &id, &id, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| BusError::DeadLetterNotFound(id.clone()))?;
        let group = fields.get("group").cloned().unwrap_or_default();
        let position: Position = fields
            .get("pos")
            .map(|p| p.parse())
            .transpose()?
            .unwrap_or_default();
        let body = fields.get(FIELD_ENVELOPE).cloned().unwrap_or_default();
        let retained = !self
            .xrange(
                &self.inner.stream,
                &position.to_string(),
                &position.to_string(),
                1,
            )
            .await?
            .is_empty();

        let mut pipe = redis::pipe();
        pipe.atomic();
        let outcome = if retained {
            // Back into the group's pending list only, idle "forever" and with no deliveries
            // counted: the group's next XAUTOCLAIM hands it out as a first attempt, and no other
            // group or tail sees it twice.
            let idle = Utc::now().timestamp_millis().saturating_sub(1000).max(0);
            pipe.cmd("XCLAIM")
                .arg(&self.inner.stream)
                .arg(&group)
                .arg("redrive")
                .arg(0)
                .arg(position.to_string())
                .arg("IDLE")
                .arg(idle)
                .arg("RETRYCOUNT")
                .arg(0)
                .arg("FORCE")
                .arg("JUSTID")
                .ignore();
            Redrive::Redelivered
        } else {
            pipe.add_command(self.xadd(&body)).ignore();
            Redrive::Republished
        };
        pipe.cmd("XDEL").arg(&self.inner.dlq).arg(&id).ignore();
        let () = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(|e| map_group_error(e, &group))?;
        Ok(outcome)
    }

    #[tracing::instrument(skip_all, fields(group = %group, after = ?after))]
    async fn reset_group(&self, group: &str, after: Option<Position>) -> Result<(), BusError> {
        // Creating first (a no-op for an existing group) makes SETID work on a fresh stream too.
        let start = after.map_or(GroupStart::Oldest, GroupStart::After);
        self.ensure_group(group, start).await?;
        let id = after.map(|p| p.to_string()).unwrap_or_else(|| "0".to_owned());
        let () = redis::cmd("XGROUP")
            .arg("SETID")
            .arg(&self.inner.stream)
            .arg(group)
            .arg(&id)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| map_group_error(e, group))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn groups(&self) -> Result<Vec<GroupInfo>, BusError> {
        // XINFO fails on a missing key; no stream yet simply means no groups yet.
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&self.inner.stream)
            .query_async(&mut self.conn())
            .await?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let value: Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&self.inner.stream)
            .query_async(&mut self.conn())
            .await?;
        let Value::Array(groups) = value else {
            return Err(unexpected("XINFO GROUPS reply", &value));
        };
        let mut out = Vec::new();
        for group in groups {
            let fields: HashMap<String, Value> = pairs(group)?
                .into_iter()
                .filter_map(|(k, v)| Some((text(&k)?, v)))
                .collect();
            out.push(GroupInfo {
                name: fields.get("name").and_then(text).unwrap_or_default(),
                last_delivered: fields
                    .get("last-delivered-id")
                    .and_then(text)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_default(),
                pending: fields
                    .get("pending")
                    .and_then(int)
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
