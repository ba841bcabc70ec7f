//! Outgoing events (Slack's Events API): what a bot's request URL receives.
//!
//! Built like notifications' delivery. [`BotEvents`] reads the bus in a consumer group of its own
//! (`messages-bot-events`), so events that happen while a bot is down or this service restarts
//! wait in the log; for each `message.created`, `reaction.added`/`removed` and
//! `channel.member_joined` it queues, per subscribed bot that may see it, an `event_callback`
//! envelope in the delivery log (`bot_event_deliveries`, keyed by bot and event id, so
//! redelivery from the bus queues nothing twice). [`EventSender`] (one per replica) claims due
//! deliveries with a lease, POSTs them signed (`X-Slack-Signature: v0=HMAC-SHA256(secret,
//! "v0:{ts}:{body}")`, `X-Slack-Request-Timestamp`), and settles them with notifications' backoff
//! ([`Outcome::after_failure`]); retries carry `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use aws_lc_rs::hmac;
use echo_domain::time::now_ms;
use echo_events::{EventHandler, HandleError, Logged};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::slack::ts;
use super::store::{BotRow, EventJob, IntegrationStore, NewDelivery};
use crate::config::NotificationsConfig;
use crate::error::{MessageError, MessageResult};
use crate::model::{ChannelKind, Message};
use crate::notifications::delivery_store::Outcome;
use crate::store::MessageStore;

/// The consumer group that turns bus events into deliveries.
pub const GROUP: &str = "messages-bot-events";
const BATCH: u32 = 100;
const CONCURRENCY: usize = 8;
const LEASE_MS: i64 = 60_000;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the bot's signing secret.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("v0:{timestamp}:{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("v0={hex}")
}

/// The HTTP side of outgoing events, shared by the sender and the bot API (URL verification).
pub struct Outgoing {
    http: reqwest::Client,
    /// Wakes the sender when deliveries were queued.
    pub wake: Arc<Notify>,
}

impl Outgoing {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the events HTTP client")?;
        Ok(Self {
            http,
            wake: Arc::new(Notify::new()),
        })
    }

    async fn post(
        &self,
        url: &str,
        secret: &str,
        body: String,
        retry: Option<i64>,
    ) -> anyhow::Result<reqwest::Response> {
        let timestamp = now_ms() / 1000;
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Echo-Events/1.0 (+https://api.slack.com/robots)")
            .header("X-Slack-Request-Timestamp", timestamp.to_string())
            .header("X-Slack-Signature", sign(secret, timestamp, &body));
        if let Some(n) = retry {
            request = request
                .header("X-Slack-Retry-Num", n.to_string())
                .header("X-Slack-Retry-Reason", "http_error");
        }
        request
            .body(body)
            .send()
            .await
            .context("reaching the request URL")
    }

    /// Sends Slack's `url_verification` challenge; the URL must answer it (as JSON
    /// `{"challenge": …}` or the bare value) for events to be sent there.
    pub async fn verify_url(&self, url: &str, secret: &str) -> MessageResult<()> {
        let failed = |why: String| {
            MessageError::Client(echo_http::ApiError::bad_request(
                "url_verification_failed",
                format!("the request URL did not answer the challenge: {why}"),
            ))
        };
        let challenge = super::auth::secret()?;
        let body = json!({"token": "", "challenge": challenge, "type": "url_verification"}).to_string();
        let response = self
            .post(url, secret, body, None)
            .await
            .map_err(|e| failed(format!("{e:#}")))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(failed(format!("it answered {status}")));
        }
        let answered = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("challenge").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| text.trim().to_owned());
        if answered == challenge {
            Ok(())
        } else {
            Err(failed("it answered something else".into()))
        }
    }
}

/// Turns bus events into deliveries for the bots that may see them.
pub struct BotEvents {
    pub messages: Arc<dyn MessageStore>,
    pub integrations: Arc<dyn IntegrationStore>,
    pub wake: Arc<Notify>,
    /// The subscribed bots of the workspaces of the batch being handled: read once per
    /// workspace, not per event.
    pub subscribed: std::sync::Mutex<HashMap<Uuid, Vec<BotRow>>>,
}

#[derive(Debug, Deserialize)]
struct MessageCreated {
    workspace_id: Uuid,
    message: Message,
}

#[derive(Debug, Deserialize)]
struct ReactionChanged {
    workspace_id: Uuid,
    channel_id: Uuid,
    message_id: Uuid,
    emoji: String,
    user_id: Uuid,
}

#[derive(Debug, Deserialize)]
struct MemberJoined {
    workspace_id: Uuid,
    channel_id: Uuid,
    user_id: Uuid,
}

fn unreadable(kind: &str, error: serde_json::Error) -> HandleError {
    HandleError::Park(format!("unreadable {kind} payload: {error}"))
}

fn channel_type(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Public => "channel",
        ChannelKind::Private => "group",
        ChannelKind::Dm => "im",
        ChannelKind::GroupDm => "mpim",
    }
}

