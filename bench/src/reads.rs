//! History pages and search at scale, embedded and scaled: a generated workspace of N messages
//! ([`crate::corpus`]) is loaded into a fresh server's database, then read the way the web app
//! reads it, over HTTP through the gateway with a real access token, one request at a time.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::corpus::{self, Reader};
use crate::echo_api::EchoApi;
use crate::server::{Kind, Server};
use crate::stats::Summary;

/// One measured read: a label for the table and the request paths, taken in turn.
struct Read {
    label: String,
    paths: Vec<String>,
}

/// Prints one table row per read, server and size: median, p99, and what the read returned.
pub async fn run(sizes: &[u64], servers: &[Kind], samples: usize) -> anyhow::Result<()> {
    println!("| messages | server | read | median | p99 | returned |");
    println!("|---:|---|---|---:|---:|---:|");
    for &messages in sizes {
        for &kind in servers {
            let label = match kind {
                Kind::Echo => "embedded",
                Kind::Scaled => "scaled",
                Kind::Bare => anyhow::bail!("the bare server stores nothing to read"),
            };
            let server = Server::start(kind).await?;
            let api = EchoApi::new(&server.base);
            let account = api.register("reader").await?;
            let (workspace, general) = api.workspace(&account.token, "Reads").await?;
            let reader = Reader {
                user: account.id.parse()?,
                workspace: workspace.parse()?,
                general,
            };
            let started = Instant::now();
            let corpus = corpus::load(&server.messages_db, &reader, messages).await?;
            eprintln!(
                "{label}: loaded {messages} messages in {:.0} s",
                started.elapsed().as_secs_f64()
            );
            for read in reads(&reader, &corpus) {
                let (summary, returned) = measure(&api, &account.token, &read, samples).await?;
                println!(
                    "| {messages} | {label} | {} | {:.2} ms | {:.2} ms | {returned} |",
                    read.label,
                    ms(summary.median),
                    ms(summary.p99)
                );
            }
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The history pages and the search query mix.
fn reads(reader: &Reader, corpus: &corpus::Corpus) -> Vec<Read> {
    let words = &corpus.words;
    let (common, mid, rare) = (&words[10], &words[2_000], &words[15_000]);
    // Four letters from inside a longer word.
    let inside = words[500..]
        .iter()
        .find(|w| w.len() >= 6)
        .map(|w| w[1..5].to_owned())
        .unwrap_or_default();
    let searches = [
        ("common word", common.clone()),
        ("mid word", mid.clone()),
        ("rare word", rare.clone()),
        ("two words", format!("{mid} {common}")),
        ("phrase", format!("\"{} {}\"", words[30], words[31])),
        ("start of a word", mid[..mid.len().min(4)].to_owned()),
        ("inside a word", inside),
        ("exclusion", format!("{mid} -{common}")),
        ("from:@me", format!("{mid} from:@me")),
        ("in:#channel", format!("{common} in:#channel-3")),
        ("CJK, two characters", "東京".to_owned()),
        ("CJK, one character", "議".to_owned()),
        ("filters only", "from:@me in:#channel-3".to_owned()),
        ("has:link alone", "has:link".to_owned()),
        (
            "mentions:me (nobody mentions the reader)",
            "mentions:me".to_owned(),
        ),
        ("has:link and a word", format!("{mid} has:link")),
    ];
    let (ws, general) = (reader.workspace, reader.general);
    let history = |label: &str, paths: Vec<String>| Read {
        label: format!("history: {label}"),
        paths,
    };
    let mut out = vec![
        history(
            "newest 50 of `general`",
            vec![format!("/api/v1/channels/{general}/messages?limit=50")],
        ),
        history(
            "50 before a message deep in `general`",
            corpus
                .cursors
                .iter()
                .map(|cursor| format!("/api/v1/channels/{general}/messages?limit=50&before={cursor}"))
                .collect(),
        ),
    ];
    out.extend(searches.into_iter().map(|(label, q)| Read {
        label: format!("search: {label} (`{q}`)"),
        paths: vec![format!(
            "/api/v1/workspaces/{ws}/search?limit=20&q={}",
            encode(&q)
        )],
    }));
    // A small corpus has no message deep enough for a cursor.
    out.retain(|read| !read.paths.is_empty());
    out
}

/// One untimed request (a server that has been answering reads has their pages in memory), then
/// `samples` timed ones; returns the latencies and how many items the last answer held.
async fn measure(
    api: &EchoApi,
    token: &str,
    read: &Read,
    samples: usize,
) -> anyhow::Result<(Summary, usize)> {
    let mut times = Vec::with_capacity(samples);
    let mut returned = 0;
    for sample in 0..=samples {
        let started = Instant::now();
        let path = &read.paths[sample % read.paths.len()];
        let body = api.call(token, "GET", path, Value::Null).await?;
        if sample > 0 {
            times.push(started.elapsed());
        }
        returned = ["messages", "results"]
            .iter()
            .find_map(|key| body[key].as_array())
            .map(Vec::len)
            .context("neither messages nor results in the answer")?;
    }
    Ok((Summary::of(times), returned))
}

/// Percent-encodes a query parameter's value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
