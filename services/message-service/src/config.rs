//! message-service's configuration.

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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/messages.db".into(),
            invite_default_hours: 7 * 24,
            invite_max_hours: 30 * 24,
        }
    }
}
