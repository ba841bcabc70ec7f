//! Matrix Synapse under test, the peer Echo is compared with, and the Matrix client-server API
//! calls the load generator makes against it.
//!
//! Synapse runs from a virtualenv (`$SYNAPSE_PYTHON`, default
//! `~/.cache/echo/synapse-venv/bin/python`, which `make bench` creates with
//! `pip install 'matrix-synapse[postgres]'`) on a fresh PostgreSQL database per start, with
//! registration open, presence off and every rate limit out of reach.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::Url;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::postgres::{self, Scratch};
use crate::process;

/// Schema creation on a fresh database takes several seconds; a loaded machine takes longer.
const START_PATIENCE: Duration = Duration::from_secs(120);

/// A running Synapse; stop it with [`Synapse::stop`], which also drops its database.
pub struct Synapse {
    child: Child,
    database: Scratch,
    pub base: String,
    /// From spawning the process to `/health` answering.
    pub ready_in: Duration,
    home: tempfile::TempDir,
}

impl Synapse {
    pub async fn start() -> anyhow::Result<Synapse> {
        let home = tempfile::tempdir()?;
        let base_config = home.path().join("homeserver.yaml");
        let generated = Command::new(python()?)
            .args([
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                "bench.local",
                "--report-stats=no",
                "--generate-config",
            ])
            .arg("--config-path")
            .arg(&base_config)
            .arg("--data-directory")
            .arg(home.path())
            // The log configuration it generates names `homeserver.log` in the directory it runs in.
            .current_dir(home.path())
            .output()
            .await
            .context("generating Synapse's configuration")?;
        anyhow::ensure!(
            generated.status.success(),
            "generating Synapse's configuration: {}",
            String::from_utf8_lossy(&generated.stderr)
        );
        let port = process::free_port()?;
        let database = Scratch::create("synapse").await?;
        // JSON is YAML; Synapse merges the second file's top-level keys over the first's.
        let overrides = home.path().join("bench.yaml");
        std::fs::write(&overrides, overrides_for(port, &database.name)?.to_string())?;
        let log = std::fs::File::create(home.path().join("stderr.log"))?;
        let spawned = Instant::now();
        let mut child = crate::pinning::server_command(python()?)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&base_config)
            .arg("-c")
            .arg(&overrides)
            .current_dir(home.path())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting Synapse")?;
        let base = format!("http://127.0.0.1:{port}");
        let ready =
            process::wait_until_ok(&mut child, &format!("{base}/health"), spawned, START_PATIENCE).await;
        let ready_in = match ready {
            Ok(ready_in) => ready_in,
            Err(error) => {
                let log = std::fs::read_to_string(home.path().join("stderr.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
                let _ = child.kill().await;
                database.drop_now().await?;
                return Err(error.context(format!(
                    "Synapse did not start; last log lines, newest first:\n{tail}"
                )));
            }
        };
        Ok(Synapse {
            child,
            database,
            base,
            ready_in,
            home,
        })
    }

    pub fn rss(&self) -> anyhow::Result<u64> {
        process::rss(&self.child)
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        drop(self.home);
        self.database.drop_now().await
    }
}

/// The Synapse release installed in the virtualenv.
pub async fn version() -> anyhow::Result<String> {
    let output = Command::new(python()?)
        .args(["-c", "import synapse; print(synapse.__version__)"])
        .output()
        .await?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

fn python() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("SYNAPSE_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(std::env::var_os("HOME").context("no HOME")?)
            .join(".cache/echo/synapse-venv/bin/python"),
    };
    anyhow::ensure!(
        path.exists(),
        "no Synapse at {} (`make bench` installs it, or set SYNAPSE_PYTHON)",
        path.display()
    );
    Ok(path)
}

/// The settings that differ from a generated configuration.
fn overrides_for(port: u16, database: &str) -> anyhow::Result<Value> {
    let server = Url::parse(&postgres::server_url())?;
    // Rate limits are token buckets; one this large never empties during a run.
    let unlimited = json!({"per_second": 1_000_000, "burst_count": 1_000_000});
    let mut config = json!({
        "listeners": [{
            "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": false,
            "x_forwarded": false, "resources": [{"names": ["client"], "compress": false}]
        }],
        "database": {"name": "psycopg2", "args": {
            "user": server.username(), "password": server.password().unwrap_or(""),
            "host": server.host_str().unwrap_or("127.0.0.1"), "port": server.port().unwrap_or(5432),
            "database": database, "cp_min": 5, "cp_max": 10
        }},
        "enable_registration": true,
        "enable_registration_without_verification": true,
        // Thousands of accounts are created: hash at bcrypt's minimum cost, as Echo's side uses
        // Argon2's minimum.
        "bcrypt_rounds": 4,
        // Presence would add a stream of updates to every /sync that Echo's figures do not carry.
        "presence": {"enabled": false},
        "trusted_key_servers": [],
        "report_stats": false,
        "rc_login": {"address": unlimited, "account": unlimited, "failed_attempts": unlimited},
        "rc_joins": {"local": unlimited, "remote": unlimited},
        "rc_invites": {"per_room": unlimited, "per_user": unlimited, "per_issuer": unlimited},
        "rc_presence": {"per_user": unlimited},
    });
    for limit in [
        "rc_message",
        "rc_registration",
        "rc_registration_token_validity",
        "rc_joins_per_room",
        "rc_3pid_validation",
        "rc_third_party_invite",
        "rc_room_creation",
        "rc_key_requests",
        "rc_media_create",
        "rc_delayed_event_mgmt",
        "rc_reports",
        "rc_user_directory",
        "rc_profile",
        "rc_admin_redaction",
    ] {
        config[limit] = unlimited.clone();
    }
    Ok(config)
}

/// A client of one Synapse.
#[derive(Clone)]
pub struct Matrix {
    http: reqwest::Client,
    base: Url,
}

pub struct MatrixUser {
    pub token: String,
}

impl Matrix {
    pub fn new(base: &str) -> anyhow::Result<Matrix> {
        Ok(Matrix {
            // Long-polls stay open for 30 s; a dead server shows as a time-out rather than a hang.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(90))
                .build()?,
            base: Url::parse(base)?,
        })
    }

