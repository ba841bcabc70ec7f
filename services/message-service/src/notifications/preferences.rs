//! What people choose to hear: their own default level, keywords, do-not-disturb and email
//! (`/api/v1/notification-preferences`, message-service's own, since the rules read them on every
//! message), each channel's level and mute (per membership), and the threads they follow.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::DateTime;
use echo_auth::Caller;
use echo_domain::time::{now_ms, rfc3339};
use echo_http::{ApiError, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::Level;
use super::dnd::{self, Schedule, ScheduleBody};
use super::rules::Preferences;
use super::store::PreferencesRow;
use crate::error::{MessageError, MessageResult};
use crate::http::access::{channel_access, message_access};
use crate::state::AppState;

const MAX_KEYWORDS: usize = 50;
const MAX_KEYWORD_CHARS: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_preferences, put_preferences))
        .routes(routes!(get_channel_settings, put_channel_settings))
        .routes(routes!(follow, unfollow))
}

/// A person's own level is never `default` (that is what a channel says to follow it).
fn personal_level() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["all", "mentions", "nothing"]))
        .build()
}

/// A person's notification preferences.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreferencesBody {
    /// `all`, `mentions` or `nothing`; channels set to `default` use it.
    #[schema(schema_with = personal_level)]
    pub level: Level,
    /// Words that notify when they appear (whole words, any case) in a channel one is in.
    pub keywords: Vec<String>,
    /// Manual do-not-disturb until this instant (RFC 3339); null when off.
    pub dnd_until: Option<String>,
    /// Daily quiet hours in `timezone`; null when none.
    pub dnd_schedule: Option<ScheduleBody>,
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Email for mentions and DMs left unread.
    pub email: bool,
}

impl From<Preferences> for PreferencesBody {
    fn from(prefs: Preferences) -> Self {
        Self {
            level: prefs.level,
            keywords: prefs.keywords,
            dnd_until: prefs.dnd_until.map(rfc3339),
            dnd_schedule: prefs.schedule.map(Schedule::to_body),
            timezone: prefs.timezone.name().to_owned(),
            email: prefs.email,
        }
    }
}

/// Changes to the preferences; fields left out keep their value, and `null` clears
/// `dnd_until` or `dnd_schedule`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PreferencesPatch {
    pub level: Option<Level>,
    pub keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub dnd_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub dnd_schedule: Option<Option<ScheduleBody>>,
    pub timezone: Option<String>,
    pub email: Option<bool>,
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl PreferencesPatch {
    /// Applies the changes, refusing invalid values with the field at fault.
    fn apply(self, mut prefs: Preferences) -> Result<Preferences, ApiError> {
        if let Some(level) = self.level {
            if level == Level::Default {
                return Err(ApiError::invalid_field(
                    "level",
                    "must be all, mentions or nothing",
                ));
            }
            prefs.level = level;
        }
        if let Some(keywords) = self.keywords {
            let mut clean: Vec<String> = Vec::new();
            for keyword in keywords {
                let keyword = keyword.trim().to_owned();
                if keyword.is_empty() || keyword.chars().count() > MAX_KEYWORD_CHARS {
                    return Err(ApiError::invalid_field(
                        "keywords",
                        format!("each must be 1–{MAX_KEYWORD_CHARS} characters"),
                    ));
                }
                if !clean.iter().any(|k| k.to_lowercase() == keyword.to_lowercase()) {
                    clean.push(keyword);
                }
            }
            if clean.len() > MAX_KEYWORDS {
                return Err(ApiError::invalid_field(
                    "keywords",
                    format!("at most {MAX_KEYWORDS}"),
                ));
            }
            prefs.keywords = clean;
        }
        if let Some(until) = self.dnd_until {
            prefs.dnd_until = until
                .map(|raw| DateTime::parse_from_rfc3339(&raw).map(|t| t.timestamp_millis()))
                .transpose()
                .map_err(|_| ApiError::invalid_field("dnd_until", "must be an RFC 3339 instant"))?;
        }
        if let Some(schedule) = self.dnd_schedule {
            prefs.schedule = schedule
                .map(|body| Schedule::parse(&body))
                .transpose()
                .map_err(|message| ApiError::invalid_field("dnd_schedule", message))?;
        }
        if let Some(timezone) = self.timezone {
            if timezone.parse::<chrono_tz::Tz>().is_err() {
                return Err(ApiError::invalid_field(
                    "timezone",
                    "must be an IANA time zone name",
                ));
            }
            prefs.timezone = dnd::zone(&timezone);
        }
        if let Some(email) = self.email {
            prefs.email = email;
        }
        Ok(prefs)
    }
}

