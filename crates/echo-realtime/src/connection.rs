//! One client connection: the hello, the replay of what it missed, then live frames; and what the
//! client sends (typing, ping, presence subscriptions), bounded in size and rate.
//!
//! Each connection has a reader task and a writer task: the writer drains everything queued before
//! one flush, so a burst of events costs one write, and the reader never waits behind a send.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use echo_events::{Envelope, Position};
use echo_parse::client_frame::{self, ClientFrame};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::Memberships;
use crate::audience::{Audience, audience, membership_change};
use crate::hub::{Command, ConnId, Frame, Hub, encode};

/// Close codes a client acts on: all of them mean "reconnect with your cursor".
pub mod close_code {
    /// The server is restarting or shutting down.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The client broke the frame-size or rate limits.
    pub const POLICY: u16 = 1008;
    /// The client fell too far behind; its queue overflowed.
    pub const TOO_SLOW: u16 = 4008;
    /// No sign of life from the client.
    pub const IDLE: u16 = 4000;
}

#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Frames queued for one client before it counts as too slow.
    pub queue: usize,
    /// How often the server pings.
    pub heartbeat: Duration,
    /// Silence after which the connection is dropped.
    pub idle_timeout: Duration,
    /// Frames a client may send per second, sustained (twice that in a burst).
    pub client_frames_per_sec: u32,
    /// Least time between two typing indicators from one connection.
    pub typing_interval: Duration,
    /// Largest frame a client may send, in bytes.
    pub max_client_frame: usize,
    pub producer: &'static str,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            queue: 2048,
            heartbeat: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(70),
            client_frames_per_sec: 10,
            typing_interval: Duration::from_secs(2),
            max_client_frame: 16 * 1024,
            producer: "message-service",
        }
    }
}

