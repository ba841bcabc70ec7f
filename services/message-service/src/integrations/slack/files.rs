//! Slack's upload flow (what `files_upload_v2` does): `files.getUploadURLExternal` hands out a
//! one-use URL, the client POSTs the raw bytes there (no token: the URL is the credential), and
//! `files.completeUploadExternal` records the file and shares it into a channel.
//!
//! The bytes go to the file store under the file's id as they arrive; the file is recorded only
//! at completion, when the channel (and so the workspace) is known.

use anyhow::Context;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use echo_domain::new_id;
use echo_domain::time::now_ms;
use futures::StreamExt;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Ctx, SlackError, SlackResult, methods, objects};
use crate::files::store::content_key;
use crate::files::thumbnail;
use crate::files::upload::{sanitize_name, sniff};
use crate::integrations::auth;
use crate::integrations::scopes;
use crate::integrations::store::UploadRow;
use crate::state::AppState;
use crate::store::{FileRow, NewFile};

const HEAD_BYTES: usize = 16 * 1024;
/// Upload URLs not used within this long are refused.
const UPLOAD_TTL_MS: i64 = 3600 * 1000;
const MAX_FILES: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
}

pub async fn get_upload_url(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::FILES_WRITE)?;
    let name = sanitize_name(&ctx.params.required("filename")?);
    let length: u64 = ctx
        .params
        .required("length")?
        .parse()
        .map_err(|_| SlackError::with("invalid_arguments", "length must be a number"))?;
    if length > ctx.state.config.files.max_bytes {
        return Err(SlackError::new("file_too_large"));
    }
    let (secret, secret_hash, _) = auth::generate("")?;
    let row = UploadRow {
        id: new_id(),
        secret_hash,
        user_id: ctx.user_id(),
        name,
        length: i64::try_from(length).unwrap_or(i64::MAX),
        content_type: None,
        size: None,
        text_content: None,
        created_at: now_ms(),
        uploaded_at: None,
    };
    ctx.state.integrations.create_upload(&row).await?;
    let url = format!("{}/slack/upload/{}/{secret}", ctx.base, row.id);
    Ok(methods::fields(json!({"upload_url": url, "file_id": row.id})))
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

/// The bytes of a file for an upload URL handed out by `files.getUploadURLExternal`.
#[utoipa::path(post, path = "/slack/upload/{id}/{secret}", tag = "slack",
    params(("id" = Uuid, Path, description = "the file id"), ("secret" = String, Path, description = "the URL's secret")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "`OK - <size>`"), (status = 404, description = "unknown or used URL"),
        (status = 413, description = "too large")))]
#[tracing::instrument(skip_all, fields(upload_id = %id))]
async fn upload(
    State(state): State<AppState>,
    axum::extract::Path((id, secret)): axum::extract::Path<(String, String)>,
    body: Body,
) -> Response {
    // Like every other bad upload URL, and in the same plain text.
    let Ok(id) = Uuid::parse_str(&id) else {
        return plain(StatusCode::NOT_FOUND, "invalid_upload_url");
    };
    let now = now_ms();
    let row = match state.integrations.upload(id).await {
        Ok(Some(row)) => row,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "invalid_upload_url"),
        Err(e) => return SlackError::from(e).into_response(),
    };
    let fresh = now - row.created_at < UPLOAD_TTL_MS && row.uploaded_at.is_none();
    if row.secret_hash != auth::hash(&secret) || !fresh {
        return plain(StatusCode::NOT_FOUND, "invalid_upload_url");
    }
    let max = state.config.files.max_bytes;
    match receive(&state, id, body, max).await {
        Ok(Some((size, content_type, text))) => {
            if let Err(e) = state
                .integrations
                .finish_upload(id, &content_type, size, &text, now_ms())
                .await
            {
                return SlackError::from(e).into_response();
            }
            plain(StatusCode::OK, &format!("OK - {size}"))
        }
        Ok(None) => plain(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "receiving an upload failed");
            plain(StatusCode::BAD_REQUEST, "upload_failed")
        }
    }
}

