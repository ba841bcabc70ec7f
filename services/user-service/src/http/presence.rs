//! Presence: the status a user chose, combined with whether they have a live connection.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_http::{ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::error::UserResult;
use crate::presence::seen_by_others;
use crate::state::AppState;

const MAX_IDS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_presence))
        .routes(routes!(get_presence))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChosenStatus {
    Online,
    Away,
    Dnd,
    Invisible,
}

impl ChosenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Dnd => "dnd",
            Self::Invisible => "invisible",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PresenceUpdate {
    pub status: ChosenStatus,
}

/// Set the caller's status.
#[utoipa::path(put, path = "/api/v1/users/me/presence", tag = "presence", security(("bearer" = [])), request_body = PresenceUpdate,
    responses((status = 204), (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn set_presence(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PresenceUpdate>,
) -> UserResult<StatusCode> {
    state
        .store
        .set_presence(caller.user_id, body.status.as_str(), now_ms())
        .await?;
    state.relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PresenceQuery {
    /// Comma-separated user ids (at most 200).
    pub user_ids: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceMap {
    /// `online`, `away`, `dnd` or `offline` per user id.
    pub presence: BTreeMap<Uuid, String>,
}

/// Presence of several users. `invisible` reads as `offline` to others; a user with no live
/// connection is `offline`.
#[utoipa::path(get, path = "/api/v1/presence", tag = "presence", security(("bearer" = [])), params(PresenceQuery),
    responses((status = 200, body = PresenceMap), (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn get_presence(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PresenceQuery>,
) -> UserResult<Json<PresenceMap>> {
    let ids = query
        .user_ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Uuid::parse_str(s)
                .map_err(|_| echo_domain::Invalid::new("user_ids", format!("{s} is not a user id")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() > MAX_IDS {
        return Err(echo_domain::Invalid::new("user_ids", format!("at most {MAX_IDS} ids")).into());
    }
    let mut presence: BTreeMap<Uuid, String> = ids.iter().map(|id| (*id, "offline".to_owned())).collect();
    for (id, status, connections) in state.store.presence(&ids).await? {
        let seen = if id == caller.user_id {
            status
        } else {
            seen_by_others(&status, connections).to_owned()
        };
        presence.insert(id, seen);
    }
    Ok(Json(PresenceMap { presence }))
}
