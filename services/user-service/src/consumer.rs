//! What user-service learns from other services' events: who is in which workspace (profiles are
//! visible to people who share one), which WebSocket connections are live (presence), and the
//! bots and webhooks message-service creates (accounts of their own, with `is_bot`, that cannot
//! sign in).
//! Every effect is idempotent, as delivery is at least once.

use std::sync::Arc;

use async_trait::async_trait;
use echo_events::{EventHandler, HandleError, Logged, RelayHandle};
use serde::Deserialize;
use uuid::Uuid;

use crate::store::UserStore;

pub struct Projections {
    pub store: Arc<dyn UserStore>,
    pub relay: RelayHandle,
}

#[derive(Deserialize)]
struct Membership {
    workspace_id: Uuid,
    user_id: Uuid,
}

#[derive(Deserialize)]
struct Connection {
    connection_id: String,
    user_id: Uuid,
    /// The message-service replica holding it (absent from reports of older replicas).
    replica_id: Option<String>,
}

#[derive(Deserialize)]
struct BotCreated {
    /// `bot`, `webhook`, or `imported` (a person from a Slack import who has no account).
    kind: String,
    bot_id: Uuid,
    user_id: Uuid,
    name: String,
}

#[derive(Deserialize)]
struct ReplicaAlive {
    replica_id: String,
}

#[async_trait]
impl EventHandler for Projections {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        let now = echo_domain::time::now_ms();
        let known_version = envelope.version == 1;
        match envelope.kind.as_str() {
            "workspace.member_joined" | "workspace.member_left" if known_version => {
                let m: Membership = envelope.decode().map_err(|e| HandleError::Park(e.to_string()))?;
                let joined = envelope.kind == "workspace.member_joined";
                self.store
                    .set_workspace_member(m.workspace_id, m.user_id, joined)
                    .await
                    .map_err(anyhow::Error::from)?;
            }
            "connection.opened" | "connection.closed" if known_version => {
                let c: Connection = envelope.decode().map_err(|e| HandleError::Park(e.to_string()))?;
                if envelope.kind == "connection.opened" {
                    let replica = c.replica_id.as_deref();
                    self.store
                        .open_connection(&c.connection_id, c.user_id, replica, now)
                        .await
                        .map_err(anyhow::Error::from)?;
                    if let Some(replica) = replica {
                        self.store
                            .replica_seen(replica, occurred_ms(envelope))
                            .await
                            .map_err(anyhow::Error::from)?;
                    }
                } else {
                    self.store
                        .close_connection(&c.connection_id, now)
                        .await
                        .map_err(anyhow::Error::from)?;
                }
                self.relay.notify();
            }
            "bot.created" if known_version => {
                let b: BotCreated = envelope.decode().map_err(|e| HandleError::Park(e.to_string()))?;
                // No password (bots never sign in: login only looks at people) and an address
                // that cannot receive mail; no events, so nothing emails or notifies it.
                let user = crate::store::NewUser {
                    id: b.user_id,
                    email: format!("{}-{}@integrations.invalid", b.kind, b.bot_id.simple()),
                    password_hash: String::new(),
                    display_name: b.name,
                    // Placeholders of imported people too: `is_bot` is what keeps an account
                    // without a password out of sign-in.
                    is_bot: true,
                    now,
                };
                match self.store.create_user(&user, &[]).await {
                    // Delivered before: the account exists.
                    Ok(()) | Err(crate::store::StoreError::EmailTaken) => {}
                    Err(e) => return Err(HandleError::Retry(anyhow::Error::from(e))),
                }
            }
            "realtime.replica_alive" if known_version => {
                let alive: ReplicaAlive = envelope.decode().map_err(|e| HandleError::Park(e.to_string()))?;
                self.store
                    .replica_seen(&alive.replica_id, occurred_ms(envelope))
                    .await
                    .map_err(anyhow::Error::from)?;
            }
            "workspace.member_joined"
            | "workspace.member_left"
            | "connection.opened"
            | "connection.closed"
            | "realtime.replica_alive"
            | "bot.created" => {
                return Err(HandleError::Park(format!(
                    "unknown version {} of {}",
                    envelope.version, envelope.kind
                )));
            }
            _ => {}
        }
        Ok(())
    }
}

/// When the producer sent the event: a replica's liveness is judged by its clock, not by when
/// this consumer got round to the event.
fn occurred_ms(envelope: &echo_events::Envelope) -> i64 {
    envelope.occurred_at.timestamp_millis()
}

/// Every so often, closes the connections of message-service replicas that went silent (a crash
/// sends no `connection.closed`), so their users do not stay online for ever.
pub fn spawn_replica_sweeper(
    projections: Arc<Projections>,
    timeout: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let timeout_ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(timeout / 3);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match projections
                .store
                .close_silent_replicas(timeout_ms, echo_domain::time::now_ms())
                .await
            {
                Ok(0) => {}
                Ok(closed) => {
                    tracing::info!(
                        closed,
                        "closed the connections of silent message-service replicas"
                    );
                    projections.relay.notify();
                }
                Err(e) => tracing::warn!(error = %e, "cannot sweep silent replicas"),
            }
        }
    });
}
