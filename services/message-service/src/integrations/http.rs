//! The Echo API of integrations: bots and their tokens, personal access tokens, and incoming
//! webhooks. Creating a secret shows it once; lists never show secrets.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use echo_auth::Caller;
use echo_domain::time::{now_ms, rfc3339};
use echo_domain::{Invalid, ShortText, new_id};
use echo_http::{ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::auth::{self, ApiToken};
use super::scopes;
use super::store::{BotRow, NewToken, TokenRow, WebhookRow};
use crate::error::{MessageError, MessageResult};
use crate::http::access::{channel_access, workspace_member};
use crate::model::{Member, Role};
use crate::state::AppState;

const MAX_NAME: usize = 80;
const MAX_URL: usize = 2048;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bots, create_bot))
        .routes(routes!(update_bot, delete_bot))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(delete_token))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
}

/// A bot as lists show it (never its token or signing secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct Bot {
    pub id: Uuid,
    /// The bot's own user: what its messages are attributed to.
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub avatar_url: String,
    pub scopes: Vec<String>,
    /// Where its events are sent (Events API), if anywhere.
    pub request_url: Option<String>,
    pub created_by: Uuid,
    pub created_at: String,
}

impl From<BotRow> for Bot {
    fn from(row: BotRow) -> Self {
        Bot {
            id: row.id,
            user_id: row.user_id,
            workspace_id: row.workspace_id,
            name: row.name,
            avatar_url: row.avatar_url,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            request_url: row.request_url,
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
        }
    }
}

