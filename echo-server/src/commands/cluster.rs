//! `echo-server cluster`: the scaled topology on one machine, for development and tests. Every
//! service runs as a process of its own (`echo-server serve …`, as many gateways and
//! message-service replicas as asked) on the PostgreSQL and Redis given, with one database per
//! service, and files in an S3 server (s3s-fs, with signature checks) that this command runs.
//!
//! The command supervises its children as a process manager would: one that dies is started again
//! on its port (after a pause that doubles while it keeps dying, up to 10 s), the others keep
//! running (failure tests kill services on purpose), and Ctrl-C or SIGTERM stops them all.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};

use crate::config::{EchoConfig, absolute};

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Gateway replicas; the first listens on --port, the others on the ports after it.
    #[arg(long, default_value_t = 2)]
    gateways: u16,
    /// message-service replicas.
    #[arg(long, default_value_t = 2)]
    messages: usize,
    /// ai-service replicas (each keeps the whole AI index in memory).
    #[arg(long, default_value_t = 1)]
    ai: usize,
    /// The first gateway's port (0: any free ports).
    #[arg(long, short = 'p', default_value_t = 8080)]
    port: u16,
    /// The PostgreSQL server; a database per service is created on it when missing.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// The Redis server: event streams, shared rate limits and session revocations.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Prefix of the databases (`NAME_users`, …) and Redis keys, so clusters can share servers.
    #[arg(long, default_value = "echo_cluster", value_parser = parse_name)]
    name: String,
    /// Drop the databases and Redis keys on exit (for tests).
    #[arg(long)]
    temporary: bool,
}

fn parse_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err("use 1-40 lowercase letters, digits and _, starting with a letter".into())
    }
}

const SERVICES: [&str; 3] = ["users", "messages", "ai"];

/// One child process of the cluster.
struct Member {
    label: String,
    service: &'static str,
    port: u16,
    url: String,
    child: Child,
    started: Instant,
    /// The pause before its latest start, if it was started again.
    last_pause: Option<Duration>,
    /// When it exited, and how long to wait before starting it again.
    down: Option<(Instant, Duration)>,
}

