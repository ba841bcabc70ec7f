//! `echo-bench`: benchmarks against a real Echo, reported as medians and 99th percentiles, with
//! Matrix Synapse measured beside it in the same run where the scenario allows.
//!
//! - `reads`: latency of history pages and searches in a generated workspace of N messages,
//!   embedded and scaled, through the gateway over HTTP.
//! - `send`: acknowledged (durable) posts per second and post latency at fixed offered loads, for
//!   Echo and Synapse, against the database's single-row commit ceiling.
//! - `fanout`: deliveries per second and send → receive latency to every connected member of a
//!   channel, for Echo, Synapse and a bare broadcast server (the ceiling), and memory per idle
//!   connection.
//! - `startup`: time from spawn to ready, and idle memory, of `echo-server up` and of Synapse.
//! - `mixed`: the most simulated active users (a Mattermost-like mix of reading, posting,
//!   reacting and searching) a server holds within latency and error limits.
//! - `headline`: a few minutes of the above, ending in the table the targets are stated in.
//! - `scaled`: send, fan-out and idle memory of the scaled topology (`echo-server cluster`)
//!   beside embedded Echo.

mod bare;
mod ceiling;
mod chart;
mod corpus;
mod echo_api;
mod fanout;
mod headline;
mod mixed;
mod pinning;
mod postgres;
mod process;
mod reads;
mod scaled;
mod send;
mod server;
mod sockets;
mod startup;
mod stats;
mod synapse;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::server::Kind;

