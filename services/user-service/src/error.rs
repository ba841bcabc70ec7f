//! user-service's errors, and how each reaches the client.

use axum::response::{IntoResponse, Response};
use echo_auth::AuthError;
use echo_domain::Invalid;
use echo_http::ApiError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("email already registered")]
    EmailTaken,
    /// Wrong email or wrong password: deliberately one answer for both.
    #[error("invalid email or password")]
    BadCredentials,
    #[error("refresh token invalid or expired")]
    BadRefreshToken,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Client(ApiError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::EmailTaken,
            StoreError::Db(e) => Self::Internal(anyhow::Error::new(e).context("user store")),
            StoreError::Outbox(e) => Self::Internal(anyhow::Error::new(e).context("user store outbox")),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(invalid) => invalid.into(),
            UserError::EmailTaken => {
                ApiError::conflict("email_taken", "an account with this email already exists")
            }
            UserError::BadCredentials => ApiError::client(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "invalid email or password",
            ),
            UserError::BadRefreshToken => ApiError::client(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "the refresh token is invalid, expired or was already used",
            ),
            UserError::NotFound(what) => ApiError::not_found(what),
            UserError::Auth(e) => e.into(),
            UserError::Client(e) => e,
            UserError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for UserError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

pub type UserResult<T> = Result<T, UserError>;
