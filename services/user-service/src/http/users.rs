//! Profiles and preferences.

use axum::extract::State;
use echo_auth::Caller;
use echo_domain::{DisplayName, EmojiName, Invalid, ShortText, time::now_ms};
use echo_events::Envelope;
use echo_http::{ApiError, ErrorBody, Json, Path};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::views::UserView;
use crate::error::{UserError, UserResult};
use crate::presence::PRODUCER;
use crate::state::AppState;
use crate::store::ProfilePatch;

/// Preferences are a free-form document, bounded so it stays a preferences document.
pub const MAX_PREFERENCES_BYTES: usize = 16 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, update_me))
        .routes(routes!(preferences, replace_preferences))
        .routes(routes!(profile))
}

/// The caller's own user, with email.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn me(State(state): State<AppState>, caller: Caller) -> UserResult<Json<UserView>> {
    let user = state
        .store
        .user(caller.user_id)
        .await?
        .ok_or(UserError::NotFound("user"))?;
    Ok(Json(UserView::own(user)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub timezone: Option<String>,
    pub status_text: Option<String>,
    pub status_emoji: Option<String>,
    /// A file id, or null to remove the avatar.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub avatar_file_id: Option<Option<Uuid>>,
}

/// Distinguishes an absent field (leave as is) from an explicit `null` (clear it).
fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

impl TryFrom<ProfileUpdate> for ProfilePatch {
    type Error = Invalid;

    fn try_from(update: ProfileUpdate) -> Result<Self, Invalid> {
        Ok(ProfilePatch {
            display_name: update
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?
                .map(DisplayName::into_inner),
            title: update
                .title
                .as_deref()
                .map(|t| ShortText::parse("title", t, 100))
                .transpose()?
                .map(ShortText::into_inner),
            timezone: update.timezone.as_deref().map(parse_timezone).transpose()?,
            status_text: update
                .status_text
                .as_deref()
                .map(|t| ShortText::parse("status_text", t, 100))
                .transpose()?
                .map(ShortText::into_inner),
            status_emoji: update
                .status_emoji
                .as_deref()
                .map(|e| {
                    if e.trim().is_empty() {
                        Ok(String::new())
                    } else {
                        EmojiName::parse(e).map(EmojiName::into_inner)
                    }
                })
                .transpose()
                .map_err(|e| Invalid::new("status_emoji", e.message))?,
            avatar_file_id: update.avatar_file_id,
        })
    }
}

/// An IANA zone name such as `Europe/Paris` or `UTC`: checked for shape, since the zone database
/// lives in the browser that displays times.
fn parse_timezone(raw: &str) -> Result<String, Invalid> {
    let tz = raw.trim();
    let shaped = !tz.is_empty()
        && tz.len() <= 64
        && tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        && !tz.starts_with('/')
        && !tz.contains("//");
    if shaped {
        Ok(tz.to_owned())
    } else {
        Err(Invalid::new(
            "timezone",
            "must be an IANA time zone name such as Europe/Paris",
        ))
    }
}

/// Change the caller's profile.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = ProfileUpdate,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProfileUpdate>,
) -> UserResult<Json<UserView>> {
    let patch = ProfilePatch::try_from(body)?;
    let event_of = |row: &crate::store::UserRow| {
        let user = UserView::public(row.clone());
        Envelope::new(
            "user.updated",
            1,
            PRODUCER,
            json!({"user_id": row.id, "user": user}),
        )
    };
    let user = state
        .store
        .update_profile(caller.user_id, &patch, now_ms(), &event_of)
        .await?
        .ok_or(UserError::NotFound("user"))?;
    state.relay.notify();
    Ok(Json(UserView::own(user)))
}

/// The caller's preferences document.
#[utoipa::path(get, path = "/api/v1/users/me/preferences", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn preferences(State(state): State<AppState>, caller: Caller) -> UserResult<Json<Value>> {
    let raw = state
        .store
        .preferences(caller.user_id)
        .await?
        .ok_or(UserError::NotFound("user"))?;
    let value = serde_json::from_str(&raw).unwrap_or_else(|_| Value::Object(Default::default()));
    Ok(Json(value))
}

/// Replace the caller's preferences document (a JSON object of at most 16 KiB).
#[utoipa::path(put, path = "/api/v1/users/me/preferences", tag = "users", security(("bearer" = [])), request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn replace_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> UserResult<Json<Value>> {
    if !body.is_object() {
        return Err(Invalid::new("preferences", "must be a JSON object").into());
    }
    let raw = body.to_string();
    if raw.len() > MAX_PREFERENCES_BYTES {
        return Err(UserError::Client(ApiError::too_large(
            "preferences must be at most 16 KiB",
        )));
    }
    state
        .store
        .set_preferences(caller.user_id, &raw, now_ms())
        .await?;
    Ok(Json(body))
}

/// Another user's public profile: visible only to people who share a workspace with them.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, target = %id))]
async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> UserResult<Json<UserView>> {
    if id != caller.user_id && !state.store.shares_workspace(caller.user_id, id).await? {
        return Err(UserError::NotFound("user"));
    }
    let user = state.store.user(id).await?.ok_or(UserError::NotFound("user"))?;
    Ok(Json(if id == caller.user_id {
        UserView::own(user)
    } else {
        UserView::public(user)
    }))
}
