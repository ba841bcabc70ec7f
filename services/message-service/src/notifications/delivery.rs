//! The push sender: delivers the notifications of people who had no live connection to their
//! browsers' Web Push subscriptions, from the delivery log.
//!
//! Every replica runs one. A push is claimed with a lease (a compare-and-set on its row) before it
//! is sent and marked sent right after, so replicas never send the same push and a restart sends
//! only what was not marked sent. The one window left, a crash between the push service accepting
//! a message and the row being marked, can repeat that message once; the `Topic` header (the
//! notification id) lets the push service replace the first copy if it is still queued.
//! Failures are retried with exponential backoff up to a number of attempts; a subscription the
//! push service says is gone (404, 410) is deleted.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use echo_domain::time::now_ms;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Kind;
use super::delivery_store::{DeliveryStore, Outcome, PushJob};
use super::webpush::{self, ReceiverKeys, Vapid};
use crate::config::NotificationsConfig;

/// Pushes looked at per round.
const BATCH: u32 = 100;
/// Pushes in flight at once.
const CONCURRENCY: usize = 16;
/// How long a claimed push is reserved to its sender: longer than one attempt can take.
const LEASE_MS: i64 = 60_000;
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long push services keep a message for an offline browser, in seconds.
const PUSH_TTL_SECS: u32 = 24 * 3600;
/// Characters of message text in a push: the payload must stay under 4 KiB once encrypted.
const PREVIEW_CHARS: usize = 500;

pub struct PushSender {
    pub store: Arc<dyn DeliveryStore>,
    pub vapid: Arc<Vapid>,
    pub config: NotificationsConfig,
    /// Woken when new notifications may have pushes to send.
    pub wake: Arc<Notify>,
    pub http: reqwest::Client,
}

impl PushSender {
    pub fn http_client() -> anyhow::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the push HTTP client")
    }

    /// Runs until `shutdown`: each round sends what is due, then waits for a wake-up or the poll
    /// interval.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.config.delivery_poll_ms.max(10));
            loop {
                if let Err(error) = self.round().await {
                    tracing::warn!(error = format!("{error:#}"), "sending pushes failed; will retry");
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// Sends every push due now (in batches), returning how many were attempted.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let mut attempted = 0;
        loop {
            let now = now_ms();
            let due = self.store.due_pushes(now, BATCH).await?;
            let batch = due.len();
            let results: Vec<anyhow::Result<bool>> = futures::stream::iter(due)
                .map(|job| self.deliver(job))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for result in results {
                match result {
                    Ok(true) => attempted += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "recording a push attempt failed")
                    }
                }
            }
            if batch < BATCH as usize {
                return Ok(attempted);
            }
        }
    }

    /// Claims, sends and settles one push; false when another sender had claimed it.
    #[tracing::instrument(skip_all, fields(notification_id = %job.notification_id, subscription_id = %job.target))]
    async fn deliver(&self, job: PushJob) -> anyhow::Result<bool> {
        let now = now_ms();
        if !self.store.claim_push(job.key(), now, now + LEASE_MS).await? {
            return Ok(false);
        }
        let attempt = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
        let outcome = match self.send(&job).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::after_failure(&self.config, attempt, format!("{error:#}")),
        };
        match &outcome {
            Outcome::Sent => metrics::counter!("notification_pushes_sent_total").increment(1),
            Outcome::Retry { error, .. } => tracing::info!(%error, attempt, "push failed; will retry"),
            Outcome::Final { status, error } => tracing::warn!(%status, %error, attempt, "push given up"),
        }
        self.store.settle_push(job.key(), &outcome, now_ms()).await?;
        Ok(true)
    }

    /// One attempt; `Err` for failures worth retrying (the network, the push service's errors).
    async fn send(&self, job: &PushJob) -> anyhow::Result<Outcome> {
        if job.deleted {
            return Ok(Outcome::Final {
                status: "skipped",
                error: "the message was deleted".into(),
            });
        }
        let keys = match ReceiverKeys::parse(&job.p256dh, &job.auth) {
            Ok(keys) => keys,
            Err(error) => {
                return Ok(Outcome::Final {
                    status: "failed",
                    error: error.into(),
                });
            }
        };
        let body = webpush::encrypt(payload(job).as_bytes(), &keys)?;
        let authorization = self.vapid.authorization(&job.endpoint, now_ms() / 1000)?;
        let kind = Kind::from_db(&job.kind);
        let urgency = if matches!(kind, Some(Kind::Mention | Kind::Dm)) {
            "high"
        } else {
            "normal"
        };
        let response = self
            .http
            .post(&job.endpoint)
            .header("TTL", PUSH_TTL_SECS.to_string())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Urgency", urgency)
            // At most 32 URL-safe characters: the id without hyphens.
            .header("Topic", job.notification_id.simple().to_string())
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await
            .context("reaching the push service")?;
        let status = response.status();
        Ok(match status {
            s if s.is_success() => Outcome::Sent,
            StatusCode::NOT_FOUND | StatusCode::GONE => Outcome::Final {
                status: "gone",
                error: format!("the push service answered {status}"),
            },
            StatusCode::TOO_MANY_REQUESTS => anyhow::bail!("the push service answered {status}"),
            s if s.is_client_error() => Outcome::Final {
                status: "failed",
                error: format!("the push service refused the push: {status}"),
            },
            _ => anyhow::bail!("the push service answered {status}"),
        })
    }
}

/// What the service worker receives: the notification as the API shows it, and enough of the
/// message to display it.
fn payload(job: &PushJob) -> String {
    json!({
        "type": "notification",
        "notification": {
            "id": job.notification_id,
            "kind": job.kind,
            "message_id": job.message_id,
            "channel_id": job.channel_id,
            "workspace_id": job.workspace_id,
            "created_at": echo_domain::time::rfc3339(job.created_at),
            "read": false,
        },
        "author_id": job.author_id,
        "preview": job.text.chars().take(PREVIEW_CHARS).collect::<String>(),
    })
    .to_string()
}
