//! Durable send: how many posts a server acknowledges per second, and how long each takes, when
//! one member posts into one channel (Synapse: one room) that nobody else is connected to.
//!
//! - Open loop: posts are scheduled at a fixed offered rate whatever the server does, and a post's
//!   latency runs from its scheduled time, not from when it could be sent, so a server that falls
//!   behind is charged for the queue it causes (no coordinated omission). At most `in_flight`
//!   posts are outstanding; a post waiting for a slot is late, and its lateness counts.
//! - Closed loop: `in_flight` posters each send as soon as their previous post is acknowledged,
//!   for the most the server sustains.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::chart::{self, Axis, Chart, Series};
use crate::echo_api::{Account, EchoApi};
use crate::server::{Kind, Server};
use crate::stats::{Summary, ms};
use crate::synapse::{Matrix, MatrixUser, Synapse};

/// Before measuring, the server is driven closed-loop this long, so connections are open and
/// caches warm.
const WARM_UP: Duration = Duration::from_secs(1);

pub struct Plan {
    /// Offered loads, posts per second.
    pub rates: Vec<f64>,
    /// Posts outstanding at most (open loop) and exactly (closed loop).
    pub in_flight: usize,
    /// How long each load is offered.
    pub duration: Duration,
}

#[derive(Clone, Copy)]
pub enum Load {
    Open { per_sec: f64 },
    Closed { in_flight: usize },
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Load::Open { per_sec } => write!(f, "{per_sec:.0}/s offered"),
            Load::Closed { in_flight } => write!(f, "closed loop, {in_flight} in flight"),
        }
    }
}

pub struct Outcome {
    pub server: &'static str,
    pub load: Load,
    pub sent: usize,
    pub acknowledged: usize,
    pub errors: usize,
    pub per_sec: f64,
    pub latency: Summary,
}

impl Outcome {
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            self.server,
            self.load,
            self.sent,
            self.acknowledged,
            self.errors,
            self.per_sec,
            ms(self.latency.median),
            ms(self.latency.p99)
        )
    }
}

pub const HEADER: &str = "| server | load | sent | acknowledged | errors | acknowledged/s | latency median | latency p99 |\n|---|---|---:|---:|---:|---:|---:|---:|";

/// Echo embedded (`echo-bench serve echo`: SQLite, durable event log, rate limits off) or its
/// scaled topology: the closed loop first, then each offered load.
pub async fn echo(kind: Kind, plan: &Plan) -> anyhow::Result<Vec<Outcome>> {
    let server = Server::start(kind).await?;
    let label = if kind == Kind::Scaled {
        "Echo, scaled"
    } else {
        "Echo"
    };
    let poster = Arc::new(Poster::echo(&server.base, label).await?);
    measure(&poster, plan).await
}

/// Synapse on PostgreSQL, rate limits off, into a fresh room.
pub async fn synapse(plan: &Plan) -> anyhow::Result<Vec<Outcome>> {
    let synapse = Synapse::start().await?;
    let outcomes = match Poster::synapse(&synapse.base).await {
        Ok(poster) => measure(&Arc::new(poster), plan).await,
        Err(error) => Err(error),
    };
    synapse.stop().await?;
    outcomes
}

/// Throughput and latency against offered load, and the latency distribution at the lowest load
/// every server was offered, one series per server.
pub fn charts(outcomes: &[Outcome], dir: &Path) -> anyhow::Result<()> {
    let mut servers: Vec<&str> = outcomes.iter().map(|o| o.server).collect();
    servers.dedup();
    let open = |server: &'static str| {
        outcomes.iter().filter_map(move |o| match o.load {
            Load::Open { per_sec } if o.server == server => Some((per_sec, o)),
            _ => None,
        })
    };
    let offered = Axis {
        label: "offered posts/s",
        log: true,
        format: chart::number,
    };
    let series =
        |server: &'static str, colour: usize, dashed: bool, value: &dyn Fn(&Outcome) -> f64| Series {
            name: server.to_owned(),
            dashed,
            colour,
            points: open(server).map(|(rate, o)| (rate, value(o))).collect(),
        };
    // The lowest load every server was offered, so their distributions compare like for like.
    let shared_rate = servers.first().and_then(|first| {
        open(first)
            .map(|(rate, _)| rate)
            .filter(|rate| servers.iter().all(|s| open(s).any(|(r, _)| r == *rate)))
            .min_by(f64::total_cmp)
    });
    let mut throughput = Vec::new();
    let mut latency = Vec::new();
    let mut distribution = Vec::new();
    for (colour, server) in servers.iter().enumerate() {
        throughput.push(series(server, colour, false, &|o| o.per_sec));
        let mut median = series(server, colour, false, &|o| ms(o.latency.median));
        median.name = format!("{server}, median");
        let mut p99 = series(server, colour, true, &|o| ms(o.latency.p99));
        p99.name = format!("{server}, p99");
        latency.extend([median, p99]);
        let at_shared_rate = open(server).find(|(rate, _)| Some(*rate) == shared_rate);
        if let Some((rate, outcome)) =
            at_shared_rate.or_else(|| open(server).min_by(|a, b| a.0.total_cmp(&b.0)))
        {
            distribution.push(chart::distribution(
                format!("{server}, {rate:.0}/s offered"),
                colour,
                &outcome.latency,
            ));
        }
    }
    Chart {
        title: "Durable send: acknowledged posts/s against offered load".into(),
        x: Axis { ..offered },
        y: Axis {
            label: "acknowledged posts/s",
            log: true,
            format: chart::number,
        },
        series: throughput,
    }
    .write(dir, "send-throughput.svg")?;
    Chart {
        title: "Durable send: post latency against offered load".into(),
        x: Axis { ..offered },
        y: Axis::latency_ms(),
        series: latency,
    }
    .write(dir, "send-latency.svg")?;
    Chart {
        title: "Durable send: latency distribution at one offered load".into(),
        x: Axis::percentiles(),
        y: Axis::latency_ms(),
        series: distribution,
    }
    .write(dir, "send-latency-distribution.svg")
}

