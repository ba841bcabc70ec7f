//! Fan-out: how fast one message reaches every connected member of a channel, and what an idle
//! connection costs, for Echo, for the bare broadcast server and for Synapse, measured in the same
//! run.
//!
//! Each measurement starts a fresh server process. Members connect as their clients would (Echo:
//! an account, a ticket, the WebSocket; Synapse: an account, a join to the room, an initial
//! `/sync` and then a `/sync` long-poll loop) and read everything they are sent. Then:
//! - latency: messages are sent one at a time, each once every member has the previous one; the
//!   latency of a delivery is from just before the send (Echo: the HTTP POST; Synapse: the PUT of
//!   the event) to the member's socket yielding the frame (Synapse: the `/sync` answer carrying it);
//! - throughput: a burst of messages is sent at once (8 sends in flight), and deliveries per
//!   second is members × messages over the time from the first send to the last delivery;
//! - notifications (Echo): every message mentions the first member, so the notifier runs under the
//!   same load; a notification's latency is from just before the POST to the `notification` frame
//!   on that member's socket, reported for the one-at-a-time messages and for the burst;
//! - idle memory (Echo, bare): the server's resident set before and after N connections are opened
//!   and left idle, spread over several source addresses, and how many were opened per second.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::stream::{self, SplitSink};
use futures::{SinkExt, StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::chart::{self, Axis, Chart, Series};
use crate::echo_api::{Account, EchoApi};
use crate::server::{Kind, Server};
use crate::sockets::{self, Socket};
use crate::stats::{Summary, mib, ms};
use crate::synapse::{self, Matrix, MatrixUser, Synapse};

/// How long any one wait may take before the run counts as failed.
const PATIENCE: Duration = Duration::from_secs(120);
/// Sends in flight during the throughput burst.
const IN_FLIGHT: usize = 8;
/// Accounts created, and sockets opened, at once.
const SETUP_CONCURRENCY: usize = 32;
/// Open files a process needs besides its sockets (databases, logs, the HTTP client's pool).
const FILE_MARGIN: u64 = 1_000;
/// How long a Synapse member's `/sync` long-poll waits for news.
const LONG_POLL: Duration = Duration::from_secs(30);

pub struct Options {
    pub members: Vec<usize>,
    /// The channel sizes Synapse is measured at too (a subset of `members`).
    pub synapse_members: Vec<usize>,
    pub latency_messages: usize,
    pub burst_messages: usize,
    /// Idle connection counts the memory per connection is measured at.
    pub idle_connections: Vec<usize>,
    /// Where to write the SVG charts, if anywhere.
    pub charts: Option<PathBuf>,
}

/// A server fan-out is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Bare,
    Echo,
    /// Echo's scaled topology (`echo-server cluster`).
    EchoScaled,
    Synapse,
}

impl Peer {
    fn is_echo(self) -> bool {
        matches!(self, Peer::Echo | Peer::EchoScaled)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Peer::Bare => "bare broadcast",
            Peer::Echo => "Echo",
            Peer::EchoScaled => "Echo, scaled",
            Peer::Synapse => "Synapse",
        })
    }
}

pub struct Delivery {
    pub peer: Peer,
    pub members: usize,
    pub latency: Summary,
    pub deliveries_per_sec: f64,
    pub dropped: usize,
    /// Send → `notification` frame, one at a time and in the burst (Echo only).
    pub notification: Option<(Summary, Summary)>,
}

/// Deliveries per second against channel size, and the latency distribution at the largest size
/// every server was measured at, one series per server.
fn charts(deliveries: &[Delivery], dir: &Path) -> anyhow::Result<()> {
    let mut peers: Vec<Peer> = Vec::new();
    for d in deliveries {
        if !peers.contains(&d.peer) {
            peers.push(d.peer);
        }
    }
    let shared_size = deliveries
        .iter()
        .map(|d| d.members)
        .filter(|m| {
            peers
                .iter()
                .all(|p| deliveries.iter().any(|d| d.peer == *p && d.members == *m))
        })
        .max();
    let mut throughput = Vec::new();
    let mut distribution = Vec::new();
    for (colour, peer) in peers.iter().enumerate() {
        let of_peer = || deliveries.iter().filter(move |d| d.peer == *peer);
        throughput.push(Series {
            name: peer.to_string(),
            dashed: false,
            colour,
            points: of_peer()
                .map(|d| (d.members as f64, d.deliveries_per_sec))
                .collect(),
        });
        if let Some(d) = of_peer().find(|d| Some(d.members) == shared_size) {
            distribution.push(chart::distribution(peer.to_string(), colour, &d.latency));
        }
    }
    Chart {
        title: "Fan-out: deliveries per second".into(),
        x: Axis {
            label: "connected members",
            log: true,
            format: chart::number,
        },
        y: Axis {
            label: "deliveries/s",
            log: true,
            format: chart::number,
        },
        series: throughput,
    }
    .write(dir, "fanout-throughput.svg")?;
    Chart {
        title: format!(
            "Fan-out: send → receive latency, {} members",
            shared_size.unwrap_or(0)
        ),
        x: Axis::percentiles(),
        y: Axis::latency_ms(),
        series: distribution,
    }
    .write(dir, "fanout-latency-distribution.svg")
}