async fn load(state: &AppState, user_id: Uuid) -> MessageResult<Preferences> {
    Ok(state
        .notifications
        .preferences(user_id)
        .await?
        .map(PreferencesRow::into_preferences)
        .unwrap_or_default())
}

/// The caller's notification preferences (defaults until changed).
#[utoipa::path(get, path = "/api/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = PreferencesBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn get_preferences(
    State(state): State<AppState>,
    caller: Caller,
) -> MessageResult<Json<PreferencesBody>> {
    Ok(Json(load(&state, caller.user_id).await?.into()))
}

/// Change the caller's notification preferences; returns them as they now are.
#[utoipa::path(put, path = "/api/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = PreferencesPatch,
    responses((status = 200, body = PreferencesBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn put_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Json(patch): Json<PreferencesPatch>,
) -> MessageResult<Json<PreferencesBody>> {
    let prefs = patch.apply(load(&state, caller.user_id).await?)?;
    state
        .notifications
        .put_preferences(
            caller.user_id,
            &PreferencesRow::from_preferences(&prefs),
            now_ms(),
        )
        .await?;
    Ok(Json(prefs.into()))
}

/// A member's notification settings for one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSettings {
    pub level: Level,
    pub muted: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelSettingsPatch {
    /// `default` (the member's own level), `all`, `mentions` or `nothing`.
    pub level: Option<Level>,
    pub muted: Option<bool>,
}

/// The caller's notification settings for a channel they are a member of.
#[utoipa::path(get, path = "/api/v1/channels/{ch}/notification-settings", tag = "notifications", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")),
    responses((status = 200, body = ChannelSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn get_channel_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
) -> MessageResult<Json<ChannelSettings>> {
    channel_access(&state, ch, caller.user_id)
        .await?
        .require_member()?;
    let (level, muted) = state
        .notifications
        .channel_settings(ch, caller.user_id)
        .await?
        .ok_or(MessageError::NotFound("channel"))?;
    Ok(Json(ChannelSettings {
        level: Level::from_db(&level),
        muted,
    }))
}

/// Set the caller's notification level and mute for a channel (as a member of it).
#[utoipa::path(put, path = "/api/v1/channels/{ch}/notification-settings", tag = "notifications", security(("bearer" = [])),
    params(("ch" = Uuid, Path, description = "channel id")), request_body = ChannelSettingsPatch,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %ch))]
async fn put_channel_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(ch): Path<Uuid>,
    Json(patch): Json<ChannelSettingsPatch>,
) -> MessageResult<StatusCode> {
    channel_access(&state, ch, caller.user_id)
        .await?
        .require_member()?;
    if !state
        .notifications
        .set_channel_settings(ch, caller.user_id, patch.level, patch.muted)
        .await?
    {
        // Left between the check and the update.
        return Err(MessageError::Forbidden(
            "not_in_channel",
            "join the channel first",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The thread a message belongs to: its own when it is a root.
async fn thread_of(state: &AppState, caller: &Caller, id: Uuid) -> MessageResult<Uuid> {
    let (message, _) = message_access(state, id, caller.user_id).await?;
    if message.deleted && message.thread_root_id.is_none() && message.reply_count == 0 {
        return Err(MessageError::NotFound("message"));
    }
    Ok(message.thread_root_id.unwrap_or(message.id))
}

/// Follows or unfollows the thread a message belongs to, for the caller.
async fn set_following(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    following: bool,
) -> MessageResult<StatusCode> {
    let root = thread_of(state, caller, id).await?;
    state
        .notifications
        .set_following(root, caller.user_id, following)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Follow the thread of a message: its replies notify the caller.
#[utoipa::path(put, path = "/api/v1/messages/{id}/follow", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the thread's root message (or one of its replies)")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    set_following(&state, &caller, id, true).await
}

/// Stop following the thread of a message, until the caller replies in it again.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/follow", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the thread's root message (or one of its replies)")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, message_id = %id))]
async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    set_following(&state, &caller, id, false).await
}
