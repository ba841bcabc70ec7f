//! The file endpoints. Content is served so that no browser runs it: only raster images are
//! `inline`, everything else is an `attachment`; every file response carries `nosniff` and a
//! sandboxing CSP. The gateway lets `GET /api/v1/files/{id}/content` through without checking the
//! token (room for signed URLs later), so the `Caller` extractor here is what authenticates it.

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_http::{ApiError, ErrorBody, Json, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::store::{content_key, thumbnail_key};
use super::thumbnail;
use super::upload::{self, Received};
use crate::error::{MessageError, MessageResult};
use crate::http::access::workspace_member;
use crate::model::FileObject;
use crate::state::AppState;
use crate::store::{FileDeletion, FileRow, NewFile};

/// Multipart framing on top of the file itself.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;

pub fn router(max_bytes: u64) -> OpenApiRouter<AppState> {
    let limit = usize::try_from(max_bytes.saturating_add(MULTIPART_OVERHEAD)).unwrap_or(usize::MAX);
    OpenApiRouter::new()
        .routes(routes!(upload_file, list_files))
        .routes(routes!(get_file, delete_file))
        .routes(routes!(file_content))
        .routes(routes!(file_thumbnail))
        .layer(DefaultBodyLimit::max(limit))
}

/// The multipart form of an upload (for the API description; the body is read as a stream).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The workspace the file belongs to (optional for avatars).
    workspace_id: Option<Uuid>,
    /// `message` (the default) or `avatar`: an avatar is readable by everyone who shares a
    /// workspace with the uploader.
    purpose: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FileListQuery {
    pub workspace_id: Option<Uuid>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileList {
    pub files: Vec<FileObject>,
}

/// Upload a file (multipart: `file`, `workspace_id`, optional `purpose`). Its type is read from
/// its bytes; its name loses any path. 413 beyond `messages.files.max_bytes`.
#[utoipa::path(post, path = "/api/v1/files", tag = "files", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileObject), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn upload_file(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> MessageResult<(StatusCode, Json<FileObject>)> {
    // axum's own rejection (no multipart Content-Type, or no boundary) is plain text.
    let multipart = multipart.map_err(|_| {
        ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected a multipart/form-data body",
        )
    })?;
    let received = upload::receive(&state.files, multipart, state.config.files.max_bytes).await?;
    let id = received.id;
    match record(&state, &caller, received).await {
        Ok(file) => {
            state.published();
            Ok((StatusCode::CREATED, Json(file)))
        }
        Err(e) => {
            state.files.remove_file(id).await;
            Err(e)
        }
    }
}

/// Checks where the upload belongs, makes its thumbnail and records it.
async fn record(state: &AppState, caller: &Caller, received: Received) -> MessageResult<FileObject> {
    let purpose = match received.purpose.as_deref().unwrap_or("message") {
        "" | "message" => "message",
        "avatar" => "avatar",
        _ => return Err(echo_domain::Invalid::new("purpose", "must be message or avatar").into()),
    };
    let workspace_id = match received.workspace_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = Uuid::parse_str(raw)
                .map_err(|_| echo_domain::Invalid::new("workspace_id", "is not an id"))?;
            workspace_member(state, id, caller.user_id).await?;
            Some(id)
        }
        None if purpose == "avatar" => None,
        None => return Err(echo_domain::Invalid::new("workspace_id", "is required").into()),
    };
    let has_thumbnail = if thumbnail::is_raster_image(&received.content_type)
        && received.size <= thumbnail::MAX_SOURCE_BYTES
    {
        match super::store_thumbnail(&state.files, received.id, state.config.files.thumbnail_px).await {
            Ok(()) => true,
            Err(e) => {
                // A picture the decoder rejects is still a file: it is served, just not previewed.
                tracing::info!(file_id = %received.id, error = format!("{e:#}"), "no thumbnail");
                false
            }
        }
    } else {
        false
    };
    let row = FileRow {
        id: received.id,
        workspace_id,
        uploader_id: caller.user_id,
        name: received.name,
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        content_type: received.content_type,
        has_thumbnail,
        purpose: purpose.to_owned(),
        created_at: now_ms(),
        detached_at: None,
    };
    state
        .store
        .create_file(&NewFile {
            row: row.clone(),
            text_content: received.text_content,
        })
        .await?;
    Ok(row.to_object())
}

