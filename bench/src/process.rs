//! What the benchmarks need to know about a server process: a port for it, when it answers, and
//! its resident memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::Child;

/// A port of 127.0.0.1 that was free a moment ago, for servers that must be told where to listen.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `url` until it answers 200; returns how long after `spawned` that first happened.
/// Fails early if `child` exits, and after `patience`.
pub async fn wait_until_ok(
    child: &mut Child,
    url: &str,
    spawned: Instant,
    patience: Duration,
) -> anyhow::Result<Duration> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    loop {
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(spawned.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the server exited ({status}) before {url} answered");
        }
        anyhow::ensure!(
            spawned.elapsed() < patience,
            "{url} did not answer within {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The resident memory of a running process, in bytes (`VmRSS` of `/proc/PID/status`).
pub fn rss(child: &Child) -> anyhow::Result<u64> {
    rss_of(child.id().context("the server has exited")?)
}

/// The resident memory of a process and all its descendants, in bytes.
pub fn rss_of_tree(child: &Child) -> anyhow::Result<u64> {
    let mut pending = vec![child.id().context("the server has exited")?];
    let mut total = 0;
    while let Some(pid) = pending.pop() {
        total += rss_of(pid)?;
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        pending.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    Ok(total)
}

/// CPU time a process has used so far (user and system, in the kernel's clock ticks of 1/100 s).
pub fn cpu_time(child: &Child) -> anyhow::Result<Duration> {
    let pid = child.id().context("the server has exited")?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("unreadable stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<u64> { Ok(fields.get(i).context("short stat")?.parse()?) };
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .context("no VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib * 1024)
}
