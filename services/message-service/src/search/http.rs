//! `GET /api/v1/workspaces/{ws}/search`.

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_http::{ApiError, ErrorBody, Json, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::highlight::{highlight, matches};
use super::query::{self, Term};
use super::sql::{self, Scope};
use crate::error::{MessageError, MessageResult};
use crate::http::access::workspace_member;
use crate::model::{Message, Role};
use crate::state::AppState;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
/// Deeper than this, a search should be narrowed rather than paged.
const MAX_OFFSET: i64 = 10_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words, `"phrases"`, `-excluded`, `from:@user`, `in:#channel`, `before:`/`after:YYYY-MM-DD`,
    /// `has:file`, `has:link`, `is:thread`, `mentions:me`.
    pub q: String,
    /// Results per page (default 50, at most 200).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub message: Message,
    pub channel_id: Uuid,
    /// The matching text, HTML-escaped, with matches wrapped in `<mark>`…`</mark>`.
    pub highlight: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    pub has_more: bool,
    /// Pass as `before` for the next page; present when `has_more`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next_cursor: Option<String>,
}

/// Where a page starts in the ranking, and the instant the ranking's recency was measured from
/// (kept so that later pages rank exactly as the first did).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub offset: i64,
    pub now: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}:{}", self.offset, self.now))
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.strip_prefix("v1:")?.split(':');
        let offset = parts
            .next()?
            .parse()
            .ok()
            .filter(|o| (0..=MAX_OFFSET).contains(o))?;
        let now = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Cursor { offset, now })
    }
}

fn bad_query(message: String) -> MessageError {
    MessageError::Client(ApiError::bad_request("bad_query", message))
}

/// Search the messages of a workspace that the caller can read.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/search", tag = "search", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), SearchParams),
    responses((status = 200, body = SearchPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
    Query(params): Query<SearchParams>,
) -> MessageResult<Json<SearchPage>> {
    let member = workspace_member(&state, ws, caller.user_id).await?;
    let query = query::parse(&params.q).map_err(|e| bad_query(e.0))?;
    if query.is_empty() {
        return Err(bad_query(
            "the query is empty: give words or operators to search for".to_owned(),
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(echo_domain::Invalid::new("limit", format!("must be between 1 and {MAX_LIMIT}")).into());
    }
    let cursor = match params.before.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Cursor::decode(raw)
            .ok_or_else(|| echo_domain::Invalid::new("before", "is not a cursor from a previous page"))?,
        None => Cursor {
            offset: 0,
            now: now_ms(),
        },
    };
    let scope = Scope {
        workspace_id: ws,
        user_id: caller.user_id,
        guest: member.role == Role::Guest,
        now: cursor.now,
        offset: cursor.offset,
        limit: i64::from(limit) + 1,
    };
    let resolved = state.store.resolve_search(ws, caller.user_id, &query).await?;
    let plan = sql::build(state.store.dialect(), &query, &scope, &resolved);
    let mut hits = state.store.search(&plan).await?;
    let has_more = hits.len() > limit as usize;
    hits.truncate(limit as usize);
    let needles: Vec<&str> = query.terms.iter().map(Term::text).collect();
    let next_cursor = has_more.then(|| {
        Cursor {
            offset: cursor.offset + i64::from(limit),
            now: cursor.now,
        }
        .encode()
    });
    let results = hits
        .into_iter()
        .map(|hit| {
            // Show the message's own text unless the match is only in its files.
            let source = if needles.is_empty() || matches(&hit.message.text, &needles) {
                &hit.message.text
            } else {
                &hit.body
            };
            SearchResult {
                highlight: highlight(source, &needles),
                channel_id: hit.message.channel_id,
                message: hit.message,
            }
        })
        .collect();
    Ok(Json(SearchPage {
        results,
        has_more,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            offset: 50,
            now: 1_700_000_000_000,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v1:-5:0")), None);
    }
}