async fn readable(state: &AppState, id: Uuid, user_id: Uuid) -> MessageResult<FileRow> {
    state
        .store
        .readable_file(id, user_id)
        .await?
        .ok_or(MessageError::NotFound("file"))
}

/// The caller's own files, newest first (files they deleted are not listed).
#[utoipa::path(get, path = "/api/v1/files", tag = "files", security(("bearer" = [])), params(FileListQuery),
    responses((status = 200, body = FileList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list_files(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FileListQuery>,
) -> MessageResult<Json<FileList>> {
    // Another workspace is not found, like everything of it.
    if let Some(ws) = query.workspace_id {
        workspace_member(&state, ws, caller.user_id).await?;
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let rows = state
        .store
        .files_of(caller.user_id, query.workspace_id, limit)
        .await?;
    Ok(Json(FileList {
        files: rows.iter().map(FileRow::to_object).collect(),
    }))
}

/// A file's metadata (its uploader, and members of a channel where it was shared).
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "file id")),
    responses((status = 200, body = FileObject), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, file_id = %id))]
async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<Json<FileObject>> {
    Ok(Json(readable(&state, id, caller.user_id).await?.to_object()))
}

/// Delete one's own file. When messages still show it, it disappears from the uploader's list
/// and stays until those messages are deleted; otherwise its bytes are removed now.
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "file id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, file_id = %id))]
async fn delete_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    match state.store.delete_file(id, caller.user_id).await? {
        FileDeletion::Freed => {
            state.files.remove_file(id).await;
            Ok(StatusCode::NO_CONTENT)
        }
        FileDeletion::Detached => Ok(StatusCode::NO_CONTENT),
        FileDeletion::NotFound => {
            readable(&state, id, caller.user_id).await?;
            Err(MessageError::forbidden("only the uploader deletes a file"))
        }
    }
}

/// The bytes of a file; `Range: bytes=a-b` gives a 206 with that slice.
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "file id")),
    responses((status = 200, description = "the bytes"), (status = 206, description = "a range of the bytes"),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, file_id = %id))]
async fn file_content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> MessageResult<Response> {
    let file = readable(&state, id, caller.user_id).await?;
    let size = u64::try_from(file.size).unwrap_or(0);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(raw) => match parse_range(raw, size) {
            Some(range) => Some(range),
            None => {
                let mut response = ApiError::client(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "bad_range",
                    "the range is not satisfiable",
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, value);
                }
                return Ok(response);
            }
        },
    };
    let (stream, _) = state.files.stream(&content_key(id), range.clone()).await?;
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    safe_headers(headers, &file.content_type, &file.name);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    match range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
            if let Ok(value) =
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
            {
                headers.insert(header::CONTENT_RANGE, value);
            }
        }
        None => {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    Ok(response)
}

/// An image's thumbnail (PNG, at most `messages.files.thumbnail_px` on a side).
#[utoipa::path(get, path = "/api/v1/files/{id}/thumbnail", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "file id")),
    responses((status = 200, description = "a PNG"), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, file_id = %id))]
async fn file_thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<Response> {
    let file = readable(&state, id, caller.user_id).await?;
    if !file.has_thumbnail {
        return Err(MessageError::NotFound("thumbnail"));
    }
    let png = state.files.read(&thumbnail_key(id)).await?;
    let mut response = Response::new(Body::from(png));
    safe_headers(response.headers_mut(), "image/png", &format!("{}.png", file.name));
    Ok(response)
}

/// Headers that keep a browser from executing or sniffing what it is given.
fn safe_headers(headers: &mut HeaderMap, content_type: &str, name: &str) {
    let inline = thumbnail::is_raster_image(content_type);
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        encode_filename(name)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    // Readers can lose access, so shared caches must not keep a copy.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
}

/// RFC 8187 encoding of a file name: attr-chars as they are, every other byte as `%XX`.
pub fn encode_filename(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One `bytes=` range over an object of `size` bytes, as a half-open range.
pub fn parse_range(raw: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = raw.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some(start..end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_http_means_them() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(0..10));
        assert_eq!(parse_range("bytes=90-", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Some(90..100));
        assert_eq!(parse_range("bytes=95-200", 100), Some(95..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=0-1,4-5", 100), None);
    }

    #[test]
    fn file_names_are_encoded_for_headers() {
        assert_eq!(encode_filename("a b\"é.txt"), "a%20b%22%C3%A9.txt");
    }
}