    pub async fn register(&self, username: &str) -> anyhow::Result<MatrixUser> {
        let body = json!({"username": username, "password": "a long benchmark password", "auth": {"type": "m.login.dummy"}});
        let session = self.call(None, "POST", &["register"], &[], body).await?;
        Ok(MatrixUser {
            token: session["access_token"]
                .as_str()
                .context("no access token")?
                .to_owned(),
        })
    }

    /// A new public room; returns its id.
    pub async fn create_room(&self, owner: &MatrixUser, name: &str) -> anyhow::Result<String> {
        let body = json!({"preset": "public_chat", "name": name});
        let room = self.call(Some(owner), "POST", &["createRoom"], &[], body).await?;
        Ok(room["room_id"].as_str().context("no room id")?.to_owned())
    }

    pub async fn join(&self, user: &MatrixUser, room: &str) -> anyhow::Result<()> {
        self.call(Some(user), "POST", &["join", room], &[], json!({}))
            .await?;
        Ok(())
    }

    /// Sends a text message; returns once Synapse acknowledges it (persisted). `txn` makes the
    /// request idempotent and must be unique per user.
    pub async fn send(&self, user: &MatrixUser, room: &str, txn: &str, body: &str) -> anyhow::Result<()> {
        let path = ["rooms", room, "send", "m.room.message", txn];
        self.call(
            Some(user),
            "PUT",
            &path,
            &[],
            json!({"msgtype": "m.text", "body": body}),
        )
        .await?;
        Ok(())
    }

    /// One `/sync`: `since` None is the initial sync; otherwise it long-polls for up to `timeout`.
    pub async fn sync(
        &self,
        user: &MatrixUser,
        filter: &str,
        since: Option<&str>,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let timeout = timeout.as_millis().to_string();
        let mut query = vec![("filter", filter), ("timeout", timeout.as_str())];
        query.extend(since.map(|since| ("since", since)));
        self.call(Some(user), "GET", &["sync"], &query, Value::Null).await
    }

    async fn call(
        &self,
        user: Option<&MatrixUser>,
        method: &str,
        path: &[&str],
        query: &[(&str, &str)],
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("{} cannot take a path", self.base))?
            .pop_if_empty()
            .extend(["_matrix", "client", "v3"])
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.http.request(method.parse()?, url);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let label = format!("{method} /{}", path.join("/"));
        let response = request.send().await.with_context(|| label.clone())?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{label}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }
}

/// A `/sync` filter that returns only `room`'s text messages, as many as arrived since the last
/// sync (a limited timeline would drop some), and nothing else.
pub fn room_messages_filter(room: &str) -> String {
    json!({
        "room": {
            "rooms": [room],
            "timeline": {"types": ["m.room.message"], "limit": 10_000},
            "state": {"types": []}, "ephemeral": {"types": []}, "account_data": {"types": []}
        },
        "presence": {"types": []},
        "account_data": {"types": []}
    })
    .to_string()
}

/// The bodies of `room`'s timeline events in a `/sync` answer.
pub fn timeline_bodies<'a>(sync: &'a Value, room: &str) -> impl Iterator<Item = &'a str> {
    sync["rooms"]["join"][room]["timeline"]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| event["content"]["body"].as_str())
}
