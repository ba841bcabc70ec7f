//! The ceiling for fan-out: a bare WebSocket broadcast server with no storage, no bus and no
//! permissions. Every text frame a client sends is wrapped once in the same JSON frame shape Echo
//! sends and handed to every connection through a `tokio::sync::broadcast` channel, on the same
//! WebSocket stack (axum) Echo uses, so the gap between the two is what Echo's work costs.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

/// Frames buffered for a connection before it counts as too slow (as in Echo's hub).
const QUEUE: usize = 2048;

pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let (frames, _) = broadcast::channel::<Utf8Bytes>(QUEUE);
    let app = Router::new()
        .route("/ws", get(upgrade))
        .with_state(Arc::new(frames));
    axum::serve(listener, app).await?;
    Ok(())
}

async fn upgrade(State(frames): State<Arc<broadcast::Sender<Utf8Bytes>>>, ws: WebSocketUpgrade) -> Response {
    // The same buffer sizes as Echo's endpoint, so idle memory compares like with like.
    ws.read_buffer_size(1024)
        .write_buffer_size(4096)
        .on_upgrade(move |socket| connection(socket, frames))
}

async fn connection(socket: WebSocket, frames: Arc<broadcast::Sender<Utf8Bytes>>) {
    let (mut sink, mut stream) = socket.split();
    let mut live = frames.subscribe();
    let hello = json!({"type": "hello", "cursor": "0", "data": {"resumed": false}}).to_string();
    if sink.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        // A lagging receiver is a client too slow to keep up: drop it, as Echo does.
        while let Ok(frame) = live.recv().await {
            if sink.send(Message::Text(frame)).await.is_err() {
                break;
            }
        }
    });
    let mut position = 0u64;
    while let Some(Ok(message)) = stream.next().await {
        if let Message::Text(text) = message {
            position += 1;
            let frame = json!({"type": "message.created", "cursor": position.to_string(), "data": {"message": {"text": text.as_str()}}});
            let _ = frames.send(frame.to_string().into());
        }
    }
    writer.abort();
}
