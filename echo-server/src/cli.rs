//! The command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::commands::ai::{self, AiCommand};
use crate::commands::cluster::{self, ClusterArgs};
use crate::commands::events::{self, EventsCommand};
use crate::commands::export::{self, ExportArgs};
use crate::commands::import::{self, ImportCommand};
use crate::config::{EchoConfig, Overrides, absolute};
use crate::system::{self, ServiceName, System};

/// Echo: team chat that runs on one small machine and scales out when it grows.
#[derive(Debug, Parser)]
#[command(name = "echo-server", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Configuration file (TOML). Default: ./echo.toml if present.
    #[arg(long, short = 'c', global = true, env = "ECHO_CONFIG")]
    config: Option<PathBuf>,
    /// Where databases, the event log and files live (embedded mode).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all of Echo in this process: API, real time and the web app on one port, data on local disk.
    Up {
        /// Port to listen on.
        #[arg(long, short = 'p')]
        port: Option<u16>,
    },
    /// Run one service on its own (scaled mode: PostgreSQL, Redis and S3 from the configuration).
    Serve {
        /// Which service to run.
        #[arg(value_enum)]
        service: ServiceName,
        /// Port to listen on (default: gateway 8080, users 8001, messages 8002, ai 8003).
        #[arg(long, short = 'p')]
        port: Option<u16>,
    },
    /// Run the scaled topology on this machine (development, tests): each service a process of
    /// its own on PostgreSQL, Redis and a local S3 server, gateways and message-service replicated.
    Cluster(ClusterArgs),
    /// Create or upgrade every service's database schema, then exit.
    Migrate,
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect and repair the event bus: consumer groups, dead letters, replay.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The AI features' embedding model.
    #[command(subcommand)]
    Ai(AiCommand),
    /// Write a workspace's export (a ZIP of its people, channels, messages and files; layout in
    /// docs/export.md), as owners and admins download it from the web app.
    Export(ExportArgs),
    /// Bring history in: an Echo export, or a Slack export.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the OpenAPI document of the public HTTP API (JSON), as served at /api/openapi.json.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new signing key current; old keys keep verifying until their tokens expire.
    Rotate,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "echo-server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let port = match &cli.command {
        Command::Up { port } | Command::Serve { port, .. } => *port,
        _ => None,
    };
    let overrides = Overrides {
        config_file: cli.global.config.clone(),
        data_dir: cli.global.data_dir.clone(),
        port,
    };
    let mut config = EchoConfig::load(&overrides)?;
    // Servers export their spans when a collector is configured; one-shot commands only log.
    let service = match &cli.command {
        Command::Up { .. } => Some("echo".to_owned()),
        Command::Serve { service, .. } => Some(format!("echo-{}", service.label())),
        _ => None,
    };
    let tracing = service.as_deref().map(|service| echo_http::telemetry::Tracing {
        endpoint: config.otlp_endpoint.as_deref(),
        service,
    });
    let _telemetry = echo_http::telemetry::init(config.log_json, tracing);

    match cli.command {
        Command::Up { .. } => up(config).await,
        Command::Serve { service, port } => {
            if port.is_none() && std::env::var_os("ECHO_PORT").is_none() {
                config.port = default_port(service);
            }
            serve(config, service).await
        }
        Command::Cluster(args) => cluster::run(&config, args).await,
        Command::Migrate => migrate(config).await,
        Command::Events(command) => events::run(&config, command).await,
        Command::Ai(command) => ai::run(&config, command).await,
        Command::Export(args) => export::run(&config, args).await,
        Command::Import(command) => import::run(&config, command).await,
        Command::Openapi => {
            println!("{}", system::api_document().to_pretty_json()?);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let kid = user_service::rotate_signing_key(&config.users).await?;
            println!(
                "new signing key {kid} is now current; tokens signed by the previous key verify until they expire"
            );
            Ok(())
        }
    }
}

fn default_port(service: ServiceName) -> u16 {
    match service {
        ServiceName::Gateway => 8080,
        ServiceName::Users => 8001,
        ServiceName::Messages => 8002,
        ServiceName::Ai => 8003,
    }
}

async fn up(config: EchoConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    log_config(&config);
    let shutdown = CancellationToken::new();
    let listener = bind(&config).await?;
    let system = System::build(&config, shutdown.clone()).await?;
    let url = format!("http://localhost:{}", listener.local_addr()?.port());
    tracing::info!(
        url,
        data_dir = %absolute(&config.data_dir).display(),
        ready_in_ms = started.elapsed().as_millis() as u64,
        "Echo is ready"
    );
    println!(
        "Echo is running at {url} (data in {})",
        absolute(&config.data_dir).display()
    );
    spawn_signal_handler(shutdown.clone());
    let served = system::serve(listener, system.router.clone(), shutdown).await;
    system.close().await;
    tracing::info!("Echo stopped");
    served
}

async fn serve(config: EchoConfig, service: ServiceName) -> anyhow::Result<()> {
    log_config(&config);
    let shutdown = CancellationToken::new();
    let listener = bind(&config).await?;
    let router = system::build_one(&config, service, shutdown.clone()).await?;
    tracing::info!(service = ?service, addr = %listener.local_addr()?, "service ready");
    spawn_signal_handler(shutdown.clone());
    system::serve(listener, router, shutdown).await
}

async fn migrate(config: EchoConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).ok();
    for (name, url, migrations) in [
        (
            "users",
            &config.users.database_url,
            &user_service::store::MIGRATIONS,
        ),
        (
            "messages",
            &config.messages.database_url,
            &message_service::store::MIGRATIONS,
        ),
        ("ai", &config.ai.database_url, &ai_service::MIGRATIONS),
    ] {
        let db = echo_db::Db::connect(url, migrations, Default::default())
            .await
            .with_context(|| format!("migrating {name}"))?;
        db.close().await;
        println!("{name}: schema up to date ({})", echo_db::redact(url));
    }
    // A search index built by an older version is rebuilt now rather than at the next start.
    let (db, _) = message_service::store::open(&config.messages.database_url)
        .await
        .context("rebuilding the search index")?;
    db.close().await;
    println!("messages: search index up to date");
    Ok(())
}

async fn bind(config: &EchoConfig) -> anyhow::Result<TcpListener> {
    let addr = format!("{}:{}", config.bind, config.port);
    TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server using the port? try --port)"))
}

fn log_config(config: &EchoConfig) {
    for (key, value) in config.summary() {
        tracing::info!(key, value, "config");
    }
}

/// SIGINT (Ctrl-C) or SIGTERM start a graceful shutdown.
fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            if let Ok(mut sig) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                sig.recv().await;
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            () = terminate => {}
        }
        tracing::info!("shutting down");
        shutdown.cancel();
    });
}
