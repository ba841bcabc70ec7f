//! user-service: accounts, password hashes, sessions and refresh tokens, signing keys (JWKS),
//! profiles, preferences and presence.
//!
//! [`UserService::build`] opens the store named by the configuration's database URL (SQLite or
//! PostgreSQL), loads or creates the signing keys and re-arms the revocation list; the result serves
//! its [`router`](UserService::router) alone (`echo-server serve users`) or inside the all-in-one
//! process behind the gateway.
//!
//! - [`config`]: typed configuration.
//! - [`http`]: the HTTP API, one module per resource.
//! - [`store`]: the storage trait and its two backends.
//! - [`tokens`]: the key ring, access and refresh tokens; [`passwords`]: Argon2id.

pub mod config;
pub mod error;
pub mod http;
pub mod passwords;
pub mod state;
pub mod store;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use echo_auth::keys::FnKeySource;
use echo_auth::{KeySource, Revocations, Verifier};
use echo_db::Db;
use echo_http::ops::Readiness;
use utoipa::openapi::OpenApi;

pub use crate::config::Config;
use crate::passwords::Passwords;
use crate::state::AppState;
use crate::tokens::KeyRing;

pub struct UserService {
    state: AppState,
    db: Db,
}

impl UserService {
    /// Opens storage, loads keys and re-arms revocations. `revocations` is shared with every
    /// verifier of the deployment (in memory in one process, Redis across processes).
    pub async fn build(config: Config, revocations: Arc<dyn Revocations>) -> anyhow::Result<Self> {
        let (db, store) = store::open(&config.database_url).await.context("opening the user store")?;
        let keys = Arc::new(KeyRing::load(config.auth.clone(), &config.signing_keys, store.clone()).await?);
        let passwords = Passwords::new(config.argon2)?;
        let verifier = Arc::new(Verifier::new(config.auth.clone(), ring_source(keys.clone()), revocations.clone()));

        // Sessions revoked shortly before a restart still have live access tokens out there.
        let ttl_ms = keys.access_ttl_ms() + 60_000;
        let now = echo_domain::time::now_ms();
        for (session, revoked_at) in store.revoked_since(now - ttl_ms).await? {
            let left = u64::try_from(revoked_at + ttl_ms - now).unwrap_or(0);
            revocations.revoke(session, Duration::from_millis(left)).await?;
        }

        let state = AppState { config: Arc::new(config), store, keys, passwords, verifier, revocations };
        Ok(Self { state, db })
    }

    /// The routes, and their OpenAPI description.
    pub fn router(&self) -> (Router, OpenApi) {
        let (router, openapi) = http::router().split_for_parts();
        (router.with_state(self.state.clone()), openapi)
    }

    pub fn readiness(&self) -> Readiness {
        Readiness::default().with("users_db", self.db.probe())
    }

    /// The JWKS straight from the key ring, for verifiers in the same process.
    pub fn key_source(&self) -> impl KeySource + use<> {
        ring_source(self.state.keys.clone())
    }

    /// Makes a new signing key current (`echo-server keys rotate`).
    pub async fn rotate_signing_key(&self) -> anyhow::Result<String> {
        self.state.keys.rotate().await
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

fn ring_source(keys: Arc<KeyRing>) -> impl KeySource {
    FnKeySource(move || {
        let keys = keys.clone();
        Box::pin(async move {
            keys.reload().await?;
            Ok(keys.jwks().await)
        }) as futures::future::BoxFuture<'static, anyhow::Result<echo_auth::Jwks>>
    })
}
