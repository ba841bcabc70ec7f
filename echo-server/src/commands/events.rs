//! `echo-server events …`: look into the event bus, re-drive dead letters, replay a consumer group.

use clap::Subcommand;
use echo_events::Position;
use echo_events::admin::{self, ReplayFrom};

use crate::config::EchoConfig;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Consumer groups with their position and pending deliveries.
    Groups,
    /// Events that consumers gave up on.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Deliver a consumer group's events again from a position or a time (consumers are idempotent).
    Replay {
        /// The consumer group, e.g. `user-service` or `ai-service`.
        #[arg(long)]
        group: String,
        /// Start at this position (inclusive), as shown by `dlq list` or a WebSocket cursor.
        #[arg(long, conflicts_with = "since")]
        from: Option<Position>,
        /// Start at the first event appended at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters, oldest first.
    List {
        #[arg(long)]
        group: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Send dead letters back to their group: the given ids, or all of them with `--all`.
    Retry {
        ids: Vec<Position>,
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        #[arg(long, requires = "all")]
        group: Option<String>,
    },
}

pub async fn run(config: &EchoConfig, command: EventsCommand) -> anyhow::Result<()> {
    let bus = echo_events::connect(config.bus.clone()).await?;
    match command {
        EventsCommand::Groups => {
            let groups = admin::groups(bus.as_ref()).await?;
            println!("{:<28} {:<24} {:>8}", "GROUP", "LAST DELIVERED", "PENDING");
            for g in groups {
                println!(
                    "{:<28} {:<24} {:>8}",
                    g.name,
                    g.last_delivered.to_string(),
                    g.pending
                );
            }
        }
        EventsCommand::Dlq(DlqCommand::List { group, limit }) => {
            let letters = admin::dlq_list(bus.as_ref(), group.as_deref(), limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for l in letters {
                let kind = l.envelope.as_ref().map_or("(undecodable)", |e| e.kind.as_str());
                println!(
                    "{}  group={} position={} type={} attempts={} reason={}",
                    l.id, l.group, l.position, kind, l.attempts, l.reason
                );
            }
        }
        EventsCommand::Dlq(DlqCommand::Retry { ids, all, group }) => {
            anyhow::ensure!(all || !ids.is_empty(), "name dead-letter ids, or pass --all");
            let reports = if all {
                admin::dlq_retry_all(bus.as_ref(), group.as_deref()).await?
            } else {
                admin::dlq_retry(bus.as_ref(), &ids).await?
            };
            for r in &reports {
                println!(
                    "{} -> group {} at {}: {:?}",
                    r.dead_letter, r.group, r.position, r.outcome
                );
            }
            println!("{} dead letter(s) re-driven", reports.len());
        }
        EventsCommand::Replay { group, from, since } => {
            let start = match (from, since) {
                (Some(p), _) => ReplayFrom::Position(p),
                (None, Some(t)) => ReplayFrom::Time(t),
                (None, None) => ReplayFrom::Oldest,
            };
            let report = admin::replay(bus.as_ref(), &group, start).await?;
            match report.first {
                Some(first) => println!("group {} will receive events again from {first}", report.group),
                None => println!("nothing to replay for group {}", report.group),
            }
        }
    }
    Ok(())
}