#[derive(Debug, Parser)]
#[command(name = "echo-bench", about = "Echo's benchmarks")]
struct Cli {
    /// Let the servers and the load generator share every core (by default the load generator
    /// runs on core 0 and the servers on the others).
    #[arg(long, global = true)]
    no_pin: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// History pages and searches in a generated workspace of N messages (50 channels, 200
    /// authors, threads, mentions, reactions), loaded straight into each server's database.
    Reads {
        /// Messages in the workspace, e.g. 1000000 10000000.
        #[arg(default_values_t = [1_000_000u64])]
        messages: Vec<u64>,
        /// The servers to read from: `echo` (embedded) and `scaled`.
        #[arg(long, value_enum, num_args = 1.., default_values_t = [Kind::Echo, Kind::Scaled])]
        servers: Vec<Kind>,
        /// Timed requests per read, after one untimed one.
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// Durable send: acknowledged posts per second and post latency, closed loop and at fixed
    /// offered loads (open loop), Echo beside Synapse, and the databases' commit ceilings.
    Send {
        /// Offered loads for Echo, posts per second.
        #[arg(long, num_args = 1.., default_values_t = [50.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0])]
        echo_rates: Vec<f64>,
        /// Offered loads for Synapse, posts per second; none (`--synapse-rates` alone) leaves
        /// Synapse out.
        #[arg(long, num_args = 0.., default_values_t = [25.0, 50.0, 100.0])]
        synapse_rates: Vec<f64>,
        /// Posts in flight for Echo (closed loop: exactly; open loop: at most).
        #[arg(long, default_value_t = 64)]
        echo_in_flight: usize,
        /// Posts in flight for Synapse.
        #[arg(long, default_value_t = 16)]
        synapse_in_flight: usize,
        /// Seconds each load is offered.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Also write SVG charts of the results into this folder.
        #[arg(long)]
        charts: Option<PathBuf>,
    },
    /// Fan-out to a channel's connected members and idle-connection memory, Echo beside a bare
    /// WebSocket broadcast server and Synapse (each in a process of its own).
    Fanout {
        /// Channel sizes (connected members) to measure.
        #[arg(default_values_t = [10usize, 100, 1000])]
        members: Vec<usize>,
        /// The channel sizes Synapse is measured at too.
        #[arg(long, num_args = 0.., default_values_t = [10usize, 100])]
        synapse_members: Vec<usize>,
        /// Messages sent one at a time for the latency figures.
        #[arg(long, default_value_t = 100)]
        latency_messages: usize,
        /// Messages sent in one burst for the throughput figure.
        #[arg(long, default_value_t = 200)]
        burst_messages: usize,
        /// Idle connection counts the memory per connection is measured at (each on a fresh server).
        #[arg(long, num_args = 0.., default_values_t = [10_000usize])]
        idle: Vec<usize>,
        /// Also write SVG charts of the results into this folder.
        #[arg(long)]
        charts: Option<PathBuf>,
    },
    /// Mixed load modelled on Mattermost's load test: simulated active users added in stages,
    /// up to the largest stage within the limits (average request ≤ 100 ms, p99 ≤ 2 s, errors
    /// ≤ 0.025%).
    Mixed {
        /// Active users at each stage, increasing.
        #[arg(default_values_t = [2_000usize, 4_000, 6_000, 8_000, 10_000])]
        stages: Vec<usize>,
        /// Seconds each stage is measured for (after one average idle time of warm-up).
        #[arg(long, default_value_t = 40.0)]
        seconds: f64,
        /// Channels each user joins besides `general`.
        #[arg(long, default_value_t = 5)]
        channels_per_user: usize,
        /// Messages posted into each channel before the first stage.
        #[arg(long, default_value_t = 20)]
        seed_messages: usize,
        /// Run against the scaled topology (`echo-server cluster`) instead of embedded Echo.
        #[arg(long)]
        scaled: bool,
    },
    /// Start-up time and idle memory of `echo-server up` and of Synapse.
    Startup {
        /// Starts of `echo-server up`.
        #[arg(long, default_value_t = 5)]
        starts: usize,
        /// Starts of Synapse (each creates its schema in a fresh database: several seconds).
        #[arg(long, default_value_t = 3)]
        synapse_starts: usize,
    },
    /// The headline figures, Echo beside Synapse, in a few minutes (`make bench`).
    Headline,
    /// The scaled topology (`echo-server cluster` on this machine's PostgreSQL and Redis) beside
    /// embedded Echo: durable send, fan-out and idle memory (`make bench-scaled`).
    Scaled {
        /// Channel sizes (connected members) for fan-out.
        #[arg(default_values_t = [10usize, 100])]
        members: Vec<usize>,
        /// Offered loads, posts per second.
        #[arg(long, num_args = 1.., default_values_t = [50.0, 500.0, 1_000.0])]
        rates: Vec<f64>,
        /// Posts in flight (closed loop: exactly; open loop: at most).
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
        /// Seconds each load is offered.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Messages sent one at a time for the latency figures.
        #[arg(long, default_value_t = 100)]
        latency_messages: usize,
        /// Messages sent in one burst for the throughput figure.
        #[arg(long, default_value_t = 200)]
        burst_messages: usize,
        /// Idle connections opened for the memory figure.
        #[arg(long, default_value_t = 1_000)]
        idle: usize,
    },
    /// Runs one server under test and prints `listening on ADDR` (started by the scenarios).
    #[command(hide = true)]
    Serve {
        kind: server::Kind,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Before the runtime starts, so that its threads inherit the pinning.
    pinning::setup(!cli.no_pin)?;
    tokio::runtime::Runtime::new()?.block_on(run(cli.scenario))
}

async fn run(scenario: Scenario) -> anyhow::Result<()> {
    match scenario {
        Scenario::Reads {
            messages,
            servers,
            samples,
        } => reads::run(&messages, &servers, samples).await?,
        Scenario::Send {
            echo_rates,
            synapse_rates,
            echo_in_flight,
            synapse_in_flight,
            seconds,
            charts,
        } => {
            let duration = Duration::from_secs_f64(seconds);
            println!("{}", ceiling::HEADER);
            println!("{}", ceiling::sqlite(duration).await?.row());
            for connections in [1, 8] {
                println!("{}", ceiling::postgres(connections, duration).await?.row());
            }
            println!("\n{}", send::HEADER);
            let echo = send::Plan {
                rates: echo_rates,
                in_flight: echo_in_flight,
                duration,
            };
            let synapse = send::Plan {
                rates: synapse_rates,
                in_flight: synapse_in_flight,
                duration,
            };
            let mut outcomes = send::echo(Kind::Echo, &echo).await?;
            if !synapse.rates.is_empty() {
                outcomes.extend(send::synapse(&synapse).await?);
            }
            for outcome in &outcomes {
                println!("{}", outcome.row());
            }
            if let Some(dir) = charts {
                send::charts(&outcomes, &dir)?;
            }
        }
        Scenario::Fanout {
            members,
            synapse_members,
            latency_messages,
            burst_messages,
            idle,
            charts,
        } => {
            let options = fanout::Options {
                members,
                synapse_members,
                latency_messages,
                burst_messages,
                idle_connections: idle,
                charts,
            };
            fanout::run(&options).await?;
        }
        Scenario::Startup {
            starts,
            synapse_starts,
        } => {
            println!("{}", startup::HEADER);
            println!("{}", startup::echo(starts, true).await?.row());
            println!("{}", startup::echo(starts, false).await?.row());
            println!("{}", startup::synapse(synapse_starts).await?.row());
        }
        Scenario::Mixed {
            stages,
            seconds,
            channels_per_user,
            seed_messages,
            scaled,
        } => {
            let options = mixed::Options {
                kind: if scaled { Kind::Scaled } else { Kind::Echo },
                stages,
                window: Duration::from_secs_f64(seconds),
                channels_per_user,
                seed_messages,
            };
            mixed::run(&options).await?;
        }
        Scenario::Headline => headline::run().await?,
        Scenario::Scaled {
            members,
            rates,
            in_flight,
            seconds,
            latency_messages,
            burst_messages,
            idle,
        } => {
            let options = scaled::Options {
                send: send::Plan {
                    rates,
                    in_flight,
                    duration: Duration::from_secs_f64(seconds),
                },
                members,
                latency_messages,
                burst_messages,
                idle_connections: idle,
            };
            scaled::run(&options).await?;
        }
        Scenario::Serve { kind, data_dir } => server::run(kind, &data_dir).await?,
    }
    Ok(())
}
