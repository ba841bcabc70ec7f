//! `echo-bench`: benchmarks against a real Echo, reported as medians and 99th percentiles.
//!
//! - `history`: latency of a channel's history pages (`GET /api/v1/channels/{ch}/messages`) when
//!   the channel holds N messages, newest page and deep pages, through the gateway over HTTP.
//! - `fanout`: deliveries per second and send → receive latency to every connected member of a
//!   channel, and memory per idle connection, for Echo and a bare broadcast server (the ceiling).

mod bare;
mod fanout;
mod history;
mod server;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "echo-bench", about = "Echo's benchmarks")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// History-page latency in a channel of N messages (embedded mode, SQLite).
    History {
        /// Channel sizes to measure, e.g. 100000 1000000.
        #[arg(default_values_t = [100_000u64, 1_000_000])]
        messages: Vec<u64>,
        /// Page requests per measurement.
        #[arg(long, default_value_t = 400)]
        requests: usize,
    },
    /// Fan-out to a channel's connected members and idle-connection memory, Echo beside a bare
    /// WebSocket broadcast server (each in a process of its own).
    Fanout {
        /// Channel sizes (connected members) to measure.
        #[arg(default_values_t = [10usize, 100, 1000])]
        members: Vec<usize>,
        /// Messages sent one at a time for the latency figures.
        #[arg(long, default_value_t = 100)]
        latency_messages: usize,
        /// Messages sent in one burst for the throughput figure.
        #[arg(long, default_value_t = 200)]
        burst_messages: usize,
        /// Idle connections opened for the memory figure.
        #[arg(long, default_value_t = 10_000)]
        idle: usize,
    },
    /// Runs one server under test and prints `listening on ADDR` (started by `fanout`).
    #[command(hide = true)]
    Serve {
        kind: server::Kind,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::History { messages, requests } => {
            println!("| messages in channel | page | requests | median | p99 |");
            println!("|---:|---|---:|---:|---:|");
            for n in messages {
                for row in history::run(n, requests).await? {
                    println!("{row}");
                }
            }
        }
        Scenario::Fanout {
            members,
            latency_messages,
            burst_messages,
            idle,
        } => {
            let options = fanout::Options {
                members,
                latency_messages,
                burst_messages,
                idle_connections: idle,
            };
            fanout::run(&options).await?;
        }
        Scenario::Serve { kind, data_dir } => server::run(kind, &data_dir).await?,
    }
    Ok(())
}
