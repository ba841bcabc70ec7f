//! A projection of display names from user-service's `user.registered` and `user.updated`
//! events, so that `from:@name` can be resolved without calling user-service on each search.
//! Applying an event is an upsert keyed by the user, so redelivery is harmless; the events carry
//! the whole public profile, so applying an older one after a newer one is the only way to go
//! stale, and the bus delivers in log order to one group.

use std::sync::Arc;

use async_trait::async_trait;
use echo_events::{EventHandler, HandleError, Logged};
use serde::Deserialize;
use uuid::Uuid;

use crate::store::MessageStore;

/// The consumer group of this projection.
pub const GROUP: &str = "messages-user-directory";

pub struct UserDirectory {
    pub store: Arc<dyn MessageStore>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    display_name: String,
}

#[derive(Debug, Deserialize)]
struct UserEvent {
    user_id: Uuid,
    user: Profile,
}

#[async_trait]
impl EventHandler for UserDirectory {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        match (envelope.kind.as_str(), envelope.version) {
            ("user.registered" | "user.updated", 1) => {
                let payload: UserEvent = envelope
                    .decode()
                    .map_err(|e| HandleError::Park(format!("unreadable {} payload: {e}", envelope.kind)))?;
                self.store
                    .upsert_user_name(payload.user_id, &payload.user.display_name)
                    .await
                    .map_err(|e| {
                        HandleError::Retry(anyhow::Error::new(e).context("storing a display name"))
                    })?;
                Ok(())
            }
            ("user.registered" | "user.updated", v) => Err(HandleError::Park(format!("unknown version {v}"))),
            _ => Ok(()),
        }
    }
}
