//! message-service: workspaces, members and roles, invites, channels and DMs, messages, threads,
//! reactions, pins, read markers and unread counts, files, full-text search, and the WebSocket
//! real-time endpoint.
//!
//! [`MessageService::build`] opens the store named by the configuration's database URL (SQLite or
//! PostgreSQL, migrated on open) and starts the outbox relay that moves the events each change
//! enqueued (in its own transaction) to the bus; the result serves its
//! [`router`](MessageService::router) alone (`echo-server serve messages`) or behind the gateway
//! in the all-in-one process.
//!
//! - [`config`]: typed configuration; [`error`]: the one error type.
//! - [`http`]: the HTTP API, one module per resource, with [`http::access`] holding who may see what.
//! - [`store`]: the storage trait and its two backends; [`model`]: the objects the API shows.
//! - [`mentions`]: parsing `<@id>`, `@channel` and `@here`; [`events`]: the events published.
//! - [`files`]: uploads into the object store (local disk or S3), thumbnails, safe serving.
//! - [`search`]: the query language, its SQL on each backend, highlighting, and the display-name
//!   projection `from:@name` resolves against.
//! - [`realtime`]: the WebSocket endpoint.
//! - [`notifications`]: who is notified of a message and why (a consumer of the bus), the inbox,
//!   explain, and notification preferences.
//! - [`audit`]: the audit log of security and admin actions (a consumer of the bus) and its endpoint.
//! - [`export`]: a workspace's export (a documented ZIP, streamed) and its import.
//! - [`integrations`]: bots and API tokens, incoming webhooks, the Slack-compatible Web API and
//!   outgoing events to bots (a consumer of the bus, with retries like notifications').

pub mod audit;
pub mod config;
pub mod error;
pub mod events;
pub mod export;
pub mod files;
pub mod http;
pub mod integrations;
pub use echo_parse::mentions;
pub mod model;
pub mod notifications;
pub mod realtime;
pub mod search;
pub mod state;
pub mod store;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use echo_db::Db;
use echo_events::{ConsumerConfig, EventBus, OutboxRelay, OutboxSource};
use echo_http::ops::Readiness;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::OpenApi;

pub use crate::config::Config;
use crate::state::AppState;

/// What message-service needs from the process around it.
pub struct Deps {
    pub verifier: Arc<echo_auth::Verifier>,
    pub bus: Arc<dyn EventBus>,
    /// Stops the outbox relay (and anything else long-running) when cancelled.
    pub shutdown: CancellationToken,
}

