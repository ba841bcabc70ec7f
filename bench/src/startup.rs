//! Start-up: how long a server takes from being spawned to answering its readiness check, and
//! what it holds in memory once idle.
//!
//! Echo is the real `echo-server up` binary (the one built beside `echo-bench`) on a fresh data
//! directory, ready when `/readyz` (database, bus and storage checks) answers 200. Synapse is
//! ready when `/health` answers, on a fresh database; generating its configuration and creating
//! the database are not counted. Both first starts include creating their schema.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::process;
use crate::stats::{Summary, mib, ms};
use crate::synapse::Synapse;

/// How long a started server is left alone before its memory is read.
const IDLE: Duration = Duration::from_secs(3);

pub struct Startup {
    pub server: &'static str,
    pub ready: Summary,
    /// Median resident memory after [`IDLE`].
    pub idle_rss: u64,
}

pub const HEADER: &str = "| server | starts | ready median | ready p99 (slowest) | resident memory when idle (median) |\n|---|---:|---:|---:|---:|";

impl Startup {
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} ms | {:.0} ms | {:.1} MiB |",
            self.server,
            self.ready.count,
            ms(self.ready.median),
            ms(self.ready.p99),
            mib(self.idle_rss)
        )
    }
}

/// `with_model`: whether the embedding model (`~/.cache/echo/models`: opened at start, its weights
/// read on the first embedding) is found; without it semantic features fall back to lexical ones.
pub async fn echo(starts: usize, with_model: bool) -> anyhow::Result<Startup> {
    let binary = echo_server_binary()?;
    let mut ready = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..starts {
        let data = tempfile::tempdir()?;
        let port = process::free_port()?;
        let spawned = Instant::now();
        let mut command = crate::pinning::server_command(&binary);
        if !with_model {
            command.env("ECHO_MODEL_DIR", data.path().join("no-model"));
        }
        let mut child = command
            .args(["up", "--port", &port.to_string(), "--data-dir"])
            .arg(data.path())
            // No echo.toml from wherever the benchmark was started.
            .current_dir(data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let url = format!("http://127.0.0.1:{port}/readyz");
        ready.push(process::wait_until_ok(&mut child, &url, spawned, Duration::from_secs(60)).await?);
        tokio::time::sleep(IDLE).await;
        rss.push(process::rss(&child)?);
        child.kill().await?;
    }
    Ok(Startup {
        server: if with_model {
            "Echo (`echo-server up`)"
        } else {
            "Echo (`echo-server up`), no embedding model"
        },
        ready: Summary::of(ready),
        idle_rss: median(rss),
    })
}

pub async fn synapse(starts: usize) -> anyhow::Result<Startup> {
    let mut ready = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..starts {
        let synapse = Synapse::start().await?;
        ready.push(synapse.ready_in);
        tokio::time::sleep(IDLE).await;
        let measured = synapse.rss();
        synapse.stop().await?;
        rss.push(measured?);
    }
    Ok(Startup {
        server: "Synapse",
        ready: Summary::of(ready),
        idle_rss: median(rss),
    })
}

/// `echo-server` from the directory `echo-bench` runs from (both are built into the same target
/// directory).
fn echo_server_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("echo-server");
    anyhow::ensure!(
        path.exists(),
        "no {} (build it: cargo build --release -p echo-server)",
        path.display()
    );
    Ok(path)
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}
