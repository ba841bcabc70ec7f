//! The JSON shapes user-service answers with.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::UserRow;

/// A user as the contract shows it; `email` only to the user themself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub display_name: String,
    pub title: String,
    pub timezone: String,
    pub status_text: String,
    pub status_emoji: String,
    pub avatar_url: Option<String>,
    pub is_bot: bool,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
}

impl UserView {
    pub fn public(row: UserRow) -> Self {
        Self {
            id: row.id,
            avatar_url: row.avatar_file_id.map(|f| format!("/api/v1/files/{f}/content")),
            display_name: row.display_name,
            title: row.title,
            timezone: row.timezone,
            status_text: row.status_text,
            status_emoji: row.status_emoji,
            is_bot: row.is_bot,
            created_at: echo_domain::time::rfc3339(row.created_at),
            email: None,
        }
    }

    pub fn own(row: UserRow) -> Self {
        let email = Some(row.email.clone());
        Self {
            email,
            ..Self::public(row)
        }
    }
}

/// Tokens for a session, as register, login and refresh return them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: UserView,
    #[serde(flatten)]
    pub tokens: TokenPair,
}
