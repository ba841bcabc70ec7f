//! Register, log in, refresh, log out.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use echo_auth::Caller;
use echo_domain::{DisplayName, Email, Password, new_id, time::now_ms};
use echo_events::Envelope;
use echo_http::{ErrorBody, Json};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::views::{AuthResponse, TokenPair, UserView};
use crate::error::{UserError, UserResult};
use crate::presence::PRODUCER;
use crate::sign_ins::{self, Revocation};
use crate::state::AppState;
use crate::store::{NewSession, NewUser, Rotation, SessionRow, UserRow};
use crate::tokens::{hash_refresh_token, new_refresh_token};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Create an account and a first session.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterRequest>,
) -> UserResult<(StatusCode, Json<AuthResponse>)> {
    let email = Email::parse(&body.email)?;
    let password = Password::parse_new(&body.password)?;
    let display_name = DisplayName::parse(&body.display_name)?;
    let password_hash = state.passwords.hash(password).await?;

    let user_id = new_id();
    let new_user = NewUser {
        id: user_id,
        email: email.into_inner(),
        password_hash,
        display_name: display_name.into_inner(),
        is_bot: false,
        now: now_ms(),
    };
    let created = UserRow::from_new(&new_user);
    // The address is for message-service's notification emails; the real-time hub routes this
    // event to no client.
    let event = Envelope::new(
        "user.registered",
        1,
        PRODUCER,
        json!({"user_id": user_id, "email": new_user.email, "user": UserView::public(created)}),
    );
    state.store.create_user(&new_user, &[event]).await?;
    state.relay.notify();
    tracing::info!(%user_id, "user registered");
    let response = open_session(&state, user_id, &headers).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// Log in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> UserResult<Json<AuthResponse>> {
    let password = Password::for_login(&body.password).map_err(|_| UserError::BadCredentials)?;
    // An unparseable email cannot have an account; it still pays for a hash so timing tells nothing.
    let credentials = match Email::parse(&body.email) {
        Ok(email) => state.store.credentials(email.as_str()).await?,
        Err(_) => None,
    };
    let (user_id, hash) = credentials.map_or((None, None), |(id, hash)| (Some(id), Some(hash)));
    if !state.passwords.verify(password, hash).await? {
        tracing::info!("login failed");
        if let Some(user_id) = user_id {
            state
                .store
                .record(&[sign_ins::login_failed(
                    user_id,
                    sign_ins::client_ip(&headers).as_deref(),
                )])
                .await?;
            state.relay.notify();
        }
        return Err(UserError::BadCredentials);
    }
    let user_id = user_id.ok_or(UserError::BadCredentials)?;
    Ok(Json(open_session(&state, user_id, &headers).await?))
}

/// Exchange a refresh token for new tokens. The old refresh token stops working; presenting it
/// again revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> UserResult<Json<TokenPair>> {
    if body.refresh_token.len() > 200 {
        return Err(UserError::BadRefreshToken);
    }
    let now = now_ms();
    let (token, new_hash) = new_refresh_token();
    let expires_at = now + refresh_ttl_ms(&state);
    match state
        .store
        .rotate_refresh(
            &hash_refresh_token(&body.refresh_token),
            &new_hash,
            now,
            expires_at,
        )
        .await?
    {
        Rotation::Rotated(session) => {
            let (access_token, expires_in) = state.keys.access_token(session.user_id, session.id).await?;
            Ok(Json(TokenPair {
                access_token,
                refresh_token: token,
                expires_in,
            }))
        }
        Rotation::Reused { session_id } => {
            tracing::warn!(%session_id, "rotated refresh token presented again; session revoked");
            // The store revoked it (and recorded why); its access tokens stop here.
            state.relay.notify();
            state
                .revocations
                .revoke(session_id, access_revocation_ttl(&state))
                .await?;
            Err(UserError::BadRefreshToken)
        }
        Rotation::Rejected => Err(UserError::BadRefreshToken),
    }
}

/// End the current session: its refresh token and access tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn logout(State(state): State<AppState>, caller: Caller) -> UserResult<StatusCode> {
    if let Some(session) = state.store.session(caller.session_id).await? {
        revoke(&state, &session, Revocation::Logout).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a session for a user and returns the user with the session's tokens.
async fn open_session(state: &AppState, user_id: Uuid, headers: &HeaderMap) -> UserResult<AuthResponse> {
    let now = now_ms();
    let (refresh_token, refresh_hash) = new_refresh_token();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let session = NewSession {
        id: new_id(),
        user_id,
        user_agent,
        refresh_hash,
        now,
        expires_at: now + refresh_ttl_ms(state),
    };
    let started = sign_ins::session_started(
        user_id,
        session.id,
        sign_ins::client_ip(headers).as_deref(),
        &session.user_agent,
    );
    state.store.create_session(&session, &[started]).await?;
    state.relay.notify();
    let (access_token, expires_in) = state.keys.access_token(user_id, session.id).await?;
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or(UserError::NotFound("user"))?;
    Ok(AuthResponse {
        user: UserView::own(user),
        tokens: TokenPair {
            access_token,
            refresh_token,
            expires_in,
        },
    })
}

/// Revokes a session in the database (refresh tokens) and in the revocation list (access tokens).
pub(crate) async fn revoke(state: &AppState, session: &SessionRow, why: Revocation) -> UserResult<()> {
    let event = sign_ins::session_revoked(session.user_id, session.id, why);
    if state.store.revoke_session(session.id, now_ms(), &[event]).await? {
        state.relay.notify();
    }
    state
        .revocations
        .revoke(session.id, access_revocation_ttl(state))
        .await?;
    Ok(())
}

/// Access tokens live at most this long, so a revocation need not be remembered longer.
fn access_revocation_ttl(state: &AppState) -> Duration {
    Duration::from_secs(state.config.auth.access_ttl_secs + 60)
}

fn refresh_ttl_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.refresh_ttl_secs)
        .unwrap_or(i64::MAX / 2_000)
        .saturating_mul(1000)
}
