//! Turns bus events into audit records. Events of signing in and out name a user, not a
//! workspace: they are recorded in every workspace the user was in when they happened, which the
//! consumer knows by following membership changes with the times they happened at (user-service
//! and message-service relay their events separately, so a sign-in may reach the log after a
//! join that came later).

use std::sync::Arc;

use async_trait::async_trait;
use echo_events::{EventHandler, HandleError, Logged};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::store::{AuditStore, Record};

/// The consumer group of the audit log.
pub const GROUP: &str = "messages-audit";

pub struct Auditor {
    pub audit: Arc<dyn AuditStore>,
}

/// The fields of the events the audit log reads; each event has some of them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Fields {
    workspace_id: Option<Uuid>,
    user_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    session_id: Option<Uuid>,
    channel_id: Option<Uuid>,
    message_id: Option<Uuid>,
    ip: Option<String>,
    reason: Option<String>,
    user_agent: Option<String>,
    created_by: Option<Uuid>,
    code_hint: Option<String>,
    member: Value,
    channel: Value,
    changes: Value,
    message: Value,
}

/// What an event means for the log: an action, and whether it belongs to one workspace or to
/// every workspace of a user.
struct Action {
    name: &'static str,
    scope: Scope,
    actor_id: Option<Uuid>,
    target: Option<(&'static str, Uuid)>,
    ip: Option<String>,
    details: Value,
}

enum Scope {
    Workspace(Uuid),
    WorkspacesOf(Uuid),
}

fn action(kind: &str, f: Fields) -> Option<Action> {
    let of_user = |name, actor_id, details| {
        let user = f.user_id?;
        Some(Action {
            name,
            scope: Scope::WorkspacesOf(user),
            actor_id,
            target: Some(("user", user)),
            ip: f.ip.clone(),
            details,
        })
    };
    let in_workspace = |name, actor_id, target, details| {
        Some(Action {
            name,
            scope: Scope::Workspace(f.workspace_id?),
            actor_id,
            target,
            ip: None,
            details,
        })
    };
    match kind {
        "session.started" => of_user(
            "login",
            f.user_id,
            json!({"session_id": f.session_id, "user_agent": f.user_agent}),
        ),
        // Anyone may type a member's address: the attempt has no proven actor.
        "login.failed" => of_user("login_failed", None, json!({})),
        "session.revoked" => of_user(
            "session_revoked",
            f.user_id,
            json!({"session_id": f.session_id, "reason": f.reason}),
        ),
        "workspace.member_updated" => in_workspace(
            "role_changed",
            f.actor_id,
            f.user_id.map(|u| ("user", u)),
            json!({"role": f.member["role"]}),
        ),
        "workspace.member_left" => {
            let name = if f.actor_id.is_some() && f.actor_id != f.user_id {
                "member_removed"
            } else {
                "member_left"
            };
            in_workspace(
                name,
                f.actor_id.or(f.user_id),
                f.user_id.map(|u| ("user", u)),
                json!({}),
            )
        }
        "invite.created" => in_workspace(
            "invite_created",
            f.created_by,
            None,
            json!({"code_hint": f.code_hint}),
        ),
        "channel.updated" => {
            let name = match f.changes["archived"].as_bool()? {
                true => "channel_archived",
                false => "channel_unarchived",
            };
            in_workspace(
                name,
                f.actor_id,
                f.channel_id.map(|c| ("channel", c)),
                json!({"name": f.channel["name"]}),
            )
        }
        "export.started" => in_workspace("workspace_exported", f.actor_id, None, json!({})),
        // An author deleting their own message is everyday editing; someone else doing it is moderation.
        "message.deleted" => {
            let author = f.message["author_id"]
                .as_str()
                .and_then(|a| a.parse::<Uuid>().ok());
            if f.actor_id.is_none() || f.actor_id == author {
                return None;
            }
            let details = json!({"channel_id": f.channel_id, "author_id": author});
            in_workspace(
                "message_deleted",
                f.actor_id,
                f.message_id.map(|m| ("message", m)),
                details,
            )
        }
        _ => None,
    }
}

#[async_trait]
impl EventHandler for Auditor {
    async fn handle(&self, event: &Logged) -> Result<(), HandleError> {
        let envelope = &event.envelope;
        if envelope.version != 1 {
            return Ok(());
        }
        let Ok(fields) = envelope.decode::<Fields>() else {
            return Err(HandleError::Park(format!("unreadable {} payload", envelope.kind)));
        };
        let occurred_at = envelope.occurred_at.timestamp_millis();
        let retry = |e: crate::store::StoreError| {
            HandleError::Retry(anyhow::Error::new(e).context("recording an audit entry"))
        };
        if let ("workspace.member_joined" | "workspace.member_left", Some(ws), Some(user)) =
            (envelope.kind.as_str(), fields.workspace_id, fields.user_id)
        {
            let joined = envelope.kind == "workspace.member_joined";
            self.audit
                .set_member(ws, user, joined, occurred_at)
                .await
                .map_err(retry)?;
        }
        let Some(action) = action(&envelope.kind, fields) else {
            return Ok(());
        };
        let workspaces = match action.scope {
            Scope::Workspace(id) => vec![id],
            Scope::WorkspacesOf(user) => self.audit.workspaces_of(user, occurred_at).await.map_err(retry)?,
        };
        let records: Vec<Record> = workspaces
            .into_iter()
            .map(|workspace_id| Record {
                workspace_id,
                event_id: envelope.id,
                action: action.name,
                actor_id: action.actor_id,
                target: action.target,
                ip: action.ip.clone(),
                details: action.details.clone(),
                occurred_at,
            })
            .collect();
        self.audit.append(&records).await.map_err(retry)
    }
}
