//! The public keys that verify access tokens.

use axum::extract::State;
use echo_auth::Jwks;
use echo_http::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}

/// The JWKS of the keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", responses((status = 200, body = Object)))]
async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.keys.jwks().await)
}
