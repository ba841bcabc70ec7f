//! The Slack-compatible Web API, `/slack/api/{method}`: a stock Slack SDK pointed at this base URL
//! with a bot or personal token (or an Echo access token) works unmodified.
//!
//! Requests are what Slack accepts: GET with query parameters, POST form-encoded or JSON, the
//! token in `Authorization: Bearer` or a `token` parameter. Answers are `{"ok": true, …}` or
//! `{"ok": false, "error": "channel_not_found"}` with Slack's error names, HTTP 200 as Slack
//! does (429 with `Retry-After` for rate limits, 5xx only for real faults). Channel and user ids
//! are Echo's; message ids are Slack `ts` values ([`ts`]). Each method calls the same handler
//! the Echo API uses, so permissions, validation and events are the same.
//!
//! - [`methods`]: the methods; [`objects`]: Echo objects in Slack's shapes;
//! - [`files`]: the two-step upload (`files.getUploadURLExternal`, the upload, completion).

pub mod files;
pub mod methods;
pub mod objects;
pub mod ts;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo_auth::Caller;
use echo_auth::caller::bearer_token;
use echo_http::ApiError;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::auth::{self, ApiToken};
use crate::error::MessageError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(call_get, call_post))
        .merge(files::router())
}

/// A Slack error: its name, and a human detail where one helps (Slack's `warning`-like field).
#[derive(Debug)]
pub struct SlackError {
    pub error: &'static str,
    pub detail: Option<String>,
    status: StatusCode,
    retry_after: Option<u64>,
}

impl SlackError {
    pub fn new(error: &'static str) -> Self {
        Self {
            error,
            detail: None,
            status: StatusCode::OK,
            retry_after: None,
        }
    }

    pub fn with(error: &'static str, detail: impl Into<String>) -> Self {
        Self {
            error,
            detail: Some(detail.into()),
            status: StatusCode::OK,
            retry_after: None,
        }
    }

    /// An Echo error in Slack's words; `forbidden` names a refusal in the method's terms
    /// (`cant_update_message`, …).
    pub fn from_echo(error: MessageError, forbidden: &'static str) -> Self {
        match error {
            MessageError::NotFound(what) => Self::new(match what {
                "channel" => "channel_not_found",
                "message" => "message_not_found",
                "file" => "file_not_found",
                "workspace" => "team_not_found",
                "user" => "user_not_found",
                _ => "not_found",
            }),
            MessageError::Forbidden("not_in_channel", _) => Self::new("not_in_channel"),
            MessageError::Forbidden("message_deleted", _) => Self::new("message_not_found"),
            MessageError::Forbidden(_, message) => Self::with(forbidden, message),
            MessageError::Archived => Self::new("is_archived"),
            MessageError::NameTaken => Self::new("name_taken"),
            MessageError::LastOwner => Self::new("restricted_action"),
            MessageError::Invalid(invalid) => Self::with(
                "invalid_arguments",
                format!("{}: {}", invalid.field, invalid.message),
            ),
            MessageError::Auth(_) => Self::new("invalid_auth"),
            MessageError::Client(api) => Self::from_api(api),
            MessageError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "Slack API call failed");
                Self {
                    error: "internal_error",
                    detail: None,
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    retry_after: None,
                }
            }
        }
    }

    fn from_api(error: ApiError) -> Self {
        match error {
            ApiError::Client {
                status,
                message,
                retry_after,
                ..
            } => match status {
                StatusCode::UNAUTHORIZED => Self::new("invalid_auth"),
                StatusCode::FORBIDDEN => Self::with("restricted_action", message),
                StatusCode::NOT_FOUND => Self::with("not_found", message),
                StatusCode::PAYLOAD_TOO_LARGE => Self::with("request_too_large", message),
                StatusCode::TOO_MANY_REQUESTS => Self {
                    error: "ratelimited",
                    detail: None,
                    status: StatusCode::TOO_MANY_REQUESTS,
                    retry_after,
                },
                _ => Self::with("invalid_arguments", message),
            },
            ApiError::Internal(e) => Self::from_echo(MessageError::Internal(e), "internal_error"),
        }
    }
}

