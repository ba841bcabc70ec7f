//! `make bench`: the headline figures in a few minutes, Echo beside Synapse on this machine in one
//! run — start-up, durable send against the database ceilings, fan-out to 10 and 100 members —
//! each scenario's own table, then one table of the figures the targets are stated in.

use std::time::Duration;

use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::fanout::{self, Peer};
use crate::send::{self, Plan};
use crate::server::Kind;
use crate::stats::{mib, ms};
use crate::{ceiling, postgres, startup, synapse};

const FANOUT_MEMBERS: [usize; 2] = [10, 100];

pub async fn run() -> anyhow::Result<()> {
    println!(
        "Machine: {} cores, load average {}; {}",
        crate::pinning::machine_cores(),
        load_average(),
        crate::pinning::describe()
    );
    println!(
        "Versions: Echo {}, Synapse {}, SQLite {}, PostgreSQL {}",
        env!("CARGO_PKG_VERSION"),
        synapse::version().await?,
        sqlite_version().await?,
        postgres_version().await?
    );

    println!("\nStart-up\n\n{}", startup::HEADER);
    let echo_start = startup::echo(5, true).await?;
    let echo_start_lexical = startup::echo(5, false).await?;
    let synapse_start = startup::synapse(3).await?;
    for started in [&echo_start, &echo_start_lexical, &synapse_start] {
        println!("{}", started.row());
    }

    println!(
        "\nDurable-send ceiling: single-row commits\n\n{}",
        ceiling::HEADER
    );
    let sqlite = ceiling::sqlite(Duration::from_secs(3)).await?;
    let pg = ceiling::postgres(8, Duration::from_secs(3)).await?;
    println!("{}\n{}", sqlite.row(), pg.row());

    println!(
        "\nDurable send, one poster into one channel or room\n\n{}",
        send::HEADER
    );
    let echo_plan = Plan {
        // 50/s is offered to both servers, for post latency at the same load.
        rates: vec![50.0, 500.0, 1_000.0],
        in_flight: 64,
        duration: Duration::from_secs(3),
    };
    let synapse_plan = Plan {
        rates: vec![50.0],
        in_flight: 16,
        duration: Duration::from_secs(5),
    };
    let echo_send = send::echo(Kind::Echo, &echo_plan).await?;
    let synapse_send = send::synapse(&synapse_plan).await?;
    for outcome in echo_send.iter().chain(&synapse_send) {
        println!("{}", outcome.row());
    }

    println!("\nFan-out (deliveries/s over a 100-message burst, latency over 50 one at a time)\n");
    println!("| members | server | deliveries/s | latency median | latency p99 |\n|---:|---|---:|---:|---:|");
    let options = fanout::Options {
        members: FANOUT_MEMBERS.to_vec(),
        synapse_members: FANOUT_MEMBERS.to_vec(),
        latency_messages: 50,
        burst_messages: 100,
        idle_connections: Vec::new(),
        charts: None,
    };
    let mut deliveries = Vec::new();
    for members in FANOUT_MEMBERS {
        let echo = fanout::delivery(Peer::Echo, members, &options).await?;
        let synapse = fanout::delivery(Peer::Synapse, members, &options).await?;
        for result in [&echo, &synapse] {
            println!(
                "| {members} | {} | {:.0} | {:.2} ms | {:.2} ms |",
                result.peer,
                result.deliveries_per_sec,
                ms(result.latency.median),
                ms(result.latency.p99)
            );
        }
        deliveries.push((members, echo, synapse));
    }

    let (echo_max, synapse_max) = (&echo_send[0], &synapse_send[0]);
    println!("\nHeadline (load average now {})\n", load_average());
    println!("| measure | Echo | Synapse | Echo ÷ Synapse | target | met |\n|---|---:|---:|---:|---|---|");
    println!(
        "| durable send, acknowledged posts/s ({} / {}) | {:.0} | {:.0} | {:.0}× | Echo ≥ 10,000/s | {} |",
        echo_max.load,
        synapse_max.load,
        echo_max.per_sec,
        synapse_max.per_sec,
        echo_max.per_sec / synapse_max.per_sec,
        met(echo_max.per_sec >= 10_000.0)
    );
    println!(
        "| send throughput against Synapse | | | {:.0}× | ≥ 100× | {} |",
        echo_max.per_sec / synapse_max.per_sec,
        met(echo_max.per_sec >= 100.0 * synapse_max.per_sec)
    );
    println!(
        "| send share of its database's commit ceiling ({:.0} SQLite / {:.0} PostgreSQL commits/s) | {:.0}% | {:.1}% | | | |",
        sqlite.per_sec,
        pg.per_sec,
        100.0 * echo_max.per_sec / sqlite.per_sec,
        100.0 * synapse_max.per_sec / pg.per_sec
    );
    for (echo, synapse) in echo_send[1..].iter().zip(&synapse_send[1..]) {
        println!(
            "| post latency median / p99 ({} / {}) | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.3}× | | |",
            echo.load,
            synapse.load,
            ms(echo.latency.median),
            ms(echo.latency.p99),
            ms(synapse.latency.median),
            ms(synapse.latency.p99),
            ms(echo.latency.median) / ms(synapse.latency.median)
        );
    }
    for (members, echo, synapse) in &deliveries {
        let ratio = ms(echo.latency.median) / ms(synapse.latency.median);
        println!(
            "| send → receive latency median, {members} members | {:.2} ms | {:.2} ms | {ratio:.3}× | ≤ 0.1× | {} |",
            ms(echo.latency.median),
            ms(synapse.latency.median),
            met(ratio <= 0.1)
        );
        println!(
            "| deliveries/s, {members} members | {:.0} | {:.0} | {:.0}× | | |",
            echo.deliveries_per_sec,
            synapse.deliveries_per_sec,
            echo.deliveries_per_sec / synapse.deliveries_per_sec
        );
    }
    println!(
        "| start-up to ready (median of {} / {}) | {:.0} ms | {:.0} ms | {:.3}× | Echo < 500 ms | {} |",
        echo_start.ready.count,
        synapse_start.ready.count,
        ms(echo_start.ready.median),
        ms(synapse_start.ready.median),
        ms(echo_start.ready.median) / ms(synapse_start.ready.median),
        met(echo_start.ready.median < Duration::from_millis(500))
    );
    println!(
        "| resident memory when idle | {:.1} MiB | {:.1} MiB | {:.2}× | Echo < 60 MiB | {} |",
        mib(echo_start.idle_rss),
        mib(synapse_start.idle_rss),
        echo_start.idle_rss as f64 / synapse_start.idle_rss as f64,
        met(echo_start.idle_rss < 60 * 1024 * 1024)
    );
    println!(
        "| the same without the embedding model (ready / resident) | {:.0} ms / {:.1} MiB | | | | |",
        ms(echo_start_lexical.ready.median),
        mib(echo_start_lexical.idle_rss)
    );
    Ok(())
}

fn met(yes: bool) -> &'static str {
    if yes { "yes" } else { "**no**" }
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

async fn sqlite_version() -> anyhow::Result<String> {
    let mut connection = SqliteConnection::connect("sqlite::memory:").await?;
    let (version,): (String,) = sqlx::query_as("SELECT sqlite_version()")
        .fetch_one(&mut connection)
        .await?;
    Ok(version)
}

async fn postgres_version() -> anyhow::Result<String> {
    let mut connection = PgConnection::connect(&format!("{}/postgres", postgres::server_url())).await?;
    let (version,): (String,) = sqlx::query_as("SHOW server_version")
        .fetch_one(&mut connection)
        .await?;
    Ok(version)
}
