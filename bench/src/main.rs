//! `echo-bench`: benchmarks against a real Echo, reported as medians and 99th percentiles.
//!
//! - `history`: latency of a channel's history pages (`GET /api/v1/channels/{ch}/messages`) when
//!   the channel holds N messages, newest page and deep pages, through the gateway over HTTP.

mod history;
mod stats;

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
    }
    Ok(())
}
