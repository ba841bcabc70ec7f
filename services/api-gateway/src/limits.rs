//! Which rate limits a request counts against, and the per-account lane for failed logins.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use echo_auth::Caller;
use echo_http::ApiError;

use crate::Gateway;
use crate::ratelimit::{Exceeded, Limit};

/// The client's address: the peer, or the first `X-Forwarded-For` hop behind a trusted proxy.
pub fn client_ip(request: &Request, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| {
            request
                .headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .split(',')
                .next()
                .map(|s| s.trim().to_owned())
        })
        .flatten()
        .filter(|s| !s.is_empty());
    forwarded
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Logins read at most this much body to find the account.
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// Counts the request against its limits. For a login, also returns the account it names, so a
/// failure can be counted against that account.
pub async fn check(
    gateway: &Gateway,
    ip: &str,
    request: Request,
) -> Result<(Request, Option<String>), ApiError> {
    let limits = &gateway.config.rate_limits;
    if !limits.enabled {
        return Ok((request, None));
    }
    let path = request.uri().path().to_owned();
    let post = request.method() == Method::POST;
    if post && path == "/api/v1/auth/register" {
        hit(gateway, &format!("register:{ip}"), limits.register_per_ip).await?;
    }
    if post && path == "/api/v1/auth/refresh" {
        hit(gateway, &format!("refresh:{ip}"), limits.refresh_per_ip).await?;
    }
    if let Some(caller) = request.extensions().get::<Caller>() {
        hit(gateway, &format!("user:{}", caller.user_id), limits.per_user).await?;
    } else if let Some(token) = api_token(&request) {
        // Bot and personal tokens are verified by message-service; they are counted here per
        // token (by hash) against the same limit as a user.
        hit(gateway, &format!("token:{token}"), limits.per_user).await?;
    }
    if post
        && let Some(channel) = path
            .strip_prefix("/api/v1/channels/")
            .and_then(|rest| rest.strip_suffix("/messages"))
    {
        hit(gateway, &format!("posts:{channel}"), limits.posts_per_channel).await?;
    }
    if post && path == "/api/v1/auth/login" {
        hit(gateway, &format!("login:{ip}"), limits.login_per_ip).await?;
        return login_lane(gateway, request)
            .await
            .map(|(r, account)| (r, Some(account)));
    }
    Ok((request, None))
}

/// The hash of a bearer token that is not a JWT (an API token), for its rate-limit key.
fn api_token(request: &Request) -> Option<String> {
    use sha2::{Digest, Sha256};
    let token = echo_auth::caller::bearer_token(request.headers()).filter(|t| t.split('.').count() != 3)?;
    Some(
        Sha256::digest(token.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// An account with too many recent failed logins waits, whatever address the attempts come from.
async fn login_lane(gateway: &Gateway, request: Request) -> Result<(Request, String), ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, LOGIN_BODY_LIMIT)
        .await
        .map_err(|_| ApiError::too_large("login body too large"))?;
    let account = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("email")?.as_str().map(|e| e.trim().to_lowercase()))
        .unwrap_or_default();
    let limit = gateway.config.rate_limits.login_failures_per_account;
    let failures = gateway
        .limiter
        .count(&failure_key(&account), limit)
        .await
        .unwrap_or(0);
    if failures >= limit.requests {
        return Err(ApiError::rate_limited(limit.window_secs));
    }
    Ok((Request::from_parts(parts, Body::from(bytes)), account))
}

pub async fn record_login_failure(gateway: &Gateway, account: &str) {
    let limit = gateway.config.rate_limits.login_failures_per_account;
    if let Err(e) = gateway.limiter.hit(&failure_key(account), limit).await {
        tracing::warn!(error = format!("{e:#}"), "cannot count a failed login");
    }
}

fn failure_key(account: &str) -> String {
    format!("login-failures:{account}")
}

/// A limiter that cannot be reached lets requests through: rate limiting protects availability and
/// must not be what takes it down.
async fn hit(gateway: &Gateway, key: &str, limit: Limit) -> Result<(), ApiError> {
    match gateway.limiter.hit(key, limit).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Exceeded { retry_after_secs })) => {
            metrics::counter!("rate_limited_total").increment(1);
            Err(ApiError::rate_limited(retry_after_secs))
        }
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "rate limiter unavailable; letting the request through"
            );
            Ok(())
        }
    }
}
