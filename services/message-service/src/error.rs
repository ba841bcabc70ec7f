//! message-service's errors, and how each reaches the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use echo_auth::AuthError;
use echo_domain::Invalid;
use echo_http::ApiError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Unknown, or not visible to the caller: the two look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{1}")]
    Forbidden(&'static str, &'static str),
    #[error("the channel is archived")]
    Archived,
    #[error("a channel with this name already exists")]
    NameTaken,
    #[error("the workspace must keep at least one owner")]
    LastOwner,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Client(ApiError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl MessageError {
    /// A plain 403 with the generic code.
    pub fn forbidden(message: &'static str) -> Self {
        Self::Forbidden("forbidden", message)
    }
}

impl From<StoreError> for MessageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NameTaken => Self::NameTaken,
            StoreError::LastOwner => Self::LastOwner,
            StoreError::Db(e) => Self::Internal(anyhow::Error::new(e).context("message store")),
            StoreError::Outbox(e) => Self::Internal(anyhow::Error::new(e).context("event outbox")),
        }
    }
}

impl From<ApiError> for MessageError {
    fn from(error: ApiError) -> Self {
        Self::Client(error)
    }
}

impl From<MessageError> for ApiError {
    fn from(error: MessageError) -> Self {
        match error {
            MessageError::Invalid(invalid) => invalid.into(),
            MessageError::NotFound(what) => ApiError::not_found(what),
            MessageError::Forbidden(code, message) => ApiError::client(StatusCode::FORBIDDEN, code, message),
            MessageError::Archived => ApiError::client(
                StatusCode::FORBIDDEN,
                "channel_archived",
                "the channel is archived and read-only",
            ),
            MessageError::NameTaken => ApiError::conflict(
                "name_taken",
                "a channel with this name already exists in the workspace",
            ),
            MessageError::LastOwner => {
                ApiError::conflict("last_owner", "the workspace must keep at least one owner")
            }
            MessageError::Auth(e) => e.into(),
            MessageError::Client(e) => e,
            MessageError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for MessageError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

pub type MessageResult<T> = Result<T, MessageError>;
