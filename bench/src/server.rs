//! The servers under test, each in a child process of its own (`echo-bench serve …`), so their
//! memory can be read from `/proc` apart from the load generator's and each has its own file
//! descriptor budget.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use echo_server::config::EchoConfig;
use echo_server::system::{self, System};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Child;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Echo in embedded mode (`echo-server up`), SQLite and the durable embedded event log.
    Echo,
    /// Echo's scaled topology (`echo-server cluster`: two gateways, users, two message-service
    /// replicas, ai, on the PostgreSQL and Redis of this machine and a local S3 server), with the
    /// same rate-limit and Argon2 settings as `Echo`. Its memory is the whole process tree's.
    Scaled,
    /// The bare broadcast server of [`crate::bare`].
    Bare,
}

/// The settings every Echo under test runs with, as `echo-server`'s environment overrides.
const ECHO_ENV: [(&str, &str); 3] = [
    ("ECHO_GATEWAY__RATE_LIMITS__ENABLED", "false"),
    ("ECHO_USERS__ARGON2__MEMORY_KIB", "256"),
    ("ECHO_USERS__ARGON2__ITERATIONS", "1"),
];

/// Runs a server on an ephemeral port of 127.0.0.1 and prints `listening on ADDR` once it accepts.
pub async fn run(kind: Kind, data_dir: &Path) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    match kind {
        Kind::Bare => {
            println!("listening on {addr}");
            crate::bare::serve(listener).await
        }
        Kind::Scaled => anyhow::bail!("the scaled topology is `echo-server cluster`, not served here"),
        Kind::Echo => {
            let mut config = embedded_config(data_dir);
            config.gateway.web_dir = None;
            config.gateway.rate_limits.enabled = false;
            // The benchmark measures delivery, not login: thousands of accounts are created, so
            // passwords are hashed at Argon2's minimum cost rather than OWASP's.
            config.users.argon2.memory_kib = 256;
            config.users.argon2.iterations = 1;
            let shutdown = CancellationToken::new();
            let system = System::build(&config, shutdown.clone()).await?;
            println!("listening on {addr}");
            system::serve(listener, system.router.clone(), shutdown).await
        }
    }
}

/// Embedded Echo's configuration for a data directory, before the benchmark's settings.
fn embedded_config(data_dir: &Path) -> EchoConfig {
    let mut config = EchoConfig {
        data_dir: data_dir.to_path_buf(),
        ..EchoConfig::default()
    };
    config.derive_from_data_dir(|_| false);
    config
}

/// A server running in a child process; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// message-service's database (the benchmarks that read at scale load it directly).
    pub messages_db: String,
    _data: tempfile::TempDir,
}

impl Server {
    pub async fn start(kind: Kind) -> anyhow::Result<Server> {
        if kind == Kind::Scaled {
            return Self::cluster().await;
        }
        let data = tempfile::tempdir()?;
        let kind_arg = match kind {
            Kind::Echo => "echo",
            Kind::Bare => "bare",
            Kind::Scaled => unreachable!("started above"),
        };
        let mut child = crate::pinning::server_command(std::env::current_exe()?)
            .args(["serve", kind_arg, "--data-dir"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let line = BufReader::new(stdout)
            .lines()
            .next_line()
            .await?
            .context("the server exited before listening")?;
        let addr = line
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected server output {line:?}"))?;
        Ok(Server {
            child,
            base: format!("http://{addr}"),
            messages_db: embedded_config(data.path()).messages.database_url,
            _data: data,
        })
    }

    /// `echo-server cluster` (beside this binary) on free ports, with databases and Redis keys
    /// of its own that it drops when stopped.
    async fn cluster() -> anyhow::Result<Server> {
        let data = tempfile::tempdir()?;
        let exe = std::env::current_exe()?.with_file_name("echo-server");
        anyhow::ensure!(
            exe.is_file(),
            "{} is missing: build echo-server too",
            exe.display()
        );
        let name = format!("echo_bench_{}", std::process::id());
        let mut child = crate::pinning::server_command(exe)
            .args([
                "cluster",
                "--port",
                "0",
                "--temporary",
                "--name",
                &name,
                "--postgres",
                &crate::postgres::server_url(),
                "--data-dir",
            ])
            .arg(data.path())
            .envs(ECHO_ENV)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting echo-server cluster")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let base = loop {
            let line = lines
                .next_line()
                .await?
                .context("the cluster exited before it was ready")?;
            if let Some(rest) = line.strip_prefix("Open ") {
                break rest.split(';').next().unwrap_or_default().to_owned();
            }
        };
        // The supervisor says when children restart; nobody need read it, but it must not block.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            base,
            messages_db: format!("{}/{name}_messages", crate::postgres::server_url()),
            _data: data,
        })
    }

    /// Waits until the server has used under a tenth of a core for five seconds (its work from
    /// earlier requests, such as embedding new messages, is done); returns how long that took.
    pub async fn wait_until_idle(&self, patience: Duration) -> anyhow::Result<Duration> {
        const SPAN: Duration = Duration::from_secs(5);
        let started = std::time::Instant::now();
        loop {
            let before = crate::process::cpu_time(&self.child)?;
            tokio::time::sleep(SPAN).await;
            let busy = crate::process::cpu_time(&self.child)? - before;
            if busy < SPAN / 10 {
                return Ok(started.elapsed());
            }
            anyhow::ensure!(
                started.elapsed() < patience,
                "the server was still busy after {patience:?}"
            );
        }
    }

    /// The server's resident memory, in bytes: its process's, or the cluster's whole tree's.
    pub fn rss(&self) -> anyhow::Result<u64> {
        crate::process::rss_of_tree(&self.child)
    }
}

impl Drop for Server {
    /// A cluster stops its children and drops its databases on SIGTERM; killed, it would leave them.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
