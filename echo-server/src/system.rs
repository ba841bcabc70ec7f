//! Putting services together: all of them in one process behind the gateway (embedded mode, or
//! scaled stores in one process), or one of them alone (scaled mode).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ai_service::AiService;
use anyhow::Context;
use api_gateway::ratelimit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use api_gateway::{Replicas, Upstream, Upstreams};
use axum::Router;
use echo_auth::keys::HttpKeySource;
use echo_auth::{MemoryRevocations, RedisRevocations, Revocations, Verifier};
use echo_events::EventBus;
use echo_http::ops::Readiness;
use message_service::MessageService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use user_service::UserService;
use utoipa::openapi::OpenApi;

use crate::config::EchoConfig;

/// Every service of one deployment, running in this process.
pub struct System {
    pub router: Router,
    pub users: UserService,
    pub messages: MessageService,
    pub ai: AiService,
    pub bus: Arc<dyn EventBus>,
}

impl System {
    /// Builds every service and the gateway in front of them, reaching them without a network hop.
    pub async fn build(config: &EchoConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
        let revocations = revocations(config).await?;
        let bus = connect_bus(config).await?;
        let user_deps = user_service::Deps {
            revocations: revocations.clone(),
            bus: bus.clone(),
            shutdown: shutdown.clone(),
        };
        let users = UserService::build(config.users.clone(), user_deps).await?;
        let verifier = Arc::new(Verifier::new(
            config.users.auth.clone(),
            users.key_source(),
            revocations,
        ));
        let messages = MessageService::build(
            config.messages.clone(),
            message_service::Deps {
                verifier: verifier.clone(),
                bus: bus.clone(),
                shutdown: shutdown.clone(),
            },
        )
        .await?;
        let ai_deps = ai_service::Deps {
            verifier: verifier.clone(),
            bus: bus.clone(),
            shutdown: shutdown.clone(),
        };
        let ai = AiService::build(config.ai.clone(), ai_deps).await?;

        let (users_router, users_api) = users.router();
        let (messages_router, messages_api) = messages.router();
        let (ai_router, ai_api) = ai.router();
        let upstreams = Upstreams {
            users: Upstream::Local(echo_http::middleware::with_not_found(users_router)),
            messages: Upstream::Local(echo_http::middleware::with_not_found(messages_router)),
            ai: Upstream::Local(echo_http::middleware::with_not_found(ai_router)),
        };
        let readiness = users
            .readiness()
            .merge(messages.readiness())
            .merge(ai.readiness())
            .with("bus", bus_probe(bus.clone()))
            .sampled(bus_sampler(bus.clone()));
        let openapi = openapi([users_api, messages_api, ai_api]);
        let router = api_gateway::router(
            config.gateway.clone(),
            upstreams,
            verifier,
            rate_limiter(config).await?,
            openapi,
            readiness,
        );
        Ok(Self {
            router,
            users,
            messages,
            ai,
            bus,
        })
    }

    pub async fn close(&self) {
        self.users.close().await;
        self.messages.close().await;
        self.ai.close().await;
    }
}

/// The services one process can run on its own in scaled mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceName {
    Gateway,
    Users,
    Messages,
    Ai,
}

impl ServiceName {
    /// As the command line spells it.
    pub fn label(self) -> &'static str {
        match self {
            ServiceName::Gateway => "gateway",
            ServiceName::Users => "users",
            ServiceName::Messages => "messages",
            ServiceName::Ai => "ai",
        }
    }
}

/// Builds the router of one service on its own, with its operations routes and common layers.
pub async fn build_one(
    config: &EchoConfig,
    service: ServiceName,
    shutdown: CancellationToken,
) -> anyhow::Result<Router> {
    let revocations = revocations(config).await?;
    let remote_verifier = || {
        let users = config
            .gateway
            .upstreams
            .users
            .first()
            .context("set gateway.upstreams.users (ECHO_GATEWAY__UPSTREAMS__USERS)")?;
        let jwks = format!("{}/.well-known/jwks.json", users.trim_end_matches('/'));
        anyhow::Ok(Arc::new(Verifier::new(
            config.users.auth.clone(),
            HttpKeySource::new(jwks),
            revocations.clone(),
        )))
    };
    let timeout = Duration::from_secs(config.gateway.request_timeout_secs.max(1));
    let (router, readiness) = match service {
        ServiceName::Users => {
            let bus = connect_bus(config).await?;
            let deps = user_service::Deps {
                revocations: revocations.clone(),
                bus: bus.clone(),
                shutdown,
            };
            let users = UserService::build(config.users.clone(), deps).await?;
            (users.router().0, users.readiness().with("bus", bus_probe(bus)))
        }
        ServiceName::Messages => {
            let bus = connect_bus(config).await?;
            let deps = message_service::Deps {
                verifier: remote_verifier()?,
                bus: bus.clone(),
                shutdown,
            };
            let messages = MessageService::build(config.messages.clone(), deps).await?;
            (
                messages.router().0,
                // One kind of process reports the bus, so replicas of the others do not repeat it.
                messages
                    .readiness()
                    .with("bus", bus_probe(bus.clone()))
                    .sampled(bus_sampler(bus)),
            )
        }
        ServiceName::Ai => {
            let bus = connect_bus(config).await?;
            let deps = ai_service::Deps {
                verifier: remote_verifier()?,
                bus: bus.clone(),
                shutdown,
            };
            let ai = AiService::build(config.ai.clone(), deps).await?;
            (ai.router().0, ai.readiness().with("bus", bus_probe(bus)))
        }
        ServiceName::Gateway => {
            let urls = &config.gateway.upstreams;
            let remote = |name, urls: &[String]| -> anyhow::Result<Upstream> {
                let replicas = Replicas::new(name, urls)?;
                replicas.spawn_health_checks(shutdown.clone());
                Ok(Upstream::Remote(replicas))
            };
            let upstreams = Upstreams {
                users: remote("user-service", &urls.users)?,
                messages: remote("message-service", &urls.messages)?,
                ai: remote("ai-service", &urls.ai)?,
            };
            let openapi = api_document();
            let limiter = rate_limiter(config).await?;
            let router = api_gateway::router(
                config.gateway.clone(),
                upstreams,
                remote_verifier()?,
                limiter,
                openapi,
                Readiness::default(),
            );
            return Ok(router);
        }
    };
    let router = echo_http::middleware::with_not_found(router.merge(echo_http::ops::router(readiness)));
    Ok(echo_http::middleware::layer(router, timeout))
}

