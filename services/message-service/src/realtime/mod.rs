//! The WebSocket real-time endpoint (tickets, hub, resume).

pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
