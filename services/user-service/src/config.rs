//! user-service's configuration.

use echo_auth::AuthSettings;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub auth: AuthSettings,
    /// How long a session lives without being refreshed, in seconds.
    pub refresh_ttl_secs: u64,
    /// Signing keys supplied by configuration (scaled mode), newest first: the first signs, all
    /// verify. Empty means keys are generated on first start and kept in the database.
    pub signing_keys: Vec<KeyConfig>,
    pub argon2: Argon2Settings,
    /// A message-service replica silent this long (no heartbeat while others beat) is taken for
    /// dead, and the connections it held are closed.
    pub replica_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyConfig {
    pub kid: String,
    /// A PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`).
    pub private_key_pem: SecretString,
}

/// Argon2id cost. The defaults are OWASP's recommendation (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/users.db".into(),
            auth: AuthSettings::default(),
            refresh_ttl_secs: 30 * 24 * 3600,
            signing_keys: Vec::new(),
            argon2: Argon2Settings::default(),
            replica_timeout_ms: 90_000,
        }
    }
}