pub async fn run(options: &Options) -> anyhow::Result<()> {
    println!(
        "| members | server | deliveries/s | share of ceiling | latency median | latency p99 | dropped connections |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    let mut notifications = Vec::new();
    let mut deliveries = Vec::new();
    for &members in &options.members {
        let mut peers = vec![Peer::Bare, Peer::Echo];
        if options.synapse_members.contains(&members) {
            peers.push(Peer::Synapse);
        }
        // Rows are printed as they are measured, so a slow peer cannot hold back the others'; the
        // bare server, measured first, is the ceiling.
        let mut ceiling = None;
        for peer in peers {
            let mut result = delivery(peer, members, options).await?;
            let ceiling = *ceiling.get_or_insert(result.deliveries_per_sec);
            println!(
                "| {} | {} | {:.0} | {:.1}% | {:.2} ms | {:.2} ms | {} |",
                result.members,
                result.peer,
                result.deliveries_per_sec,
                100.0 * result.deliveries_per_sec / ceiling,
                ms(result.latency.median),
                ms(result.latency.p99),
                result.dropped
            );
            notifications.extend(result.notification.take().map(|n| (members, n)));
            deliveries.push(result);
        }
    }
    if let Some(dir) = &options.charts {
        charts(&deliveries, dir)?;
    }

    println!();
    println!("| members | notification median, one at a time | p99 | notification median, burst | p99 |");
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
        "| server | idle connections | opened/s | resident before | resident after | per connection | ratio to bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // Each side holds a descriptor per connection, and a process cannot raise its hard limit
    // without privileges.
    let limit = crate::pinning::open_file_limit();
    for &connections in &options.idle_connections {
        if connections as u64 + FILE_MARGIN > limit {
            println!(
                "| skipped: {connections} connections need {} open files per process, this machine allows {limit} | | | | | | |",
                connections as u64 + FILE_MARGIN
            );
            continue;
        }
        let bare = idle_memory(Kind::Bare, connections).await?;
        let echo = idle_memory(Kind::Echo, connections).await?;
        for (name, idle) in [("bare broadcast", &bare), ("Echo", &echo)] {
            println!(
                "| {name} | {connections} | {:.0} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.1}× |",
                idle.opened_per_sec,
                mib(idle.before),
                mib(idle.after),
                idle.per_connection() / 1024.0,
                idle.per_connection() / bare.per_connection()
            );
        }
    }
    Ok(())
}

/// Starts a fresh `peer`, measures delivery to `members` connected members, stops it.
pub async fn delivery(peer: Peer, members: usize, options: &Options) -> anyhow::Result<Delivery> {
    let running = Running::start(peer).await?;
    let result = measure(peer, running.base(), members, options).await;
    running.stop().await?;
    result
}

async fn measure(peer: Peer, base: &str, members: usize, options: &Options) -> anyhow::Result<Delivery> {
    let target = Target::prepare(peer, base, members, true).await?;
    let total = options.latency_messages + options.burst_messages;
    let tally = Arc::new(Tally::new(total));
    let readers = target.connect_all(members, &tally).await?;
    tally.settle().await;
    eprintln!("{peer}: {members} members connected");

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
    if peer.is_echo() {
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
    let notification = if peer.is_echo() {
        Some((
            summary(&tally.notifications, true)?,
            summary(&tally.notifications, false)?,
        ))
    } else {
        None
    };
    Ok(Delivery {
        peer,
        members,
        latency: summary(&tally.latencies, true)?,
        deliveries_per_sec: (members * options.burst_messages) as f64 / elapsed.as_secs_f64(),
        dropped: tally.dropped.load(Ordering::SeqCst),
        notification,
    })
}

/// A server's resident memory before and after idle sockets were opened, and how fast they were.
pub struct Idle {
    pub connections: usize,
    pub before: u64,
    pub after: u64,
    /// Sockets opened per second (Echo: a ticket, the upgrade and the hello frame each).
    pub opened_per_sec: f64,
}

impl Idle {
    /// Resident bytes per connection.
    pub fn per_connection(&self) -> f64 {
        self.after.saturating_sub(self.before) as f64 / self.connections.max(1) as f64
    }
}

/// Opens `connections` idle sockets on a fresh server of `kind`.
pub async fn idle_memory(kind: Kind, connections: usize) -> anyhow::Result<Idle> {
    let server = Server::start(kind).await?;
    let peer = match kind {
        Kind::Echo => Peer::Echo,
        Kind::Scaled => Peer::EchoScaled,
        Kind::Bare => Peer::Bare,
    };
    // Accounts share no workspace, so connecting does not send presence to anyone.
    let target = Target::prepare(peer, &server.base, connections, false).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = server.rss()?;
    let tally = Arc::new(Tally::new(0));
    let started = Instant::now();
    let readers = target.connect_all(connections, &tally).await?;
    let opened_per_sec = connections as f64 / started.elapsed().as_secs_f64();
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
    eprintln!("{peer}: {connections} idle connections measured");
    Ok(Idle {
        connections,
        before,
        after,
        opened_per_sec,
    })
}

/// A server process under test.
enum Running {
    Local(Server),
    Synapse(Synapse),
}

impl Running {
    async fn start(peer: Peer) -> anyhow::Result<Running> {
        Ok(match peer {
            Peer::Bare => Running::Local(Server::start(Kind::Bare).await?),
            Peer::Echo => Running::Local(Server::start(Kind::Echo).await?),
            Peer::EchoScaled => Running::Local(Server::start(Kind::Scaled).await?),
            Peer::Synapse => Running::Synapse(Synapse::start().await?),
        })
    }

    fn base(&self) -> &str {
        match self {
            Running::Local(server) => &server.base,
            Running::Synapse(synapse) => &synapse.base,
        }
    }

    async fn stop(self) -> anyhow::Result<()> {
        match self {
            // Killed when dropped.
            Running::Local(_) => Ok(()),
            Running::Synapse(synapse) => synapse.stop().await,
        }
    }
}

/// What the members receive, counted as it arrives.
struct Tally {
    sent: Vec<OnceLock<Instant>>,
    delivered: AtomicUsize,
    /// WebSocket frames, or `/sync` answers, of any kind.
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

    /// An Echo (or bare server) WebSocket frame.
    fn receive_frame(&self, frame: &str) {
        let received = Instant::now();
        self.frames.fetch_add(1, Ordering::SeqCst);
        let Ok(frame) = serde_json::from_str::<Value>(frame) else {
            return;
        };
        match (
            frame["type"].as_str(),
            frame["data"]["message"]["text"].as_str(),
            frame["data"]["preview"].as_str(),
        ) {
            (Some("message.created"), Some(text), _) => self.record(text, false, received),
            (Some("notification"), _, Some(preview)) => self.record(preview, true, received),
            _ => {}
        }
    }

    /// A Synapse `/sync` answer.
    fn receive_sync(&self, sync: &Value, room: &str) {
        let received = Instant::now();
        self.frames.fetch_add(1, Ordering::SeqCst);
        for body in synapse::timeline_bodies(sync, room) {
            self.record(body, false, received);
        }
    }

    /// A message (`fanout SEQ …`) or a notification of one arrived at `received`.
    fn record(&self, text: &str, notification: bool, received: Instant) {
        let seq = text
            .strip_prefix("fanout ")
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        let Some((seq, sent)) = seq.and_then(|seq| Some((seq, *self.sent.get(seq)?.get()?))) else {
            return;
        };
        let samples = if notification {
            &self.notifications
        } else {
            &self.latencies
        };
        if let Ok(mut samples) = samples.lock() {
            samples.push((seq, received.duration_since(sent)));
        }
        if !notification {
            self.delivered.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits until `count` notifications have arrived.
    async fn wait_for_notifications(&self, count: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let arrived = self
                .notifications
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .len();
            if arrived >= count {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "notifications stalled at {arrived} of {count}"
            );
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
        api: EchoApi,
        members: Vec<Account>,
        sender: Account,
        channel: Uuid,
        /// Every message mentions the first member (`<@id>`), so it is notified of each.
        mention: String,
    },
    Bare {
        url: String,
        sender: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    },
    Synapse {
        matrix: Matrix,
        members: Vec<Arc<MatrixUser>>,
        sender: MatrixUser,
        room: Arc<str>,
        filter: Arc<str>,
    },
}

impl Target {
    /// Creates `members` accounts (Echo: joined to the sender's `general` channel when
    /// `in_channel`; Synapse: joined to a fresh public room).
    async fn prepare(peer: Peer, base: &str, members: usize, in_channel: bool) -> anyhow::Result<Target> {
        match peer {
            Peer::Bare => {
                let url = format!("{}/ws", base.replacen("http", "ws", 1));
                let (socket, _) = tokio_tungstenite::connect_async(&url).await?;
                // The sender's own copies are read and discarded so its socket never backs up.
                let (sink, mut copies) = socket.split();
                tokio::spawn(async move { while copies.next().await.is_some() {} });
                Ok(Target::Bare {
                    url,
                    sender: tokio::sync::Mutex::new(sink),
                })
            }
            Peer::Echo | Peer::EchoScaled => {
                let api = EchoApi::new(base);
                let sender = api.register("sender").await?;
                let (ws, channel) = api.workspace(&sender.token, "Fan-out").await?;
                let code = api.invite(&sender.token, &ws).await?;
                let members: Vec<Account> = stream::iter(0..members)
                    .map(|i| {
                        let (api, code) = (&api, &code);
                        async move {
                            let member = api.register(&format!("member{i}")).await?;
                            if in_channel {
                                api.accept(&member.token, code).await?;
                            }
                            anyhow::Ok(member)
                        }
                    })
                    .buffered(SETUP_CONCURRENCY)
                    .try_collect()
                    .await?;
                let mention = members
                    .first()
                    .map(|m| format!("<@{}>", m.id))
                    .unwrap_or_default();
                Ok(Target::Echo {
                    api,
                    members,
                    sender,
                    channel,
                    mention,
                })
            }
            Peer::Synapse => {
                let matrix = Matrix::new(base)?;
                let sender = matrix.register("sender").await?;
                let room = matrix.create_room(&sender, "fan-out").await?;
                let members: Vec<Arc<MatrixUser>> = stream::iter(0..members)
                    .map(|i| {
                        let (matrix, room) = (&matrix, &room);
                        async move {
                            let member = matrix.register(&format!("member{i}")).await?;
                            matrix.join(&member, room).await?;
                            anyhow::Ok(Arc::new(member))
                        }
                    })
                    .buffered(SETUP_CONCURRENCY)
                    .try_collect()
                    .await?;
                Ok(Target::Synapse {
                    filter: synapse::room_messages_filter(&room).into(),
                    matrix,
                    members,
                    sender,
                    room: room.into(),
                })
            }
        }
    }

    /// Connects every member, each read by a task of its own that reports to `tally`.
    async fn connect_all(&self, members: usize, tally: &Arc<Tally>) -> anyhow::Result<Vec<JoinHandle<()>>> {
        stream::iter(0..members)
            .map(|i| async move {
                match self {
                    Target::Synapse {
                        matrix,
                        members,
                        room,
                        filter,
                        ..
                    } => start_sync_loop(matrix, &members[i], room, filter, tally).await,
                    _ => self.start_socket_reader(i, tally).await,
                }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn start_socket_reader(&self, member: usize, tally: &Arc<Tally>) -> anyhow::Result<JoinHandle<()>> {
        let mut socket = self.open(member).await?;
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
                    Message::Text(text) => tally.receive_frame(&text),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            tally.dropped.fetch_add(1, Ordering::SeqCst);
        }))
    }

    async fn open(&self, member: usize) -> anyhow::Result<Socket> {
        match self {
            Target::Bare { url, .. } => sockets::connect(url, member).await,
            Target::Echo { api, members, .. } => api.realtime(&members[member].token, member).await,
            Target::Synapse { .. } => anyhow::bail!("Synapse members long-poll /sync"),
        }
    }

    async fn send(&self, seq: usize) -> anyhow::Result<()> {
        let text = format!("fanout {seq}");
        match self {
            Target::Bare { sender, .. } => sender.lock().await.send(Message::Text(text.into())).await?,
            Target::Echo {
                api,
                sender,
                channel,
                mention,
                ..
            } => {
                api.post(&sender.token, *channel, &format!("{text} {mention}"))
                    .await?
            }
            Target::Synapse {
                matrix, sender, room, ..
            } => matrix.send(sender, room, &format!("fanout-{seq}"), &text).await?,
        }
        Ok(())
    }
}

/// A Synapse member: the initial sync, then a long-poll loop, as a Matrix client keeps up with a
/// room.
async fn start_sync_loop(
    matrix: &Matrix,
    user: &Arc<MatrixUser>,
    room: &Arc<str>,
    filter: &Arc<str>,
    tally: &Arc<Tally>,
) -> anyhow::Result<JoinHandle<()>> {
    let initial = matrix.sync(user, filter, None, Duration::ZERO).await?;
    let mut since = initial["next_batch"]
        .as_str()
        .context("no next_batch")?
        .to_owned();
    let (matrix, user, room, filter, tally) = (
        matrix.clone(),
        user.clone(),
        room.clone(),
        filter.clone(),
        tally.clone(),
    );
    Ok(tokio::spawn(async move {
        loop {
            let Ok(answer) = matrix.sync(&user, &filter, Some(&since), LONG_POLL).await else {
                break;
            };
            tally.receive_sync(&answer, &room);
            match answer["next_batch"].as_str() {
                Some(next) => since = next.to_owned(),
                None => break,
            }
        }
        tally.dropped.fetch_add(1, Ordering::SeqCst);
    }))
}
