//! Thumbnails of raster images, made on the blocking pool (decoding a large image takes long
//! enough to stall the async runtime) with decoder limits so a small file that claims huge
//! dimensions cannot exhaust memory.

use std::io::Cursor;

use anyhow::Context;
use image::{ImageFormat, ImageReader, Limits};

/// Images larger than this are not thumbnailed (they are still served).
pub const MAX_SOURCE_BYTES: u64 = 32 * 1024 * 1024;

/// The types a thumbnail is made for, and which are shown inline.
pub fn is_raster_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp"
    )
}

/// A PNG no larger than `max_px` on either side.
pub fn make(bytes: &[u8], max_px: u32) -> anyhow::Result<Vec<u8>> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .context("reading the image header")?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().context("decoding the image")?;
    let thumb = image.thumbnail(max_px, max_px);
    let mut out = Cursor::new(Vec::new());
    thumb
        .write_to(&mut out, ImageFormat::Png)
        .context("encoding the thumbnail")?;
    Ok(out.into_inner())
}

/// [`make`] on the blocking pool.
pub async fn make_blocking(bytes: bytes::Bytes, max_px: u32) -> anyhow::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || make(&bytes, max_px))
        .await
        .context("the thumbnail task")?
}
