//! Files: uploads streamed into one object-store interface ([`store`]: local disk in embedded
//! mode, an S3-compatible bucket in scaled mode), their type sniffed from the bytes and their names
//! made safe ([`upload`]), thumbnails of images made off the async runtime ([`thumbnail`]), and the
//! endpoints ([`http`]) that serve them only to who may read them, in a way a browser cannot
//! execute.
//!
//! Who may read a file: its uploader (until they delete it), anyone who can read a channel where a
//! live message shows it, and, for a file uploaded with `purpose=avatar`, anyone who shares a
//! workspace with the uploader (profile pictures are seen wherever their owner appears).

pub mod http;
pub mod store;
pub mod thumbnail;
pub mod upload;

use uuid::Uuid;

use self::store::{FileStore, content_key, thumbnail_key};

/// Makes and stores the thumbnail of the stored image `id`, fitting in `px` × `px`.
pub async fn store_thumbnail(files: &FileStore, id: Uuid, px: u32) -> anyhow::Result<()> {
    let source = files.read(&content_key(id)).await?;
    let png = thumbnail::make_blocking(source, px).await?;
    files.put(&thumbnail_key(id), png.into()).await
}