#[async_trait]
impl EventHandler for BotEvents {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        let kind = envelope.kind.as_str();
        let occurred = envelope.occurred_at.timestamp_millis();
        let deliveries = match (kind, envelope.version) {
            ("message.created", 1) => {
                let p: MessageCreated = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.message_created(envelope.id, occurred, p).await?
            }
            ("reaction.added" | "reaction.removed", 1) => {
                let p: ReactionChanged = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.reaction(envelope.id, occurred, kind == "reaction.added", p)
                    .await?
            }
            ("channel.member_joined", 1) => {
                let p: MemberJoined = envelope.decode().map_err(|e| unreadable(kind, e))?;
                self.member_joined(envelope.id, occurred, p).await?
            }
            _ => Vec::new(),
        };
        if !deliveries.is_empty()
            && self
                .integrations
                .enqueue_deliveries(&deliveries, now_ms())
                .await
                .context("queueing bot events")?
                > 0
        {
            self.wake.notify_one();
        }
        Ok(())
    }

    async fn flush(&self) -> anyhow::Result<()> {
        // The next batch reads the bots again: they may have changed since.
        self.subscribed().clear();
        Ok(())
    }
}

impl BotEvents {
    /// The bots of a workspace with a request URL that existed when the event happened (a new
    /// consumer group starts at the oldest event: bots must not receive history).
    async fn bots(&self, workspace_id: Uuid, occurred: i64) -> anyhow::Result<Vec<BotRow>> {
        let known = self.subscribed().get(&workspace_id).cloned();
        let bots = match known {
            Some(bots) => bots,
            None => {
                let bots = self.integrations.subscribed_bots(workspace_id).await?;
                self.subscribed().insert(workspace_id, bots.clone());
                bots
            }
        };
        Ok(bots.into_iter().filter(|b| b.created_at <= occurred).collect())
    }

    fn subscribed(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<BotRow>>> {
        self.subscribed.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn is_member(&self, channel_id: Uuid, user_id: Uuid) -> anyhow::Result<bool> {
        Ok(self
            .messages
            .channel_membership(channel_id, user_id)
            .await?
            .is_some())
    }

    fn envelope(bot: &BotRow, event_id: String, occurred: i64, event: Value) -> NewDelivery {
        let body = json!({
            "token": "",
            "team_id": bot.workspace_id,
            "api_app_id": bot.id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": occurred / 1000,
            "authorizations": [{"enterprise_id": null, "team_id": bot.workspace_id, "user_id": bot.user_id,
                                "is_bot": true, "is_enterprise_install": false}],
            "is_ext_shared_channel": false,
        });
        NewDelivery {
            bot_id: bot.id,
            event_id,
            body: body.to_string(),
        }
    }

    async fn message_created(
        &self,
        id: Uuid,
        occurred: i64,
        p: MessageCreated,
    ) -> anyhow::Result<Vec<NewDelivery>> {
        let bots = self.bots(p.workspace_id, occurred).await?;
        let m = &p.message;
        if bots.is_empty() || m.deleted {
            return Ok(Vec::new());
        }
        let Some(channel) = self.messages.channel(m.channel_id).await? else {
            return Ok(Vec::new());
        };
        let store = self.integrations.as_ref();
        let ts = ts::of(store, m.id, m.channel_id).await?;
        let mut event = json!({
            "type": "message", "channel": m.channel_id, "user": m.author_id, "text": m.text, "ts": ts,
            "event_ts": ts, "channel_type": channel_type(channel.kind), "team": p.workspace_id,
        });
        if let Some(root) = m.thread_root_id {
            event["thread_ts"] = json!(ts::of(store, root, m.channel_id).await?);
        }
        if let Some(client_msg_id) = &m.client_msg_id {
            event["client_msg_id"] = json!(client_msg_id);
        }
        if let Some(author_bot) = store.bot_by_user(m.author_id).await? {
            event["bot_id"] = json!(author_bot.id);
        }
        // Messages from before the bot (an import of history) are not news to it.
        let created =
            chrono::DateTime::parse_from_rfc3339(&m.created_at).map_or(occurred, |t| t.timestamp_millis());
        let mut out = Vec::new();
        for bot in bots
            .iter()
            .filter(|b| b.user_id != m.author_id && b.created_at <= created)
        {
            let member = self.is_member(m.channel_id, bot.user_id).await?;
            if member {
                out.push(Self::envelope(
                    bot,
                    format!("Ev{}M", id.simple()),
                    occurred,
                    event.clone(),
                ));
            }
            let readable = member || self.messages.can_read_channel(bot.user_id, m.channel_id).await?;
            if readable && m.mentions.contains(&bot.user_id) {
                let mut mention = event.clone();
                mention["type"] = json!("app_mention");
                if let Some(object) = mention.as_object_mut() {
                    object.remove("channel_type");
                }
                out.push(Self::envelope(
                    bot,
                    format!("Ev{}A", id.simple()),
                    occurred,
                    mention,
                ));
            }
        }
        Ok(out)
    }

    async fn reaction(
        &self,
        id: Uuid,
        occurred: i64,
        added: bool,
        p: ReactionChanged,
    ) -> anyhow::Result<Vec<NewDelivery>> {
        let bots = self.bots(p.workspace_id, occurred).await?;
        if bots.is_empty() {
            return Ok(Vec::new());
        }
        let Some((message, _)) = self.messages.message(p.message_id).await? else {
            return Ok(Vec::new());
        };
        let ts = ts::of(self.integrations.as_ref(), p.message_id, p.channel_id).await?;
        let event = json!({
            "type": if added { "reaction_added" } else { "reaction_removed" },
            "user": p.user_id, "reaction": p.emoji.trim_matches(':'), "item_user": message.author_id,
            "item": {"type": "message", "channel": p.channel_id, "ts": ts},
            "event_ts": ts::format(occurred * 1000),
        });
        let mut out = Vec::new();
        for bot in bots.iter().filter(|b| b.user_id != p.user_id) {
            if self.is_member(p.channel_id, bot.user_id).await? {
                out.push(Self::envelope(
                    bot,
                    format!("Ev{}R", id.simple()),
                    occurred,
                    event.clone(),
                ));
            }
        }
        Ok(out)
    }

    async fn member_joined(
        &self,
        id: Uuid,
        occurred: i64,
        p: MemberJoined,
    ) -> anyhow::Result<Vec<NewDelivery>> {
        let bots = self.bots(p.workspace_id, occurred).await?;
        if bots.is_empty() {
            return Ok(Vec::new());
        }
        let Some(channel) = self.messages.channel(p.channel_id).await? else {
            return Ok(Vec::new());
        };
        let event = json!({
            "type": "member_joined_channel", "user": p.user_id, "channel": p.channel_id,
            "channel_type": if channel.kind == ChannelKind::Public { "C" } else { "G" },
            "team": p.workspace_id, "event_ts": ts::format(occurred * 1000),
        });
        let mut out = Vec::new();
        for bot in &bots {
            if self.is_member(p.channel_id, bot.user_id).await? {
                out.push(Self::envelope(
                    bot,
                    format!("Ev{}J", id.simple()),
                    occurred,
                    event.clone(),
                ));
            }
        }
        Ok(out)
    }
}

/// Sends queued deliveries to request URLs, with retries.
pub struct EventSender {
    pub store: Arc<dyn IntegrationStore>,
    pub outgoing: Arc<Outgoing>,
    /// The retry policy notifications use (attempts, backoff, poll interval).
    pub config: NotificationsConfig,
}

impl EventSender {
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.config.delivery_poll_ms.max(10));
            loop {
                if let Err(error) = self.round().await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "sending bot events failed; will retry"
                    );
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.outgoing.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// Sends every delivery due now, in batches.
    pub async fn round(&self) -> anyhow::Result<()> {
        loop {
            let due = self.store.due_deliveries(now_ms(), BATCH).await?;
            let batch = due.len();
            let results: Vec<anyhow::Result<()>> = futures::stream::iter(due)
                .map(|job| self.deliver(job))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for result in results {
                if let Err(error) = result {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "recording a bot event attempt failed"
                    );
                }
            }
            if batch < BATCH as usize {
                return Ok(());
            }
        }
    }

