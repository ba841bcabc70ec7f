//! Mixed load: how many simulated active users one server holds while staying fast.
//!
//! The users are modelled on the simulative controller of Mattermost's load test
//! (mattermost-load-test-ng). Everyone is in one workspace with a WebSocket open (frames are read
//! and counted), is a member of `general` and of a few other channels, and in a loop picks an
//! action by weight, runs it, and idles between 1 s and 39 s (20 s on average) before the next:
//! switching channel (its newest page of history, then the read marker), scrolling up its history,
//! posting (18% of posts are thread replies, 10% mention someone), checking unreads (the channel
//! list with counts), reacting and searching, weighted as that controller weights them. Like a
//! client of a large workspace, each user subscribes to the presence of the people it shows: the
//! authors of the page of history on its screen.
//!
//! Users are added in stages on one server, once it has finished the work the seed messages gave
//! it (embedding, indexing). Each stage connects its new users, lets them warm up for one average
//! idle time, then measures every request for a fixed window. A stage is within
//! the limits when the average request takes at most 100 ms, the 99th percentile at most 2 s, at
//! most 0.025% of requests fail and no socket drops. The answer is the largest stage within them;
//! the run stops at the first stage outside them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::SinkExt;
use futures::stream::{self, SplitSink, StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::echo_api::{Account, EchoApi};
use crate::server::{Kind, Server};
use crate::sockets::Socket;
use crate::stats::{Summary, mib, ms};

pub struct Options {
    pub kind: Kind,
    /// Active users at each stage, increasing.
    pub stages: Vec<usize>,
    /// Length of each stage's measurement window.
    pub window: Duration,
    /// Channels each user joins besides `general`.
    pub channels_per_user: usize,
    /// Messages posted into each channel before the first stage.
    pub seed_messages: usize,
}

/// The idle time between a user's actions is uniform in [MIN_IDLE, 2 × AVERAGE_IDLE − MIN_IDLE).
const MIN_IDLE: Duration = Duration::from_secs(1);
const AVERAGE_IDLE: Duration = Duration::from_secs(20);
/// Members per channel (besides `general`) at the largest stage, on average.
const MEMBERS_PER_CHANNEL: usize = 100;
/// Requests in flight while accounts, channels and sockets are set up.
const SETUP_CONCURRENCY: usize = 32;

/// The limits a stage must stay within.
const MAX_AVERAGE: Duration = Duration::from_millis(100);
const MAX_P99: Duration = Duration::from_secs(2);
const MAX_ERROR_RATE: f64 = 0.000_25;

#[derive(Debug, Clone, Copy)]
enum Action {
    SwitchChannel,
    ScrollHistory,
    Post,
    UnreadCheck,
    React,
    Search,
}

/// Each action's weight: the frequencies the simulative controller gives the actions Echo has.
const MIX: [(Action, f64); 6] = [
    (Action::SwitchChannel, 6.5219),
    (Action::ScrollHistory, 1.9873),
    (Action::Post, 1.0),
    (Action::UnreadCheck, 1.0),
    (Action::React, 0.1306),
    (Action::Search, 0.0218),
];

/// Share of posts that reply in a thread, and that mention someone.
const REPLIES: f64 = 0.18;
const MENTIONS: f64 = 0.1;

const WORDS: [&str; 48] = [
    "deploy",
    "release",
    "review",
    "standup",
    "incident",
    "latency",
    "database",
    "migration",
    "customer",
    "invoice",
    "roadmap",
    "sprint",
    "design",
    "mockup",
    "kubernetes",
    "cluster",
    "backup",
    "restore",
    "search",
    "index",
    "report",
    "budget",
    "meeting",
    "agenda",
    "lunch",
    "coffee",
    "friday",
    "weekend",
    "holiday",
    "onboarding",
    "hiring",
    "interview",
    "feedback",
    "question",
    "answer",
    "thanks",
    "great",
    "tomorrow",
    "today",
    "morning",
    "afternoon",
    "ticket",
    "bug",
    "fix",
    "test",
    "build",
    "pipeline",
    "dashboard",
];
const EMOJI: [&str; 6] = ["thumbsup", "tada", "eyes", "heart", "rocket", "white_check_mark"];

pub async fn run(options: &Options) -> anyhow::Result<()> {
    let largest = options.stages.iter().copied().max().context("no stages")?;
    let server = Server::start(options.kind).await?;
    let setup_started = Instant::now();
    let workspace = Arc::new(Workspace::create(&server.base, largest, options).await?);
    eprintln!(
        "{largest} users, {} channels, {} messages set up in {:.0} s",
        workspace.channels.len(),
        workspace.channels.len() * options.seed_messages,
        setup_started.elapsed().as_secs_f64()
    );
    // A workspace in use has its history embedded and indexed long since: the seed messages'
    // backlog is not the users' load.
    let settled = server.wait_until_idle(Duration::from_secs(1_200)).await?;
    eprintln!("the server was idle {:.0} s later", settled.as_secs_f64());

    println!(
        "| active users | requests | requests/s | average | median | p99 | failed | dropped sockets | frames received/s | server memory | within limits |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let recorder = Arc::new(Recorder::default());
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let mut within = None;
    let mut last_window = Vec::new();
    let mut last_stage = 0;
    let mut active = 0;
    for &users in &options.stages {
        let started: Vec<Vec<JoinHandle<()>>> = stream::iter(active..users)
            .map(|user| start_user(&workspace, user, &recorder))
            .buffer_unordered(SETUP_CONCURRENCY)
            .collect::<Vec<anyhow::Result<_>>>()
            .await
            .into_iter()
            .filter_map(|started| {
                started
                    .map_err(|e| {
                        eprintln!("a user failed to connect: {e:#}");
                        recorder.connect_failures.fetch_add(1, Ordering::SeqCst);
                    })
                    .ok()
            })
            .collect();
        tasks.extend(started.into_iter().flatten());
        active = active.max(users);
        tokio::time::sleep(AVERAGE_IDLE).await;

        let frames_before = recorder.frames.load(Ordering::SeqCst);
        let from = Instant::now();
        tokio::time::sleep(options.window).await;
        let frames = recorder.frames.load(Ordering::SeqCst) - frames_before;
        let samples = recorder.window(from, Instant::now())?;
        let stage = Stage::of(&samples, &recorder, options.window, frames);
        println!(
            "| {users} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} ({:.3}%) | {} | {:.0} | {:.1} MiB | {} |",
            stage.latency.count,
            stage.latency.count as f64 / options.window.as_secs_f64(),
            ms(stage.latency.mean),
            ms(stage.latency.median),
            ms(stage.latency.p99),
            stage.failed,
            100.0 * stage.error_rate(),
            stage.dropped,
            stage.frames_per_sec,
            mib(server.rss()?),
            if stage.within_limits() { "yes" } else { "**no**" }
        );
        last_window = samples;
        last_stage = users;
        if !stage.within_limits() {
            break;
        }
        within = Some(users);
    }
    for task in tasks {
        task.abort();
    }

    match within {
        Some(users) => println!("\nLargest stage within the limits: **{users} active users**."),
        None => println!("\nNo stage was within the limits."),
    }
    println!("\nRequests of the last stage measured ({last_stage} active users), by kind:\n");
    println!("| request | count | average | median | p99 | failed |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut by_request: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for sample in &last_window {
        by_request.entry(sample.request).or_default().push(sample);
    }
    for (request, samples) in by_request {
        let latency = Summary::of(samples.iter().map(|s| s.latency).collect());
        println!(
            "| {request} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
            latency.count,
            ms(latency.mean),
            ms(latency.median),
            ms(latency.p99),
            samples.iter().filter(|s| !s.ok).count()
        );
    }
    Ok(())
}

/// One workspace with every user of the largest stage in it.
struct Workspace {
    api: EchoApi,
    id: String,
    /// `general` first.
    channels: Vec<Uuid>,
    users: Vec<User>,
}

struct User {
    account: Account,
    /// Indexes into [`Workspace::channels`], `general` (0) first.
    channels: Vec<usize>,
}

impl Workspace {
    /// Registers `users` accounts into a new workspace, creates its channels and joins each user
    /// to `general` and `channels_per_user` random others, then seeds every channel with messages.
    async fn create(base: &str, users: usize, options: &Options) -> anyhow::Result<Workspace> {
        let api = EchoApi::new(base);
        let owner = api.register("owner").await?;
        let (id, general) = api.workspace(&owner.token, "Mixed load").await?;
        let code = api.invite(&owner.token, &id).await?;
        let count = (users * options.channels_per_user / MEMBERS_PER_CHANNEL).max(options.channels_per_user);
        let mut channels = vec![general];
        channels.extend(
            stream::iter(0..count)
                .map(|i| {
                    let (api, owner, id) = (&api, &owner, &id);
                    async move {
                        let channel = api
                            .call(
                                &owner.token,
                                "POST",
                                &format!("/api/v1/workspaces/{id}/channels"),
                                json!({"name": format!("team-{i}"), "visibility": "public"}),
                            )
                            .await?;
                        anyhow::Ok(channel["id"].as_str().context("no channel id")?.parse::<Uuid>()?)
                    }
                })
                .buffered(SETUP_CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await?,
        );
        let mut rng = StdRng::seed_from_u64(1);
        let memberships: Vec<Vec<usize>> = (0..users)
            .map(|_| {
                let mut mine = vec![0];
                mine.extend(
                    rand::seq::index::sample(&mut rng, count, options.channels_per_user.min(count))
                        .iter()
                        .map(|c| c + 1),
                );
                mine
            })
            .collect();
        let users: Vec<User> = stream::iter(memberships)
            .enumerate()
            .map(|(i, channels_of_user)| {
                let (api, code, all) = (&api, &code, &channels);
                async move {
                    let account = api.register(&format!("user{i}")).await?;
                    api.accept(&account.token, code).await?;
                    for &c in &channels_of_user[1..] {
                        api.call(
                            &account.token,
                            "POST",
                            &format!("/api/v1/channels/{}/join", all[c]),
                            Value::Null,
                        )
                        .await?;
                    }
                    anyhow::Ok(User {
                        account,
                        channels: channels_of_user,
                    })
                }
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let workspace = Workspace {
            api,
            id,
            channels,
            users,
        };
        let posts =
            (0..workspace.channels.len()).flat_map(|c| (0..options.seed_messages).map(move |n| (c, n)));
        stream::iter(posts)
            .map(|(c, n)| {
                let (workspace, owner) = (&workspace, &owner);
                async move {
                    let text = sentence(&mut StdRng::seed_from_u64((c * 1_000 + n) as u64));
                    workspace
                        .api
                        .post(&owner.token, workspace.channels[c], &text)
                        .await
                }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(workspace)
    }
}

/// Connects user `n`'s WebSocket and starts its reader and its actions.
async fn start_user(
    workspace: &Arc<Workspace>,
    n: usize,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let user = &workspace.users[n];
    let (mut sink, mut socket) = workspace.api.realtime(&user.account.token, n).await?.split();
    // Nothing is on screen yet.
    sink.send(presence_subscription(&[])).await?;
    let reader = {
        let recorder = recorder.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                match frame {
                    Message::Text(_) => {
                        recorder.frames.fetch_add(1, Ordering::Relaxed);
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            recorder.dropped.fetch_add(1, Ordering::SeqCst);
        })
    };
    let simulation = Simulation {
        workspace: workspace.clone(),
        user: n,
        recorder: recorder.clone(),
        rng: StdRng::seed_from_u64(n as u64),
        sink,
        channel: 0,
        page: Vec::new(),
        oldest: None,
    };
    Ok(vec![reader, tokio::spawn(simulation.run())])
}

/// One simulated user's actions.
struct Simulation {
    workspace: Arc<Workspace>,
    user: usize,
    recorder: Arc<Recorder>,
    rng: StdRng,
    /// The socket's sending half, for presence subscriptions.
    sink: SplitSink<Socket, Message>,
    /// The channel on screen, an index into the workspace's channels.
    channel: usize,
    /// The ids of the messages last loaded, newest first.
    page: Vec<String>,
    /// The oldest message loaded, where scrolling up continues.
    oldest: Option<String>,
}

impl Simulation {
    async fn run(mut self) {
        // Starting as if an action had just finished spreads the stage's users over the idle time.
        loop {
            tokio::time::sleep(self.idle()).await;
            let action = self.pick();
            self.act(action).await;
        }
    }

    fn idle(&mut self) -> Duration {
        let max = AVERAGE_IDLE * 2 - MIN_IDLE;
        Duration::from_millis(
            self.rng
                .random_range(MIN_IDLE.as_millis() as u64..max.as_millis() as u64),
        )
    }

    fn pick(&mut self) -> Action {
        let total: f64 = MIX.iter().map(|(_, weight)| weight).sum();
        let mut at = self.rng.random_range(0.0..total);
        for (action, weight) in MIX {
            if at < weight {
                return action;
            }
            at -= weight;
        }
        Action::SwitchChannel
    }

    async fn act(&mut self, action: Action) {
        let ws = self.workspace.clone();
        match action {
            Action::SwitchChannel => {
                let mine = &ws.users[self.user].channels;
                self.channel = *mine.choose(&mut self.rng).unwrap_or(&0);
                self.page.clear();
                self.oldest = None;
                self.load_page("history page").await;
                if let Some(newest) = self.page.first().cloned() {
                    let path = format!("/api/v1/channels/{}/read", ws.channels[self.channel]);
                    self.request("read marker", "POST", &path, json!({"message_id": newest}))
                        .await;
                }
            }
            Action::ScrollHistory => self.load_page("history page, scrolling up").await,
            Action::Post => {
                let mut body = json!({"text": sentence(&mut self.rng)});
                if self.rng.random_bool(REPLIES)
                    && let Some(root) = self.page.choose(&mut self.rng)
                {
                    body["thread_root_id"] = json!(root);
                }
                if self.rng.random_bool(MENTIONS)
                    && let Some(someone) = ws.users.choose(&mut self.rng)
                {
                    body["text"] = json!(format!(
                        "<@{}> {}",
                        someone.account.id,
                        body["text"].as_str().unwrap_or_default()
                    ));
                }
                let path = format!("/api/v1/channels/{}/messages", ws.channels[self.channel]);
                self.request("post", "POST", &path, body).await;
            }
            Action::UnreadCheck => {
                let path = format!("/api/v1/workspaces/{}/channels", ws.id);
                self.request("channel list with unread counts", "GET", &path, Value::Null)
                    .await;
            }
            Action::React => {
                if let Some(message) = self.page.choose(&mut self.rng).cloned() {
                    let emoji = EMOJI.choose(&mut self.rng).unwrap_or(&"eyes");
                    let path = format!("/api/v1/messages/{message}/reactions/{emoji}");
                    self.request("reaction", "PUT", &path, Value::Null).await;
                }
            }
            Action::Search => {
                let word = WORDS.choose(&mut self.rng).unwrap_or(&"deploy");
                let path = format!("/api/v1/workspaces/{}/search?q={word}&limit=20", ws.id);
                self.request("search", "GET", &path, Value::Null).await;
            }
        }
    }

    /// The channel's newest page, or the page before the oldest message loaded.
    async fn load_page(&mut self, request: &'static str) {
        let channel = self.workspace.channels[self.channel];
        let before = self
            .oldest
            .as_ref()
            .map(|id| format!("&before={id}"))
            .unwrap_or_default();
        let path = format!("/api/v1/channels/{channel}/messages?limit=50{before}");
        let Some(page) = self.request(request, "GET", &path, Value::Null).await else {
            return;
        };
        let messages = page["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
        let field = |key: &str| -> Vec<String> {
            messages
                .iter()
                .filter_map(|m| m[key].as_str().map(str::to_owned))
                .collect()
        };
        let ids = field("id");
        if let Some(oldest) = ids.last() {
            self.oldest = Some(oldest.clone());
            self.page = ids;
            let mut authors = field("author_id");
            authors.sort_unstable();
            authors.dedup();
            // A closed socket shows up as a dropped one in the reader.
            let _ = self.sink.send(presence_subscription(&authors)).await;
        }
    }

    /// One timed request, recorded whatever its outcome.
    async fn request(&self, request: &'static str, method: &str, path: &str, body: Value) -> Option<Value> {
        let token = &self.workspace.users[self.user].account.token;
        let started = Instant::now();
        let result = self.workspace.api.call(token, method, path, body).await;
        self.recorder.record(Sample {
            request,
            at: Instant::now(),
            latency: started.elapsed(),
            ok: result.is_ok(),
        });
        result
            .map_err(|e| {
                if self.recorder.errors_logged.fetch_add(1, Ordering::Relaxed) < 10 {
                    eprintln!("{request} failed: {e:#}");
                }
            })
            .ok()
    }
}

/// The frame asking for the presence of these people only.
fn presence_subscription(user_ids: &[String]) -> Message {
    Message::text(json!({"type": "presence_subscribe", "user_ids": user_ids}).to_string())
}

/// A few words of chat.
fn sentence(rng: &mut StdRng) -> String {
    let words = rng.random_range(3..14);
    (0..words)
        .map(|_| *WORDS.choose(rng).unwrap_or(&"hello"))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Sample {
    request: &'static str,
    /// When the answer arrived.
    at: Instant,
    latency: Duration,
    ok: bool,
}

#[derive(Default)]
struct Recorder {
    samples: Mutex<Vec<Sample>>,
    frames: AtomicUsize,
    dropped: AtomicUsize,
    connect_failures: AtomicUsize,
    errors_logged: AtomicUsize,
}

impl Recorder {
    fn record(&self, sample: Sample) {
        if let Ok(mut samples) = self.samples.lock() {
            samples.push(sample);
        }
    }

    /// Takes every sample so far; returns those answered between `from` and `to`.
    fn window(&self, from: Instant, to: Instant) -> anyhow::Result<Vec<Sample>> {
        let all = std::mem::take(&mut *self.samples.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        Ok(all.into_iter().filter(|s| s.at >= from && s.at <= to).collect())
    }
}

/// A stage's measurement window.
struct Stage {
    latency: Summary,
    /// Failed requests, and sockets that failed to connect.
    failed: usize,
    dropped: usize,
    frames_per_sec: f64,
}

impl Stage {
    fn of(samples: &[Sample], recorder: &Recorder, window: Duration, frames: usize) -> Stage {
        Stage {
            latency: Summary::of(samples.iter().map(|s| s.latency).collect()),
            failed: samples.iter().filter(|s| !s.ok).count()
                + recorder.connect_failures.swap(0, Ordering::SeqCst),
            dropped: recorder.dropped.load(Ordering::SeqCst),
            frames_per_sec: frames as f64 / window.as_secs_f64(),
        }
    }

    fn error_rate(&self) -> f64 {
        self.failed as f64 / self.latency.count.max(1) as f64
    }

    fn within_limits(&self) -> bool {
        self.latency.mean <= MAX_AVERAGE
            && self.latency.p99 <= MAX_P99
            && self.error_rate() <= MAX_ERROR_RATE
            && self.dropped == 0
    }
}