impl From<MessageError> for SlackError {
    fn from(error: MessageError) -> Self {
        Self::from_echo(error, "restricted_action")
    }
}

impl From<crate::store::StoreError> for SlackError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::from(MessageError::from(error))
    }
}

impl From<anyhow::Error> for SlackError {
    fn from(error: anyhow::Error) -> Self {
        Self::from(MessageError::Internal(error))
    }
}

impl IntoResponse for SlackError {
    fn into_response(self) -> Response {
        let mut body = json!({"ok": false, "error": self.error});
        if let Some(detail) = self.detail {
            body["detail"] = json!(detail);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = secs.to_string().parse()
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type SlackResult = Result<Map<String, Value>, SlackError>;

/// A method's arguments, from the query string and the body (form or JSON), the body winning.
#[derive(Debug, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Self, SlackError> {
        let mut map = Map::new();
        if let Some(query) = query {
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
        if trimmed.is_some() {
            let is_json =
                content_type.starts_with("application/json") || body.get(trimmed.unwrap_or(0)) == Some(&b'{');
            if is_json {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(object)) => map.extend(object),
                    _ => return Err(SlackError::new("invalid_json")),
                }
            } else if content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded")
            {
                for (k, v) in url::form_urlencoded::parse(body) {
                    map.insert(k.into_owned(), Value::String(v.into_owned()));
                }
            } else {
                return Err(SlackError::with(
                    "invalid_form_data",
                    format!("unsupported content type {content_type}"),
                ));
            }
        }
        Ok(Self(map))
    }

    /// A parameter as text (numbers and booleans too); empty strings count as absent.
    pub fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn required(&self, name: &str) -> Result<String, SlackError> {
        self.str(name)
            .ok_or_else(|| SlackError::with("invalid_arguments", format!("{name} is required")))
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn bool(&self, name: &str) -> bool {
        self.str(name).is_some_and(|v| matches!(v.as_str(), "true" | "1"))
    }

    /// A count between 1 and `max`, `default` when absent.
    pub fn limit(&self, name: &str, default: u32, max: u32) -> Result<u32, SlackError> {
        match self.str(name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<u32>() {
                Ok(0) => Ok(default),
                Ok(n) => Ok(n.min(max)),
                Err(_) => Err(SlackError::with(
                    "invalid_limit",
                    format!("{name} must be a number"),
                )),
            },
        }
    }

    /// A JSON value given either as JSON or as a JSON string (form bodies carry arrays that way).
    pub fn json(&self, name: &str) -> Result<Option<Value>, SlackError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| SlackError::with("invalid_arguments", format!("{name} is not valid JSON"))),
            Some(other) => Ok(Some(other.clone())),
        }
    }
}

/// One call: who is calling, with what, and what has been looked up so far.
pub struct Ctx {
    pub state: AppState,
    pub caller: Caller,
    /// The API token used; None for an Echo session (which is not scoped).
    pub token: Option<ApiToken>,
    pub params: Params,
    /// Where clients reach Echo, for permalinks and upload URLs.
    pub base: String,
    bots: Mutex<HashMap<Uuid, Option<Uuid>>>,
}

impl Ctx {
    pub fn user_id(&self) -> Uuid {
        self.caller.user_id
    }

    /// Refuses the call unless the token has one of these scopes.
    pub fn require(&self, scopes: &[&str]) -> Result<(), SlackError> {
        match &self.token {
            Some(token) if !token.allows_any(scopes) => Err(SlackError::with(
                "missing_scope",
                format!("needed: {}", scopes.join(",")),
            )),
            _ => Ok(()),
        }
    }

