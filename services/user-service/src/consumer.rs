//! What user-service learns from other services' events: who is in which workspace (profiles are
//! visible to people who share one) and which WebSocket connections are live (presence).
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
                self.store.set_workspace_member(m.workspace_id, m.user_id, joined).await.map_err(anyhow::Error::from)?;
            }
            "connection.opened" | "connection.closed" if known_version => {
                let c: Connection = envelope.decode().map_err(|e| HandleError::Park(e.to_string()))?;
                if envelope.kind == "connection.opened" {
                    self.store.open_connection(&c.connection_id, c.user_id, now).await.map_err(anyhow::Error::from)?;
                } else {
                    self.store.close_connection(&c.connection_id, now).await.map_err(anyhow::Error::from)?;
                }
                self.relay.notify();
            }
            "workspace.member_joined" | "workspace.member_left" | "connection.opened" | "connection.closed" => {
                return Err(HandleError::Park(format!("unknown version {} of {}", envelope.version, envelope.kind)));
            }
            _ => {}
        }
        Ok(())
    }
}
