//! The events of signing in and out, for the audit log message-service keeps: a session started,
//! a login failed on a known account, a session revoked. None reaches a WebSocket client (they
//! name no workspace or channel).

use axum::http::HeaderMap;
use echo_events::Envelope;
use serde_json::json;
use uuid::Uuid;

use crate::presence::PRODUCER;

/// Why a session ended early.
#[derive(Debug, Clone, Copy)]
pub enum Revocation {
    /// Its user logged out.
    Logout,
    /// Its user ended it from another session.
    Revoked,
    /// A rotated refresh token was presented again: someone else holds a copy.
    RefreshTokenReused,
}

impl Revocation {
    fn as_str(self) -> &'static str {
        match self {
            Revocation::Logout => "logout",
            Revocation::Revoked => "revoked",
            Revocation::RefreshTokenReused => "refresh_token_reused",
        }
    }
}

/// The caller's address as the gateway saw it (it sets `X-Forwarded-For` on every request).
pub fn client_ip(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    let ip = value.split(',').next()?.trim();
    ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

pub fn session_started(user_id: Uuid, session_id: Uuid, ip: Option<&str>, user_agent: &str) -> Envelope {
    Envelope::new(
        "session.started",
        1,
        PRODUCER,
        json!({"user_id": user_id, "session_id": session_id, "ip": ip, "user_agent": user_agent}),
    )
}

pub fn login_failed(user_id: Uuid, ip: Option<&str>) -> Envelope {
    Envelope::new("login.failed", 1, PRODUCER, json!({"user_id": user_id, "ip": ip}))
}

pub fn session_revoked(user_id: Uuid, session_id: Uuid, why: Revocation) -> Envelope {
    Envelope::new(
        "session.revoked",
        1,
        PRODUCER,
        json!({"user_id": user_id, "session_id": session_id, "reason": why.as_str()}),
    )
}