pub async fn run(config: &EchoConfig, args: ClusterArgs) -> anyhow::Result<()> {
    let dir = absolute(&config.data_dir).join(&args.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let databases = SERVICES.map(|s| format!("{}_{s}", args.name));
    create_databases(&args.postgres, &databases).await?;
    let s3 = local_s3::start(&dir.join("s3")).await?;

    let gateway_ports = gateway_ports(args.port, args.gateways)?;
    let users_port = free_port()?;
    let message_ports = (0..args.messages)
        .map(|_| free_port())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ai_ports = (0..args.ai)
        .map(|_| free_port())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let quoted = |ports: &[u16]| {
        ports
            .iter()
            .map(|p| format!("\"{}\"", url(*p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let database = |name: &str| format!("{}/{name}", args.postgres.trim_end_matches('/'));
    let config_file = dir.join("cluster.toml");
    std::fs::write(
        &config_file,
        format!(
            "bind = \"127.0.0.1\"\nredis_url = \"{redis}\"\n\
             [bus]\nurl = \"{redis}\"\nstream_prefix = \"{name}\"\n\
             [users]\ndatabase_url = \"{users_db}\"\n\
             [messages]\ndatabase_url = \"{messages_db}\"\n\
             [messages.files.s3]\nendpoint = \"{s3_url}\"\nbucket = \"{bucket}\"\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\nallow_http = true\n\
             [ai]\ndatabase_url = \"{ai_db}\"\n\
             [gateway.upstreams]\nusers = [{users}]\nmessages = [{messages}]\nai = [{ai}]\n",
            redis = args.redis,
            name = args.name,
            users_db = database(&databases[0]),
            messages_db = database(&databases[1]),
            ai_db = database(&databases[2]),
            s3_url = s3.url,
            bucket = local_s3::BUCKET,
            key = s3.access_key,
            secret = s3.secret_key,
            users = quoted(&[users_port]),
            messages = quoted(&message_ports),
            ai = quoted(&ai_ports),
        ),
    )
    .with_context(|| format!("writing {}", config_file.display()))?;

    // Services before the gateways that route to them; users first, whose keys the others fetch.
    let mut plan = vec![("users".to_owned(), "users", users_port)];
    plan.extend(
        message_ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("messages#{}", i + 1), "messages", *p)),
    );
    plan.extend(
        ai_ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("ai#{}", i + 1), "ai", *p)),
    );
    plan.extend(
        gateway_ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("gateway#{}", i + 1), "gateway", *p)),
    );

    let mut members: Vec<Member> = Vec::new();
    let started = Instant::now();
    let mut outcome = async {
        for (label, service, port) in plan {
            println!("starting {label} on {}", url(port));
            let child = spawn(&label, service, port, &config_file, &dir)?;
            members.push(Member {
                label,
                service,
                port,
                url: url(port),
                child,
                started: Instant::now(),
                last_pause: None,
                down: None,
            });
            if service == "users" {
                wait_ready(members.last_mut().context("no member")?).await?;
            }
        }
        for member in &mut members {
            wait_ready(member).await?;
        }
        anyhow::Ok(())
    }
    .await;

    if outcome.is_ok() {
        println!(
            "Echo cluster \"{}\" is ready in {:.1} s:",
            args.name,
            started.elapsed().as_secs_f64()
        );
        for member in &members {
            println!(
                "  {:<12} {:<24} pid {}",
                member.label,
                member.url,
                member.child.id().unwrap_or(0)
            );
        }
        println!(
            "  {:<12} {:<24} files in {}",
            "s3 (s3s-fs)",
            s3.url,
            dir.join("s3").display()
        );
        println!(
            "  databases    {} on {}",
            databases.join(", "),
            echo_db::redact(&args.postgres)
        );
        println!(
            "  event bus    Redis streams {}:* on {}",
            args.name,
            echo_db::redact(&args.redis)
        );
        println!("Open {}; Ctrl-C stops everything.", url(gateway_ports[0]));
        outcome = supervise(&mut members, &config_file, &dir).await;
    }

    stop(&mut members).await;
    if args.temporary {
        drop_everything(&args, &databases).await;
    }
    outcome
}

fn gateway_ports(first: u16, count: u16) -> anyhow::Result<Vec<u16>> {
    anyhow::ensure!(count >= 1, "at least one gateway is needed");
    if first == 0 {
        return (0..count).map(|_| free_port()).collect();
    }
    (0..count)
        .map(|i| first.checked_add(i).context("gateway ports run past 65535"))
        .collect()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts one member. Its `HOSTNAME` is its label (`messages-2`), as a container's would be its
/// own: replicas name themselves after it in consumer groups, so each needs one of its own.
fn spawn(label: &str, service: &str, port: u16, config: &Path, dir: &Path) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding the echo-server binary")?;
    Command::new(exe)
        .env("HOSTNAME", label.replace('#', "-"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", service, "--port", &port.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {service}"))
}

async fn wait_ready(member: &mut Member) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = member.child.try_wait()? {
            anyhow::bail!("{} exited while starting ({status})", member.label);
        }
        if let Ok(response) = reqwest::get(format!("{}/readyz", member.url)).await
            && response.status().is_success()
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} was not ready within 60 s",
            member.label
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs until Ctrl-C or SIGTERM, starting again the children that exit.
async fn supervise(members: &mut [Member], config: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut check = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            _ = check.tick() => {
                for member in members.iter_mut() {
                    restart_if_down(member, config, dir);
                }
            }
        }
    }
}

