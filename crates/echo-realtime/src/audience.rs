//! Who may see an event, read from its type and payload. Every payload names its `workspace_id`;
//! channel events also name `channel_id`.

use serde_json::Value;
use uuid::Uuid;

use crate::Memberships;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Members of the channel.
    Channel { channel: Uuid, workspace: Uuid },
    /// Members of the workspace (a new public channel, a member joining).
    Workspace(Uuid),
    /// One user's own connections (their read markers, their notifications).
    User(Uuid),
    /// Everyone who shares a workspace with the user (presence, profile changes).
    PeersOf(Uuid),
    /// Not for clients.
    Nobody,
}

/// How an event changes memberships, applied around its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    JoinedChannel {
        user: Uuid,
        channel: Uuid,
        workspace: Uuid,
    },
    LeftChannel {
        user: Uuid,
        channel: Uuid,
    },
    JoinedWorkspace {
        user: Uuid,
        workspace: Uuid,
    },
    LeftWorkspace {
        user: Uuid,
        workspace: Uuid,
    },
    /// A new non-public channel and its members at creation, as the event states them: its
    /// creator, or a DM's people. (Members added since come as joins later in the log; reading
    /// them from the database instead would let a lagging hub show them what came before.)
    NewPrivateChannel {
        channel: Uuid,
        workspace: Uuid,
        members: Vec<Uuid>,
    },
}

pub(crate) fn id(payload: &Value, key: &str) -> Option<Uuid> {
    payload.get(key)?.as_str()?.parse().ok()
}

pub fn audience(kind: &str, payload: &Value) -> Audience {
    let workspace = id(payload, "workspace_id");
    let channel = id(payload, "channel_id");
    let user = id(payload, "user_id");
    let public_channel = payload.pointer("/channel/kind").and_then(Value::as_str) == Some("public");
    match kind {
        "read_marker.updated" | "notification" | "notification.created" => {
            user.map_or(Audience::Nobody, Audience::User)
        }
        "presence.changed" | "user.updated" => user
            .or_else(|| id(payload, "id"))
            .map_or(Audience::Nobody, Audience::PeersOf),
        "channel.created" | "channel.updated" if public_channel => {
            workspace.map_or(Audience::Nobody, Audience::Workspace)
        }
        k if k.starts_with("workspace.") => workspace.map_or(Audience::Nobody, Audience::Workspace),
        _ => match (channel, workspace) {
            (Some(channel), Some(workspace)) => Audience::Channel { channel, workspace },
            _ => Audience::Nobody,
        },
    }
}

pub fn membership_change(kind: &str, payload: &Value) -> Option<MembershipChange> {
    let workspace = id(payload, "workspace_id");
    let channel = id(payload, "channel_id");
    let user = id(payload, "user_id");
    match kind {
        "channel.member_joined" => Some(MembershipChange::JoinedChannel {
            user: user?,
            channel: channel?,
            workspace: workspace?,
        }),
        "channel.member_left" => Some(MembershipChange::LeftChannel {
            user: user?,
            channel: channel?,
        }),
        "workspace.member_joined" => Some(MembershipChange::JoinedWorkspace {
            user: user?,
            workspace: workspace?,
        }),
        "workspace.member_left" => Some(MembershipChange::LeftWorkspace {
            user: user?,
            workspace: workspace?,
        }),
        "channel.created" if payload.pointer("/channel/kind").and_then(Value::as_str) != Some("public") => {
            let members = match payload.pointer("/channel/member_ids").and_then(Value::as_array) {
                Some(ids) => ids.iter().filter_map(|id| id.as_str()?.parse().ok()).collect(),
                None => vec![id(&payload["channel"], "created_by")?],
            };
            Some(MembershipChange::NewPrivateChannel {
                channel: channel?,
                workspace: workspace?,
                members,
            })
        }
        _ => None,
    }
}

impl Memberships {
    /// Whether a user with these memberships sees an event for `audience`. `me` is the user;
    /// `peer_workspaces` gives the workspaces of another user, for [`Audience::PeersOf`].
    pub fn sees(
        &self,
        me: Uuid,
        audience: &Audience,
        peer_workspaces: impl FnOnce(Uuid) -> Option<Vec<Uuid>>,
    ) -> bool {
        match audience {
            Audience::Channel { channel, .. } => self.channels.contains_key(channel),
            Audience::Workspace(ws) => self.workspaces.contains(ws),
            Audience::User(user) => *user == me,
            Audience::PeersOf(user) => {
                *user == me
                    || peer_workspaces(*user)
                        .is_some_and(|theirs| theirs.iter().any(|ws| self.workspaces.contains(ws)))
            }
            Audience::Nobody => false,
        }
    }

    /// Applies a change that concerns `me`.
    pub fn apply(&mut self, me: Uuid, change: &MembershipChange) {
        match change {
            MembershipChange::JoinedChannel {
                user,
                channel,
                workspace,
            } if *user == me => {
                self.channels.insert(*channel, *workspace);
            }
            MembershipChange::LeftChannel { user, channel } if *user == me => {
                self.channels.remove(channel);
            }
            MembershipChange::JoinedWorkspace { user, workspace } if *user == me => {
                self.workspaces.insert(*workspace);
            }
            MembershipChange::LeftWorkspace { user, workspace } if *user == me => {
                self.workspaces.remove(workspace);
                self.channels.retain(|_, ws| ws != workspace);
            }
            MembershipChange::NewPrivateChannel {
                channel,
                workspace,
                members,
            } if members.contains(&me) => {
                self.channels.insert(*channel, *workspace);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn channel_events_go_to_channel_members_and_public_channels_to_the_workspace() {
        let (ws, ch) = (Uuid::now_v7(), Uuid::now_v7());
        let message = json!({"workspace_id": ws, "channel_id": ch, "message": {}});
        assert_eq!(
            audience("message.created", &message),
            Audience::Channel {
                channel: ch,
                workspace: ws
            }
        );
        let public = json!({"workspace_id": ws, "channel_id": ch, "channel": {"kind": "public"}});
        assert_eq!(audience("channel.created", &public), Audience::Workspace(ws));
        let private = json!({"workspace_id": ws, "channel_id": ch, "channel": {"kind": "private"}});
        assert_eq!(
            audience("channel.created", &private),
            Audience::Channel {
                channel: ch,
                workspace: ws
            }
        );
        assert_eq!(audience("something.odd", &json!({})), Audience::Nobody);
    }

    #[test]
    fn leaving_a_workspace_forgets_its_channels() {
        let (me, ws, other_ws, ch, other_ch) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let mut m = Memberships::default();
        m.apply(
            me,
            &MembershipChange::JoinedWorkspace {
                user: me,
                workspace: ws,
            },
        );
        m.apply(
            me,
            &MembershipChange::JoinedChannel {
                user: me,
                channel: ch,
                workspace: ws,
            },
        );
        m.apply(
            me,
            &MembershipChange::JoinedChannel {
                user: me,
                channel: other_ch,
                workspace: other_ws,
            },
        );
        m.apply(
            me,
            &MembershipChange::LeftWorkspace {
                user: me,
                workspace: ws,
            },
        );
        assert!(!m.sees(
            me,
            &Audience::Channel {
                channel: ch,
                workspace: ws
            },
            |_| None
        ));
        assert!(m.sees(
            me,
            &Audience::Channel {
                channel: other_ch,
                workspace: other_ws
            },
            |_| None
        ));
    }
}
