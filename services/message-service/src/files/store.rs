//! The object store behind files: [`object_store`]'s local file system under `files.dir`, or an
//! S3-compatible bucket when `files.s3` is configured. Bytes live under `files/<id>`, thumbnails
//! under `thumbnails/<id>`.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use uuid::Uuid;

use crate::config::FilesConfig;

#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
}

pub fn content_key(id: Uuid) -> Path {
    Path::from(format!("files/{id}"))
}

pub fn thumbnail_key(id: Uuid) -> Path {
    Path::from(format!("thumbnails/{id}"))
}

impl FileStore {
    /// The store the configuration names; the local directory is created if missing.
    pub fn open(config: &FilesConfig) -> anyhow::Result<Self> {
        let inner: Arc<dyn ObjectStore> = match &config.s3 {
            Some(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                Arc::new(builder.build().context("configuring the S3 file store")?)
            }
            None => {
                std::fs::create_dir_all(&config.dir)
                    .with_context(|| format!("creating the file directory {}", config.dir.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(&config.dir)
                        .with_context(|| format!("opening the file directory {}", config.dir.display()))?,
                )
            }
        };
        Ok(Self { inner })
    }

    /// A streaming writer: parts go out as they fill, so memory stays at a few parts whatever
    /// the file's size.
    pub async fn writer(&self, key: &Path) -> anyhow::Result<WriteMultipart> {
        let upload = self
            .inner
            .put_multipart(key)
            .await
            .context("starting an upload")?;
        Ok(WriteMultipart::new(upload))
    }

    pub async fn put(&self, key: &Path, bytes: Bytes) -> anyhow::Result<()> {
        self.inner
            .put(key, PutPayload::from(bytes))
            .await
            .context("storing an object")?;
        Ok(())
    }

    /// The whole object, for the small ones (thumbnails, images to thumbnail).
    pub async fn read(&self, key: &Path) -> anyhow::Result<Bytes> {
        let got = self.inner.get(key).await.context("reading an object")?;
        got.bytes().await.context("reading an object's bytes")
    }

    /// The object's bytes (or a range of them) as a stream, and the object's full size.
    pub async fn stream(
        &self,
        key: &Path,
        range: Option<std::ops::Range<u64>>,
    ) -> anyhow::Result<(BoxStream<'static, std::io::Result<Bytes>>, u64)> {
        let options = object_store::GetOptions {
            range: range.map(Into::into),
            ..Default::default()
        };
        let got = self
            .inner
            .get_opts(key, options)
            .await
            .context("opening an object")?;
        let size = got.meta.size;
        let stream = got.into_stream().map_err(std::io::Error::other).boxed();
        Ok((stream, size))
    }

    /// Removes an object; one already gone is not an error.
    pub async fn delete(&self, key: &Path) -> anyhow::Result<()> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context("deleting an object")),
        }
    }

    /// Removes a file's bytes and thumbnail, logging what fails: the row is already gone, so
    /// an object left behind costs space but is never served.
    pub async fn remove_file(&self, id: Uuid) {
        for key in [content_key(id), thumbnail_key(id)] {
            if let Err(e) = self.delete(&key).await {
                tracing::warn!(file_id = %id, error = format!("{e:#}"), "could not remove a freed file");
            }
        }
    }

    /// Whether the store answers (for readiness): listing one entry is enough.
    pub async fn probe(&self) -> anyhow::Result<()> {
        let mut listing = self.inner.list(Some(&Path::from("files")));
        if let Some(entry) = listing.next().await {
            entry.context("listing the file store")?;
        }
        Ok(())
    }
}
