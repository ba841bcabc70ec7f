//! Echo's configuration: defaults, then a TOML file, then `ECHO_…` environment variables (nested
//! keys joined by `__`, e.g. `ECHO_USERS__DATABASE_URL`), then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use echo_events::BusConfig;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EchoConfig {
    /// Where embedded mode keeps its databases, event log and files.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub bind: String,
    /// Port to listen on (the gateway's in embedded mode).
    pub port: u16,
    /// Log JSON lines instead of human-readable text.
    pub log_json: bool,
    /// An OpenTelemetry collector's OTLP/HTTP base URL (e.g. `http://collector:4318`): spans are
    /// exported there when set (or when `OTEL_EXPORTER_OTLP_ENDPOINT` is).
    pub otlp_endpoint: Option<String>,
    /// Redis, for scaled mode: shared session revocations (and the bus when `bus.url` names it).
    pub redis_url: Option<String>,
    pub bus: BusConfig,
    pub gateway: api_gateway::Config,
    pub users: user_service::Config,
    pub messages: message_service::Config,
    pub ai: ai_service::Config,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            bind: "0.0.0.0".into(),
            port: 8080,
            log_json: false,
            otlp_endpoint: None,
            redis_url: None,
            bus: BusConfig::default(),
            gateway: Default::default(),
            users: Default::default(),
            messages: Default::default(),
            ai: Default::default(),
        }
    }
}

/// Flags that override every other source.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub port: Option<u16>,
}

impl EchoConfig {
    /// Loads the layered configuration. What is not set explicitly is derived from the data
    /// directory: `users.db`, `messages.db`, `ai.db`, `events.db` and `files/` under it.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let file = overrides
            .config_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("echo.toml"));
        if overrides.config_file.is_some() && !file.is_file() {
            anyhow::bail!("configuration file {} not found", file.display());
        }
        let mut figment = Figment::new()
            .merge(Toml::file(&file))
            .merge(Env::prefixed("ECHO_").split("__").ignore(&["log"]));
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(("data_dir", dir));
        }
        if let Some(port) = overrides.port {
            figment = figment.merge(("port", port));
        }
        let mut config: EchoConfig = figment.extract().context("reading the configuration")?;
        config.derive_from_data_dir(|key| figment.find_value(key).is_ok());
        Ok(config)
    }

    /// Points every store not configured explicitly at the data directory.
    pub fn derive_from_data_dir(&mut self, is_set: impl Fn(&str) -> bool) {
        let sqlite = |name: &str| format!("sqlite://{}", self.data_dir.join(name).display());
        if !is_set("users.database_url") {
            self.users.database_url = sqlite("users.db");
        }
        if !is_set("messages.database_url") {
            self.messages.database_url = sqlite("messages.db");
        }
        if !is_set("messages.files.dir") {
            self.messages.files.dir = self.data_dir.join("files");
        }
        if !is_set("ai.database_url") {
            self.ai.database_url = sqlite("ai.db");
        }
        if !is_set("bus.url") {
            self.bus.url = sqlite("events.db");
        }
        if !is_set("gateway.web_dir") && self.gateway.web_dir.is_none() {
            self.gateway.web_dir = default_web_dir();
        }
    }

    /// The settings worth seeing at start-up, with secrets hidden.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        vec![
            ("data_dir", absolute(&self.data_dir).display().to_string()),
            ("users.database_url", echo_db::redact(&self.users.database_url)),
            (
                "messages.database_url",
                echo_db::redact(&self.messages.database_url),
            ),
            ("ai.database_url", echo_db::redact(&self.ai.database_url)),
            ("bus.url", echo_db::redact(&self.bus.url)),
            (
                "redis_url",
                self.redis_url
                    .as_deref()
                    .map(echo_db::redact)
                    .unwrap_or_else(|| "none".into()),
            ),
            (
                "gateway.web_dir",
                self.gateway
                    .web_dir
                    .as_ref()
                    .map_or("none".into(), |d| d.display().to_string()),
            ),
            (
                "otlp_endpoint",
                self.otlp_endpoint
                    .clone()
                    .unwrap_or_else(|| "none (traces not exported)".into()),
            ),
            (
                "users.signing_keys",
                format!(
                    "{} configured (private keys hidden)",
                    self.users.signing_keys.len()
                ),
            ),
        ]
    }
}

pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The built web app next to the binary's source tree or the working directory, if there is one.
fn default_web_dir() -> Option<PathBuf> {
    [
        PathBuf::from("frontend/dist"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist"),
    ]
    .into_iter()
    .find(|d| d.join("index.html").is_file())
}
