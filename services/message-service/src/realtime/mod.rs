//! The WebSocket real-time endpoint: tickets, the upgrade, and the [`echo_realtime::Hub`] that
//! delivers this deployment's events to the connections allowed to see them.
//!
//! Connections are reported on the bus (`connection.opened` / `connection.closed`, naming this
//! replica) so that user-service, which owns presence, knows who is online on any replica; a
//! heartbeat (`realtime.replica_alive`) lets it close the connections of a replica that crashed.

mod directory;
mod tickets;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use echo_auth::Caller;
use echo_db::Db;
use echo_domain::time::now_ms;
use echo_events::{Envelope, EventBus};
use echo_http::{ApiError, ErrorBody, Json};
use echo_realtime::{ConnectionConfig, Hub};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::state::AppState;

/// How often a replica tells user-service it is alive; well under user-service's
/// `replica_timeout_ms` (90 s by default).
const HEARTBEAT: Duration = Duration::from_secs(20);

/// The real-time side of the service.
pub struct Realtime {
    pub hub: Arc<Hub>,
    db: Db,
    bus: Arc<dyn EventBus>,
    /// This process, in connection reports and heartbeats.
    replica_id: Uuid,
}

impl Realtime {
    pub async fn start(
        db: Db,
        bus: Arc<dyn EventBus>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<Self>> {
        let directory = Arc::new(directory::DbDirectory { db: db.clone() });
        let hub = Hub::start(
            bus.clone(),
            directory,
            ConnectionConfig::default(),
            shutdown.clone(),
        )
        .await?;
        let realtime = Arc::new(Self {
            hub,
            db,
            bus,
            replica_id: Uuid::now_v7(),
        });
        tokio::spawn(realtime.clone().heartbeat(shutdown));
        Ok(realtime)
    }

    async fn heartbeat(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let event = Envelope::new(
                "realtime.replica_alive",
                1,
                "message-service",
                json!({"replica_id": self.replica_id}),
            );
            if let Err(e) = self.bus.publish(&[event]).await {
                tracing::warn!(error = %e, "cannot send the replica heartbeat");
            }
        }
    }

    async fn report(&self, kind: &str, connection_id: Uuid, user_id: Uuid) {
        let event = Envelope::new(
            kind,
            1,
            "message-service",
            json!({"connection_id": connection_id, "user_id": user_id, "replica_id": self.replica_id}),
        );
        if let Err(e) = self.bus.publish(&[event]).await {
            tracing::warn!(error = %e, kind, "cannot report a connection");
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_ticket))
        .routes(routes!(connect))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Pass as `?ticket=` to `GET /api/v1/realtime` within `expires_in` seconds; works once.
    pub ticket: String,
    pub expires_in: i64,
}

/// A single-use ticket to open the WebSocket.
#[utoipa::path(post, path = "/api/v1/realtime/tickets", tag = "realtime", security(("bearer" = [])),
    responses((status = 200, body = Ticket), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn create_ticket(State(state): State<AppState>, caller: Caller) -> Result<Json<Ticket>, ApiError> {
    let ticket = tickets::issue(&state.realtime.db, caller.user_id, now_ms()).await?;
    Ok(Json(Ticket {
        ticket,
        expires_in: tickets::TICKET_TTL_SECS,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConnectParams {
    /// A ticket from `POST /api/v1/realtime/tickets`.
    pub ticket: String,
    /// The `cursor` of the last frame processed, to resume without a gap.
    pub cursor: Option<String>,
}

/// The WebSocket. Frames are `{"type", "cursor", "data"}`; the first is `hello`.
#[utoipa::path(get, path = "/api/v1/realtime", tag = "realtime", params(ConnectParams),
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 401, body = ErrorBody)))]
async fn connect(
    State(state): State<AppState>,
    Query(params): Query<ConnectParams>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let user_id = match tickets::redeem(&state.realtime.db, &params.ticket, now_ms()).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => return ApiError::unauthorized("invalid or expired ticket").into_response(),
        Err(e) => return ApiError::Internal(e.context("redeeming a ticket")).into_response(),
    };
    let realtime = state.realtime.clone();
    // Small buffers: an idle connection then costs a few KiB instead of the 128 KiB default.
    // Clients send small frames (ping, typing); a larger one is still read, over several reads.
    upgrade
        .read_buffer_size(1024)
        .write_buffer_size(4096)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            let connection_id = Uuid::now_v7();
            realtime.report("connection.opened", connection_id, user_id).await;
            realtime.hub.clone().serve(socket, user_id, params.cursor).await;
            realtime.report("connection.closed", connection_id, user_id).await;
        })
}
