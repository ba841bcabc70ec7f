//! A scaled topology from the real binary: `echo-server cluster` (users ×1, messages ×N, ai ×N,
//! a gateway and an S3 server) on fresh PostgreSQL databases and Redis keys of its own, dropped
//! when the topology is.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub struct Topology {
    pub gateway_url: String,
    pub messages_urls: Vec<String>,
    pub ai_urls: Vec<String>,
    /// Every member's label (`users`, `messages#1`, `ai`, `gateway#1`, …) and process id at start.
    pub pids: Vec<(String, i32)>,
    cluster: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Topology {
    fn drop(&mut self) {
        // SIGTERM lets the cluster stop its children and drop its databases.
        if let Ok(pid) = i32::try_from(self.cluster.id()) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
        let _ = self.cluster.wait();
    }
}

impl Topology {
    /// On the PostgreSQL and Redis of this machine.
    pub async fn start(message_replicas: usize) -> Topology {
        Self::start_with(message_replicas, 1).await
    }

    pub async fn start_with(message_replicas: usize, ai_replicas: usize) -> Topology {
        Self::start_on(
            message_replicas,
            ai_replicas,
            "postgres://postgres@127.0.0.1:5432",
            "redis://127.0.0.1:6379",
        )
        .await
    }

    pub async fn start_on(
        message_replicas: usize,
        ai_replicas: usize,
        postgres: &str,
        redis: &str,
    ) -> Topology {
        Self::launch(message_replicas, ai_replicas, postgres, redis, &[]).await
    }

    /// One gateway, users, messages and ai, exporting their spans to the OTLP `collector`.
    pub async fn start_traced(collector: &str) -> Topology {
        let env = [
            ("ECHO_OTLP_ENDPOINT", collector),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ];
        Self::launch(
            1,
            1,
            "postgres://postgres@127.0.0.1:5432",
            "redis://127.0.0.1:6379",
            &env,
        )
        .await
    }

    async fn launch(
        message_replicas: usize,
        ai_replicas: usize,
        postgres: &str,
        redis: &str,
        env: &[(&str, &str)],
    ) -> Topology {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("echo_t_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let mut cluster = Command::new(env!("CARGO_BIN_EXE_echo-server"))
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "cluster",
                "--temporary",
                "--port",
                "0",
                "--gateways",
                "1",
            ])
            .args([
                "--messages",
                &message_replicas.to_string(),
                "--ai",
                &ai_replicas.to_string(),
                "--name",
                &name,
                "--postgres",
                postgres,
                "--redis",
                redis,
            ])
            .env("ECHO_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting echo-server cluster");
        let stdout = cluster.stdout.take().unwrap();
        // The listing after "is ready": `  label  url  pid N` per process.
        let listing = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut ready = false;
            let mut members = Vec::new();
            for line in lines.by_ref() {
                let line = line.unwrap();
                if line.contains("is ready") {
                    ready = true;
                } else if ready && line.starts_with("Open ") {
                    break;
                } else if ready {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    if let [label, url, "pid", pid] = fields[..] {
                        members.push((label.to_owned(), url.to_owned(), pid.parse::<i32>().unwrap()));
                    }
                }
            }
            // Keep draining so the cluster never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            members
        });
        let members = tokio::time::timeout(Duration::from_secs(120), listing)
            .await
            .expect("the cluster started in time")
            .unwrap();
        let of = |prefix: &str| {
            members
                .iter()
                .filter(|(label, _, _)| label.starts_with(prefix))
                .collect::<Vec<_>>()
        };
        assert_eq!(of("messages#").len(), message_replicas, "{members:?}");
        Topology {
            gateway_url: of("gateway#")[0].1.clone(),
            messages_urls: of("messages#").iter().map(|m| m.1.clone()).collect(),
            ai_urls: of("ai#").iter().map(|m| m.1.clone()).collect(),
            pids: members
                .iter()
                .map(|(label, _, pid)| (label.clone(), *pid))
                .collect(),
            cluster,
            _dir: dir,
        }
    }

    /// Kills a member the hard way (SIGKILL); the cluster starts it again.
    pub fn kill(&self, label: &str) {
        let pid = self
            .pids
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no {label} in {:?}", self.pids))
            .1;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
}

pub async fn create_databases(names: &[String]) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    for name in names {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

pub struct User {
    pub token: String,
}

pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn register(&self, name: &str) -> User {
        let body = json!({"email": format!("{}-{}@example.test", name.to_lowercase(), uuid::Uuid::new_v4().simple()),
            "password": "correct horse battery staple", "display_name": name});
        let response: Value = self
            .http
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        User {
            token: response["access_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn post(&self, user: &User, path: &str, body: Value) -> Value {
        let (status, body) = self.try_post(user, path, body).await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// The status and body of a POST, or the transport error (a process gone mid-request).
    pub async fn try_post(
        &self,
        user: &User,
        path: &str,
        body: Value,
    ) -> reqwest::Result<(reqwest::StatusCode, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&user.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    pub async fn get(&self, user: &User, path: &str) -> Value {
        self.get_from(&self.base, user, path).await
    }

    /// A GET to another base URL (a replica behind the gateway).
    pub async fn get_from(&self, base: &str, user: &User, path: &str) -> Value {
        self.http
            .get(format!("{base}{path}"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub struct Socket {
    inner: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Socket {
    /// Opens the WebSocket on `base` (a replica or the gateway), with a ticket issued there.
    pub async fn connect(base: &str, user: &User, cursor: Option<&str>) -> Socket {
        Self::try_connect(base, user, cursor).await.unwrap()
    }

    pub async fn try_connect(base: &str, user: &User, cursor: Option<&str>) -> anyhow::Result<Socket> {
        let (status, ticket) = Client::new(base)
            .try_post(user, "/api/v1/realtime/tickets", json!({}))
            .await?;
        anyhow::ensure!(status.is_success(), "ticket: {status} {ticket}");
        let mut url = format!(
            "{}/api/v1/realtime?ticket={}",
            base.replacen("http", "ws", 1),
            ticket["ticket"].as_str().unwrap_or_default()
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (inner, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Socket { inner })
    }

    pub async fn next(&mut self, timeout: Duration) -> Value {
        self.try_next(timeout).await.expect("a frame in time")
    }

    /// The next JSON frame; an error when none came within `timeout` or the socket closed.
    pub async fn try_next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        loop {
            let message = tokio::time::timeout(timeout, self.inner.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("socket closed"))??;
            match message {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Close(frame) => anyhow::bail!("socket closed: {frame:?}"),
                _ => {}
            }
        }
    }

    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> Value {
        loop {
            let frame = self.next(timeout).await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    #[allow(dead_code)]
    pub async fn send(&mut self, frame: Value) {
        self.inner
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
}
