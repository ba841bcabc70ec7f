//! The gateway's configuration.

use std::path::PathBuf;

use serde::Deserialize;

use crate::ratelimit::RateLimits;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Origins allowed to call the API from a browser on another origin. Empty: same origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body accepted, in bytes (uploads included).
    pub max_body_bytes: usize,
    /// Longest a plain request may take, in seconds (uploads and WebSockets are exempt).
    pub request_timeout_secs: u64,
    /// The built web app to serve (`frontend/dist`); none serves a short notice instead.
    pub web_dir: Option<PathBuf>,
    /// Send `Strict-Transport-Security` (only when Echo is reached over TLS).
    pub hsts: bool,
    /// Upstream base URLs per service, for scaled mode (several = replicas, balanced).
    pub upstreams: UpstreamUrls,
    pub rate_limits: RateLimits,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpstreamUrls {
    pub users: Vec<String>,
    pub messages: Vec<String>,
    pub ai: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cors_allowed_origins: Vec::new(),
            max_body_bytes: 101 * 1024 * 1024,
            request_timeout_secs: 30,
            web_dir: None,
            hsts: false,
            upstreams: UpstreamUrls::default(),
            rate_limits: RateLimits::default(),
            trust_forwarded_for: false,
        }
    }
}