/// Streams the body into the store; None when it exceeds `max` bytes (nothing is kept then).
async fn receive(
    state: &AppState,
    id: Uuid,
    body: Body,
    max: u64,
) -> anyhow::Result<Option<(i64, String, String)>> {
    let mut writer = state.files.writer(&content_key(id)).await?;
    let mut head: Vec<u8> = Vec::with_capacity(HEAD_BYTES);
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk.context("reading the upload") {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(e);
            }
        };
        size += chunk.len() as u64;
        if size > max {
            let _ = writer.abort().await;
            return Ok(None);
        }
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        writer.wait_for_capacity(2).await.context("uploading a part")?;
        writer.put(chunk);
    }
    writer.finish().await.context("finishing the upload")?;
    let content_type = sniff(&head);
    let text = if content_type.starts_with("text/plain") {
        String::from_utf8_lossy(&head)
            .trim_end_matches('\u{FFFD}')
            .to_owned()
    } else {
        String::new()
    };
    Ok(Some((
        i64::try_from(size).unwrap_or(i64::MAX),
        content_type,
        text,
    )))
}

pub async fn complete_upload(ctx: &Ctx) -> SlackResult {
    ctx.require(scopes::FILES_WRITE)?;
    let files = match ctx.params.json("files")? {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_FILES => items,
        _ => {
            return Err(SlackError::with(
                "invalid_arguments",
                format!("files must list 1 to {MAX_FILES} uploads"),
            ));
        }
    };
    let channel = match (ctx.params.str("channel_id"), ctx.params.str("channels")) {
        (Some(_), _) => Some(methods::channel_param(ctx, "channel_id").await?),
        (None, Some(list)) => {
            let first = list.split(',').next().unwrap_or("").trim().to_owned();
            Some(methods::channel_value(ctx, &first).await?)
        }
        (None, None) => None,
    };
    let workspace_id = match channel {
        Some(ch) => {
            let access = crate::http::access::channel_access(&ctx.state, ch, ctx.user_id()).await?;
            access
                .require_member()
                .map_err(|_| SlackError::new("not_in_channel"))?;
            access.channel.workspace_id
        }
        None => ctx.workspace().await?,
    };
    let mut recorded = Vec::new();
    for item in &files {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| SlackError::with("invalid_arguments", "each file needs an id"))?;
        let title = item
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty());
        let upload = ctx
            .state
            .integrations
            .upload(id)
            .await?
            .filter(|u| u.user_id == ctx.user_id());
        let Some(upload) = upload.filter(|u| u.uploaded_at.is_some()) else {
            return Err(SlackError::with(
                "file_not_found",
                format!("{id} was not uploaded"),
            ));
        };
        let content_type = upload
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let size = upload.size.unwrap_or(0);
        let has_thumbnail = thumbnail::is_raster_image(&content_type)
            && u64::try_from(size).is_ok_and(|s| s <= thumbnail::MAX_SOURCE_BYTES)
            && crate::files::store_thumbnail(&ctx.state.files, id, ctx.state.config.files.thumbnail_px)
                .await
                .is_ok();
        let row = FileRow {
            id,
            workspace_id: Some(workspace_id),
            uploader_id: ctx.user_id(),
            name: title.map(sanitize_name).unwrap_or_else(|| upload.name.clone()),
            size,
            content_type,
            has_thumbnail,
            purpose: "message".into(),
            created_at: now_ms(),
            detached_at: None,
        };
        ctx.state
            .store
            .create_file(&NewFile {
                row: row.clone(),
                text_content: upload.text_content.clone().unwrap_or_default(),
            })
            .await?;
        ctx.state.integrations.delete_upload(id).await?;
        recorded.push(row);
    }
    ctx.state.published();
    if let Some(ch) = channel {
        let text = ctx.params.str("initial_comment").unwrap_or_default();
        methods::post(
            ctx,
            ch,
            text,
            ctx.params.str("thread_ts"),
            recorded.iter().map(|f| f.id).collect(),
        )
        .await?;
    }
    let out: Vec<Value> = recorded
        .iter()
        .map(|f| objects::file(ctx, &f.to_object()))
        .collect();
    Ok(methods::fields(json!({"files": out})))
}
