//! The email sender: mentions and DMs still unread after the configured delay, one email per
//! person for everything pending once the oldest is due, with an unsubscribe link (and RFC 8058
//! one-click headers).
//!
//! Like the push sender it works from the delivery log on every replica: a person's due rows are
//! claimed with a lease, what was read (or became invisible, or was deleted) meanwhile is
//! skipped, the rest is sent in one email and marked sent; failures are retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use echo_domain::time::now_ms;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::delivery_store::{DeliveryStore, EmailItem, Outcome};
use super::store::{NotificationStore, PreferencesRow};
use super::unsubscribe::UnsubscribeKey;
use crate::config::NotificationsConfig;

/// People emailed per round.
const BATCH: u32 = 50;
/// How long claimed emails are reserved to their sender.
const LEASE_MS: i64 = 120_000;
/// Characters of each message quoted in an email.
const QUOTE_CHARS: usize = 280;

pub struct EmailSender {
    pub store: Arc<dyn DeliveryStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub mailer: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub unsubscribe: Arc<UnsubscribeKey>,
    pub config: NotificationsConfig,
}

impl EmailSender {
    /// The SMTP transport a URL names (`smtp://`, `smtp://…?tls=required`, `smtps://`).
    pub fn mailer(url: &str) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
        Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| format!("the SMTP URL {} is not usable", echo_db::redact(url)))?
            .timeout(Some(Duration::from_secs(30)))
            .build())
    }

    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.config.delivery_poll_ms.max(10));
            loop {
                if let Err(error) = self.round().await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "sending notification emails failed; will retry"
                    );
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// Emails everyone with something due now.
    pub async fn round(&self) -> anyhow::Result<()> {
        for user_id in self.store.due_email_recipients(now_ms(), BATCH).await? {
            if let Err(error) = self.deliver_to(user_id).await {
                tracing::warn!(%user_id, error = format!("{error:#}"), "emailing notifications failed");
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn deliver_to(&self, user_id: Uuid) -> anyhow::Result<()> {
        let now = now_ms();
        let items = self.store.claim_emails(user_id, now, now + LEASE_MS).await?;
        if items.is_empty() {
            return Ok(());
        }
        let wants_email = self
            .notifications
            .preferences(user_id)
            .await?
            .map(PreferencesRow::into_preferences)
            .is_none_or(|p| p.email);
        let address = self.store.email_address(user_id).await?;
        let (worth, stale): (Vec<EmailItem>, Vec<EmailItem>) = items
            .into_iter()
            .partition(|item| item.unread && item.visible && !item.deleted);
        for item in &stale {
            let outcome = Outcome::Final {
                status: "skipped",
                error: "read, deleted or no longer visible".into(),
            };
            self.store
                .settle_email(item.notification_id, user_id, &outcome, now)
                .await?;
        }
        let skip_all = match (&address, wants_email) {
            (_, false) => Some("email notifications are off"),
            (None, _) => Some("no email address is known"),
            _ => None,
        };
        if let Some(reason) = skip_all {
            for item in &worth {
                let outcome = Outcome::Final {
                    status: "skipped",
                    error: reason.into(),
                };
                self.store
                    .settle_email(item.notification_id, user_id, &outcome, now)
                    .await?;
            }
            return Ok(());
        }
        let (Some(address), false) = (address, worth.is_empty()) else {
            return Ok(());
        };
        let attempt = worth.iter().map(|i| i.attempts).max().unwrap_or(1);
        let outcome = match self.send(user_id, &address, &worth).await {
            Ok(()) => {
                metrics::counter!("notification_emails_sent_total").increment(1);
                Outcome::Sent
            }
            Err(error) => Outcome::after_failure(
                &self.config,
                u32::try_from(attempt).unwrap_or(u32::MAX),
                format!("{error:#}"),
            ),
        };
        if let Outcome::Retry { error, .. } | Outcome::Final { error, .. } = &outcome {
            tracing::info!(%error, attempt, "a notification email failed");
        }
        for item in &worth {
            self.store
                .settle_email(item.notification_id, user_id, &outcome, now_ms())
                .await?;
        }
        Ok(())
    }

    async fn send(&self, user_id: Uuid, address: &str, items: &[EmailItem]) -> anyhow::Result<()> {
        let to: Mailbox = address
            .parse()
            .with_context(|| format!("{address} is not an email address"))?;
        let link = self.unsubscribe.link(&self.config.public_url, user_id);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject(items))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(body(items, &self.config.public_url, &link))
            .context("building the email")?;
        self.mailer.send(message).await.context("sending the email")?;
        Ok(())
    }
}

fn where_(item: &EmailItem) -> String {
    match (item.channel_kind.as_str(), &item.channel_name) {
        ("dm" | "group_dm", _) | (_, None) => "a direct message".to_owned(),
        (_, Some(name)) => format!("#{name}"),
    }
}

fn who(item: &EmailItem) -> &str {
    item.author_name.as_deref().unwrap_or("Someone")
}

fn subject(items: &[EmailItem]) -> String {
    match items {
        [one] if one.kind == "dm" => format!("{} sent you a direct message", who(one)),
        [one] => format!("{} mentioned you in {}", who(one), where_(one)),
        many => format!("You have {} unread mentions and messages in Echo", many.len()),
    }
}

fn body(items: &[EmailItem], public_url: &str, unsubscribe: &str) -> String {
    let mut text = String::from("You have unread messages in Echo:\n\n");
    for item in items {
        let quote: String = item.text.chars().take(QUOTE_CHARS).collect();
        let action = if item.kind == "dm" {
            "wrote to you".to_owned()
        } else {
            format!("mentioned you in {}", where_(item))
        };
        text.push_str(&format!(
            "- {} {action}:\n  {}\n\n",
            who(item),
            quote.replace('\n', "\n  ")
        ));
    }
    text.push_str(&format!(
        "Open Echo: {public_url}\n\nYou receive this email because mentions and direct messages stayed unread.\n\
         Unsubscribe from these emails: {unsubscribe}\n"
    ));
    text
}
