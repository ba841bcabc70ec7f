//! The claims of an access token.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who signs and who accepts tokens. Both sides must agree; a token for another audience (another
/// Echo deployment, another product sharing the key) is refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    /// Lifetime of an access token, in seconds.
    pub access_ttl_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "echo".into(),
            audience: "echo-api".into(),
            access_ttl_secs: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The session (one login), so that revoking it stops its access tokens too.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}
