//! message-service's configuration.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Lifetime of an invite when the request names none, in hours.
    pub invite_default_hours: u32,
    /// The longest lifetime an invite may ask for, in hours.
    pub invite_max_hours: u32,
    pub files: FilesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/messages.db".into(),
            invite_default_hours: 7 * 24,
            invite_max_hours: 30 * 24,
            files: FilesConfig::default(),
        }
    }
}

/// Where uploaded files live: on local disk under `dir` (embedded mode), or in an S3-compatible
/// bucket when `s3` is set (scaled mode, where replicas share the bucket).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FilesConfig {
    pub dir: PathBuf,
    /// The largest upload accepted, in bytes.
    pub max_bytes: u64,
    /// Thumbnails fit in a square of this many pixels.
    pub thumbnail_px: u32,
    pub s3: Option<S3Config>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/files"),
            max_bytes: 100 * 1024 * 1024,
            thumbnail_px: 360,
            s3: None,
        }
    }
}

#[derive(Clone, Deserialize)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:9000`; none for AWS itself.
    #[serde(default)]
    pub endpoint: Option<String>,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Plain HTTP to the endpoint (local S3-compatible servers).
    #[serde(default)]
    pub allow_http: bool,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

// Hand-written so the secret key never reaches a log line.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}
