//! The hub: one task per process that owns every connection's routing state and turns each bus
//! event into one shared frame for the connections allowed to see it.
//!
//! Owning the state in a single task (rather than behind locks) is what makes resume exact: a
//! connection registers through the same queue the hub reads events from, so "events up to
//! position P are replayed from the log, those after P arrive live" is decided at one point.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::ws::Utf8Bytes;
use echo_events::{EventBus, Logged, Position};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::audience::{Audience, MembershipChange, audience, membership_change};
use crate::connection::ConnectionConfig;
use crate::{Directory, Memberships};

pub type ConnId = u64;

/// A frame queued for a connection: its position and bytes behind one pointer shared by every
/// recipient, so each connection's queue (allocated when it opens) stays small.
pub(crate) type Frame = Arc<(Position, Utf8Bytes)>;

/// How many event ids the hub remembers to drop duplicates (the bus is at-least-once).
const RECENT_IDS: usize = 8192;

pub(crate) enum Command {
    Register {
        user: Uuid,
        frames: mpsc::Sender<Frame>,
        reply: oneshot::Sender<(ConnId, Option<Position>)>,
    },
    Activate {
        id: ConnId,
        memberships: Memberships,
    },
    Unregister {
        id: ConnId,
    },
    /// The people whose presence the connection shows, instead of everyone it shares a workspace with.
    WatchPresence {
        id: ConnId,
        users: HashSet<Uuid>,
    },
}

pub struct Hub {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) config: ConnectionConfig,
    pub(crate) shutdown: CancellationToken,
    connections: Arc<AtomicUsize>,
}

impl Hub {
    /// Starts the hub at the newest position of the log; it runs until `shutdown`.
    pub async fn start(
        bus: Arc<dyn EventBus>,
        directory: Arc<dyn Directory>,
        config: ConnectionConfig,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<Hub>> {
        let (_, newest) = bus.bounds().await?;
        let (commands, command_rx) = mpsc::channel(1024);
        let connections = Arc::new(AtomicUsize::new(0));
        let state = State::new(newest, connections.clone());
        let tail = bus.tail(newest);
        tokio::spawn(run(state, tail, command_rx, shutdown.clone()));
        Ok(Arc::new(Hub {
            commands,
            bus,
            directory,
            config,
            shutdown,
            connections,
        }))
    }

    /// Connections currently open on this process.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn run(
    mut state: State,
    mut tail: mpsc::Receiver<Logged>,
    mut commands: mpsc::Receiver<Command>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            command = commands.recv() => match command {
                Some(command) => state.on_command(command),
                None => break,
            },
            event = tail.recv() => match event {
                Some(logged) => state.on_event(Arc::new(logged)),
                None => {
                    tracing::error!("the event bus tail ended; real-time delivery stopped");
                    break;
                }
            },
        }
    }
}

struct Conn {
    user: Uuid,
    frames: mpsc::Sender<Frame>,
    memberships: Memberships,
    /// Events seen between registration and activation, filtered once memberships are known.
    pending: Option<Vec<Arc<Logged>>>,
    /// Whose presence changes it receives: `None` until it subscribes, meaning every peer's.
    presence: Option<HashSet<Uuid>>,
}

impl Conn {
    /// A connection always hears its own user's presence; others' only if it watches them.
    fn watches(&self, user: Uuid) -> bool {
        user == self.user
            || self
                .presence
                .as_ref()
                .is_none_or(|watched| watched.contains(&user))
    }
}

struct State {
    conns: HashMap<ConnId, Conn>,
    by_channel: HashMap<Uuid, HashSet<ConnId>>,
    by_workspace: HashMap<Uuid, HashSet<ConnId>>,
    by_user: HashMap<Uuid, HashSet<ConnId>>,
    /// Workspaces of users the hub has heard of, to route presence and profile changes.
    user_workspaces: HashMap<Uuid, HashSet<Uuid>>,
    last: Option<Position>,
    recent: HashSet<Uuid>,
    recent_order: VecDeque<Uuid>,
    next_id: ConnId,
    connections: Arc<AtomicUsize>,
}

