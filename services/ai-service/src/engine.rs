//! The service's shared core: the in-memory index, the store behind it, the embedder and LLM
//! when there are any, and the embedding worker that keeps vectors up to date.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use anyhow::Context;
use echo_events::{EventBus, Position};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::embed::{self, Embedder};
use crate::index::{ChannelKind, Doc, Index};
use crate::llm::Llm;
use crate::store::{AiStore, NewVector};

/// The consumer group (and `consumer_state` row) of a replica's indexer. Every replica keeps a
/// whole index in memory, so each reads every event in a group of its own; what they write to
/// the shared store are idempotent upserts.
pub fn group(consumer_name: &str) -> String {
    format!("ai-service.{consumer_name}")
}

/// Events counted at most when measuring the lag (beyond it the status says "at least").
const LAG_SCAN_LIMIT: usize = 10_000;

pub struct Core {
    index: RwLock<Index>,
    pub store: Arc<dyn AiStore>,
    pub embedder: Option<Arc<Embedder>>,
    pub llm: Option<Llm>,
    pub bus: Arc<dyn EventBus>,
    /// The last bus position the consumer finished with.
    pub processed: std::sync::Mutex<Option<Position>>,
    /// Wakes the embedding worker when messages are queued.
    pub wake: Notify,
    /// Messages the embedding worker took off the queue and has not stored yet: still waiting.
    embedding: AtomicUsize,
    pub embed_batch: usize,
    /// This replica's consumer group.
    pub group: String,
}

impl Core {
    pub fn new(
        store: Arc<dyn AiStore>,
        embedder: Option<Arc<Embedder>>,
        llm: Option<Llm>,
        bus: Arc<dyn EventBus>,
        embed_batch: usize,
        group: String,
    ) -> Self {
        Self {
            group,
            index: RwLock::new(Index::default()),
            store,
            embedder,
            llm,
            bus,
            processed: std::sync::Mutex::new(None),
            wake: Notify::new(),
            embedding: AtomicUsize::new(0),
            embed_batch: embed_batch.max(1),
        }
    }

