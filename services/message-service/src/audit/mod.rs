//! The audit log: an append-only record of security and admin actions in a workspace (sign-ins
//! and failed sign-ins of its members, revoked sessions, role changes, invites, removals, archived
//! channels, messages deleted by someone other than their author, exports), projected from the bus by
//! one consumer group and readable by the workspace's owners and admins. Nothing in the API
//! writes or changes it.

pub mod consumer;
pub mod http;
pub mod store;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Entry {
    /// The event it was recorded from (time-ordered: the page cursor).
    pub id: Uuid,
    /// `login`, `login_failed`, `session_revoked`, `role_changed`, `member_removed`,
    /// `member_left`, `invite_created`, `channel_archived`, `channel_unarchived`, `message_deleted`,
    /// `workspace_exported`.
    pub action: String,
    /// Who did it, when known (a failed login has no proven actor).
    pub actor_id: Option<Uuid>,
    /// What it was done to.
    pub target: Option<Target>,
    /// The client address the action came from, when the event carries one.
    pub ip: Option<String>,
    /// Action-specific facts (a new role, a session id, a channel's name…).
    #[schema(value_type = Object)]
    pub details: Value,
    /// RFC 3339.
    pub occurred_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Target {
    /// `user`, `channel` or `message`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}
