//! Fan-out: how fast one message reaches every connected member of a channel, and what an idle
//! connection costs, for Echo and for the bare broadcast server measured in the same run.
//!
//! Each measurement starts a fresh server process. Members connect as a browser would (Echo: an
//! account, a ticket, the WebSocket) and read every frame. Then:
//! - latency: messages are sent one at a time, each once every member has the previous one; the
//!   latency of a delivery is from just before the send (Echo: the HTTP POST) to the member's
//!   socket yielding the frame;
//! - throughput: a burst of messages is sent at once (Echo: 8 POSTs in flight), and deliveries per
//!   second is members × messages over the time from the first send to the last delivery;
//! - notifications (Echo): every message mentions the first member, so the notifier runs under the
//!   same load; a notification's latency is from just before the POST to the `notification` frame
//!   on that member's socket, reported for the one-at-a-time messages and for the burst;
//! - idle memory: the server's resident set before and after N connections are opened and left idle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::stream::{self, SplitSink};
use futures::{SinkExt, StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::server::{Kind, Server};
use crate::stats::Summary;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any one wait may take before the run counts as failed.
const PATIENCE: Duration = Duration::from_secs(120);
/// Sends in flight during the throughput burst.
const IN_FLIGHT: usize = 8;
/// Accounts created, and sockets opened, at once.
const SETUP_CONCURRENCY: usize = 32;

pub struct Options {
    pub members: Vec<usize>,
    pub latency_messages: usize,
    pub burst_messages: usize,
    pub idle_connections: usize,
}

struct Delivery {
    members: usize,
    latency: Summary,
    deliveries_per_sec: f64,
    dropped: usize,
    /// Send → `notification` frame, one at a time and in the burst (Echo only).
    notification: Option<(Summary, Summary)>,
}

pub async fn run(options: &Options) -> anyhow::Result<()> {
    println!(
        "| members | server | deliveries/s | share of ceiling | latency median | latency p99 | dropped connections |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    let mut notifications = Vec::new();
    for &members in &options.members {
        let bare = delivery(Kind::Bare, members, options).await?;
        let echo = delivery(Kind::Echo, members, options).await?;
        for (name, result) in [("bare broadcast", &bare), ("Echo", &echo)] {
            println!(
                "| {} | {name} | {:.0} | {:.0}% | {:.2} ms | {:.2} ms | {} |",
                result.members,
                result.deliveries_per_sec,
                100.0 * result.deliveries_per_sec / bare.deliveries_per_sec,
                ms(result.latency.median),
                ms(result.latency.p99),
                result.dropped
            );
        }
        notifications.extend(echo.notification.map(|n| (members, n)));
    }

    println!();
    println!(
        "| members | notification median, one at a time | p99 | notification median, burst | p99 |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for (members, (single, burst)) in notifications {
        println!(
            "| {members} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            ms(single.median),
            ms(single.p99),
            ms(burst.median),
            ms(burst.p99)
        );
    }

    println!();
    println!(
        "| server | idle connections | resident before | resident after | per connection | ratio to bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let bare = idle_memory(Kind::Bare, options.idle_connections).await?;
    let echo = idle_memory(Kind::Echo, options.idle_connections).await?;
    for (name, (before, after)) in [("bare broadcast", bare), ("Echo", echo)] {
        let per = after.saturating_sub(before) as f64 / options.idle_connections as f64;
        let bare_per = bare.1.saturating_sub(bare.0) as f64 / options.idle_connections as f64;
        println!(
            "| {name} | {} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.1}× |",
            options.idle_connections,
            mib(before),
            mib(after),
            per / 1024.0,
            per / bare_per
        );
    }
    Ok(())
}

async fn delivery(kind: Kind, members: usize, options: &Options) -> anyhow::Result<Delivery> {
    let server = Server::start(kind).await?;
    let target = Target::prepare(kind, &server.base, members, true).await?;
    let total = options.latency_messages + options.burst_messages;
    let tally = Arc::new(Tally::new(total));
    let readers = target.connect_all(members, &tally).await?;
    tally.settle().await;
    eprintln!("{kind:?}: {members} members connected");

    let delivered_before = tally.delivered.load(Ordering::SeqCst);
    for seq in 0..options.latency_messages {
        tally.mark_sent(seq);
        target.send(seq).await?;
        tally.wait_for(delivered_before + members * (seq + 1)).await?;
    }

    let burst = options.latency_messages..total;
    let started = Instant::now();
    stream::iter(burst.clone().map(Ok))
        .try_for_each_concurrent(IN_FLIGHT, |seq| {
            tally.mark_sent(seq);
            target.send(seq)
        })
        .await?;
    tally.wait_for(delivered_before + members * total).await?;
    let elapsed = started.elapsed();
    if kind == Kind::Echo {
        tally.wait_for_notifications(total).await?;
    }

    for reader in readers {
        reader.abort();
    }
    let summary = |samples: &Mutex<Vec<(usize, Duration)>>, single: bool| -> anyhow::Result<Summary> {
        let samples = samples.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(Summary::of(
            samples
                .iter()
                .filter(|(seq, _)| (*seq < options.latency_messages) == single)
                .map(|(_, d)| *d)
                .collect(),
        ))
    };
    let notification = if kind == Kind::Echo {
        Some((summary(&tally.notifications, true)?, summary(&tally.notifications, false)?))
    } else {
        None
    };
    Ok(Delivery {
        members,
        latency: summary(&tally.latencies, true)?,
        deliveries_per_sec: (members * options.burst_messages) as f64 / elapsed.as_secs_f64(),
        dropped: tally.dropped.load(Ordering::SeqCst),
        notification,
    })
}

/// The server's resident memory before and after `connections` idle sockets are opened.
async fn idle_memory(kind: Kind, connections: usize) -> anyhow::Result<(u64, u64)> {
    let server = Server::start(kind).await?;
    // Accounts share no workspace, so connecting does not send presence to anyone.
    let target = Target::prepare(kind, &server.base, connections, false).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = server.rss()?;
    let tally = Arc::new(Tally::new(0));
    let readers = target.connect_all(connections, &tally).await?;
    tally.settle().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss()?;
    anyhow::ensure!(
        tally.dropped.load(Ordering::SeqCst) == 0,
        "idle connections were dropped"
    );
    for reader in readers {
        reader.abort();
    }
    Ok((before, after))
}

/// What the members receive, counted as it arrives.
struct Tally {
    sent: Vec<OnceLock<Instant>>,
    delivered: AtomicUsize,
    frames: AtomicUsize,
    dropped: AtomicUsize,
    /// (message sequence number, send → receive) of every delivery.
    latencies: Mutex<Vec<(usize, Duration)>>,
    /// (message sequence number, send → `notification` frame) of every notification.
    notifications: Mutex<Vec<(usize, Duration)>>,
}

impl Tally {
    fn new(messages: usize) -> Tally {
        Tally {
            sent: (0..messages).map(|_| OnceLock::new()).collect(),
            delivered: AtomicUsize::new(0),
            frames: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            latencies: Mutex::new(Vec::new()),
            notifications: Mutex::new(Vec::new()),
        }
    }

    fn mark_sent(&self, seq: usize) {
        let _ = self.sent[seq].set(Instant::now());
    }

    fn receive(&self, frame: &str) {
        let received = Instant::now();
        self.frames.fetch_add(1, Ordering::SeqCst);
        let Ok(frame) = serde_json::from_str::<Value>(frame) else {
            return;
        };
        let (text, samples) = match frame["type"].as_str() {
            Some("message.created") => (&frame["data"]["message"]["text"], &self.latencies),
            Some("notification") => (&frame["data"]["preview"], &self.notifications),
            _ => return,
        };
        let seq = text
            .as_str()
            .and_then(|t| t.strip_prefix("fanout "))
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        let Some((seq, sent)) = seq.and_then(|seq| Some((seq, *self.sent.get(seq)?.get()?))) else {
            return;
        };
        if let Ok(mut samples) = samples.lock() {
            samples.push((seq, received.duration_since(sent)));
        }
        if frame["type"] == "message.created" {
            self.delivered.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits until `count` notifications have arrived.
    async fn wait_for_notifications(&self, count: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let arrived = self.notifications.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.len();
            if arrived >= count {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "notifications stalled at {arrived} of {count}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until `count` deliveries have arrived.
    async fn wait_for(&self, count: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        while self.delivered.load(Ordering::SeqCst) < count {
            anyhow::ensure!(
                Instant::now() < deadline,
                "deliveries stalled at {} of {count}",
                self.delivered.load(Ordering::SeqCst)
            );
            anyhow::ensure!(
                self.dropped.load(Ordering::SeqCst) == 0,
                "a member's connection was dropped"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    /// Waits until frames stop arriving (the presence changes of everyone connecting).
    async fn settle(&self) {
        loop {
            let seen = self.frames.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(750)).await;
            if self.frames.load(Ordering::SeqCst) == seen {
                return;
            }
        }
    }
}

/// A server as the load generator drives it.
enum Target {
    Echo {
        http: reqwest::Client,
        base: String,
        tokens: Vec<String>,
        sender: String,
        channel: Uuid,
        /// Every message mentions the first member (`<@id>`), so it is notified of each.
        mention: String,
    },
    Bare {
        url: String,
        sender: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    },
}

impl Target {
    /// Creates `members` accounts (Echo: joined to the sender's `general` channel when `in_channel`).
    async fn prepare(kind: Kind, base: &str, members: usize, in_channel: bool) -> anyhow::Result<Target> {
        let url = format!("{}/ws", base.replacen("http", "ws", 1));
        if kind == Kind::Bare {
            let (socket, _) = tokio_tungstenite::connect_async(&url).await?;
            // The sender's own copies are read and discarded so its socket never backs up.
            let (sink, mut copies) = socket.split();
            tokio::spawn(async move { while copies.next().await.is_some() {} });
            return Ok(Target::Bare {
                url,
                sender: tokio::sync::Mutex::new(sink),
            });
        }
        let http = reqwest::Client::new();
        let (sender, _) = register(&http, base, "sender").await?;
        let workspace = call(
            &http,
            base,
            &sender,
            "POST",
            "/api/v1/workspaces",
            json!({"name": "Fan-out"}),
        )
        .await?;
        let ws = workspace["id"].as_str().context("no workspace id")?;
        let channels = call(
            &http,
            base,
            &sender,
            "GET",
            &format!("/api/v1/workspaces/{ws}/channels"),
            Value::Null,
        )
        .await?;
        let channel = channels["channels"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "general"))
            .and_then(|c| c["id"].as_str())
            .context("no general channel")?
            .parse()?;
        let invite = call(
            &http,
            base,
            &sender,
            "POST",
            &format!("/api/v1/workspaces/{ws}/invites"),
            json!({}),
        )
        .await?;
        let code = invite["code"].as_str().context("no invite code")?.to_owned();
        let members: Vec<(String, String)> = stream::iter(0..members)
            .map(|i| {
                let (http, code) = (&http, &code);
                async move {
                    let (token, id) = register(http, base, &format!("member{i}")).await?;
                    if in_channel {
                        call(
                            http,
                            base,
                            &token,
                            "POST",
                            &format!("/api/v1/invites/{code}/accept"),
                            Value::Null,
                        )
                        .await?;
                    }
                    anyhow::Ok((token, id))
                }
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let mention = members.first().map(|(_, id)| format!("<@{id}>")).unwrap_or_default();
        Ok(Target::Echo {
            http,
            base: base.to_owned(),
            tokens: members.into_iter().map(|(token, _)| token).collect(),
            sender,
            channel,
            mention,
        })
    }

    /// Opens a socket per member, each read by a task of its own that reports to `tally`.
    async fn connect_all(&self, members: usize, tally: &Arc<Tally>) -> anyhow::Result<Vec<JoinHandle<()>>> {
        stream::iter(0..members)
            .map(|i| async move {
                let mut socket = self.open(i).await?;
                // Connected once the hello frame is in.
                let hello = socket.next().await.context("closed before hello")??;
                anyhow::ensure!(
                    hello.to_text()?.contains("\"hello\""),
                    "expected hello, got {hello:?}"
                );
                let tally = tally.clone();
                Ok(tokio::spawn(async move {
                    while let Some(Ok(message)) = socket.next().await {
                        match message {
                            Message::Text(text) => tally.receive(&text),
                            Message::Close(_) => break,
                            _ => {}
                        }
                    }
                    tally.dropped.fetch_add(1, Ordering::SeqCst);
                }))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn open(&self, member: usize) -> anyhow::Result<Socket> {
        let url = match self {
            Target::Bare { url, .. } => url.clone(),
            Target::Echo {
                http, base, tokens, ..
            } => {
                let ticket = call(
                    http,
                    base,
                    &tokens[member],
                    "POST",
                    "/api/v1/realtime/tickets",
                    Value::Null,
                )
                .await?;
                let ticket = ticket["ticket"].as_str().context("no ticket")?;
                format!(
                    "{}/api/v1/realtime?ticket={ticket}",
                    base.replacen("http", "ws", 1)
                )
            }
        };
        Ok(tokio_tungstenite::connect_async(url).await?.0)
    }

    async fn send(&self, seq: usize) -> anyhow::Result<()> {
        let text = format!("fanout {seq}");
        match self {
            Target::Bare { sender, .. } => sender.lock().await.send(Message::Text(text.into())).await?,
            Target::Echo {
                http,
                base,
                sender,
                channel,
                mention,
                ..
            } => {
                let text = format!("{text} {mention}");
                call(
                    http,
                    base,
                    sender,
                    "POST",
                    &format!("/api/v1/channels/{channel}/messages"),
                    json!({"text": text}),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// A new account's access token and user id.
async fn register(http: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<(String, String)> {
    let body = json!({"email": format!("{name}@bench.test"), "password": "a long benchmark password", "display_name": name});
    let session = call(http, base, "", "POST", "/api/v1/auth/register", body).await?;
    let field = |pointer: &str| session.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    Ok((
        field("/access_token").context("no access token")?,
        field("/user/id").context("no user id")?,
    ))
}

/// One API call; a non-2xx answer is an error carrying the body.
async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.request(method.parse()?, format!("{base}{path}"));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
