//! What every handler shares.

use std::sync::Arc;

use echo_auth::{HasVerifier, Verifier};

use crate::engine::Core;

#[derive(Clone)]
pub struct AppState {
    pub verifier: Arc<Verifier>,
    pub core: Arc<Core>,
}

impl HasVerifier for AppState {
    fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }
}
