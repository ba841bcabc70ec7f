//! Starts a scaled topology from the real binary: users ×1, messages ×N, ai ×1 and a gateway, on
//! fresh PostgreSQL databases and a Redis key prefix of their own.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub struct Topology {
    pub gateway_url: String,
    pub messages_urls: Vec<String>,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Topology {
    pub async fn start(message_replicas: usize) -> Topology {
        let dir = tempfile::tempdir().unwrap();
        let stamp = uuid::Uuid::new_v4().simple().to_string();
        let dbs = ["users", "messages", "ai"].map(|s| format!("echo_t_{}_{}_{s}", now_secs(), &stamp[..12]));
        create_databases(&dbs).await;
        let pg = |name: &str| format!("postgres://postgres@127.0.0.1:5432/{name}");
        let users_port = free_port();
        let ai_port = free_port();
        let message_ports: Vec<u16> = (0..message_replicas).map(|_| free_port()).collect();
        let gateway_port = free_port();
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        let list = |urls: Vec<String>| urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
        let config = format!(
            "bind = \"127.0.0.1\"\nredis_url = \"redis://127.0.0.1:6379\"\n\
             [bus]\nurl = \"redis://127.0.0.1:6379\"\nstream_prefix = \"echo_t_{stamp}\"\n\
             [users]\ndatabase_url = \"{}\"\n[users.argon2]\nmemory_kib = 1024\niterations = 1\n\
             [messages]\ndatabase_url = \"{}\"\n[ai]\ndatabase_url = \"{}\"\n\
             [gateway.upstreams]\nusers = [\"{}\"]\nmessages = [{}]\nai = [\"{}\"]\n",
            pg(&dbs[0]),
            pg(&dbs[1]),
            pg(&dbs[2]),
            url(users_port),
            list(message_ports.iter().map(|p| url(*p)).collect()),
            url(ai_port),
        );
        let config_path = dir.path().join("echo.toml");
        std::fs::write(&config_path, config).unwrap();

        let mut children = vec![spawn("users", users_port, &config_path, dir.path())];
        wait_ready(&url(users_port)).await;
        for port in &message_ports {
            children.push(spawn("messages", *port, &config_path, dir.path()));
        }
        children.push(spawn("ai", ai_port, &config_path, dir.path()));
        children.push(spawn("gateway", gateway_port, &config_path, dir.path()));
        for port in message_ports.iter().chain([&ai_port, &gateway_port]) {
            wait_ready(&url(*port)).await;
        }
        Topology { gateway_url: url(gateway_port), messages_urls: message_ports.iter().map(|p| url(*p)).collect(), children, _dir: dir }
    }
}

fn spawn(service: &str, port: u16, config: &std::path::Path, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_echo-server"))
        .args(["--config", config.to_str().unwrap(), "--data-dir", dir.to_str().unwrap(), "serve", service, "--port", &port.to_string()])
        .env("ECHO_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {service}: {e}"))
}

async fn wait_ready(base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status().is_success()
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub async fn create_databases(names: &[String]) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    for name in names {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn).await.unwrap();
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
        Self { base: base.to_owned(), http: reqwest::Client::new() }
    }

    pub async fn register(&self, name: &str) -> User {
        let body = json!({"email": format!("{}-{}@example.test", name.to_lowercase(), uuid::Uuid::new_v4().simple()),
            "password": "correct horse battery staple", "display_name": name});
        let response: Value = self.http.post(format!("{}/api/v1/auth/register", self.base)).json(&body).send().await.unwrap().json().await.unwrap();
        User { token: response["access_token"].as_str().unwrap().to_owned() }
    }

    pub async fn post(&self, user: &User, path: &str, body: Value) -> Value {
        let response = self.http.post(format!("{}{path}", self.base)).bearer_auth(&user.token).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "POST {path}: {}", response.status());
        response.json().await.unwrap()
    }

    pub async fn get(&self, user: &User, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&user.token).send().await.unwrap().json().await.unwrap()
    }
}

pub struct Socket {
    inner: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Socket {
    /// Opens the WebSocket on `base` (a replica or the gateway), with a ticket issued there.
    pub async fn connect(base: &str, user: &User, cursor: Option<&str>) -> Socket {
        let ticket = Client::new(base).post(user, "/api/v1/realtime/tickets", json!({})).await;
        let mut url = format!("{}/api/v1/realtime?ticket={}", base.replacen("http", "ws", 1), ticket["ticket"].as_str().unwrap());
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (inner, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Socket { inner }
    }

    pub async fn next(&mut self, timeout: Duration) -> Value {
        loop {
            let message = tokio::time::timeout(timeout, self.inner.next()).await.expect("a frame in time").unwrap().unwrap();
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).unwrap();
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
        self.inner.send(Message::Text(frame.to_string().into())).await.unwrap();
    }
}
