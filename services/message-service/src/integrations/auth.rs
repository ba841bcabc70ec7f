//! API tokens as credentials: bot tokens (`xoxb-…`) and personal access tokens (`xoxp-…`).
//!
//! Where they are checked: here, in message-service, which stores them (by SHA-256 hash). The
//! gateway forwards a bearer that is not a JWT to message-service untouched (rate-limited per
//! token there), and this layer turns a live token into the same [`Caller`] a JWT gives, so
//! every handler serves bots unchanged. The alternatives were a gateway cache in front of a
//! user-service lookup, or exchanging the token for a short-lived JWT; both put a window between
//! revoking a token and it stopping to work (the cache's or the JWT's lifetime) and need a
//! synchronous call between services to create a bot. Checking where the token lives costs one
//! indexed lookup per request and makes revocation immediate. The price: these tokens reach
//! message-service's API (workspaces, channels, messages, files, search, the Slack API), not
//! user-service's or ai-service's, which the gateway answers 401.
//!
//! Tokens are 32 random bytes in hex behind a Slack-style prefix, so Slack SDKs (which look at
//! the prefix) accept them; they are shown once, at creation.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use echo_auth::caller::bearer_token;
use echo_auth::{Caller, Claims};
use echo_domain::time::now_ms;
use echo_http::ApiError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::scopes;
use crate::error::{MessageError, MessageResult};
use crate::state::AppState;

pub const BOT_PREFIX: &str = "xoxb-";
pub const USER_PREFIX: &str = "xoxp-";

/// A token as a request presents it, once checked.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub bot_id: Option<Uuid>,
    /// The workspace the token acts in: the bot's, or the one a personal token was made for.
    pub workspace_id: Option<Uuid>,
    pub scopes: Vec<String>,
}

impl ApiToken {
    pub fn allows_any(&self, wanted: &[&str]) -> bool {
        wanted.is_empty() || self.scopes.iter().any(|s| wanted.contains(&s.as_str()))
    }
}

/// Whether a bearer value is one of our API tokens (rather than a JWT).
pub fn is_api_token(token: &str) -> bool {
    token.starts_with(BOT_PREFIX) || token.starts_with(USER_PREFIX)
}

/// A fresh secret: the token (or webhook secret) itself, its hash and a hint (its last characters).
pub fn generate(prefix: &str) -> anyhow::Result<(String, String, String)> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no randomness for a token"))?;
    let body: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("{prefix}{body}");
    let hint = token[token.len() - 4..].to_owned();
    let digest = hash(&token);
    Ok((token, digest, hint))
}

/// A random secret for signing (bots' signing secrets): 32 bytes in hex.
pub fn secret() -> anyhow::Result<String> {
    Ok(generate("")?.0)
}

pub fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The caller an API token stands for; 401 when it is unknown or revoked.
pub async fn authenticate(state: &AppState, token: &str) -> MessageResult<(Caller, ApiToken)> {
    let now = now_ms();
    let row = state
        .integrations
        .token_by_hash(&hash(token), now)
        .await?
        .ok_or_else(|| MessageError::Client(ApiError::unauthorized("invalid access token")))?;
    let api = ApiToken {
        id: row.id,
        user_id: row.user_id,
        bot_id: row.bot_id,
        workspace_id: row.workspace_id,
        scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
    };
    Ok((caller_for(row.user_id, row.id), api))
}

/// The caller an integration acts as: the claims of a token that lives as long as this request
/// (handlers read `sub` and `sid`).
pub fn caller_for(user_id: Uuid, credential_id: Uuid) -> Caller {
    let now = now_ms() / 1000;
    let claims = Claims {
        sub: user_id,
        sid: credential_id,
        iss: "echo".into(),
        aud: "echo-api".into(),
        iat: now,
        exp: now + 60,
    };
    Caller {
        user_id,
        session_id: credential_id,
        claims,
    }
}

/// Authenticates API tokens on the Echo API and checks their scopes; JWTs pass through to the
/// handlers' own check. The Slack API and webhooks authenticate on their own.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/v1/") {
        return next.run(request).await;
    }
    let Some(token) = bearer_token(request.headers())
        .filter(|t| is_api_token(t))
        .map(str::to_owned)
    else {
        return next.run(request).await;
    };
    let (caller, api) = match authenticate(&state, &token).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let wanted = scopes::for_echo_api(request.method(), path);
    match wanted {
        Some(wanted) if api.allows_any(wanted) => {}
        Some(wanted) => {
            return ApiError::client(
                axum::http::StatusCode::FORBIDDEN,
                "missing_scope",
                format!("this token needs one of the scopes: {}", wanted.join(", ")),
            )
            .into_response();
        }
        None => {
            return ApiError::client(
                axum::http::StatusCode::FORBIDDEN,
                "not_allowed_token_type",
                "API tokens cannot use this endpoint; sign in instead",
            )
            .into_response();
        }
    }
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(api);
    next.run(request).await
}
