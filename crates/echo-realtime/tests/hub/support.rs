use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use echo_events::{Envelope, EventBus};
use echo_realtime::{ConnectionConfig, Directory, Hub, Memberships};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Memberships held in memory, standing in for message-service's database.
#[derive(Default)]
pub struct MemoryDirectory(Mutex<HashMap<Uuid, Memberships>>);

#[async_trait]
impl Directory for MemoryDirectory {
    async fn memberships(&self, user_id: Uuid) -> anyhow::Result<Memberships> {
        Ok(self.0.lock().unwrap().get(&user_id).cloned().unwrap_or_default())
    }

    async fn readable_channel(&self, user_id: Uuid, channel_id: Uuid) -> anyhow::Result<Option<Uuid>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&user_id)
            .and_then(|m| m.channels.get(&channel_id).copied()))
    }
}

#[derive(Clone)]
pub struct Harness {
    pub bus: Arc<dyn EventBus>,
    directory: Arc<MemoryDirectory>,
    url: String,
    _shutdown: Arc<ShutdownGuard>,
    _dir: Arc<tempfile::TempDir>,
}

struct ShutdownGuard(CancellationToken);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[derive(Deserialize)]
struct Params {
    user: Uuid,
    cursor: Option<String>,
}

async fn upgrade(State(hub): State<Arc<Hub>>, Query(p): Query<Params>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(4096)
        .write_buffer_size(4096)
        .on_upgrade(move |socket| hub.serve(socket, p.user, p.cursor))
}

impl Harness {
    pub async fn start(config: ConnectionConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let bus = echo_events::connect(format!("sqlite://{}", dir.path().join("events.db").display()))
            .await
            .unwrap();
        let directory = Arc::new(MemoryDirectory::default());
        let shutdown = CancellationToken::new();
        let hub = Hub::start(bus.clone(), directory.clone(), config, shutdown.clone())
            .await
            .unwrap();
        let app = Router::new().route("/ws", get(upgrade)).with_state(hub);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        let token = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await
        });
        Harness {
            bus,
            directory,
            url,
            _shutdown: Arc::new(ShutdownGuard(shutdown)),
            _dir: Arc::new(dir),
        }
    }

    pub fn join(&self, user: Uuid, workspace: Uuid, channel: Uuid) {
        let mut all = self.directory.0.lock().unwrap();
        let m = all.entry(user).or_default();
        m.workspaces.insert(workspace);
        m.channels.insert(channel, workspace);
    }

    pub async fn publish(&self, event: Envelope) {
        self.bus.publish(&[event]).await.unwrap();
    }

    pub async fn connect(&self, user: Uuid, cursor: Option<&str>) -> Client {
        let mut url = format!("{}?user={user}", self.url);
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let connecting = tokio_tungstenite::connect_async(url);
        let (socket, _) = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .expect("the hub answers the upgrade")
            .unwrap();
        Client { socket }
    }

    /// A client that connects and then never reads.
    pub async fn connect_unread(&self, user: Uuid) -> Client {
        self.connect(user, None).await
    }
}

pub struct Client {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Client {
    pub async fn next(&mut self, timeout: Duration) -> Value {
        self.next_within(timeout).await.expect("a frame in time")
    }

    pub async fn next_within(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(timeout, self.socket.next())
                .await
                .ok()??
                .ok()?;
            if let Message::Text(text) = message {
                return Some(serde_json::from_str(&text).unwrap());
            }
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// Reads whatever is buffered until the close frame, and returns its code.
    pub async fn close_code(mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout * 4;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            if let Message::Close(frame) = message {
                return frame
                    .map(|f| u16::from(f.code))
                    .or(Some(u16::from(CloseCode::Status)));
            }
        }
        None
    }
}

pub fn event(kind: &str, payload: Value) -> Envelope {
    Envelope::new(kind, 1, "test", payload)
}

pub fn message_event(workspace: Uuid, channel: Uuid, text: &str) -> Envelope {
    event(
        "message.created",
        json!({"workspace_id": workspace, "channel_id": channel, "message": {"id": Uuid::now_v7(), "text": text}}),
    )
}
