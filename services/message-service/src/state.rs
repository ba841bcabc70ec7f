//! What every handler can reach.

use std::sync::Arc;

use echo_auth::{HasVerifier, Verifier};
use echo_events::{EventBus, RelayHandle};

use crate::audit::store::AuditStore;
use crate::config::Config;
use crate::export::store::ExportStore;
use crate::files::store::FileStore;
use crate::integrations::events::Outgoing;
use crate::integrations::store::IntegrationStore;
use crate::notifications::delivery_store::DeliveryStore;
use crate::notifications::store::NotificationStore;
use crate::notifications::unsubscribe::UnsubscribeKey;
use crate::notifications::webpush::Vapid;
use crate::realtime::Realtime;
use crate::store::{MessageStore, PostQueue, StandingReader};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn MessageStore>,
    /// Posts go through here: it commits the posts waiting together.
    pub posts: PostQueue,
    /// Callers' standings in channels are read through here, the lookups waiting together.
    pub standings: StandingReader,
    pub verifier: Arc<Verifier>,
    pub bus: Arc<dyn EventBus>,
    /// Wakes the outbox relay after a commit that enqueued events.
    pub relay: RelayHandle,
    pub realtime: Arc<Realtime>,
    /// Where uploaded files' bytes live.
    pub files: FileStore,
    /// Notifications, preferences, and the projections the notification rules read.
    pub notifications: Arc<dyn NotificationStore>,
    /// Push subscriptions and the delivery log.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// This deployment's VAPID identity for Web Push.
    pub vapid: Arc<Vapid>,
    /// Signs and checks the unsubscribe links of notification emails.
    pub unsubscribe: Arc<UnsubscribeKey>,
    /// Bots, API tokens, webhooks, Slack timestamps and the Events API delivery log.
    pub integrations: Arc<dyn IntegrationStore>,
    /// Sends events to bots' request URLs (and verifies those URLs).
    pub bot_events: Arc<Outgoing>,
    /// The audit log (read here; written by its consumer).
    pub audit: Arc<dyn AuditStore>,
    /// Reads whole workspaces for their export.
    pub export: Arc<dyn ExportStore>,
}

impl AppState {
    /// Call after every successful change: its events are already in the outbox.
    pub fn published(&self) {
        self.relay.notify();
    }
}

impl HasVerifier for AppState {
    fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }
}
