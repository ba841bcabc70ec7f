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
    pub notifications: NotificationsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/messages.db".into(),
            invite_default_hours: 7 * 24,
            invite_max_hours: 30 * 24,
            files: FilesConfig::default(),
            notifications: NotificationsConfig::default(),
        }
    }
}

/// How notifications leave Echo: Web Push to browsers without a live connection, and email for
/// mentions and DMs still unread after a while.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct NotificationsConfig {
    /// The contact push services may use about our traffic (VAPID `sub`): `mailto:` or `https:`.
    pub vapid_subject: String,
    /// The VAPID signing key, PKCS#8 DER in base64url; when unset, one is generated once and kept
    /// in the database.
    pub vapid_private_key: Option<String>,
    /// Accept push endpoints over plain HTTP or on private addresses (local push servers, tests);
    /// otherwise only public HTTPS endpoints, so a subscription cannot aim Echo at internal hosts.
    pub allow_insecure_push_endpoints: bool,
    /// How often due deliveries are looked for when nothing wakes the sender, in milliseconds.
    pub delivery_poll_ms: u64,
    /// Attempts before a delivery is given up.
    pub delivery_max_attempts: u32,
    /// Wait after the first failed attempt, doubled each time up to `delivery_backoff_max_ms`.
    pub delivery_backoff_ms: u64,
    pub delivery_backoff_max_ms: u64,
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:port`; none turns notification emails off.
    pub smtp_url: Option<String>,
    /// The `From` of notification emails.
    pub email_from: String,
    /// How long a mention or DM must stay unread before it is emailed, in milliseconds.
    pub email_delay_ms: u64,
    /// Where people reach Echo (the gateway), for links in emails.
    pub public_url: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            vapid_subject: "mailto:admin@localhost".into(),
            vapid_private_key: None,
            allow_insecure_push_endpoints: false,
            delivery_poll_ms: 1000,
            delivery_max_attempts: 6,
            delivery_backoff_ms: 2000,
            delivery_backoff_max_ms: 5 * 60 * 1000,
            smtp_url: None,
            email_from: "Echo <echo@localhost>".into(),
            email_delay_ms: 15 * 60 * 1000,
            public_url: "http://localhost:8080".into(),
        }
    }
}

// Hand-written so the VAPID key and the SMTP password never reach a log line.
impl std::fmt::Debug for NotificationsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationsConfig")
            .field("vapid_subject", &self.vapid_subject)
            .field(
                "vapid_private_key",
                &self.vapid_private_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "allow_insecure_push_endpoints",
                &self.allow_insecure_push_endpoints,
            )
            .field("delivery_poll_ms", &self.delivery_poll_ms)
            .field("delivery_max_attempts", &self.delivery_max_attempts)
            .field("delivery_backoff_ms", &self.delivery_backoff_ms)
            .field("delivery_backoff_max_ms", &self.delivery_backoff_max_ms)
            .field("smtp_url", &self.smtp_url.as_deref().map(echo_db::redact))
            .field("email_from", &self.email_from)
            .field("email_delay_ms", &self.email_delay_ms)
            .field("public_url", &self.public_url)
            .finish()
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
