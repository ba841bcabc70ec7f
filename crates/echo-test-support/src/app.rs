//! The system under test and its users.

use std::sync::Arc;

use echo_events::EventBus;
use echo_server::config::EchoConfig;
use echo_server::system::{self, System};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::postgres;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files and the SQLite event log (embedded mode).
    Sqlite,
    /// PostgreSQL databases, Redis Streams and Redis revocations (the scaled mode's stores).
    Postgres,
}

/// A running Echo. Dropping it shuts the system down.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub backend: Backend,
    pub config: EchoConfig,
    pub bus: Arc<dyn EventBus>,
    pub system: Arc<System>,
    shutdown: CancellationToken,
    _data_dir: tempfile::TempDir,
}

/// A registered user with a live session.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub token: String,
    pub refresh_token: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts Echo after letting the test adjust its configuration.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut EchoConfig)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temporary data directory");
        let mut config = test_config(backend, data_dir.path()).await;
        adjust(&mut config);
        let shutdown = CancellationToken::new();
        let system = Arc::new(
            System::build(&config, shutdown.clone())
                .await
                .expect("Echo starts"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(system::serve(listener, system.router.clone(), shutdown.clone()));
        TestApp {
            base_url,
            http: reqwest::Client::new(),
            backend,
            config,
            bus: system.bus.clone(),
            system,
            shutdown,
            _data_dir: data_dir,
        }
    }

    /// Stops the whole system and starts it again on the same data (same files, databases and
    /// bus), as after a crash or an upgrade; clients must reconnect to the new address.
    pub async fn restart(&mut self) {
        self.shutdown.cancel();
        self.system.close().await;
        let shutdown = CancellationToken::new();
        let system = Arc::new(
            System::build(&self.config, shutdown.clone())
                .await
                .expect("Echo restarts"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        self.base_url = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(system::serve(listener, system.router.clone(), shutdown.clone()));
        self.bus = system.bus.clone();
        self.system = system;
        self.shutdown = shutdown;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request and returns the status and the JSON body (`Null` when there is none).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request reaches Echo");
        let status = response.status();
        let bytes = response.bytes().await.expect("response body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }

    pub async fn get(&self, user: &TestUser, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, user: &TestUser, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn put(&self, user: &TestUser, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn patch(&self, user: &TestUser, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn delete(&self, user: &TestUser, path: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, Some(&user.token), None).await
    }

    /// Registers a fresh user with a unique email.
    pub async fn register(&self, display_name: &str) -> TestUser {
        let email = format!(
            "{}-{}@example.test",
            display_name.to_lowercase().replace(' ', "."),
            Uuid::new_v4().simple()
        );
        let (status, body) = self
            .request(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD, "display_name": display_name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {display_name}: {body}");
        TestUser {
            id: body["user"]["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("user id"),
            token: body["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: body["refresh_token"].as_str().expect("refresh token").to_owned(),
            email,
            password: PASSWORD.to_owned(),
            display_name: display_name.to_owned(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn test_config(backend: Backend, data_dir: &std::path::Path) -> EchoConfig {
    let mut config = EchoConfig {
        data_dir: data_dir.to_path_buf(),
        ..EchoConfig::default()
    };
    config.derive_from_data_dir(|_| false);
    config.gateway.web_dir = None;
    // Real Argon2id, at a cost that keeps hundreds of test logins quick.
    config.users.argon2 = user_service::config::Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    if backend == Backend::Postgres {
        let names = ["users", "messages", "ai"].map(postgres::fresh_name);
        postgres::create(&names.iter().map(String::as_str).collect::<Vec<_>>())
            .await
            .expect("PostgreSQL test databases");
        let url = |name: &str| format!("{}/{name}", postgres::SERVER);
        config.users.database_url = url(&names[0]);
        config.messages.database_url = url(&names[1]);
        config.ai.database_url = url(&names[2]);
        let redis = "redis://127.0.0.1:6379".to_owned();
        config.bus.url = redis.clone();
        config.bus.stream_prefix = names[0].trim_end_matches("_users").to_owned();
        config.redis_url = Some(redis);
    }
    config
}
