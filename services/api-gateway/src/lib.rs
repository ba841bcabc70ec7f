//! api-gateway: the one address clients talk to.
//!
//! It owns what every request shares: routing `/api/v1/…` to the service that owns it
//! ([`routes`]), verifying access tokens before anything is forwarded, request ids, body-size limits
//! and time-outs, CORS and security headers ([`security`]), the web app's static files ([`web`]),
//! the OpenAPI document and browsable docs. Services are reached through an [`Upstream`]: in the
//! same process in embedded mode, over HTTP to balanced replicas in scaled mode.

pub mod config;
mod limits;
pub mod ratelimit;
pub mod routes;
pub mod security;
pub mod upstream;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo_auth::caller::bearer_token;
use echo_auth::{Caller, Verifier};
use echo_http::ApiError;
use echo_http::error::error_response;
use echo_http::ops::Readiness;
use tower::ServiceExt;
use utoipa_swagger_ui::SwaggerUi;

pub use crate::config::Config;
use crate::ratelimit::RateLimiter;
use crate::routes::Service;
pub use crate::upstream::{Replicas, Upstream};

/// The three services behind the gateway.
#[derive(Clone)]
pub struct Upstreams {
    pub users: Upstream,
    pub messages: Upstream,
    pub ai: Upstream,
}

impl Upstreams {
    fn get(&self, service: Service) -> &Upstream {
        match service {
            Service::Users => &self.users,
            Service::Messages => &self.messages,
            Service::Ai => &self.ai,
        }
    }
}

#[derive(Clone)]
struct Gateway {
    config: Arc<Config>,
    upstreams: Upstreams,
    verifier: Arc<Verifier>,
    limiter: Arc<dyn RateLimiter>,
    web: Router,
}

/// The gateway's whole router: API forwarding, operations routes, docs and the web app.
pub fn router(
    config: Config,
    upstreams: Upstreams,
    verifier: Arc<Verifier>,
    limiter: Arc<dyn RateLimiter>,
    openapi: utoipa::openapi::OpenApi,
    readiness: Readiness,
) -> Router {
    let readiness = [&upstreams.users, &upstreams.messages, &upstreams.ai]
        .into_iter()
        .zip(["users", "messages", "ai"])
        .filter_map(|(u, name)| u.probe().map(|p| (name, p)))
        .fold(readiness, |r, (name, probe)| r.with(name, probe));
    let web = web::router(config.web_dir.as_deref());
    let hsts = config.hsts;
    let cors = security::cors(&config.cors_allowed_origins);
    let gateway = Gateway {
        config: Arc::new(config),
        upstreams,
        verifier,
        limiter,
        web,
    };

    let api = Router::new().fallback(dispatch).with_state(gateway);
    let docs = Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi));
    let routed = echo_http::middleware::layer(
        Router::new()
            .merge(echo_http::ops::router(readiness))
            .merge(docs)
            .merge(api),
        // A hard ceiling; plain requests get the configured, much shorter time-out in `dispatch`.
        Duration::from_secs(3600),
    );
    routed
        .layer(cors)
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(hsts, req, next)
        }))
}

async fn dispatch(State(gateway): State<Gateway>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let Some(service) = routes::owner(&path) else {
        return match gateway.web.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    };

    if let Some(len) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > gateway.config.max_body_bytes
    {
        return ApiError::too_large(format!(
            "request bodies are limited to {} bytes",
            gateway.config.max_body_bytes
        ))
        .into_response();
    }

    // Bodies without a length are cut off at the limit as they stream in.
    let (parts, body) = request.into_parts();
    let mut request = Request::from_parts(
        parts,
        Body::new(http_body_util::Limited::new(body, gateway.config.max_body_bytes)),
    );

    if let Err(error) = authenticate(&gateway, service, &mut request).await {
        return error.into_response();
    }
    let client_ip = limits::client_ip(&request, gateway.config.trust_forwarded_for);
    if let Ok(value) = HeaderValue::from_str(&client_ip) {
        request.headers_mut().insert("x-forwarded-for", value);
    }
    // Services hand out URLs (webhooks, uploads) on the address the client used; the Host header
    // itself does not survive the hop to a remote replica.
    let trusted = gateway.config.trust_forwarded_for && request.headers().contains_key("x-forwarded-host");
    if !trusted {
        request.headers_mut().remove("x-forwarded-host");
        let host = request.headers().get(header::HOST).cloned().or_else(|| {
            request
                .uri()
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        if let Some(host) = host {
            request.headers_mut().insert("x-forwarded-host", host);
        }
    }
    let (request, login_account) = match limits::check(&gateway, &client_ip, request).await {
        Ok(checked) => checked,
        Err(error) => return error.into_response(),
    };

    let long_running = request.headers().contains_key(header::UPGRADE)
        || (request.method() == Method::POST
            && (path == "/api/v1/files" || path.starts_with("/slack/upload/")))
        || path.ends_with("/export");
    let upstream = gateway.upstreams.get(service).clone();
    if long_running {
        return upstream.forward(request).await;
    }
    let timeout = Duration::from_secs(gateway.config.request_timeout_secs);
    let response = match tokio::time::timeout(timeout, upstream.forward(request)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "the request took too long",
        ),
    };
    if let Some(account) = login_account
        && response.status() == StatusCode::UNAUTHORIZED
    {
        limits::record_login_failure(&gateway, &account).await;
    }
    response
}

/// Verifies the caller's access token unless the path authenticates by other means. A bearer
/// token that is not a JWT (a bot or personal API token) is left to message-service, which
/// stores those tokens and checks them on every request, so that revoking one takes effect at
/// once (see message-service's `integrations::auth` for the trade-off); the gateway rate-limits
/// them per token. The other services accept only access tokens.
async fn authenticate(gateway: &Gateway, service: Service, request: &mut Request) -> Result<(), ApiError> {
    if routes::is_public(request.method(), request.uri().path()) {
        return Ok(());
    }
    let token =
        bearer_token(request.headers()).ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
    let is_jwt = token.split('.').count() == 3;
    if !is_jwt {
        return if service == Service::Messages {
            Ok(())
        } else {
            Err(ApiError::unauthorized("invalid access token"))
        };
    }
    let claims = gateway.verifier.verify(token).await?;
    request.extensions_mut().insert(Caller {
        user_id: claims.sub,
        session_id: claims.sid,
        claims,
    });
    Ok(())
}