async fn measure(poster: &Arc<Poster>, plan: &Plan) -> anyhow::Result<Vec<Outcome>> {
    closed_loop(poster, plan.in_flight, WARM_UP).await?;
    let mut outcomes = vec![closed_loop(poster, plan.in_flight, plan.duration).await?];
    for &rate in &plan.rates {
        outcomes.push(open_loop(poster, rate, plan.in_flight, plan.duration).await?);
    }
    Ok(outcomes)
}

async fn open_loop(
    poster: &Arc<Poster>,
    rate: f64,
    in_flight: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let count = (rate * duration.as_secs_f64()).round() as usize;
    let slots = Arc::new(Semaphore::new(in_flight));
    let mut posts = JoinSet::new();
    let start = Instant::now();
    for i in 0..count {
        let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(scheduled.into()).await;
        let slot = slots.clone().acquire_owned().await?;
        let poster = poster.clone();
        posts.spawn(async move {
            let result = poster.post().await;
            drop(slot);
            (result, scheduled.elapsed())
        });
    }
    let mut tally = Tally::default();
    while let Some(post) = posts.join_next().await {
        let (result, latency) = post?;
        tally.add(result, latency);
    }
    Ok(tally.outcome(poster.server(), Load::Open { per_sec: rate }, start.elapsed()))
}

async fn closed_loop(poster: &Arc<Poster>, in_flight: usize, duration: Duration) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut posters = JoinSet::new();
    for _ in 0..in_flight {
        let poster = poster.clone();
        posters.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = poster.post().await;
                tally.add(result, sent.elapsed());
            }
            tally
        });
    }
    let mut tally = Tally::default();
    while let Some(poster_tally) = posters.join_next().await {
        tally.merge(poster_tally?);
    }
    Ok(tally.outcome(poster.server(), Load::Closed { in_flight }, start.elapsed()))
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    fn add(&mut self, result: anyhow::Result<()>, latency: Duration) {
        match result {
            Ok(()) => self.latencies.push(latency),
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn outcome(self, server: &'static str, load: Load, elapsed: Duration) -> Outcome {
        if let Some(error) = &self.first_error {
            eprintln!(
                "{server}, {load}: {} failed posts, the first: {error}",
                self.errors
            );
        }
        let acknowledged = self.latencies.len();
        Outcome {
            server,
            load,
            sent: acknowledged + self.errors,
            acknowledged,
            errors: self.errors,
            per_sec: acknowledged as f64 / elapsed.as_secs_f64(),
            latency: Summary::of(self.latencies),
        }
    }
}

/// One member posting into one channel or room.
enum Poster {
    Echo {
        label: &'static str,
        api: EchoApi,
        member: Account,
        channel: Uuid,
        next: AtomicUsize,
    },
    Synapse {
        matrix: Matrix,
        member: MatrixUser,
        room: String,
        /// Transaction ids must not repeat, or Synapse answers from its idempotence cache.
        next: AtomicUsize,
    },
}

impl Poster {
    async fn echo(base: &str, label: &'static str) -> anyhow::Result<Poster> {
        let api = EchoApi::new(base);
        let member = api.register("poster").await?;
        let (_, channel) = api.workspace(&member.token, "Send").await?;
        Ok(Poster::Echo {
            label,
            api,
            member,
            channel,
            next: AtomicUsize::new(0),
        })
    }

    async fn synapse(base: &str) -> anyhow::Result<Poster> {
        let matrix = Matrix::new(base)?;
        let member = matrix.register("poster").await?;
        let room = matrix.create_room(&member, "send").await?;
        Ok(Poster::Synapse {
            matrix,
            member,
            room,
            next: AtomicUsize::new(0),
        })
    }

    fn server(&self) -> &'static str {
        match self {
            Poster::Echo { label, .. } => label,
            Poster::Synapse { .. } => "Synapse",
        }
    }

    async fn post(&self) -> anyhow::Result<()> {
        match self {
            Poster::Echo {
                api,
                member,
                channel,
                next,
                ..
            } => {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                api.post(&member.token, *channel, &format!("send {seq}")).await
            }
            Poster::Synapse {
                matrix,
                member,
                room,
                next,
            } => {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                matrix
                    .send(member, room, &format!("send-{seq}"), &format!("send {seq}"))
                    .await
            }
        }
    }
}
