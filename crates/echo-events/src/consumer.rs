//! The consumer runner: a task that feeds a consumer group's deliveries to a handler.
//!
//! Delivery is at least once: an event is acknowledged only after its handler returned `Ok`, so
//! a crash in between redelivers it (to this or another consumer, after `claim_idle`). Handlers
//! must therefore be idempotent, typically by remembering the envelope ids they applied. The
//! events of one fetched batch are acknowledged together once the batch is through: one write
//! to the bus per batch rather than per event. A handler may gather its own writes over a batch
//! too and make them in [`EventHandler::flush`], which runs before the acknowledgement.
//!
//! Failures: `HandleError::Retry` retries the same delivery in place with exponential backoff,
//! which keeps the group's order; after `max_attempts` attempts in total (redeliveries after
//! crashes count too) the event goes to the dead-letter list. `HandleError::Park` (an unknown
//! version, a payload that will never parse) goes there at once. A panicking handler counts as a
//! `Retry`. Retrying in place holds up the group, so keep `max_attempts × backoff.max` well under
//! `claim_idle`, or another consumer will take the delivery over while it is being retried.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::{Delivery, EventBus, FetchOptions, GroupStart};
use crate::envelope::Logged;
use crate::error::BusError;

/// Why a handler did not handle an event.
#[derive(Debug)]
pub enum HandleError {
    /// A transient failure: try again with backoff, dead-letter after `max_attempts`.
    Retry(anyhow::Error),
    /// The event can never be handled by this consumer (unknown version, invalid payload):
    /// dead-letter it at once with this reason.
    Park(String),
}

impl From<anyhow::Error> for HandleError {
    fn from(error: anyhow::Error) -> Self {
        HandleError::Retry(error)
    }
}

/// What a consumer does with each event.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError>;

    /// Writes what `handle` gathered over a batch, once the batch is through and before it is
    /// acknowledged. A failure is retried with backoff; until it succeeds nothing of the batch is
    /// acknowledged, so a crash meanwhile redelivers the batch.
    async fn flush(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Exponential backoff between attempts: `initial`, doubled each time, capped at `max`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct Backoff {
    #[serde(with = "millis")]
    pub initial: Duration,
    #[serde(with = "millis")]
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th failure (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Durations in configuration files are whole milliseconds.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// How a consumer runs (durations are whole milliseconds in configuration files). `group` names the consumer group (one per consuming service and purpose,
/// e.g. `"ai-indexer"`); `consumer_name` must be unique among the group's live consumers (e.g. the
/// replica's host name), and stable across restarts if pending deliveries should come back to it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConsumerConfig {
    pub group: String,
    pub consumer_name: String,
    /// Deliveries fetched at a time.
    pub batch: usize,
    /// Attempts before an event goes to the dead-letter list.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// A delivery unacknowledged for this long is taken over by another fetch (the lease).
    #[serde(with = "millis")]
    pub claim_idle: Duration,
    /// How long one fetch waits for new events.
    #[serde(with = "millis")]
    pub block: Duration,
    /// Where the group starts the first time it is created.
    pub start: GroupStart,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            group: "default".to_owned(),
            consumer_name: "consumer-1".to_owned(),
            batch: 100,
            max_attempts: 5,
            backoff: Backoff::default(),
            claim_idle: Duration::from_secs(30),
            block: Duration::from_secs(2),
            start: GroupStart::Oldest,
        }
    }
}

impl ConsumerConfig {
    /// A configuration with defaults for everything but the names.
    pub fn new(group: impl Into<String>, consumer_name: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            consumer_name: consumer_name.into(),
            ..Self::default()
        }
    }
}

/// Runs a consumer until `shutdown` is cancelled. Deliveries in progress at shutdown are left
/// unacknowledged and come back after `claim_idle`.
pub fn spawn_consumer(
    bus: Arc<dyn EventBus>,
    config: ConsumerConfig,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        Consumer {
            bus,
            config,
            handler,
            shutdown,
        }
        .run()
        .await
    })
}

struct Consumer {
    bus: Arc<dyn EventBus>,
    config: ConsumerConfig,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
}

enum Outcome {
    /// Handled, to be acknowledged with the rest of its batch.
    Handled,
    /// Settled with the bus (dead-lettered).
    Done,
    Stopped,
}

