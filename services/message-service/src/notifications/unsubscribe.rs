//! Unsubscribe links of notification emails: a token that names the person and is signed with
//! this deployment's key, so the link works without signing in (and cannot be forged for
//! someone else); following it turns their notification emails off. `GET` shows a confirmation
//! with a button, so link scanners that fetch URLs change nothing; `POST` (the button, or a mail
//! client's one-click unsubscribe of RFC 8058) does it.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::extract::State;
use axum::response::Html;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_domain::time::now_ms;
use echo_http::{ApiError, ErrorBody, Query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::rules::Preferences;
use super::store::PreferencesRow;
use crate::error::MessageResult;
use crate::state::AppState;

pub const PATH: &str = "/api/v1/notifications/unsubscribe";
/// Bytes of the HMAC kept in a token: 128 bits are plenty against forgery.
const TAG_BYTES: usize = 16;

/// Signs and checks unsubscribe tokens.
pub struct UnsubscribeKey {
    key: hmac::Key,
}

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey([redacted])")
    }
}

impl UnsubscribeKey {
    /// A new random secret, base64url (to store and share between replicas).
    pub fn generate_secret() -> anyhow::Result<String> {
        let mut secret = [0_u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| anyhow::anyhow!("random unsubscribe key"))?;
        Ok(URL_SAFE_NO_PAD.encode(secret))
    }

    pub fn new(secret: &str) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        }
    }

    pub fn token(&self, user_id: Uuid) -> String {
        let tag = hmac::sign(&self.key, user_id.as_bytes());
        let mut raw = user_id.as_bytes().to_vec();
        raw.extend_from_slice(&tag.as_ref()[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The person a token names, if it is genuine.
    pub fn verify(&self, token: &str) -> Option<Uuid> {
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if raw.len() != 16 + TAG_BYTES {
            return None;
        }
        let (id, tag) = raw.split_at(16);
        let expected = hmac::sign(&self.key, id);
        // Constant-time comparison of the truncated tag.
        let same = expected.as_ref()[..TAG_BYTES]
            .iter()
            .zip(tag)
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        same.then(|| Uuid::from_slice(id).ok()).flatten()
    }

    /// The link for a person's emails.
    pub fn link(&self, public_url: &str, user_id: Uuid) -> String {
        format!(
            "{}{PATH}?token={}",
            public_url.trim_end_matches('/'),
            self.token(user_id)
        )
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm, unsubscribe))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    /// The token of the link in a notification email.
    pub token: String,
}

fn checked(state: &AppState, token: &str) -> Result<Uuid, ApiError> {
    state
        .unsubscribe
        .verify(token)
        .ok_or_else(|| ApiError::not_found("unsubscribe link"))
}

/// The page an email's unsubscribe link opens: a button that confirms (no sign-in needed).
#[utoipa::path(get, path = "/api/v1/notifications/unsubscribe", tag = "notifications", params(TokenParams),
    responses((status = 200, description = "a confirmation page", content_type = "text/html"), (status = 404, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    Query(params): Query<TokenParams>,
) -> MessageResult<Html<String>> {
    checked(&state, &params.token)?;
    // The token is base64url: nothing in it needs escaping in an attribute.
    Ok(Html(format!(
        "<!doctype html><meta charset=utf-8><title>Echo</title>\
         <form method=post action=\"{PATH}?token={}\"><p>Stop notification emails from Echo?</p>\
         <button type=submit>Unsubscribe</button></form>",
        params.token
    )))
}

/// Turn off the notification emails of the person a link names (one-click, RFC 8058).
#[utoipa::path(post, path = "/api/v1/notifications/unsubscribe", operation_id = "unsubscribe_from_emails", tag = "notifications", params(TokenParams),
    responses((status = 200, description = "done", content_type = "text/html"), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn unsubscribe(
    State(state): State<AppState>,
    Query(params): Query<TokenParams>,
) -> MessageResult<Html<&'static str>> {
    let user_id = checked(&state, &params.token)?;
    let mut prefs = state
        .notifications
        .preferences(user_id)
        .await?
        .map(PreferencesRow::into_preferences)
        .unwrap_or_else(Preferences::default);
    prefs.email = false;
    state
        .notifications
        .put_preferences(user_id, &PreferencesRow::from_preferences(&prefs), now_ms())
        .await?;
    tracing::info!(%user_id, "unsubscribed from notification emails");
    Ok(Html(
        "<!doctype html><meta charset=utf-8><title>Echo</title><p>You will no longer receive notification emails.</p>",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_person_and_cannot_be_forged_or_reused_for_another() {
        let key = UnsubscribeKey::new("secret");
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.verify(&key.token(alice)), Some(alice));
        let mut forged = URL_SAFE_NO_PAD.decode(key.token(alice)).unwrap();
        forged[..16].copy_from_slice(bob.as_bytes());
        assert_eq!(key.verify(&URL_SAFE_NO_PAD.encode(forged)), None);
        assert_eq!(UnsubscribeKey::new("other").verify(&key.token(alice)), None);
        assert_eq!(key.verify("garbage"), None);
        assert!(
            key.link("http://echo.test/", alice)
                .starts_with("http://echo.test/api/v1/notifications/unsubscribe?token=")
        );
    }
}
