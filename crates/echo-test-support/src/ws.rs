//! A WebSocket client for the real-time endpoint, as a browser would use it: a ticket over HTTP,
//! then the upgrade with `?ticket=…&cursor=…`.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::{TestApp, TestUser};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    socket: Socket,
    /// The cursor of the last frame received, for resuming.
    pub cursor: Option<String>,
}

impl WsClient {
    /// Connects as `user`, resuming after `cursor` when given.
    pub async fn connect(app: &TestApp, user: &TestUser, cursor: Option<&str>) -> anyhow::Result<WsClient> {
        let (status, body) = app
            .request(Method::POST, "/api/v1/realtime/tickets", Some(&user.token), None)
            .await;
        anyhow::ensure!(status.is_success(), "ticket: {status} {body}");
        let ticket = body["ticket"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no ticket in {body}"))?;
        let mut url = format!(
            "{}/api/v1/realtime?ticket={ticket}",
            app.base_url.replacen("http", "ws", 1)
        );
        if let Some(cursor) = cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(WsClient {
            socket,
            cursor: cursor.map(str::to_owned),
        })
    }

    /// The next JSON frame, or an error after `timeout`. Records its cursor.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        loop {
            let message = tokio::time::timeout(timeout, self.socket.next())
                .await
                .map_err(|_| anyhow::anyhow!("no frame within {timeout:?}"))?
                .ok_or_else(|| anyhow::anyhow!("socket closed"))??;
            let text = match message {
                Message::Text(text) => text.to_string(),
                Message::Close(frame) => anyhow::bail!("socket closed: {frame:?}"),
                _ => continue,
            };
            let frame: Value = serde_json::from_str(&text)?;
            if let Some(cursor) = frame["cursor"].as_str() {
                self.cursor = Some(cursor.to_owned());
            }
            return Ok(frame);
        }
    }

    /// Frames until one of type `kind` arrives (others are skipped), or an error after `timeout`.
    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next(left).await?;
            if frame["type"] == kind {
                return Ok(frame);
            }
        }
    }

    pub async fn send(&mut self, frame: Value) -> anyhow::Result<()> {
        self.socket.send(Message::Text(frame.to_string().into())).await?;
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