    /// Shared access to the index. A panic while holding the lock cannot leave the index
    /// half-updated in a way worse than a missed event, so a poisoned lock is used as is.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The embedding model's name, or `lexical`.
    pub fn embedder_name(&self) -> &'static str {
        self.embedder.as_ref().map_or("lexical", |e| e.name())
    }

    /// Rebuilds the index from the store (start-up); messages without a current embedding are
    /// queued for one.
    #[tracing::instrument(skip_all)]
    pub async fn load(&self) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let snapshot = self.store.snapshot().await.context("reading the AI store")?;
        let position = self
            .store
            .position(&self.group)
            .await
            .context("reading the consumer position")?;
        let model = self.embedder.as_ref().map(|e| e.name());
        let mut index = self.write();
        for (workspace_id, user_id, role) in &snapshot.members {
            index.set_member(*workspace_id, *user_id, Some(role));
        }
        for c in &snapshot.channels {
            index.upsert_channel(
                c.id,
                c.workspace_id,
                &c.name,
                ChannelKind::parse(&c.kind),
                c.archived,
            );
        }
        for (channel_id, user_id) in &snapshot.channel_members {
            index.set_channel_member(*channel_id, *user_id, true);
        }
        let count = snapshot.messages.len();
        for stored in snapshot.messages {
            let m = stored.message;
            let vector = match (&stored.vector.embedding, &stored.vector.embedder) {
                (Some(bytes), Some(by)) if Some(by.as_str()) == model => embed::from_bytes(bytes),
                _ => None,
            };
            let doc = Doc::new(
                m.id,
                m.workspace_id,
                m.channel_id,
                m.author_id,
                m.thread_root_id,
                m.text,
                m.created_at,
            );
            index.upsert(doc, vector.as_deref(), model.is_some());
        }
        let pending = index.pending_len();
        drop(index);
        *self.processed.lock().unwrap_or_else(|e| e.into_inner()) = position.and_then(|p| p.parse().ok());
        tracing::info!(
            messages = count,
            pending,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "AI index loaded"
        );
        self.wake.notify_one();
        Ok(())
    }

    /// Events on the bus after the last one processed, plus messages waiting for an embedding.
    pub async fn lag(&self) -> anyhow::Result<u64> {
        let after = *self.processed.lock().unwrap_or_else(|e| e.into_inner());
        let (_, newest) = self.bus.bounds().await.context("reading the bus bounds")?;
        let behind = match (newest, after) {
            (None, _) => 0,
            (Some(newest), Some(after)) if newest <= after => 0,
            _ => self
                .bus
                .read_after(after, LAG_SCAN_LIMIT)
                .await
                .context("reading the bus")?
                .len(),
        };
        let waiting = {
            let index = self.read();
            index.pending_len() + self.embedding.load(Ordering::SeqCst)
        };
        Ok((behind + waiting) as u64)
    }

    /// Messages searchable semantically (or lexically, without a model).
    pub fn indexed(&self) -> u64 {
        let index = self.read();
        (if self.embedder.is_some() {
            index.embedded_len()
        } else {
            index.doc_count()
        }) as u64
    }

    /// Embeds queued messages in bounded batches until shut down.
    pub async fn run_embedding_worker(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(embedder) = self.embedder.clone() else {
            return;
        };
        loop {
            let batch = {
                // Under the index's lock, so the lag never misses these between queue and worker.
                let mut index = self.write();
                let batch = index.take_pending(self.embed_batch);
                self.embedding.store(batch.len(), Ordering::SeqCst);
                batch
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = self.wake.notified() => continue,
                    // A periodic look as well, in case a wake-up raced with taking the batch.
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
            if let Err(error) = self.embed_batch(&embedder, batch.clone()).await {
                tracing::warn!(error = format!("{error:#}"), "embedding a batch failed; retrying");
                // Requeue: re-upserting an unchanged doc without a vector queues it again.
                {
                    let mut index = self.write();
                    for p in batch {
                        if let Some(doc) = index.doc(p.workspace_id, p.id).cloned() {
                            index.upsert(doc, None, true);
                        }
                    }
                    self.embedding.store(0, Ordering::SeqCst);
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    }

    async fn embed_batch(
        &self,
        embedder: &Arc<Embedder>,
        batch: Vec<crate::index::Pending>,
    ) -> anyhow::Result<()> {
        let texts: Vec<String> = batch.iter().map(|p| p.text.clone()).collect();
        let vectors = embed::embed_in_background(embedder.clone(), texts).await?;
        let rows: Vec<NewVector> = batch
            .iter()
            .zip(&vectors)
            .map(|(p, v)| NewVector {
                id: p.id,
                text: p.text.clone(),
                bytes: embed::to_bytes(v),
            })
            .collect();
        self.store
            .set_embeddings(&rows, embedder.name())
            .await
            .context("storing embeddings")?;
        let mut index = self.write();
        for (p, v) in batch.iter().zip(&vectors) {
            index.set_vector(p.workspace_id, p.id, &p.text, v);
        }
        self.embedding.store(0, Ordering::SeqCst);
        Ok(())
    }

    /// Embeds one query (or a few sentences) now; None without a model.
    pub async fn embed_now(&self, texts: Vec<String>) -> anyhow::Result<Option<Vec<Vec<f32>>>> {
        match &self.embedder {
            Some(embedder) => Ok(Some(embed::embed_blocking(embedder.clone(), texts).await?)),
            None => Ok(None),
        }
    }

    /// The workspace of a channel, if known.
    pub fn workspace_of(&self, channel_id: Uuid) -> Option<Uuid> {
        self.read().channel(channel_id).map(|c| c.workspace_id)
    }
}
