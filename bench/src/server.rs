//! The servers under test, each in a child process of its own (`echo-bench serve …`), so their
//! memory can be read from `/proc` apart from the load generator's and each has its own file
//! descriptor budget.

use std::path::Path;
use std::process::Stdio;

use anyhow::Context;
use echo_server::config::EchoConfig;
use echo_server::system::{self, System};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Echo in embedded mode (`echo-server up`), SQLite and the durable embedded event log.
    Echo,
    /// The bare broadcast server of [`crate::bare`].
    Bare,
}

/// Runs a server on an ephemeral port of 127.0.0.1 and prints `listening on ADDR` once it accepts.
pub async fn run(kind: Kind, data_dir: &Path) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    match kind {
        Kind::Bare => {
            println!("listening on {addr}");
            crate::bare::serve(listener).await
        }
        Kind::Echo => {
            let mut config = EchoConfig {
                data_dir: data_dir.to_path_buf(),
                ..EchoConfig::default()
            };
            config.derive_from_data_dir(|_| false);
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

/// A server running in a child process; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    _data: tempfile::TempDir,
}

impl Server {
    pub async fn start(kind: Kind) -> anyhow::Result<Server> {
        let data = tempfile::tempdir()?;
        let kind_arg = match kind {
            Kind::Echo => "echo",
            Kind::Bare => "bare",
        };
        let mut child = Command::new(std::env::current_exe()?)
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
            _data: data,
        })
    }

    /// The server's resident memory, in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        crate::process::rss(&self.child)
    }
}
