//! `POST /api/v1/ai/ask`: questions answered from the messages the caller can read, with
//! citations, as JSON or as server-sent events.

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

use crate::ask::{self, Answer, AskTask};
use crate::generate;
use crate::search::{self, Mode};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ask_question))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AskRequest {
    pub workspace_id: Uuid,
    pub question: String,
    /// Look in this channel only.
    pub channel_id: Option<Uuid>,
    /// Stream the answer as server-sent events (`delta`… then `done`); also `Accept: text/event-stream`.
    pub stream: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/ai/ask", tag = "ai", security(("bearer" = [])), request_body = AskRequest,
    responses((status = 200, body = Answer, description = "JSON, or with streaming `text/event-stream` events `delta` {text} then `done` (this body)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %request.workspace_id))]
async fn ask_question(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(request): Json<AskRequest>,
) -> ApiResult<Response> {
    let question = request.question.trim().to_owned();
    if question.is_empty() || question.chars().count() > 2000 {
        return Err(ApiError::invalid_field(
            "question",
            "must be 1 to 2000 characters",
        ));
    }
    let core = state.core.clone();
    {
        let index = core.read();
        super::workspace_scope(&index, request.workspace_id, caller.user_id)?;
        if let Some(channel_id) = request.channel_id {
            let (workspace_id, _) = super::readable_channel(&index, channel_id, caller.user_id)?;
            if workspace_id != request.workspace_id {
                return Err(ApiError::not_found("channel"));
            }
        }
    }
    let question_vector = core
        .embed_now(vec![question.clone()])
        .await
        .context("embedding the question")?
        .and_then(|mut v| v.pop());
    let context = {
        let index = core.read();
        let mut scope = super::workspace_scope(&index, request.workspace_id, caller.user_id)?;
        if let Some(channel_id) = request.channel_id {
            scope.channels.retain(|c| *c == channel_id);
        }
        search::rank(
            &index,
            request.workspace_id,
            &scope,
            &question,
            question_vector.as_deref(),
            Mode::Hybrid,
            ask::CONTEXT,
        )
        .into_iter()
        .filter(|hit| hit.cosine.is_some_and(|c| c >= ask::MIN_COSINE) || hit.coverage >= ask::MIN_COVERAGE)
        .filter_map(|hit| {
            let doc = index.doc(request.workspace_id, hit.id)?.clone();
            let channel = index
                .channel(doc.channel_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            Some((doc, channel))
        })
        .collect()
    };
    let task = AskTask {
        question,
        question_vector,
        context,
    };
    if generate::wants_stream(request.stream, &headers) {
        return Ok(generate::stream(core, task));
    }
    let answer = generate::run(&core, &task).await.context("answering")?;
    Ok(Json(answer).into_response())
}
