//! How a summary or an answer is produced and delivered: by the LLM endpoint when one is
//! configured (falling back to the extractive method when it fails or times out, so the feature
//! degrades instead of erroring), by the extractive method otherwise; as one JSON body, or as
//! server-sent events when the client asks for a stream: `delta` events with text as the model
//! writes it, then one `done` event carrying the same JSON body as the non-streamed answer (or
//! an `error` event).

use std::convert::Infallible;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;

use crate::engine::Core;

/// A summary or answer to produce.
#[async_trait]
pub trait Task: Send + Sync + 'static {
    type Output: Serialize + Send + 'static;
    /// The system and user prompts for the LLM; None when there is nothing to generate from
    /// (the extractive result is then the answer whatever is configured).
    fn prompt(&self) -> Option<(String, String)>;
    /// The result from the model's text.
    fn output_from(&self, text: &str, model: &str) -> Self::Output;
    /// The result without a model.
    async fn extractive(&self, core: &Core) -> anyhow::Result<Self::Output>;
}

/// Whether the client asked for a stream (`"stream": true` or `Accept: text/event-stream`).
pub fn wants_stream(flag: Option<bool>, headers: &HeaderMap) -> bool {
    flag.unwrap_or(false)
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"))
}

/// Produces the task's result as JSON.
pub async fn run<T: Task>(core: &Core, task: &T) -> anyhow::Result<T::Output> {
    if let (Some(llm), Some((system, user))) = (&core.llm, task.prompt()) {
        match llm.complete(&system, &user).await {
            Ok(text) => return Ok(task.output_from(&text, llm.model())),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "the LLM failed; answering extractively"
            ),
        }
    }
    task.extractive(core).await
}

/// Produces the task's result as server-sent events.
pub fn stream<T: Task>(core: Arc<Core>, task: T) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let done = |value: &dyn erased::Json| Event::default().event("done").data(value.to_json());
        let error = |message: String| {
            Event::default()
                .event("error")
                .data(json!({"error": {"code": "generation_failed", "message": message}}).to_string())
        };
        if let (Some(llm), Some((system, user))) = (&core.llm, task.prompt()) {
            match llm.stream(&system, &user).await {
                Ok(mut deltas) => {
                    let mut text = String::new();
                    while let Some(delta) = deltas.next().await {
                        match delta {
                            Ok(delta) => {
                                text.push_str(&delta);
                                let event = Event::default()
                                    .event("delta")
                                    .data(json!({"text": delta}).to_string());
                                if tx.send(event).await.is_err() {
                                    return; // the client went away
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = format!("{e:#}"), "the LLM stream failed");
                                let _ = tx.send(error("the model stopped answering".into())).await;
                                return;
                            }
                        }
                    }
                    let _ = tx.send(done(&task.output_from(&text, llm.model()))).await;
                    return;
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "the LLM failed; answering extractively"),
            }
        }
        let event = match task.extractive(&core).await {
            Ok(output) => done(&output),
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "extractive generation failed");
                error("internal error".into())
            }
        };
        let _ = tx.send(event).await;
    });
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

/// Serialising through a trait object, so the closure above can take any output type.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
        }
    }
}
