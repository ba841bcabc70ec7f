//! Echo's scaled topology beside embedded Echo, in the same run: durable send, fan-out and idle
//! memory, each measured on a fresh `echo-server cluster` (two gateways, users, two
//! message-service replicas, ai; PostgreSQL, Redis Streams and a local S3 server) and a fresh
//! `echo-bench serve echo`.

use std::time::Duration;

use crate::fanout::{self, Peer};
use crate::send::{self, Plan};
use crate::server::Kind;
use crate::stats::{mib, ms};

pub struct Options {
    pub send: Plan,
    pub members: Vec<usize>,
    pub latency_messages: usize,
    pub burst_messages: usize,
    pub idle_connections: usize,
}

pub async fn run(options: &Options) -> anyhow::Result<()> {
    println!("{}", send::HEADER);
    for kind in [Kind::Echo, Kind::Scaled] {
        for outcome in send::echo(kind, &options.send).await? {
            println!("{}", outcome.row());
        }
    }

    let fanout_options = fanout::Options {
        members: options.members.clone(),
        synapse_members: Vec::new(),
        latency_messages: options.latency_messages,
        burst_messages: options.burst_messages,
        idle_connections: Vec::new(),
        charts: None,
    };
    println!(
        "\n| members | server | deliveries/s | latency median | latency p99 | notification median | dropped connections |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for &members in &options.members {
        for peer in [Peer::Echo, Peer::EchoScaled] {
            let result = fanout::delivery(peer, members, &fanout_options).await?;
            let notification = result
                .notification
                .map_or(Duration::ZERO, |(single, _)| single.median);
            println!(
                "| {members} | {peer} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
                result.deliveries_per_sec,
                ms(result.latency.median),
                ms(result.latency.p99),
                ms(notification),
                result.dropped
            );
        }
    }

    println!(
        "\n| server | resident when idle (every process) | with {} idle connections | per connection | opened/s |",
        options.idle_connections
    );
    println!("|---|---:|---:|---:|---:|");
    for (label, kind) in [("Echo", Kind::Echo), ("Echo, scaled", Kind::Scaled)] {
        let idle = fanout::idle_memory(kind, options.idle_connections).await?;
        println!(
            "| {label} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.0} |",
            mib(idle.before),
            mib(idle.after),
            idle.per_connection() / 1024.0,
            idle.opened_per_sec
        );
    }
    Ok(())
}
