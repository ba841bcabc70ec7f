//! Receiving an upload: the `file` field is written to the object store as it arrives (never
//! held whole in memory), counted against the size limit, and its type is sniffed from its first
//! bytes; the client's content type and name are not trusted.

use anyhow::Context;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use echo_http::ApiError;
use uuid::Uuid;

use super::store::{FileStore, content_key};
use crate::error::{MessageError, MessageResult};

/// How much of the start of a file is kept to sniff its type and, for text, to index it.
pub const HEAD_BYTES: usize = 16 * 1024;
/// The longest file name kept, in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// Parts in flight to the store at once: with 5 MiB parts this bounds an upload's memory.
const MAX_PARTS_IN_FLIGHT: usize = 2;

/// What arrived, with the bytes already stored under `content_key(id)`.
#[derive(Debug)]
pub struct Received {
    pub id: Uuid,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// The head of a text file, for search; empty otherwise.
    pub text_content: String,
    pub workspace_id: Option<String>,
    pub purpose: Option<String>,
}

/// A name safe to store and to put in a `Content-Disposition`: the last path component, without
/// control characters, at most [`MAX_NAME_BYTES`] bytes.
pub fn sanitize_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim();
    let mut name = String::new();
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        name.push(c);
    }
    if name.is_empty() || name == "." || name == ".." {
        "file".to_owned()
    } else {
        name
    }
}

/// What search reads of a file: the head of a plain-text file (a character cut at the end
/// dropped), nothing of others.
pub fn text_head(content_type: &str, bytes: &[u8]) -> String {
    if !content_type.starts_with("text/plain") {
        return String::new();
    }
    String::from_utf8_lossy(&bytes[..bytes.len().min(HEAD_BYTES)])
        .trim_end_matches('\u{FFFD}')
        .to_owned()
}

/// The type of a file from its first bytes: a known signature, else UTF-8 text, else binary.
pub fn sniff(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    match std::str::from_utf8(head) {
        Ok(_) => "text/plain; charset=utf-8".to_owned(),
        // Cut at the end of the head in the middle of a character: still text.
        Err(e) if e.error_len().is_none() => "text/plain; charset=utf-8".to_owned(),
        Err(_) => "application/octet-stream".to_owned(),
    }
}

fn multipart_error(error: MultipartError) -> MessageError {
    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        MessageError::Client(ApiError::too_large("the upload is larger than allowed"))
    } else {
        MessageError::Client(ApiError::bad_request(
            "bad_multipart",
            format!("the multipart body is malformed: {error}"),
        ))
    }
}

fn too_large(max_bytes: u64) -> MessageError {
    MessageError::Client(ApiError::too_large(format!(
        "files are limited to {max_bytes} bytes"
    )))
}

/// Reads the multipart body, streaming `file` into `store`. On any failure after the bytes began
/// to be stored, they are removed again.
pub async fn receive(store: &FileStore, mut multipart: Multipart, max_bytes: u64) -> MessageResult<Received> {
    let id = echo_domain::new_id();
    let mut stored: Option<(String, u64, String, String)> = None;
    let mut workspace_id = None;
    let mut purpose = None;
    let outcome: MessageResult<()> = async {
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") if stored.is_none() => {
                    let name = sanitize_name(field.file_name().unwrap_or("file"));
                    let mut writer = store.writer(&content_key(id)).await?;
                    let mut head: Vec<u8> = Vec::with_capacity(HEAD_BYTES);
                    let mut size: u64 = 0;
                    let copied: MessageResult<()> = async {
                        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                            size += chunk.len() as u64;
                            if size > max_bytes {
                                return Err(too_large(max_bytes));
                            }
                            if head.len() < HEAD_BYTES {
                                let take = (HEAD_BYTES - head.len()).min(chunk.len());
                                head.extend_from_slice(&chunk[..take]);
                            }
                            writer
                                .wait_for_capacity(MAX_PARTS_IN_FLIGHT)
                                .await
                                .context("uploading a part")?;
                            writer.put(chunk);
                        }
                        Ok(())
                    }
                    .await;
                    if let Err(e) = copied {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                    writer.finish().await.context("finishing the upload")?;
                    let content_type = sniff(&head);
                    let text_content = text_head(&content_type, &head);
                    stored = Some((name, size, content_type, text_content));
                }
                Some("workspace_id") => {
                    workspace_id = Some(field.text().await.map_err(multipart_error)?.trim().to_owned())
                }
                Some("purpose") => {
                    purpose = Some(field.text().await.map_err(multipart_error)?.trim().to_owned())
                }
                // Unknown fields are drained and ignored, as JSON ignores unknown keys.
                _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        if stored.is_some() {
            let _ = store.delete(&content_key(id)).await;
        }
        return Err(e);
    }
    let Some((name, size, content_type, text_content)) = stored else {
        return Err(MessageError::Client(ApiError::bad_request(
            "missing_file",
            "the multipart body has no `file` field",
        )));
    };
    Ok(Received {
        id,
        name,
        size,
        content_type,
        text_content,
        workspace_id,
        purpose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitize_name(".."), "file");
        assert_eq!(sanitize_name(""), "file");
        assert!(sanitize_name(&"é".repeat(300)).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff("héllo".as_bytes()), "text/plain; charset=utf-8");
        assert_eq!(sniff(&[0xff, 0x00, 0xfe, 0x01, 0x80]), "application/octet-stream");
    }
}