/// Serves a router until `shutdown`, with the peer address available to handlers.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) -> anyhow::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
    .context("serving HTTP")
}

/// One process: a shared in-memory list. Several: Redis, so a logout is seen by every replica.
async fn revocations(config: &EchoConfig) -> anyhow::Result<Arc<dyn Revocations>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(RedisRevocations::connect(url, &config.bus.stream_prefix).await?),
        None => Arc::new(MemoryRevocations::default()),
    })
}

/// Rate limits count per process, or in Redis when gateway replicas must share them.
async fn rate_limiter(config: &EchoConfig) -> anyhow::Result<Arc<dyn RateLimiter>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(RedisRateLimiter::connect(url, &config.bus.stream_prefix).await?),
        None => Arc::new(MemoryRateLimiter::default()),
    })
}

async fn connect_bus(config: &EchoConfig) -> anyhow::Result<Arc<dyn EventBus>> {
    echo_events::connect(config.bus.clone()).await.with_context(|| {
        format!(
            "connecting to the event bus at {}",
            echo_db::redact(&config.bus.url)
        )
    })
}

fn bus_probe(bus: Arc<dyn EventBus>) -> echo_http::ops::Probe {
    Arc::new(move || {
        let bus = bus.clone();
        Box::pin(async move { bus.bounds().await.map(|_| ()).map_err(|e| e.to_string()) })
    })
}

/// Events counted at most per group for its lag, at each scrape.
const LAG_SCAN: usize = 1_000;

/// Gauges of the bus per consumer group, set at each scrape: `bus_group_pending` (handed out, not
/// yet acknowledged), `bus_group_lag` (not yet handed out, counted up to [`LAG_SCAN`]) and
/// `bus_dead_letters`.
fn bus_sampler(bus: Arc<dyn EventBus>) -> echo_http::ops::Sampler {
    Arc::new(move || {
        let bus = bus.clone();
        Box::pin(async move {
            let Ok(groups) = bus.groups().await else { return };
            let letters = bus.dead_letters(None, 10_000).await.unwrap_or_default();
            for group in groups {
                let lag = bus
                    .read_after(Some(group.last_delivered), LAG_SCAN)
                    .await
                    .map_or(0, |events| events.len());
                let dead = letters.iter().filter(|l| l.group == group.name).count();
                metrics::gauge!("bus_group_pending", "group" => group.name.clone()).set(group.pending as f64);
                metrics::gauge!("bus_group_lag", "group" => group.name.clone()).set(lag as f64);
                metrics::gauge!("bus_dead_letters", "group" => group.name).set(dead as f64);
            }
        })
    })
}

/// One OpenAPI document for the whole public API.
pub fn openapi(parts: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Echo API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("The public HTTP API of Echo, a team chat server."))
                .build(),
        )
        .build();
    for part in parts {
        doc.merge(part);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    document_common_errors(&mut doc);
    doc
}

/// Adds the errors that the shared extractors and the auth layer answer on any operation, so that
/// routes need not repeat them: 401 where a token is required, 400 where a path, query or body is
/// parsed, 415 where a body must be of the declared content type.
fn document_common_errors(doc: &mut OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build()
            .into()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            // An empty requirement makes the token optional.
            let token_required = (operation.security.as_ref())
                .is_some_and(|s| !s.is_empty() && !s.contains(&SecurityRequirement::default()));
            if token_required {
                responses
                    .entry("401".into())
                    .or_insert_with(|| error("Missing, invalid or expired token."));
            }
            if operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                || operation.request_body.is_some()
            {
                responses
                    .entry("400".into())
                    .or_insert_with(|| error("Malformed or invalid input."));
            }
            if operation.request_body.is_some() {
                responses
                    .entry("415".into())
                    .or_insert_with(|| error("The body is not of the declared content type."));
            }
        }
    }
}

/// The API document without running the services: each service's routes as they declare them.
pub fn api_document() -> OpenApi {
    openapi([
        user_service::http::router().split_for_parts().1,
        message_service::openapi(),
        ai_service::openapi(),
    ])
}