    /// The bot id of a user, if they are a bot (cached for the call).
    pub async fn bot_id_of(&self, user_id: Uuid) -> Result<Option<Uuid>, SlackError> {
        if let Some(known) = self.bots.lock().await.get(&user_id) {
            return Ok(*known);
        }
        let bot = self.state.integrations.bot_by_user(user_id).await?.map(|b| b.id);
        self.bots.lock().await.insert(user_id, bot);
        Ok(bot)
    }

    /// The workspace the call acts in: the token's, else `team_id`, else the caller's first.
    pub async fn workspace(&self) -> Result<Uuid, SlackError> {
        if let Some(ws) = self.token.as_ref().and_then(|t| t.workspace_id) {
            return Ok(ws);
        }
        let mine = self.state.store.workspaces_of(self.user_id()).await?;
        if let Some(team) = self.params.str("team_id") {
            return mine
                .iter()
                .find(|w| w.id.to_string() == team)
                .map(|w| w.id)
                .ok_or_else(|| SlackError::new("team_not_found"));
        }
        mine.first()
            .map(|w| w.id)
            .ok_or_else(|| SlackError::new("team_not_found"))
    }
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(Caller, Option<ApiToken>), SlackError> {
    let token = bearer_token(headers)
        .map(str::to_owned)
        .or_else(|| params.str("token"))
        .ok_or_else(|| SlackError::new("not_authed"))?;
    if auth::is_api_token(&token) {
        let (caller, api) = auth::authenticate(state, &token).await.map_err(|e| match e {
            MessageError::Client(_) | MessageError::Auth(_) => SlackError::new("invalid_auth"),
            other => SlackError::from(other),
        })?;
        return Ok((caller, Some(api)));
    }
    let claims = state.verifier.verify(&token).await.map_err(|e| match e {
        echo_auth::AuthError::Expired => SlackError::new("token_expired"),
        echo_auth::AuthError::Revoked => SlackError::new("token_revoked"),
        echo_auth::AuthError::Unavailable(_) => SlackError {
            error: "service_unavailable",
            detail: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None,
        },
        _ => SlackError::new("invalid_auth"),
    })?;
    Ok((
        Caller {
            user_id: claims.sub,
            session_id: claims.sid,
            claims,
        },
        None,
    ))
}

async fn call(
    state: AppState,
    method: String,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let params = match Params::parse(query.as_deref(), &headers, &body) {
        Ok(params) => params,
        Err(e) => return e.into_response(),
    };
    let (caller, token) = match authenticate(&state, &headers, &params).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let base = super::http::public_base(&state, &headers);
    let ctx = Ctx {
        state,
        caller,
        token,
        params,
        base,
        bots: Mutex::new(HashMap::new()),
    };
    match methods::dispatch(&method, &ctx).await {
        Ok(fields) => {
            let mut body = Map::new();
            body.insert("ok".into(), Value::Bool(true));
            body.extend(fields);
            axum::Json(Value::Object(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Call a Slack Web API method with query parameters (`auth.test`, `conversations.history`, …).
#[utoipa::path(get, path = "/slack/api/{method}", tag = "slack",
    params(("method" = String, Path, description = "a Slack Web API method, e.g. conversations.history")),
    responses((status = 200, description = "`{ok: true, …}` or `{ok: false, error}` in Slack's shapes")))]
async fn call_get(
    State(state): State<AppState>,
    axum::extract::Path(method): axum::extract::Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    call(state, method, headers, query, Bytes::new()).await
}

/// Call a Slack Web API method with a form-encoded or JSON body (`chat.postMessage`, …).
#[utoipa::path(post, path = "/slack/api/{method}", tag = "slack",
    params(("method" = String, Path, description = "a Slack Web API method, e.g. chat.postMessage")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "the method's arguments, form-encoded or as a JSON object"),
    responses((status = 200, description = "`{ok: true, …}` or `{ok: false, error}` in Slack's shapes")))]
async fn call_post(
    State(state): State<AppState>,
    axum::extract::Path(method): axum::extract::Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    call(state, method, headers, query, body).await
}
