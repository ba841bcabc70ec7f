//! What every handler can reach.

use std::sync::Arc;

use echo_auth::{HasVerifier, Revocations, Verifier};
use echo_events::RelayHandle;

use crate::config::Config;
use crate::passwords::Passwords;
use crate::store::UserStore;
use crate::tokens::KeyRing;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn UserStore>,
    pub keys: Arc<KeyRing>,
    pub passwords: Passwords,
    pub verifier: Arc<Verifier>,
    pub revocations: Arc<dyn Revocations>,
    /// Wakes the outbox relay after a commit that recorded events.
    pub relay: RelayHandle,
}

impl HasVerifier for AppState {
    fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }
}
