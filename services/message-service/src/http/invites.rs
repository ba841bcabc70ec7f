//! Invite codes: create, preview (public), accept.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::Invalid;
use echo_domain::time::{now_ms, rfc3339};
use echo_http::{ErrorBody, Json, Path};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::workspace_member;
use crate::error::{MessageError, MessageResult};
use crate::model::{Role, Workspace};
use crate::state::AppState;
use crate::store::NewInvite;

/// The most uses one invite may allow.
const MAX_USES: i64 = 10_000;
/// Characters of the code kept in clear (logs, events) to tell invites apart.
const HINT_LEN: usize = 4;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invite))
        .routes(routes!(preview_invite))
        .routes(routes!(accept_invite))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateInvite {
    pub expires_in_hours: Option<u32>,
    /// Unlimited when absent.
    pub max_uses: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteCreated {
    pub code: String,
    pub expires_at: String,
    pub max_uses: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitePreview {
    pub workspace_id: Uuid,
    pub workspace_name: String,
    pub expires_at: String,
}

/// Codes are bearer secrets: 24 random alphanumerics (~143 bits), stored only as a hash.
fn new_code() -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

fn hash_code(code: &str) -> String {
    Sha256::digest(code.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Create an invite code (any member but guests).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/invites", tag = "invites", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")), request_body = CreateInvite,
    responses((status = 201, body = InviteCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn create_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    body: axum::body::Bytes,
) -> MessageResult<(StatusCode, Json<InviteCreated>)> {
    // Every field is optional, so an empty body is a valid request.
    let body: CreateInvite = if body.iter().all(u8::is_ascii_whitespace) {
        CreateInvite::default()
    } else {
        echo_http::extract::parse_json(&body)?
    };
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if me.role == Role::Guest {
        return Err(MessageError::forbidden("guests cannot invite people"));
    }
    let hours = body.expires_in_hours.unwrap_or(state.config.invite_default_hours);
    if hours == 0 || hours > state.config.invite_max_hours {
        return Err(Invalid::new(
            "expires_in_hours",
            format!("must be between 1 and {}", state.config.invite_max_hours),
        )
        .into());
    }
    if body.max_uses.is_some_and(|n| !(1..=MAX_USES).contains(&n)) {
        return Err(Invalid::new("max_uses", format!("must be between 1 and {MAX_USES}")).into());
    }
    let code = new_code();
    let now = now_ms();
    let expires_at = now + i64::from(hours) * 3_600_000;
    let invite = NewInvite {
        code_hash: hash_code(&code),
        code_hint: code.chars().take(HINT_LEN).collect(),
        workspace_id: ws,
        created_by: caller.user_id,
        now,
        expires_at,
        max_uses: body.max_uses,
    };
    state.store.create_invite(&invite).await?;
    state.published();
    Ok((
        StatusCode::CREATED,
        Json(InviteCreated {
            code,
            expires_at: rfc3339(expires_at),
            max_uses: body.max_uses,
        }),
    ))
}

/// What an invite leads to; public, so the invitee can see it before signing in.
#[utoipa::path(get, path = "/api/v1/invites/{code}", tag = "invites",
    params(("code" = String, Path, description = "invite code")),
    responses((status = 200, body = InvitePreview), (status = 404, description = "unknown, expired or used up", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn preview_invite(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> MessageResult<Json<InvitePreview>> {
    let invite = state
        .store
        .invite(&hash_code(&code))
        .await?
        .filter(|i| i.usable(now_ms()))
        .ok_or(MessageError::NotFound("invite"))?;
    Ok(Json(InvitePreview {
        workspace_id: invite.workspace_id,
        workspace_name: invite.workspace_name,
        expires_at: rfc3339(invite.expires_at),
    }))
}

/// Join a workspace by invite (as `member`, and into `general`).
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path, description = "invite code")),
    responses((status = 200, body = Workspace), (status = 404, description = "unknown, expired or used up", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn accept_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> MessageResult<Json<Workspace>> {
    let workspace = state
        .store
        .accept_invite(&hash_code(&code), caller.user_id, now_ms())
        .await?
        .ok_or(MessageError::NotFound("invite"))?;
    state.published();
    Ok(Json(workspace))
}
