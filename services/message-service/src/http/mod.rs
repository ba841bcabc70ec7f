//! message-service's HTTP API, one module per resource.

pub mod access;
pub(crate) mod channels;
mod invites;
pub(crate) mod messages;
mod pins;
pub(crate) mod reactions;
mod workspaces;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(workspaces::router())
        .merge(invites::router())
        .merge(channels::router())
        .merge(messages::router())
        .merge(reactions::router())
        .merge(pins::router())
}