pub struct MessageService {
    state: AppState,
    db: Db,
    shutdown: CancellationToken,
    relay_task: Mutex<Option<JoinHandle<()>>>,
    /// Consumers and senders, stopped after the relay.
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl MessageService {
    /// Opens (and migrates) the store and starts the outbox relay.
    pub async fn build(config: Config, deps: Deps) -> anyhow::Result<Self> {
        let (db, store) = store::open(&config.database_url)
            .await
            .context("opening the message store")?;
        let source = match &db {
            Db::Sqlite(pool) => OutboxSource::Sqlite(pool.clone()),
            Db::Postgres(pool) => OutboxSource::Postgres(pool.clone()),
        };
        // A child token: closing this service stops its relay without cancelling the process.
        let shutdown = deps.shutdown.child_token();
        let (relay, relay_task) = OutboxRelay::spawn(source, deps.bus.clone(), shutdown.clone());
        let realtime = realtime::Realtime::start(db.clone(), deps.bus.clone(), shutdown.clone()).await?;
        let files = files::store::FileStore::open(&config.files).context("opening the file store")?;
        // Every replica applies the same idempotent upserts; one group shared by all replicas
        // would leave each replica's database (the same one in scaled mode) complete as well.
        let directory = search::directory::UserDirectory { store: store.clone() };
        let consumer = ConsumerConfig::new(search::directory::GROUP, consumer_name());
        let directory_task =
            echo_events::spawn_consumer(deps.bus.clone(), consumer, Arc::new(directory), shutdown.clone());
        // One group for every replica: each message is decided by one of them (and at most once,
        // whatever the bus redelivers, by the store).
        let (notifications, deliveries) = notifications::store::open(&db);
        let pushes = Arc::new(Notify::new());
        let notifier = notifications::consumer::Notifier {
            messages: store.clone(),
            notifications: notifications.clone(),
            deliveries: deliveries.clone(),
            relay: relay.clone(),
            pushes: pushes.clone(),
            email_delay_ms: config
                .notifications
                .smtp_url
                .as_ref()
                .map(|_| i64::try_from(config.notifications.email_delay_ms).unwrap_or(i64::MAX)),
            batch: Default::default(),
        };
        let consumer = ConsumerConfig::new(notifications::consumer::GROUP, consumer_name());
        let notifier_task =
            echo_events::spawn_consumer(deps.bus.clone(), consumer, Arc::new(notifier), shutdown.clone());
        let vapid = Arc::new(vapid(&config, deliveries.as_ref()).await?);
        let sender = notifications::delivery::PushSender {
            store: deliveries.clone(),
            vapid: vapid.clone(),
            config: config.notifications.clone(),
            wake: pushes,
            http: notifications::delivery::PushSender::http_client()?,
        };
        let push_task = sender.spawn(shutdown.clone());
        let secret = notifications::unsubscribe::UnsubscribeKey::generate_secret()?;
        let secret = deliveries
            .email_secret(&secret, echo_domain::time::now_ms())
            .await
            .context("storing the unsubscribe key")?;
        let unsubscribe = Arc::new(notifications::unsubscribe::UnsubscribeKey::new(&secret));
        let email_task = match &config.notifications.smtp_url {
            Some(url) => {
                let from = config
                    .notifications
                    .email_from
                    .parse()
                    .context("notifications.email_from is not a mailbox")?;
                let sender = notifications::email::EmailSender {
                    store: deliveries.clone(),
                    notifications: notifications.clone(),
                    mailer: notifications::email::EmailSender::mailer(url)?,
                    from,
                    unsubscribe: unsubscribe.clone(),
                    config: config.notifications.clone(),
                };
                Some(sender.spawn(shutdown.clone()))
            }
            None => None,
        };
        // Bot events: one group for every replica (each event is queued once per bot, and the
        // delivery log's key makes redelivery harmless); every replica runs a sender.
        let integrations = integrations::store::open(&db);
        let bot_events = Arc::new(integrations::events::Outgoing::new()?);
        let dispatcher = integrations::events::BotEvents {
            messages: store.clone(),
            integrations: integrations.clone(),
            wake: bot_events.wake.clone(),
            subscribed: Default::default(),
        };
        let consumer = ConsumerConfig::new(integrations::events::GROUP, consumer_name());
        let bot_events_task =
            echo_events::spawn_consumer(deps.bus.clone(), consumer, Arc::new(dispatcher), shutdown.clone());
        let bot_sender = integrations::events::EventSender {
            store: integrations.clone(),
            outgoing: bot_events.clone(),
            config: config.notifications.clone(),
        };
        let bot_sender_task = bot_sender.spawn(shutdown.clone());
        // One group for every replica; records are keyed by event, so redelivery is harmless.
        let audit = audit::store::open(&db);
        let auditor = audit::consumer::Auditor { audit: audit.clone() };
        let consumer = ConsumerConfig::new(audit::consumer::GROUP, consumer_name());
        let audit_task =
            echo_events::spawn_consumer(deps.bus.clone(), consumer, Arc::new(auditor), shutdown.clone());
        let state = AppState {
            config: Arc::new(config),
            posts: store::PostQueue::spawn(store.clone()),
            standings: store::StandingReader::spawn(store.clone()),
            store,
            verifier: deps.verifier,
            bus: deps.bus,
            relay,
            realtime,
            files,
            notifications,
            deliveries,
            vapid,
            unsubscribe,
            integrations,
            bot_events,
            audit,
            export: export::store::open(&db),
        };
        Ok(Self {
            state,
            db,
            shutdown,
            relay_task: Mutex::new(Some(relay_task)),
            workers: Mutex::new(
                [
                    directory_task,
                    notifier_task,
                    push_task,
                    bot_events_task,
                    bot_sender_task,
                    audit_task,
                ]
                .into_iter()
                .chain(email_task)
                .collect(),
            ),
        })
    }

    /// The routes, and their OpenAPI description.
    pub fn router(&self) -> (Router, OpenApi) {
        let (router, openapi) = routes(self.state.config.files.max_bytes).split_for_parts();
        // API tokens are checked before any handler (see `integrations::auth`).
        let router = router.layer(axum::middleware::from_fn_with_state(
            self.state.clone(),
            integrations::auth::layer,
        ));
        (router.with_state(self.state.clone()), openapi)
    }

    pub fn readiness(&self) -> Readiness {
        let files = self.state.files.clone();
        let files_probe: echo_http::ops::Probe = Arc::new(move || {
            let files = files.clone();
            Box::pin(async move { files.probe().await.map_err(|e| format!("{e:#}")) })
        });
        Readiness::default()
            .with("messages_db", self.db.probe())
            .sampled(self.db.sampler("messages"))
            .with("files", files_probe)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the relay (after its current batch) and closes the database.
    pub async fn close(&self) {
        self.shutdown.cancel();
        if let Some(task) = self.relay_task.lock().await.take() {
            let _ = task.await;
        }
        for task in std::mem::take(&mut *self.workers.lock().await) {
            let _ = task.await;
        }
        self.db.close().await;
    }
}

/// The VAPID key: the configured one, else the one stored in the database (generated by the
/// first replica that needed it).
async fn vapid(
    config: &Config,
    deliveries: &dyn notifications::delivery_store::DeliveryStore,
) -> anyhow::Result<notifications::webpush::Vapid> {
    let pkcs8 = match &config.notifications.vapid_private_key {
        Some(key) => key.clone(),
        None => {
            let generated = notifications::webpush::Vapid::generate_pkcs8()?;
            deliveries
                .vapid_key(&generated, echo_domain::time::now_ms())
                .await
                .context("storing the VAPID key")?
        }
    };
    notifications::webpush::Vapid::from_pkcs8(&pkcs8, &config.notifications.vapid_subject)
}

/// This replica's name in consumer groups: stable across restarts on the same host, so that
/// deliveries it left pending come back to it.
fn consumer_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .map_or_else(|| "messages-1".to_owned(), |h| format!("messages-{h}"))
}

/// Every route of the service; `max_file_bytes` bounds upload bodies.
fn routes(max_file_bytes: u64) -> utoipa_axum::router::OpenApiRouter<AppState> {
    http::router()
        .merge(files::http::router(max_file_bytes))
        .merge(search::http::router())
        .merge(realtime::router())
        .merge(notifications::router())
        .merge(integrations::router())
        .merge(audit::http::router())
        .merge(export::http::router())
}

/// The OpenAPI description of every route, for a gateway in front of remote replicas.
pub fn openapi() -> OpenApi {
    routes(config::FilesConfig::default().max_bytes)
        .split_for_parts()
        .1
}
