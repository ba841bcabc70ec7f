//! `GET /api/v1/workspaces/{ws}/export`: the workspace's export, streamed as it is written.

use std::io::Write;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use echo_auth::Caller;
use echo_http::{ApiError, ErrorBody, Path};
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::archive;
use crate::error::{MessageError, MessageResult};
use crate::http::access::workspace_member;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// The whole workspace as a ZIP (layout in `docs/export.md`): people, channels and DMs, every
/// message with its thread, reactions and edit history, and the files messages show. Streamed
/// as it is read, so it starts at once whatever the size; a transfer that ends early was cut,
/// not completed. Owners and admins only.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/export", operation_id = "export_workspace", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, description = "the export", content_type = "application/zip"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "the audit log cannot record the export now", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Response> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if !me.role.is_admin() {
        return Err(MessageError::forbidden(
            "only owners and admins export the workspace",
        ));
    }
    // Recorded before a byte leaves: an export the audit log cannot hear of does not start.
    state
        .bus
        .publish(&[crate::events::export_started(ws, caller.user_id)])
        .await
        .map_err(|e| {
            tracing::warn!(workspace_id = %ws, error = %e, "the export could not be recorded in the audit log");
            MessageError::Client(ApiError::client(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the export cannot be recorded in the audit log right now; try again shortly",
            ))
        })?;
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    tokio::spawn(async move {
        let out = BodyWriter(tx.clone());
        match archive::write(state.export.as_ref(), &state.files, ws, out, &|_| {}).await {
            Ok(counts) => {
                tracing::info!(workspace_id = %ws, messages = counts.messages, files = counts.files, "workspace exported")
            }
            Err(e) => {
                // Ends the response with an error, so the client sees a cut transfer.
                tracing::warn!(workspace_id = %ws, error = format!("{e:#}"), "workspace export failed");
                let _ = tx.send(Err(std::io::Error::other("the export failed"))).await;
            }
        }
    });
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let today = chrono::Utc::now().format("%Y-%m-%d");
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"echo-export-{ws}-{today}.zip\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The zip thread's output: each buffer it writes becomes a chunk of the response.
struct BodyWriter(mpsc::Sender<std::io::Result<Bytes>>);

impl Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
