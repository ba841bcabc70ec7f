//! user-service's HTTP API, one module per resource.

mod auth;
mod jwks;
mod presence;
mod sessions;
mod users;
pub mod views;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(sessions::router())
        .merge(presence::router())
        .merge(jwks::router())
}
