//! Re-embedding every stored message, outside the running service (`echo-server ai reindex`):
//! after the model changed, or when it was fetched after messages had arrived under the lexical
//! fallback.
//!
//! Pages of messages are read in id order (so memory stays bounded whatever the store holds),
//! embedded on the blocking pool and written back with the same guarded update the embedding
//! worker uses: a vector is stored only if its message still has the text it was computed from,
//! so running this beside a live service cannot overwrite an edit. The service reads vectors from
//! the store when it starts, so the new ones are used from its next start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use echo_db::Db;
use uuid::Uuid;

use crate::MIGRATIONS;
use crate::config::Config;
use crate::embed::{self, Embedder};
use crate::store::{self, AiStore, NewVector};

/// Messages embedded per page, in model batches of `embed_batch`: several batches per page
/// lets the embedder group texts of similar length (less padding) while progress still moves
/// every few seconds.
const BATCHES_PER_PAGE: usize = 4;

/// Where a reindex stands, reported after every page.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    /// Live messages counted at the start, raised if more arrived since.
    pub total: u64,
}

/// What a finished reindex did.
#[derive(Debug, Clone)]
pub struct Report {
    pub embedded: u64,
    pub elapsed: Duration,
    pub model: &'static str,
}

/// The model directory is empty or incomplete.
#[derive(Debug, thiserror::Error)]
#[error("no embedding model in {}", dir.display())]
pub struct ModelMissing {
    pub dir: PathBuf,
}

/// Re-embeds every live message of the store `config` names, calling `progress` after each page.
pub async fn reindex(config: &Config, mut progress: impl FnMut(Progress)) -> anyhow::Result<Report> {
    let dir = config.resolved_model_dir();
    if !embed::model_present(&dir) {
        return Err(ModelMissing { dir }.into());
    }
    let batch = config.embed_batch.max(1);
    let load_dir = dir.clone();
    let embedder = tokio::task::spawn_blocking(move || Embedder::load(&load_dir, batch))
        .await
        .context("the model loading task failed")?
        .with_context(|| format!("loading the embedding model from {}", dir.display()))?;
    let embedder = Arc::new(embedder);
    let db = Db::connect(&config.database_url, &MIGRATIONS, Default::default())
        .await
        .context("opening the AI store")?;
    let store = store::for_db(&db);
    let result = reindex_store(store.as_ref(), embedder, batch * BATCHES_PER_PAGE, &mut progress).await;
    db.close().await;
    result
}

/// The loop of [`reindex`] over an open store.
pub async fn reindex_store(
    store: &dyn AiStore,
    embedder: Arc<Embedder>,
    page: usize,
    progress: &mut impl FnMut(Progress),
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut total = store.count_messages().await.context("counting messages")?;
    let page = u32::try_from(page.max(1)).unwrap_or(u32::MAX);
    let mut done = 0;
    let mut after = Uuid::nil();
    progress(Progress { done, total });
    loop {
        let messages = store
            .message_texts_after(after, page)
            .await
            .context("reading messages")?;
        let Some(last) = messages.last() else { break };
        after = last.id;
        let texts: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
        let vectors = embed::embed_in_background(embedder.clone(), texts).await?;
        let rows: Vec<NewVector> = messages
            .into_iter()
            .zip(&vectors)
            .map(|(m, v)| NewVector {
                id: m.id,
                text: m.text,
                bytes: embed::to_bytes(v),
            })
            .collect();
        store
            .set_embeddings(&rows, embedder.name())
            .await
            .context("storing embeddings")?;
        done += rows.len() as u64;
        total = total.max(done);
        progress(Progress { done, total });
    }
    Ok(Report {
        embedded: done,
        elapsed: started.elapsed(),
        model: embedder.name(),
    })
}
