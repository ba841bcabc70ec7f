//! Incoming webhooks: `POST /hooks/{secret}` posts into the webhook's channel as its own user.
//! The body is Slack's: JSON (or a form field `payload` holding JSON) with `text`, or `blocks`
//! or `attachments` rendered to text when there is none, and `thread_ts`; `username`,
//! `icon_url` and `icon_emoji` are accepted and ignored (the webhook's name is its identity).
//! Answers are Slack's too: `ok`, or an error name in plain text with a 4xx.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo_http::{Json, Path};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth;
use super::slack::{methods, ts};
use crate::error::MessageError;
use crate::http::messages::PostMessage;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(incoming))
}

/// What a webhook accepts (Slack's fields); `blocks` and `attachments` (Block Kit and legacy
/// attachments) are rendered to text when `text` is absent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IncomingWebhook {
    pub text: Option<String>,
    /// The ts of the thread's first message, to reply in its thread.
    pub thread_ts: Option<String>,
    /// Accepted and ignored: messages show the webhook's own name.
    pub username: Option<String>,
    pub icon_url: Option<String>,
    pub icon_emoji: Option<String>,
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn payload(headers: &HeaderMap, body: &[u8]) -> Option<Value> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (_, raw) = url::form_urlencoded::parse(body).find(|(k, _)| k == "payload")?;
        return serde_json::from_str(&raw).ok();
    }
    serde_json::from_slice(body).ok()
}

/// Post a message through an incoming webhook (the secret URL is the credential).
#[utoipa::path(post, path = "/hooks/{secret}", tag = "integrations",
    params(("secret" = String, Path, description = "the webhook's secret")),
    request_body(content = IncomingWebhook, description = "JSON, or a form field `payload` holding the same JSON"),
    responses((status = 200, description = "`ok`"), (status = 400, description = "`invalid_payload`, `no_text`"),
        (status = 404, description = "`no_service`"), (status = 410, description = "`channel_is_archived`")))]
#[tracing::instrument(skip_all)]
async fn incoming(
    State(state): State<AppState>,
    axum::extract::Path(secret): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let hook = match state.integrations.webhook_by_secret(&auth::hash(&secret)).await {
        Ok(Some(hook)) => hook,
        Ok(None) => return answer(StatusCode::NOT_FOUND, "no_service"),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "looking up a webhook failed");
            return answer(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
        }
    };
    let Some(Value::Object(payload)) = payload(&headers, &body) else {
        return answer(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let text = payload.get("text").and_then(Value::as_str).map(str::to_owned);
    let Some(text) = methods::text_of(text, payload.get("blocks"), payload.get("attachments")) else {
        return answer(StatusCode::BAD_REQUEST, "no_text");
    };
    let thread_root_id = match payload.get("thread_ts").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_f64().map(|f| format!("{f:.6}")))
    }) {
        Some(raw) => match ts::resolve(state.integrations.as_ref(), hook.channel_id, &raw).await {
            Ok(Some(id)) => Some(id),
            Ok(None) => return answer(StatusCode::BAD_REQUEST, "invalid_thread_ts"),
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "resolving a thread failed");
                return answer(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
            }
        },
        None => None,
    };
    let caller = auth::caller_for(hook.user_id, hook.id);
    let body = PostMessage {
        text,
        thread_root_id,
        client_msg_id: None,
        file_ids: Vec::new(),
    };
    match crate::http::messages::post_message(State(state), caller, Path(hook.channel_id), Json(body)).await {
        Ok(_) => answer(StatusCode::OK, "ok"),
        Err(MessageError::Archived) => answer(StatusCode::GONE, "channel_is_archived"),
        Err(MessageError::Invalid(invalid)) if invalid.field == "text" => {
            answer(StatusCode::BAD_REQUEST, "msg_too_long")
        }
        Err(MessageError::Invalid(_)) => answer(StatusCode::BAD_REQUEST, "invalid_payload"),
        Err(MessageError::NotFound(_)) => answer(StatusCode::NOT_FOUND, "channel_not_found"),
        Err(MessageError::Forbidden(..)) => answer(StatusCode::FORBIDDEN, "action_prohibited"),
        Err(e) => {
            tracing::error!(error = format!("{e}"), "posting through a webhook failed");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        }
    }
}
