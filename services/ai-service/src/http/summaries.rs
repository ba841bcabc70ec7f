//! `POST /api/v1/ai/summaries`: a channel's or a thread's summary, optionally only of what the
//! caller has not read yet, as JSON or as server-sent events.

use std::collections::HashSet;

use anyhow::Context;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use echo_auth::Caller;
use echo_http::{ApiError, ApiResult, ErrorBody, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::generate;
use crate::index::Scope;
use crate::state::AppState;
use crate::summarize::{self, Summary, SummaryTask};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(summarize_channel))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SummaryRequest {
    pub channel_id: Uuid,
    /// Summarise this thread (root and replies) only.
    pub thread_root_id: Option<Uuid>,
    /// `last_read` (what the caller has not read yet) or an RFC 3339 instant.
    pub since: Option<String>,
    /// Stream the answer as server-sent events (`delta`… then `done`); also `Accept: text/event-stream`.
    pub stream: Option<bool>,
}

enum Since {
    All,
    LastRead,
    After(i64),
}

fn parse_since(raw: Option<&str>) -> Result<Since, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(Since::All),
        Some("last_read") => Ok(Since::LastRead),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| Since::After(t.timestamp_millis()))
            .map_err(|_| ApiError::invalid_field("since", "must be \"last_read\" or an RFC 3339 instant")),
    }
}

#[utoipa::path(post, path = "/api/v1/ai/summaries", tag = "ai", security(("bearer" = [])), request_body = SummaryRequest,
    responses((status = 200, body = Summary, description = "JSON, or with streaming `text/event-stream` events `delta` {text} then `done` (this body)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, channel_id = %request.channel_id))]
async fn summarize_channel(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(request): Json<SummaryRequest>,
) -> ApiResult<Response> {
    let since = parse_since(request.since.as_deref())?;
    let core = state.core.clone();
    let (workspace_id, channel_name) = {
        let index = core.read();
        let found = super::readable_channel(&index, request.channel_id, caller.user_id)?;
        if let Some(root) = request.thread_root_id
            && index
                .doc(found.0, root)
                .is_none_or(|d| d.channel_id != request.channel_id)
        {
            return Err(ApiError::not_found("thread"));
        }
        found
    };
    let marker = match since {
        Since::LastRead => core
            .store
            .read_marker(request.channel_id, caller.user_id)
            .await
            .context("reading the read marker")?,
        _ => None,
    };
    let docs = {
        let index = core.read();
        let scope = Scope {
            channels: HashSet::from([request.channel_id]),
        };
        index
            .docs_in(workspace_id, &scope)
            .filter(|d| {
                request
                    .thread_root_id
                    .is_none_or(|root| d.id == root || d.thread_root_id == Some(root))
            })
            .filter(|d| match since {
                Since::All => true,
                Since::LastRead => marker.is_none_or(|m| d.id > m),
                Since::After(ms) => d.created_at > ms,
            })
            .map(|d| (d.clone(), index.vector(workspace_id, d.id).map(<[f32]>::to_vec)))
            .collect::<Vec<_>>()
    };
    let plain: Vec<_> = docs.iter().map(|(d, _)| d.clone()).collect();
    let keywords = summarize::keywords(&core, workspace_id, &plain, 5);
    let context = core.llm.as_ref().map_or(0, |l| l.max_context);
    let task = SummaryTask::new(channel_name, docs, keywords, context);
    if generate::wants_stream(request.stream, &headers) {
        return Ok(generate::stream(core, task));
    }
    let summary = generate::run(&core, &task).await.context("summarising")?;
    Ok(Json(summary).into_response())
}