impl State {
    fn new(last: Option<Position>, connections: Arc<AtomicUsize>) -> Self {
        Self {
            conns: HashMap::new(),
            by_channel: HashMap::new(),
            by_workspace: HashMap::new(),
            by_user: HashMap::new(),
            user_workspaces: HashMap::new(),
            last,
            recent: HashSet::new(),
            recent_order: VecDeque::new(),
            next_id: 1,
            connections,
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Register { user, frames, reply } => {
                let id = self.next_id;
                self.next_id += 1;
                self.conns.insert(
                    id,
                    Conn {
                        user,
                        frames,
                        memberships: Memberships::default(),
                        pending: Some(Vec::new()),
                        presence: None,
                    },
                );
                self.connections.store(self.conns.len(), Ordering::Relaxed);
                metrics::gauge!("ws_connections").set(self.conns.len() as f64);
                let _ = reply.send((id, self.last));
            }
            Command::Activate { id, memberships } => self.activate(id, memberships),
            Command::Unregister { id } => self.remove(id),
            Command::WatchPresence { id, users } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.presence = Some(users);
                }
            }
        }
    }

    fn activate(&mut self, id: ConnId, memberships: Memberships) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let user = conn.user;
        conn.memberships = memberships;
        let pending = conn.pending.take().unwrap_or_default();
        self.user_workspaces
            .insert(user, conn.memberships.workspaces.clone());
        let mut slow = false;
        for logged in pending {
            let (kind, payload) = (logged.envelope.kind.as_str(), &logged.envelope.payload);
            let change = membership_change(kind, payload);
            if let Some(change) = &change {
                conn.memberships.apply(user, change);
            }
            let audience = audience(kind, payload);
            let peers = &self.user_workspaces;
            if conn.memberships.sees(user, &audience, |u| {
                peers.get(&u).map(|s| s.iter().copied().collect())
            }) && conn.frames.try_send(frame_of(&logged)).is_err()
            {
                slow = true;
                break;
            }
        }
        if slow {
            self.remove(id);
            return;
        }
        self.index(id);
    }

    fn index(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get(&id) else { return };
        self.by_user.entry(conn.user).or_default().insert(id);
        for ws in &conn.memberships.workspaces {
            self.by_workspace.entry(*ws).or_default().insert(id);
        }
        for ch in conn.memberships.channels.keys() {
            self.by_channel.entry(*ch).or_default().insert(id);
        }
    }

    fn remove(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        unindex(&mut self.by_user, conn.user, id);
        for ws in &conn.memberships.workspaces {
            unindex(&mut self.by_workspace, *ws, id);
        }
        for ch in conn.memberships.channels.keys() {
            unindex(&mut self.by_channel, *ch, id);
        }
        self.connections.store(self.conns.len(), Ordering::Relaxed);
        metrics::gauge!("ws_connections").set(self.conns.len() as f64);
    }

    /// Drops duplicate deliveries of one event (outbox or bus redelivery).
    fn first_sighting(&mut self, id: Uuid) -> bool {
        if !self.recent.insert(id) {
            return false;
        }
        self.recent_order.push_back(id);
        if self.recent_order.len() > RECENT_IDS
            && let Some(old) = self.recent_order.pop_front()
        {
            self.recent.remove(&old);
        }
        true
    }

    fn on_event(&mut self, logged: Arc<Logged>) {
        self.last = Some(logged.position);
        if !self.first_sighting(logged.envelope.id) {
            return;
        }
        for conn in self.conns.values_mut() {
            if let Some(pending) = &mut conn.pending {
                pending.push(logged.clone());
            }
        }
        let (kind, payload) = (logged.envelope.kind.as_str(), &logged.envelope.payload);
        let change = membership_change(kind, payload);
        // Joins take effect before delivery, so the joiner receives their own join; leaves after.
        match &change {
            Some(c @ (MembershipChange::JoinedChannel { .. } | MembershipChange::JoinedWorkspace { .. })) => {
                self.apply(c)
            }
            Some(MembershipChange::NewPrivateChannel {
                channel,
                workspace,
                members,
            }) => {
                for user in members {
                    self.apply(&MembershipChange::JoinedChannel {
                        user: *user,
                        channel: *channel,
                        workspace: *workspace,
                    });
                }
            }
            _ => {}
        }

        let audience = audience(kind, payload);
        let recipients = self.recipients(&audience);
        if !recipients.is_empty() {
            let frame = frame_of(&logged);
            let subject = crate::audience::id(payload, "user_id");
            // Typists do not see their own typing; presence goes to those who watch its subject.
            let typist = subject.filter(|_| kind == "typing");
            let presence_of = subject.filter(|_| kind == "presence.changed");
            let mut slow = Vec::new();
            for id in recipients {
                let Some(conn) = self.conns.get(&id) else { continue };
                if conn.pending.is_some()
                    || Some(conn.user) == typist
                    || presence_of.is_some_and(|user| !conn.watches(user))
                {
                    continue;
                }
                if conn.frames.try_send(frame.clone()).is_err() {
                    slow.push(id);
                }
            }
            metrics::counter!("ws_frames_delivered_total").increment(1);
            for id in slow {
                tracing::info!(conn = id, "disconnecting a client that does not keep up");
                metrics::counter!("ws_slow_disconnects_total").increment(1);
                self.remove(id);
            }
        }

        if let Some(c @ (MembershipChange::LeftChannel { .. } | MembershipChange::LeftWorkspace { .. })) =
            &change
        {
            self.apply(c);
        }
    }

    fn recipients(&self, audience: &Audience) -> Vec<ConnId> {
        let ids = |set: Option<&HashSet<ConnId>>| {
            set.map(|s| s.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        match audience {
            Audience::Channel { channel, .. } => ids(self.by_channel.get(channel)),
            Audience::Workspace(ws) => ids(self.by_workspace.get(ws)),
            Audience::User(user) => ids(self.by_user.get(user)),
            Audience::PeersOf(user) => {
                let mut all: HashSet<ConnId> = self.by_user.get(user).cloned().unwrap_or_default();
                for ws in self.user_workspaces.get(user).into_iter().flatten() {
                    all.extend(self.by_workspace.get(ws).into_iter().flatten().copied());
                }
                all.into_iter().collect()
            }
            Audience::Nobody => Vec::new(),
        }
    }

    /// Applies a membership change to every connection of its user, and to the routing indexes.
    fn apply(&mut self, change: &MembershipChange) {
        let user = match change {
            MembershipChange::JoinedChannel { user, .. }
            | MembershipChange::LeftChannel { user, .. }
            | MembershipChange::JoinedWorkspace { user, .. }
            | MembershipChange::LeftWorkspace { user, .. } => *user,
            MembershipChange::NewPrivateChannel { .. } => return,
        };
        match change {
            MembershipChange::JoinedWorkspace { workspace, .. } => {
                self.user_workspaces.entry(user).or_default().insert(*workspace);
            }
            MembershipChange::LeftWorkspace { workspace, .. } => {
                if let Some(set) = self.user_workspaces.get_mut(&user) {
                    set.remove(workspace);
                }
            }
            _ => {}
        }
        let ids: Vec<ConnId> = self
            .by_user
            .get(&user)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            if let Some(conn) = self.conns.get_mut(&id) {
                let before: Vec<Uuid> = conn.memberships.channels.keys().copied().collect();
                conn.memberships.apply(user, change);
                for ch in before
                    .iter()
                    .filter(|ch| !conn.memberships.channels.contains_key(ch))
                {
                    unindex(&mut self.by_channel, *ch, id);
                }
                for ch in conn.memberships.channels.keys() {
                    self.by_channel.entry(*ch).or_default().insert(id);
                }
                match change {
                    MembershipChange::JoinedWorkspace { workspace, .. } => {
                        self.by_workspace.entry(*workspace).or_default().insert(id);
                    }
                    MembershipChange::LeftWorkspace { workspace, .. } => {
                        unindex(&mut self.by_workspace, *workspace, id)
                    }
                    _ => {}
                }
            }
        }
    }
}

fn unindex(index: &mut HashMap<Uuid, HashSet<ConnId>>, key: Uuid, id: ConnId) {
    if let Some(set) = index.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            index.remove(&key);
        }
    }
}

fn frame_of(logged: &Logged) -> Frame {
    Arc::new((logged.position, encode(logged)))
}

/// The frame of an event: the same bytes for every recipient.
pub(crate) fn encode(logged: &Logged) -> Utf8Bytes {
    Utf8Bytes::from(
        json!({"type": logged.envelope.kind, "cursor": logged.position.to_string(), "data": logged.envelope.payload}).to_string(),
    )
}
