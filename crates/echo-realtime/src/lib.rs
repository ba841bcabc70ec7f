//! Live delivery of bus events to WebSocket clients, with no gap and no duplicate across reconnects.
//!
//! One [`Hub`] per process tails the event bus. Every event becomes one frame
//! `{"type", "cursor", "data"}` whose cursor is the event's position in the shared log, serialised
//! once and handed, as the same bytes, to every connection allowed to see it ([`audience`]). A
//! client that reconnects with the cursor of the last frame it processed is replayed exactly what it
//! missed from the log, then switched to live frames at a position fixed inside the hub, so the
//! two halves neither overlap nor leave a hole ([`connection`]). Each connection has a bounded queue:
//! a client that cannot keep up is disconnected (close code 4008) and resumes with its cursor; it
//! never slows the others.
//!
//! What a user may see comes from a [`Directory`] (message-service's memberships); the hub keeps it
//! current from the membership events flowing through the same log, so a join or a removal takes
//! effect at the event's position for every connection.

pub mod audience;
pub mod connection;
pub mod hub;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use uuid::Uuid;

pub use crate::connection::ConnectionConfig;
pub use crate::hub::Hub;

/// The workspaces and channels a user is a member of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memberships {
    pub workspaces: HashSet<Uuid>,
    /// Channel id → its workspace id.
    pub channels: HashMap<Uuid, Uuid>,
}

/// Where the hub learns memberships when a user connects.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// The user's workspaces and channels, as of now.
    async fn memberships(&self, user_id: Uuid) -> anyhow::Result<Memberships>;
    /// The workspace of the channel if the user may read it (and so show typing in it).
    async fn readable_channel(&self, user_id: Uuid, channel_id: Uuid) -> anyhow::Result<Option<Uuid>>;
}
