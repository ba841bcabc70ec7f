//! Channel standings read together. Nearly every request first asks for the caller's standing in
//! a channel; a reader takes every such lookup that is waiting and answers them with one query, so
//! under load the round trip to the database is shared. A lookup alone is read at once.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

use super::{ChannelStanding, MessageStore, StoreResult};
use crate::search::sql::Dialect;

/// Lookups taken into one query at most.
const MAX_BATCH: usize = 256;

type Lookup = (
    (Uuid, Uuid),
    oneshot::Sender<StoreResult<Option<ChannelStanding>>>,
);

/// The way in to the reader; cheap to clone.
#[derive(Clone)]
pub struct StandingReader {
    sender: mpsc::Sender<Lookup>,
}

impl StandingReader {
    /// Starts the reader; it stops once every clone is gone. Lookups arriving while every query in
    /// flight is busy gather into the next one. A SQLite lookup costs little beyond its hand-off
    /// to a database thread, so one query at a time gathers the most; PostgreSQL works on several
    /// connections at once, so four there.
    pub fn spawn(store: Arc<dyn MessageStore>) -> Self {
        let queries = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        };
        let (sender, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(read(store, receiver, queries));
        Self { sender }
    }

    /// See [`MessageStore::channel_standing`].
    pub async fn standing(&self, channel_id: Uuid, user_id: Uuid) -> StoreResult<Option<ChannelStanding>> {
        let (answer, answered) = oneshot::channel();
        self.sender
            .send(((channel_id, user_id), answer))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answered.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn read(store: Arc<dyn MessageStore>, mut receiver: mpsc::Receiver<Lookup>, queries: usize) {
    let slots = Arc::new(Semaphore::new(queries));
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    // A free slot first: lookups arriving while every slot is busy gather into the next batch.
    while let Ok(slot) = slots.clone().acquire_owned().await
        && receiver.recv_many(&mut waiting, MAX_BATCH).await > 0
    {
        let batch = std::mem::take(&mut waiting);
        let store = store.clone();
        tokio::spawn(async move {
            answer(store.as_ref(), batch).await;
            drop(slot);
        });
    }
}

async fn answer(store: &dyn MessageStore, batch: Vec<Lookup>) {
    let mut wanted: Vec<(Uuid, Uuid)> = batch.iter().map(|(key, _)| *key).collect();
    wanted.sort_unstable();
    wanted.dedup();
    match store.channel_standings(&wanted).await {
        Ok(found) => {
            let found: HashMap<(Uuid, Uuid), ChannelStanding> = found
                .into_iter()
                .map(|(user_id, standing)| ((standing.channel.id, user_id), standing))
                .collect();
            for (key, answer) in batch {
                let _ = answer.send(Ok(found.get(&key).cloned()));
            }
        }
        // Each lookup gets an error of its own (they cannot be cloned): read them one by one.
        Err(_) => {
            for ((channel_id, user_id), answer) in batch {
                let _ = answer.send(store.channel_standing(channel_id, user_id).await);
            }
        }
    }
}
