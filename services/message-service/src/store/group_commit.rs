//! Group commit for posts: one writer task takes every post that is waiting and commits them in
//! one transaction. Under load a commit, the write lock and each statement are shared by many
//! posts; a post alone is committed at once, as before. A post is answered only after its commit.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::{MessageStore, NewMessage, StoreResult};
use crate::model::Message;

/// Posts taken into one transaction at most.
const MAX_BATCH: usize = 256;

type Answer = oneshot::Sender<StoreResult<(Message, bool)>>;

/// The way in to the writer; cheap to clone.
#[derive(Clone)]
pub struct PostQueue {
    sender: mpsc::Sender<(NewMessage, Answer)>,
}

impl PostQueue {
    /// Starts the writer; it stops once every clone of the queue is gone.
    pub fn spawn(store: Arc<dyn MessageStore>) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write(store, receiver));
        Self { sender }
    }

    /// Posts a message once it is committed; see [`MessageStore::post_messages`].
    pub async fn post(&self, new: NewMessage) -> StoreResult<(Message, bool)> {
        let (answer, answered) = oneshot::channel();
        self.sender
            .send((new, answer))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answered.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn write(store: Arc<dyn MessageStore>, mut receiver: mpsc::Receiver<(NewMessage, Answer)>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        let (batch, answers): (Vec<NewMessage>, Vec<Answer>) = waiting.drain(..).unzip();
        // A panic drops this batch's answers (their posts fail) but keeps the writer alive.
        let _ = AssertUnwindSafe(commit(store.as_ref(), batch, answers))
            .catch_unwind()
            .await;
    }
}

async fn commit(store: &dyn MessageStore, batch: Vec<NewMessage>, answers: Vec<Answer>) {
    match store.post_messages(&batch).await {
        Ok(posted) => {
            for (answer, posted) in answers.into_iter().zip(posted) {
                let _ = answer.send(Ok(posted));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(Err(error));
            }
        }
        // One post that cannot be committed must not fail the others: post them one by one.
        Err(_) => {
            for (new, answer) in batch.iter().zip(answers) {
                let _ = answer.send(store.post_message(new).await);
            }
        }
    }
}