/// Notices a member that exited and starts it again once its pause is over. A member that ran
/// for a minute before dying starts over from the shortest pause.
fn restart_if_down(member: &mut Member, config: &Path, dir: &Path) {
    const FIRST_PAUSE: Duration = Duration::from_millis(300);
    match member.down {
        None => {
            if let Ok(Some(status)) = member.child.try_wait() {
                let pause = if member.started.elapsed() > Duration::from_secs(60) {
                    FIRST_PAUSE
                } else {
                    member
                        .last_pause
                        .map_or(FIRST_PAUSE, |p| (p * 2).min(Duration::from_secs(10)))
                };
                eprintln!(
                    "{} exited ({status}); starting it again in {:.1} s",
                    member.label,
                    pause.as_secs_f64()
                );
                member.down = Some((Instant::now(), pause));
            }
        }
        Some((since, pause)) if since.elapsed() >= pause => {
            match spawn(&member.label, member.service, member.port, config, dir) {
                Ok(child) => {
                    eprintln!("{} started again (pid {})", member.label, child.id().unwrap_or(0));
                    member.child = child;
                    member.started = Instant::now();
                    member.last_pause = Some(pause);
                    member.down = None;
                }
                Err(e) => {
                    eprintln!("{} could not be started again: {e:#}", member.label);
                    member.down = Some((Instant::now(), (pause * 2).min(Duration::from_secs(10))));
                }
            }
        }
        Some(_) => {}
    }
}

/// Asks every child to shut down gracefully (SIGTERM), gateways first; kills what is left after 10 s.
async fn stop(members: &mut [Member]) {
    for member in members.iter().rev() {
        if let Some(pid) = member.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }
    for member in members.iter_mut() {
        if tokio::time::timeout(Duration::from_secs(10), member.child.wait())
            .await
            .is_err()
        {
            let _ = member.child.kill().await;
        }
    }
}

async fn create_databases(server: &str, names: &[String]) -> anyhow::Result<()> {
    let admin = format!("{}/postgres", server.trim_end_matches('/'));
    let mut conn = PgConnection::connect(&admin)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", echo_db::redact(server)))?;
    for name in names {
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut conn)
            .await?;
        if exists.is_none() {
            // The name was checked by `parse_name`: lowercase letters, digits and _.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .with_context(|| format!("creating database {name}"))?;
        }
    }
    conn.close().await?;
    Ok(())
}

async fn drop_everything(args: &ClusterArgs, databases: &[String]) {
    let admin = format!("{}/postgres", args.postgres.trim_end_matches('/'));
    if let Ok(mut conn) = PgConnection::connect(&admin).await {
        for name in databases {
            let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
            {
                eprintln!("cannot drop database {name}: {e}");
            }
        }
    }
    if let Ok(client) = redis::Client::open(args.redis.as_str())
        && let Ok(mut conn) = client.get_multiplexed_async_connection().await
    {
        let keys = [format!("{}:events", args.name), format!("{}:dlq", args.name)];
        let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
    }
}

/// An S3 server over a local directory: s3s-fs with SigV4 checking, as a scaled deployment's
/// object store would be reached.
mod local_s3 {
    use std::path::Path;

    use anyhow::Context;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use s3s::auth::SimpleAuth;
    use s3s::service::S3ServiceBuilder;

    pub const BUCKET: &str = "echo-files";

    pub struct LocalS3 {
        pub url: String,
        pub access_key: String,
        pub secret_key: String,
    }

    /// Serves `root` (one directory per bucket) on a free port, until the process exits.
    pub async fn start(root: &Path) -> anyhow::Result<LocalS3> {
        std::fs::create_dir_all(root.join(BUCKET)).with_context(|| format!("creating {}", root.display()))?;
        let access_key = "echo-cluster".to_owned();
        let secret_key: String = {
            use rand::RngCore;
            let mut bytes = [0u8; 20];
            rand::rng().fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let fs =
            s3s_fs::FileSystem::new(root).map_err(|e| anyhow::anyhow!("opening the S3 directory: {e:?}"))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key.as_str(), secret_key.as_str()));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let http = Builder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Ok(LocalS3 {
            url,
            access_key,
            secret_key,
        })
    }
}
