//! The authenticated caller, extracted from `Authorization: Bearer …`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use echo_http::ApiError;
use uuid::Uuid;

use crate::{AuthError, Claims, Verifier};

/// Router states that can verify tokens.
pub trait HasVerifier {
    fn verifier(&self) -> &Arc<Verifier>;
}

/// A verified caller: present in a handler's arguments means the request is authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub claims: Claims,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unavailable(reason) => {
                tracing::error!(reason, "token verification unavailable");
                ApiError::client(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "auth_unavailable",
                    "cannot verify credentials right now",
                )
            }
            AuthError::Missing => ApiError::unauthorized("missing bearer token"),
            AuthError::Expired => ApiError::client(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "the access token has expired",
            ),
            AuthError::Revoked => ApiError::client(
                StatusCode::UNAUTHORIZED,
                "session_revoked",
                "the session has ended",
            ),
            AuthError::Invalid(_) => ApiError::unauthorized("invalid access token"),
        }
    }
}

/// The token from an `Authorization: Bearer` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S> FromRequestParts<S> for Caller
where
    S: HasVerifier + Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = bearer_token(&parts.headers).ok_or(AuthError::Missing)?;
        let claims = state.verifier().verify(token).await?;
        let caller = Caller {
            user_id: claims.sub,
            session_id: claims.sid,
            claims,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