/// A new bot, with its secrets (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct BotCreated {
    #[serde(flatten)]
    pub bot: Bot,
    /// The bot token (`xoxb-…`), for `Authorization: Bearer`.
    pub token: String,
    /// Signs the events sent to the request URL (`X-Slack-Signature`).
    pub signing_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotList {
    pub bots: Vec<Bot>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBot {
    pub name: String,
    /// Slack scope names (`chat:write`, `channels:history`, …); every scope when absent.
    pub scopes: Option<Vec<String>>,
    /// An `http(s)` URL that answers the `url_verification` challenge.
    pub request_url: Option<String>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateBot {
    /// A new request URL (verified with a challenge first), or null to stop sending events.
    pub request_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    /// The workspace the token acts in on the Slack API, when it was made for one.
    pub workspace_id: Option<Uuid>,
    /// The token's last four characters.
    pub hint: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<TokenRow> for Token {
    fn from(row: TokenRow) -> Self {
        Token {
            id: row.id,
            name: row.name,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            workspace_id: row.workspace_id,
            hint: row.hint,
            created_at: rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub info: Token,
    /// The personal access token (`xoxp-…`), shown this once.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateToken {
    pub name: String,
    pub scopes: Option<Vec<String>>,
    /// The workspace the token acts in on the Slack API (where a request names none).
    pub workspace_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub channel_id: Uuid,
    /// The webhook's own user: what its messages are attributed to.
    pub user_id: Uuid,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        Webhook {
            id: row.id,
            channel_id: row.channel_id,
            user_id: row.user_id,
            name: row.name,
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// POST `{text}` here (no other credentials); shown this once.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhook {
    pub channel_id: Uuid,
    /// The name its messages show; "Incoming webhook" when absent.
    pub name: Option<String>,
}

/// Only owners and admins manage bots; others get 403, outsiders 404.
async fn require_admin(state: &AppState, ws: Uuid, user_id: Uuid) -> MessageResult<()> {
    let member = workspace_member(state, ws, user_id).await?;
    if member.role.is_admin() {
        Ok(())
    } else {
        Err(MessageError::forbidden("only owners and admins manage bots"))
    }
}

fn name(raw: &str) -> MessageResult<String> {
    let name = ShortText::parse("name", raw, MAX_NAME)?.into_inner();
    if name.is_empty() {
        return Err(Invalid::new("name", "must not be empty").into());
    }
    Ok(name)
}

fn parse_scopes(requested: Option<&[String]>) -> MessageResult<String> {
    scopes::parse(requested).map_err(|e| Invalid::new("scopes", e).into())
}

/// An `http` or `https` URL with a host.
pub fn parse_url(field: &'static str, raw: &str) -> MessageResult<String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(Invalid::new(field, format!("must be at most {MAX_URL} characters")).into());
    }
    let url = url::Url::parse(raw).map_err(|e| Invalid::new(field, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Invalid::new(field, "must be an http or https URL").into());
    }
    Ok(url.to_string())
}

/// Integrations (bots, webhooks) are users of their own: these events tell the other services
/// (user-service keeps them as accounts with `is_bot`).
fn integration_events(
    kind: &str,
    id: Uuid,
    user_id: Uuid,
    workspace_id: Uuid,
    name: &str,
    avatar_url: &str,
    now: i64,
) -> Vec<echo_events::Envelope> {
    let member = Member {
        user_id,
        role: Role::Member,
        joined_at: rfc3339(now),
    };
    vec![
        crate::events::workspace_member("member_joined", workspace_id, &member),
        echo_events::Envelope::new(
            "bot.created",
            crate::events::VERSION,
            crate::events::PRODUCER,
            json!({"kind": kind, "bot_id": id, "user_id": user_id, "workspace_id": workspace_id,
                   "name": name, "avatar_url": avatar_url}),
        ),
    ]
}

/// Create a bot (owners and admins): a user of its own with a token, shown once. With a
/// `request_url`, the URL must first answer the `url_verification` challenge.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/bots", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")), request_body = CreateBot,
    responses((status = 201, body = BotCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn create_bot(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Json(body): Json<CreateBot>,
) -> MessageResult<(StatusCode, Json<BotCreated>)> {
    require_admin(&state, ws, caller.user_id).await?;
    let name = name(&body.name)?;
    let scopes = parse_scopes(body.scopes.as_deref())?;
    let avatar_url = match body.avatar_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(raw) => parse_url("avatar_url", raw)?,
        None => String::new(),
    };
    let request_url = match body.request_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(raw) => Some(parse_url("request_url", raw)?),
        None => None,
    };
    let signing_secret = auth::secret()?;
    if let Some(url) = &request_url {
        state.bot_events.verify_url(url, &signing_secret).await?;
    }
    let (token, token_hash, hint) = auth::generate(auth::BOT_PREFIX)?;
    let now = now_ms();
    let row = BotRow {
        id: new_id(),
        workspace_id: ws,
        user_id: new_id(),
        name: name.clone(),
        avatar_url,
        scopes: scopes.clone(),
        request_url,
        signing_secret: signing_secret.clone(),
        created_by: caller.user_id,
        created_at: now,
    };
    let new_token = NewToken {
        id: new_id(),
        token_hash,
        hint,
        user_id: row.user_id,
        bot_id: Some(row.id),
        workspace_id: Some(ws),
        name: name.clone(),
        scopes,
        created_at: now,
    };
    let events = integration_events("bot", row.id, row.user_id, ws, &name, &row.avatar_url, now);
    state.integrations.create_bot(&row, &new_token, &events).await?;
    state.published();
    Ok((
        StatusCode::CREATED,
        Json(BotCreated {
            bot: row.into(),
            token,
            signing_secret,
        }),
    ))
}

/// The workspace's bots (any member).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/bots", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, body = BotList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn list_bots(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Json<BotList>> {
    workspace_member(&state, ws, caller.user_id).await?;
    let bots = state
        .integrations
        .bots(ws)
        .await?
        .into_iter()
        .map(Bot::from)
        .collect();
    Ok(Json(BotList { bots }))
}

async fn bot_of(state: &AppState, ws: Uuid, id: Uuid) -> MessageResult<BotRow> {
    state
        .integrations
        .bot(id)
        .await?
        .filter(|b| b.workspace_id == ws)
        .ok_or(MessageError::NotFound("bot"))
}

/// Set or clear a bot's request URL (owners and admins); a new URL must answer the challenge.
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/bots/{id}", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ("id" = Uuid, Path, description = "bot id")),
    request_body = UpdateBot,
    responses((status = 200, body = Bot), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, bot_id = %id))]
async fn update_bot(
    State(state): State<AppState>,
    caller: Caller,
    Path((ws, id)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateBot>,
) -> MessageResult<Json<Bot>> {
    require_admin(&state, ws, caller.user_id).await?;
    let bot = bot_of(&state, ws, id).await?;
    let url = match body.request_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(raw) => Some(parse_url("request_url", raw)?),
        None => None,
    };
    if let Some(url) = &url {
        state.bot_events.verify_url(url, &bot.signing_secret).await?;
    }
    if !state.integrations.set_request_url(id, url.as_deref()).await? {
        return Err(MessageError::NotFound("bot"));
    }
    Ok(Json(bot_of(&state, ws, id).await?.into()))
}

/// Revoke a bot (owners and admins): its token stops working at once and its pending events are
/// dropped; its messages stay, attributed to it.
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/bots/{id}", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ("id" = Uuid, Path, description = "bot id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, bot_id = %id))]
async fn delete_bot(
    State(state): State<AppState>,
    caller: Caller,
    Path((ws, id)): Path<(Uuid, Uuid)>,
) -> MessageResult<StatusCode> {
    require_admin(&state, ws, caller.user_id).await?;
    if !state.integrations.revoke_bot(ws, id, now_ms()).await? {
        return Err(MessageError::NotFound("bot"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Create a personal access token (`xoxp-…`) that acts as you, within its scopes; shown once.
/// API tokens cannot create tokens.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "integrations", security(("bearer" = [])),
    request_body = CreateToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateToken>,
) -> MessageResult<(StatusCode, Json<TokenCreated>)> {
    let name = name(&body.name)?;
    let scopes = parse_scopes(body.scopes.as_deref())?;
    if let Some(ws) = body.workspace_id {
        workspace_member(&state, ws, caller.user_id).await?;
    }
    let (token, token_hash, hint) = auth::generate(auth::USER_PREFIX)?;
    let new = NewToken {
        id: new_id(),
        token_hash,
        hint,
        user_id: caller.user_id,
        bot_id: None,
        workspace_id: body.workspace_id,
        name,
        scopes,
        created_at: now_ms(),
    };
    state.integrations.create_token(&new).await?;
    let info = Token {
        id: new.id,
        name: new.name,
        scopes: new.scopes.split_whitespace().map(str::to_owned).collect(),
        workspace_id: new.workspace_id,
        hint: new.hint,
        created_at: rfc3339(new.created_at),
        last_used_at: None,
    };
    Ok((StatusCode::CREATED, Json(TokenCreated { info, token })))
}

/// Your personal access tokens (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "integrations", security(("bearer" = [])),
    responses((status = 200, body = TokenList)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list_tokens(State(state): State<AppState>, caller: Caller) -> MessageResult<Json<TokenList>> {
    let tokens = state
        .integrations
        .tokens_of(caller.user_id)
        .await?
        .into_iter()
        .map(Token::from)
        .collect();
    Ok(Json(TokenList { tokens }))
}

/// Revoke one of your personal access tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, token_id = %id))]
async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    if !state
        .integrations
        .revoke_token(id, caller.user_id, now_ms())
        .await?
    {
        return Err(MessageError::NotFound("token"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Where clients reach Echo, for URLs handed out: the request's own host (as the gateway saw it),
/// else the configured public URL.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(',').next().unwrap_or(s).trim().to_owned())
    };
    let host = header("x-forwarded-host").or_else(|| header("host")).filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    match host {
        Some(host) => {
            let scheme = header("x-forwarded-proto")
                .filter(|p| p == "https")
                .unwrap_or_else(|| "http".to_owned());
            format!("{scheme}://{host}")
        }
        None => state
            .config
            .notifications
            .public_url
            .trim_end_matches('/')
            .to_owned(),
    }
}

/// Create an incoming webhook for a channel you can post in (not guests): a secret URL that
/// posts `{text}` into it as the webhook's own user.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/webhooks", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")), request_body = CreateWebhook,
    responses((status = 201, body = WebhookCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ws): Path<Uuid>,
    Json(body): Json<CreateWebhook>,
) -> MessageResult<(StatusCode, Json<WebhookCreated>)> {
    let member = workspace_member(&state, ws, caller.user_id).await?;
    if member.role == Role::Guest {
        return Err(MessageError::forbidden("guests cannot add webhooks"));
    }
    let access = channel_access(&state, body.channel_id, caller.user_id).await?;
    if access.channel.workspace_id != ws {
        return Err(MessageError::NotFound("channel"));
    }
    access.require_member()?;
    access.writable()?;
    let name = name(body.name.as_deref().unwrap_or("Incoming webhook"))?;
    let (secret, secret_hash, _) = auth::generate("")?;
    let now = now_ms();
    let row = WebhookRow {
        id: new_id(),
        workspace_id: ws,
        channel_id: body.channel_id,
        user_id: new_id(),
        name: name.clone(),
        created_by: caller.user_id,
        created_at: now,
    };
    let mut events = integration_events("webhook", row.id, row.user_id, ws, &name, "", now);
    events.push(crate::events::channel_member(true, &access.channel, row.user_id));
    state
        .integrations
        .create_webhook(&row, &secret_hash, &events)
        .await?;
    state.published();
    let url = format!("{}/hooks/{secret}", public_base(&state, &headers));
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            webhook: row.into(),
            url,
        }),
    ))
}

/// The workspace's webhooks (any member; never their URLs).
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/webhooks", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, body = WebhookList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Json<WebhookList>> {
    workspace_member(&state, ws, caller.user_id).await?;
    let webhooks = state
        .integrations
        .webhooks(ws)
        .await?
        .into_iter()
        .map(Webhook::from)
        .collect();
    Ok(Json(WebhookList { webhooks }))
}

/// Revoke a webhook (its creator, or owners and admins).
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/webhooks/{id}", tag = "integrations", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ("id" = Uuid, Path, description = "webhook id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, webhook_id = %id))]
async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path((ws, id)): Path<(Uuid, Uuid)>,
) -> MessageResult<StatusCode> {
    let member = workspace_member(&state, ws, caller.user_id).await?;
    let hook = state
        .integrations
        .webhooks(ws)
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .ok_or(MessageError::NotFound("webhook"))?;
    if hook.created_by != caller.user_id && !member.role.is_admin() {
        return Err(MessageError::forbidden(
            "only its creator, owners and admins revoke a webhook",
        ));
    }
    state.integrations.revoke_webhook(ws, id, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The API token a request came with, if it came with one (sessions have none).
pub fn token_of(extensions: &axum::http::Extensions) -> Option<ApiToken> {
    extensions.get::<ApiToken>().cloned()
}