/// What the reader asks of the writer; one pointer wide, as every connection holds a queue of them.
enum Control {
    Pong,
    Close(&'static Closing),
}

struct Closing {
    code: u16,
    reason: &'static str,
}

impl Hub {
    /// Runs a connection for `user` until either side ends it. `cursor` is the position of the last
    /// frame the client processed, to resume from.
    pub async fn serve(self: Arc<Self>, socket: WebSocket, user: Uuid, cursor: Option<String>) {
        let (frames_tx, frames_rx) = mpsc::channel(self.config.queue);
        let (reply_tx, reply_rx) = oneshot::channel();
        if self
            .commands
            .send(Command::Register {
                user,
                frames: frames_tx,
                reply: reply_tx,
            })
            .await
            .is_err()
        {
            return;
        }
        let Ok((id, live_from)) = reply_rx.await else {
            return;
        };
        let memberships = match self.directory.memberships(user).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "cannot load memberships; closing the connection"
                );
                let _ = self.commands.send(Command::Unregister { id }).await;
                return;
            }
        };
        let _ = self
            .commands
            .send(Command::Activate {
                id,
                memberships: memberships.clone(),
            })
            .await;

        let (sink, stream) = socket.split();
        let (control_tx, control_rx) = mpsc::channel(8);
        let start = self.start_point(cursor.as_deref(), live_from).await;
        let writer = tokio::spawn(self.clone().write(
            sink,
            user,
            memberships,
            start,
            live_from,
            frames_rx,
            control_rx,
        ));
        self.read(stream, id, user, control_tx).await;
        let _ = self.commands.send(Command::Unregister { id }).await;
        let _ = writer.await;
    }

    /// Where the client's stream starts: after its cursor when the log still holds everything since,
    /// otherwise at the live position with a request to resync.
    async fn start_point(&self, cursor: Option<&str>, live_from: Option<Position>) -> Start {
        let Some(raw) = cursor.filter(|c| !c.is_empty()) else {
            return Start::Fresh;
        };
        let Ok(cursor) = raw.parse::<Position>() else {
            return Start::Resync;
        };
        let oldest = match self.bus.bounds().await {
            Ok((oldest, _)) => oldest,
            Err(_) => return Start::Resync,
        };
        let retained = oldest.is_none_or(|oldest| cursor >= oldest.before());
        let from_the_past = match live_from {
            Some(live) => cursor <= live,
            None => cursor == Position::ZERO,
        };
        if retained && from_the_past {
            Start::Resume(cursor)
        } else {
            Start::Resync
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write(
        self: Arc<Self>,
        mut sink: futures::stream::SplitSink<WebSocket, Message>,
        user: Uuid,
        memberships: Memberships,
        start: Start,
        live_from: Option<Position>,
        mut frames: mpsc::Receiver<Frame>,
        mut control: mpsc::Receiver<Control>,
    ) {
        let live_cursor = live_from.unwrap_or(Position::ZERO).to_string();
        let hello = match &start {
            Start::Resume(cursor) => {
                json!({"type": "hello", "cursor": cursor.to_string(), "data": {"resumed": true}})
            }
            _ => json!({"type": "hello", "cursor": live_cursor, "data": {"resumed": false}}),
        };
        let mut last_cursor = hello["cursor"].as_str().unwrap_or_default().to_owned();
        if sink.send(Message::Text(hello.to_string().into())).await.is_err() {
            return;
        }
        match start {
            Start::Resync => {
                let frame = json!({"type": "resync_required", "cursor": live_cursor, "data": {}});
                if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                    return;
                }
            }
            Start::Resume(cursor) => match self
                .replay(&mut sink, user, &memberships, cursor, live_from)
                .await
            {
                Ok(Some(last)) => last_cursor = last.to_string(),
                Ok(None) => {}
                Err(()) => return,
            },
            Start::Fresh => {}
        }
        drop(memberships); // only the replay needs them; the hub keeps the live ones
        if live_from.is_some() && matches!(start, Start::Resume(_)) {
            // Everything up to the live position was replayed or is not the user's to see.
            last_cursor = live_cursor;
        }

        let mut heartbeat = tokio::time::interval(self.config.heartbeat);
        heartbeat.tick().await;
        let close = loop {
            tokio::select! {
                () = self.shutdown.cancelled() => break Some((close_code::SERVICE_RESTART, "server restarting; resume with your cursor")),
                frame = frames.recv() => {
                    let Some(frame) = frame else { break Some((close_code::TOO_SLOW, "too far behind; resume with your cursor")) };
                    let mut newest = frame.0;
                    if sink.feed(Message::Text(frame.1.clone())).await.is_err() { break None }
                    let mut sent = 1u64;
                    while let Ok(frame) = frames.try_recv() {
                        newest = frame.0;
                        if sink.feed(Message::Text(frame.1.clone())).await.is_err() { break }
                        sent += 1;
                    }
                    last_cursor = newest.to_string();
                    metrics::counter!("ws_frames_sent_total").increment(sent);
                    if sink.flush().await.is_err() { break None }
                }
                control = control.recv() => match control {
                    Some(Control::Pong) => {
                        let pong = json!({"type": "pong", "cursor": last_cursor, "data": {}});
                        if sink.send(Message::Text(pong.to_string().into())).await.is_err() { break None }
                    }
                    Some(Control::Close(closing)) => break Some((closing.code, closing.reason)),
                    None => break None,
                },
                _ = heartbeat.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() { break None }
                }
            }
        };
        if let Some((code, reason)) = close {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
        }
        let _ = sink.close().await;
    }

    /// Sends the events after `cursor` up to `live_from` that the user may see. Returns the last
    /// position sent, or `Err` when the socket failed.
    async fn replay(
        &self,
        sink: &mut futures::stream::SplitSink<WebSocket, Message>,
        user: Uuid,
        memberships: &Memberships,
        cursor: Position,
        live_from: Option<Position>,
    ) -> Result<Option<Position>, ()> {
        let Some(live_from) = live_from else {
            return Ok(None);
        };
        let mut after = cursor;
        let mut last = None;
        // Workspaces of the people whose presence or profile changed, looked up once per replay.
        let mut peers: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        while after < live_from {
            let batch = match self.bus.read_after(Some(after), 500).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "replay failed");
                    return Err(());
                }
            };
            if batch.is_empty() {
                break;
            }
            for logged in batch.iter().take_while(|l| l.position <= live_from) {
                let (kind, payload) = (logged.envelope.kind.as_str(), &logged.envelope.payload);
                let about_me = membership_change(kind, payload).is_some()
                    && payload["user_id"].as_str() == Some(&user.to_string());
                let audience = audience(kind, payload);
                if let Audience::PeersOf(peer) = audience
                    && !peers.contains_key(&peer)
                {
                    let theirs = self
                        .directory
                        .memberships(peer)
                        .await
                        .map(|m| m.workspaces.into_iter().collect())
                        .unwrap_or_default();
                    peers.insert(peer, theirs);
                }
                let visible = kind != "typing"
                    && (about_me || memberships.sees(user, &audience, |u| peers.get(&u).cloned()));
                if visible {
                    sink.feed(Message::Text(encode(logged))).await.map_err(|_| ())?;
                    last = Some(logged.position);
                }
            }
            sink.flush().await.map_err(|_| ())?;
            after = batch.last().map_or(live_from, |l| l.position);
        }
        Ok(last)
    }

    async fn read(
        &self,
        mut stream: futures::stream::SplitStream<WebSocket>,
        id: ConnId,
        user: Uuid,
        control: mpsc::Sender<Control>,
    ) {
        let per_sec = f64::from(self.config.client_frames_per_sec.max(1));
        let mut allowance = per_sec * 2.0;
        let mut last_refill = Instant::now();
        let mut last_typing: Option<Instant> = None;
        loop {
            let next = tokio::select! {
                () = self.shutdown.cancelled() => return,
                next = tokio::time::timeout(self.config.idle_timeout, stream.next()) => next,
            };
            let message = match next {
                Err(_) => {
                    let _ = control
                        .send(Control::Close(&Closing {
                            code: close_code::IDLE,
                            reason: "no activity",
                        }))
                        .await;
                    return;
                }
                Ok(None | Some(Err(_))) => return,
                Ok(Some(Ok(message))) => message,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(_) => return,
                Message::Binary(_) => {
                    let _ = control
                        .send(Control::Close(&Closing {
                            code: close_code::POLICY,
                            reason: "binary frames are not accepted",
                        }))
                        .await;
                    return;
                }
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            // A token bucket: a burst of twice the rate, then the sustained rate.
            allowance = (allowance + last_refill.elapsed().as_secs_f64() * per_sec).min(per_sec * 2.0);
            last_refill = Instant::now();
            if allowance < 1.0 || text.len() > self.config.max_client_frame {
                let _ = control
                    .send(Control::Close(&Closing {
                        code: close_code::POLICY,
                        reason: "too many or too large frames",
                    }))
                    .await;
                return;
            }
            allowance -= 1.0;
            match client_frame::decode(text.as_str()) {
                Some(ClientFrame::Ping) => {
                    let _ = control.try_send(Control::Pong);
                }
                Some(ClientFrame::Typing { channel_id }) => {
                    if last_typing.is_some_and(|t| t.elapsed() < self.config.typing_interval) {
                        continue;
                    }
                    last_typing = Some(Instant::now());
                    self.publish_typing(user, channel_id).await;
                }
                Some(ClientFrame::PresenceSubscribe { user_ids }) => {
                    let users = user_ids.into_iter().collect();
                    let _ = self.commands.send(Command::WatchPresence { id, users }).await;
                }
                None => tracing::debug!("ignoring an unknown client frame"),
            }
        }
    }

    /// Typing is ephemeral but goes through the bus like everything else, so clients on other
    /// replicas see it; replays skip it.
    async fn publish_typing(&self, user: Uuid, channel: Uuid) {
        match self.directory.readable_channel(user, channel).await {
            Ok(Some(workspace)) => {
                let event = Envelope::new(
                    "typing",
                    1,
                    self.config.producer,
                    json!({"workspace_id": workspace, "channel_id": channel, "user_id": user}),
                );
                if let Err(e) = self.bus.publish(&[event]).await {
                    tracing::warn!(error = %e, "cannot publish a typing indicator");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "cannot check a typing channel"),
        }
    }
}

enum Start {
    Fresh,
    Resume(Position),
    Resync,
}