    #[tracing::instrument(skip_all, fields(bot_id = %job.bot_id, event_id = %job.event_id))]
    async fn deliver(&self, job: EventJob) -> anyhow::Result<()> {
        let now = now_ms();
        if !self
            .store
            .claim_delivery(job.bot_id, &job.event_id, now, now + LEASE_MS)
            .await?
        {
            return Ok(());
        }
        let attempt = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
        let outcome = match &job.request_url {
            None => Outcome::Final {
                status: "skipped",
                error: "the bot has no request URL any more".into(),
            },
            Some(url) => {
                let retry = (job.attempts > 0).then_some(job.attempts);
                match self
                    .outgoing
                    .post(url, &job.signing_secret, job.body.clone(), retry)
                    .await
                {
                    Ok(response) if response.status().is_success() => Outcome::Sent,
                    Ok(response)
                        if response
                            .headers()
                            .get("x-slack-no-retry")
                            .is_some_and(|v| v == "1") =>
                    {
                        Outcome::Final {
                            status: "failed",
                            error: format!(
                                "the request URL answered {} and asked for no retry",
                                response.status()
                            ),
                        }
                    }
                    Ok(response) => Outcome::after_failure(
                        &self.config,
                        attempt,
                        format!("the request URL answered {}", response.status()),
                    ),
                    Err(error) => Outcome::after_failure(&self.config, attempt, format!("{error:#}")),
                }
            }
        };
        match &outcome {
            Outcome::Sent => metrics::counter!("bot_events_sent_total").increment(1),
            Outcome::Retry { error, .. } => tracing::info!(%error, attempt, "bot event failed; will retry"),
            Outcome::Final { status, error } => {
                tracing::warn!(%status, %error, attempt, "bot event given up")
            }
        }
        self.store
            .settle_delivery(job.bot_id, &job.event_id, &outcome, now_ms())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_slacks_v0_scheme() {
        // Slack's documented example.
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            sign(secret, 1531420618, body),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }
}
