//! `ai-bench`: embedding throughput and semantic search latency of ai-service on this machine.
//!
//! Embeds a sample of synthetic chat messages with the real model (messages/second), then fills
//! the in-memory index to `--messages` (default 100,000) vectors — the sample's embeddings plus
//! normalised perturbations of them, since scan cost does not depend on content — and measures
//! permission-filtered keyword (BM25), brute-force semantic and hybrid search (median and p99 over
//! `--queries` queries), plus the index's memory. Run it in release:
//! `cargo run --release -p ai-service --bin ai-bench -- --messages 100000`.

use std::time::{Duration, Instant};

use ai_service::config::default_model_dir;
use ai_service::embed::{self, DIM, Embedder};
use ai_service::index::{ChannelKind, Doc, Index, Scope};
use ai_service::search::{Mode, rank};
use uuid::Uuid;

const SUBJECTS: &[&str] = &[
    "the deploy",
    "the database",
    "our API",
    "the login page",
    "the billing job",
    "staging",
    "the search index",
    "the mobile app",
    "the nightly build",
    "the offsite plan",
];
const VERBS: &[&str] = &[
    "is failing again",
    "looks much faster now",
    "needs a review",
    "was rolled back",
    "is blocked on security",
    "got a new owner",
    "broke after the upgrade",
    "passed all tests",
    "is scheduled for Friday",
    "needs more memory",
];
const TAILS: &[&str] = &[
    "can someone take a look?",
    "thanks everyone!",
    "details in the ticket.",
    "see the dashboard.",
    "I'll follow up tomorrow.",
    "no action needed.",
    "ping me if it happens again.",
    "this is urgent.",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0 - 0.5
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let total = arg("--messages", 100_000);
    let sample = arg("--embed-sample", 2_000).min(total).max(1);
    let queries = arg("--queries", 200).max(1);
    let dir = default_model_dir();
    anyhow::ensure!(
        embed::model_present(&dir),
        "no model in {} — run scripts/fetch-model.sh",
        dir.display()
    );
    let embedder = Embedder::load(&dir, 32)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let text = |rng: &mut Rng| format!("{} {} {}", rng.pick(SUBJECTS), rng.pick(VERBS), rng.pick(TAILS));

    // Embedding throughput, in the worker's batch size.
    let texts: Vec<String> = (0..sample).map(|_| text(&mut rng)).collect();
    let started = Instant::now();
    let vectors = embedder.embed(&texts)?;
    let embed_secs = started.elapsed().as_secs_f64();
    println!(
        "embedding: {sample} messages in {embed_secs:.2} s = {:.0} messages/s (batch 32, {} threads)",
        sample as f64 / embed_secs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // The index: one workspace, 20 channels of which the searcher can read 18.
    let workspace = Uuid::now_v7();
    let author = Uuid::now_v7();
    let channels: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    let mut index = Index::default();
    for (i, c) in channels.iter().enumerate() {
        index.upsert_channel(
            *c,
            workspace,
            &format!("c{i}"),
            if i < 18 {
                ChannelKind::Public
            } else {
                ChannelKind::Private
            },
            false,
        );
    }
    let started = Instant::now();
    for i in 0..total {
        let base = &vectors[i % vectors.len()];
        let mut v: Vec<f32> = base.iter().map(|x| x + 0.05 * rng.unit()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        let doc = Doc::new(
            Uuid::now_v7(),
            workspace,
            channels[i % channels.len()],
            author,
            None,
            texts[i % texts.len()].clone(),
            i as i64,
        );
        index.upsert(doc, Some(&v), true);
    }
    println!(
        "index: {total} messages built in {:.2} s, vectors {:.0} MiB",
        started.elapsed().as_secs_f64(),
        (total * DIM * 4) as f64 / (1024.0 * 1024.0)
    );
    let scope = Scope {
        channels: channels[..18].iter().copied().collect(),
    };

    let query_texts: Vec<String> = (0..queries).map(|_| text(&mut rng)).collect();
    let started = Instant::now();
    let query_vectors = embedder.embed(&query_texts)?;
    println!(
        "query embedding: {:.1} ms per query (batched)",
        started.elapsed().as_secs_f64() * 1000.0 / queries as f64
    );
    let mut single = Vec::new();
    for q in query_texts.iter().take(20) {
        let started = Instant::now();
        embedder.embed(std::slice::from_ref(q))?;
        single.push(started.elapsed());
    }
    single.sort();
    println!(
        "query embedding, one at a time: median {:.1} ms",
        percentile(&single, 0.5).as_secs_f64() * 1000.0
    );

    for (label, mode) in [
        ("keyword", Mode::Keyword),
        ("semantic", Mode::Semantic),
        ("hybrid", Mode::Hybrid),
    ] {
        let mut times = Vec::with_capacity(queries);
        for (q, v) in query_texts.iter().zip(&query_vectors) {
            let started = Instant::now();
            let hits = rank(&index, workspace, &scope, q, Some(v), mode, 20);
            times.push(started.elapsed());
            std::hint::black_box(hits);
        }
        times.sort();
        println!(
            "{label} search over {total} messages (permission-filtered, top 20): median {:.1} ms, p99 {:.1} ms",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
