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
pub mod consumer;
pub mod error;
pub mod http;
pub mod passwords;
pub mod presence;
pub mod sign_ins;
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
use echo_events::outbox::{OutboxRelay, OutboxSource};
use echo_events::{ConsumerConfig, EventBus, GroupStart};
use echo_http::ops::Readiness;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::OpenApi;

pub use crate::config::Config;
use crate::passwords::Passwords;
use crate::state::AppState;
use crate::tokens::KeyRing;

/// What user-service shares with the rest of the deployment.
pub struct Deps {
    pub revocations: Arc<dyn Revocations>,
    pub bus: Arc<dyn EventBus>,
    pub shutdown: CancellationToken,
}

pub struct UserService {
    state: AppState,
    db: Db,
}

impl UserService {
    /// Opens storage, loads keys, re-arms revocations, and starts the outbox relay and the event
    /// consumer. `revocations` is shared with every verifier of the deployment (in memory in one
    /// process, Redis across processes).
    pub async fn build(config: Config, deps: Deps) -> anyhow::Result<Self> {
        let Deps {
            revocations,
            bus,
            shutdown,
        } = deps;
        let (db, store) = store::open(&config.database_url)
            .await
            .context("opening the user store")?;
        let keys = Arc::new(KeyRing::load(config.auth.clone(), &config.signing_keys, store.clone()).await?);
        let passwords = Passwords::new(config.argon2)?;
        let verifier = Arc::new(Verifier::new(
            config.auth.clone(),
            ring_source(keys.clone()),
            revocations.clone(),
        ));

        // Sessions revoked shortly before a restart still have live access tokens out there.
        let ttl_ms = keys.access_ttl_ms() + 60_000;
        let now = echo_domain::time::now_ms();
        for (session, revoked_at) in store.revoked_since(now - ttl_ms).await? {
            let left = u64::try_from(revoked_at + ttl_ms - now).unwrap_or(0);
            revocations.revoke(session, Duration::from_millis(left)).await?;
        }

        let source = match &db {
            Db::Sqlite(pool) => OutboxSource::Sqlite(pool.clone()),
            Db::Postgres(pool) => OutboxSource::Postgres(pool.clone()),
        };
        let (relay, _) = OutboxRelay::spawn(source, bus.clone(), shutdown.clone());
        let projections = Arc::new(consumer::Projections {
            store: store.clone(),
            relay: relay.clone(),
        });
        let consumer = ConsumerConfig {
            start: GroupStart::Oldest,
            ..ConsumerConfig::new("user-service", format!("user-service-{}", uuid::Uuid::now_v7()))
        };
        echo_events::spawn_consumer(bus, consumer, projections.clone(), shutdown.clone());
        consumer::spawn_replica_sweeper(
            projections,
            Duration::from_millis(config.replica_timeout_ms),
            shutdown,
        );

        let state = AppState {
            config: Arc::new(config),
            store,
            keys,
            passwords,
            verifier,
            revocations,
            relay,
        };
        Ok(Self { state, db })
    }

    /// The routes, and their OpenAPI description.
    pub fn router(&self) -> (Router, OpenApi) {
        let (router, openapi) = http::router().split_for_parts();
        (router.with_state(self.state.clone()), openapi)
    }

    pub fn readiness(&self) -> Readiness {
        Readiness::default()
            .with("users_db", self.db.probe())
            .sampled(self.db.sampler("users"))
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

/// Makes a new signing key current in the configured store, without running the service
/// (`echo-server keys rotate`); running replicas pick it up on their next key reload.
pub async fn rotate_signing_key(config: &Config) -> anyhow::Result<String> {
    let (db, store) = store::open(&config.database_url)
        .await
        .context("opening the user store")?;
    let keys = KeyRing::load(config.auth.clone(), &config.signing_keys, store).await?;
    let kid = keys.rotate().await;
    db.close().await;
    kid
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