impl Consumer {
    #[tracing::instrument(skip_all, fields(group = %self.config.group, consumer = %self.config.consumer_name))]
    async fn run(self) {
        let options = FetchOptions {
            limit: self.config.batch.max(1),
            claim_idle: self.config.claim_idle,
            block: self.config.block,
        };
        let mut group_ready = false;
        let mut failures = 0_u32;
        while !self.shutdown.is_cancelled() {
            let step = async {
                if !group_ready {
                    self.bus
                        .ensure_group(&self.config.group, self.config.start)
                        .await?;
                    group_ready = true;
                }
                self.bus
                    .fetch(&self.config.group, &self.config.consumer_name, &options)
                    .await
            };
            let fetched = tokio::select! {
                fetched = step => fetched,
                _ = self.shutdown.cancelled() => return,
            };
            let deliveries = match fetched {
                Ok(deliveries) => {
                    failures = 0;
                    deliveries
                }
                Err(error) => {
                    if matches!(error, BusError::NoGroup(_)) {
                        // The group vanished (e.g. Redis lost its data): recreate it.
                        group_ready = false;
                    }
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, "fetching events failed; retrying");
                    if self.sleep(self.config.backoff.delay(failures)).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            if deliveries.is_empty() {
                continue;
            }
            let mut handled = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                let position = delivery.logged.position;
                match self.process(delivery).await {
                    Outcome::Handled => handled.push(position),
                    Outcome::Done => {}
                    Outcome::Stopped => break,
                }
            }
            // Acknowledged even when shutting down, so what was handled is not handled again.
            if self.flush().await.is_ok() && !handled.is_empty() {
                self.settle(|| self.bus.ack(&self.config.group, &handled)).await;
            }
        }
    }

    /// Runs the handler's flush until it succeeds; `Err` if shut down first.
    async fn flush(&self) -> Result<(), ()> {
        let mut failures = 0_u32;
        loop {
            let result = AssertUnwindSafe(self.handler.flush())
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("flush panicked")));
            let Err(error) = result else { return Ok(()) };
            failures = failures.saturating_add(1);
            tracing::warn!(error = %format!("{error:#}"), "flushing a batch failed; retrying");
            self.sleep(self.config.backoff.delay(failures)).await?;
        }
    }

    /// Sleeps unless shut down first (`Err` then).
    async fn sleep(&self, duration: Duration) -> Result<(), ()> {
        tokio::select! {
            _ = tokio::time::sleep(duration) => Ok(()),
            _ = self.shutdown.cancelled() => Err(()),
        }
    }

    #[tracing::instrument(skip_all, fields(position = %delivery.logged.position, kind = %delivery.logged.envelope.kind))]
    async fn process(&self, delivery: Delivery) -> Outcome {
        let mut attempt = delivery.attempts.max(1);
        loop {
            if self.shutdown.is_cancelled() {
                return Outcome::Stopped;
            }
            let result = AssertUnwindSafe(self.handler.handle(&delivery.logged))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(HandleError::Retry(anyhow::anyhow!("handler panicked"))));
            let verdict = match result {
                Ok(()) => Outcome::Handled,
                Err(HandleError::Park(reason)) => {
                    tracing::warn!(%reason, "parking event in the dead-letter list");
                    let parked = Delivery {
                        attempts: attempt,
                        ..delivery.clone()
                    };
                    self.settle(|| self.bus.dead_letter(&self.config.group, &parked, &reason))
                        .await
                }
                Err(HandleError::Retry(error)) if attempt >= self.config.max_attempts => {
                    let reason = format!("{error:#}");
                    tracing::warn!(%reason, attempt, "giving up on event; dead-lettering it");
                    let failed = Delivery {
                        attempts: attempt,
                        ..delivery.clone()
                    };
                    self.settle(|| self.bus.dead_letter(&self.config.group, &failed, &reason))
                        .await
                }
                Err(HandleError::Retry(error)) => {
                    tracing::debug!(error = %format!("{error:#}"), attempt, "handler failed; will retry");
                    if self.sleep(self.config.backoff.delay(attempt)).await.is_err() {
                        return Outcome::Stopped;
                    }
                    attempt += 1;
                    continue;
                }
            };
            return verdict;
        }
    }

    /// Runs an ack or dead-letter call, retrying while the bus is unreachable: giving up would
    /// only mean handling the event again later.
    async fn settle<'a, F, Fut>(&'a self, call: F) -> Outcome
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), BusError>> + 'a,
    {
        let mut failures = 0_u32;
        loop {
            match call().await {
                Ok(()) => return Outcome::Done,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, "settling a delivery failed; retrying");
                    if self.sleep(self.config.backoff.delay(failures)).await.is_err() {
                        return Outcome::Stopped;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        assert_eq!(b.delay(1), Duration::from_millis(10));
        assert_eq!(b.delay(2), Duration::from_millis(20));
        assert_eq!(b.delay(3), Duration::from_millis(40));
        assert_eq!(b.delay(4), Duration::from_millis(50));
        assert_eq!(b.delay(100), Duration::from_millis(50));
    }
}
