//! The in-memory index: the projection of who may read what (workspace members, channels and
//! their members), and per workspace the projected messages with their embeddings (one
//! contiguous matrix, searched by brute-force cosine) and a BM25 inverted index.
//!
//! Brute force is deliberate: at 100k messages a scan of the matrix takes milliseconds (see
//! `docs/benchmarks.md`), needs no approximate structure to keep in sync with edits and deletes,
//! and lets permission filtering happen *before* ranking: every search takes a [`Scope`] of
//! readable channels and never scores a message outside it.
//!
//! The store holds the durable copy; this is rebuilt from it at start-up. It sits behind one
//! `RwLock`: searches share it, the consumer and the embedding worker take it briefly to apply a
//! change.

use std::collections::{HashMap, HashSet, VecDeque};

use uuid::Uuid;

use crate::embed::DIM;
use crate::text;

/// BM25 parameters (the usual defaults).
const K1: f32 = 1.2;
const B: f32 = 0.75;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Public,
    Private,
    Dm,
    GroupDm,
}

impl ChannelKind {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "public" => Self::Public,
            "dm" => Self::Dm,
            "group_dm" => Self::GroupDm,
            // Anything unknown is treated as the most restrictive kind.
            _ => Self::Private,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Dm => "dm",
            Self::GroupDm => "group_dm",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: ChannelKind,
    pub archived: bool,
    pub members: HashSet<Uuid>,
}

/// A projected message.
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub channel_id: Uuid,
    pub author_id: Uuid,
    pub thread_root_id: Option<Uuid>,
    pub text: String,
    pub created_at: i64,
    /// Term frequencies, for BM25 and for removing the doc from the postings.
    terms: Vec<(String, u32)>,
    len: u32,
}

impl Doc {
    pub fn new(
        id: Uuid,
        workspace_id: Uuid,
        channel_id: Uuid,
        author_id: Uuid,
        thread_root_id: Option<Uuid>,
        text: String,
        created_at: i64,
    ) -> Self {
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut len = 0;
        for term in text::terms(&text) {
            *counts.entry(term).or_default() += 1;
            len += 1;
        }
        let mut terms: Vec<(String, u32)> = counts.into_iter().collect();
        terms.sort();
        Self {
            id,
            workspace_id,
            channel_id,
            author_id,
            thread_root_id,
            text,
            created_at,
            terms,
            len,
        }
    }

    pub fn terms(&self) -> &[(String, u32)] {
        &self.terms
    }
}

/// The channels a search may look at: decided before any scoring.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub channels: HashSet<Uuid>,
}

impl Scope {
    pub fn allows(&self, doc: &Doc) -> bool {
        self.channels.contains(&doc.channel_id)
    }
}

#[derive(Debug, Default)]
struct Workspace {
    /// user → is a guest.
    members: HashMap<Uuid, bool>,
    docs: Vec<Doc>,
    slots: HashMap<Uuid, usize>,
    /// `docs.len() × DIM` floats; rows of docs not yet embedded are zero.
    vectors: Vec<f32>,
    embedded: Vec<bool>,
    postings: HashMap<String, HashMap<Uuid, u32>>,
    total_len: u64,
}

impl Workspace {
    fn remove(&mut self, id: Uuid) -> Option<Doc> {
        let slot = self.slots.remove(&id)?;
        let last = self.docs.len() - 1;
        self.docs.swap(slot, last);
        self.embedded.swap(slot, last);
        if slot != last {
            let (head, tail) = self.vectors.split_at_mut(last * DIM);
            head[slot * DIM..(slot + 1) * DIM].copy_from_slice(&tail[..DIM]);
            self.slots.insert(self.docs[slot].id, slot);
        }
        self.vectors.truncate(last * DIM);
        self.embedded.pop();
        let doc = self.docs.pop()?;
        for (term, _) in &doc.terms {
            if let Some(list) = self.postings.get_mut(term) {
                list.remove(&id);
                if list.is_empty() {
                    self.postings.remove(term);
                }
            }
        }
        self.total_len -= u64::from(doc.len);
        Some(doc)
    }

    fn insert(&mut self, doc: Doc, vector: Option<&[f32]>) {
        for (term, tf) in &doc.terms {
            self.postings.entry(term.clone()).or_default().insert(doc.id, *tf);
        }
        self.total_len += u64::from(doc.len);
        self.slots.insert(doc.id, self.docs.len());
        self.docs.push(doc);
        match vector {
            Some(v) if v.len() == DIM => {
                self.vectors.extend_from_slice(v);
                self.embedded.push(true);
            }
            _ => {
                self.vectors.extend(std::iter::repeat_n(0.0, DIM));
                self.embedded.push(false);
            }
        }
    }

    fn doc(&self, id: Uuid) -> Option<&Doc> {
        self.slots.get(&id).map(|&s| &self.docs[s])
    }
}

/// A message waiting for its embedding.
#[derive(Debug, Clone)]
pub struct Pending {
    pub workspace_id: Uuid,
    pub id: Uuid,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Index {
    workspaces: HashMap<Uuid, Workspace>,
    channels: HashMap<Uuid, Channel>,
    pending: VecDeque<(Uuid, Uuid)>,
    queued: HashSet<Uuid>,
    embedded: usize,
}

impl Index {
    // ---- projection of members and channels ----

    /// Records (`role` Some) or removes a workspace member.
    pub fn set_member(&mut self, workspace_id: Uuid, user_id: Uuid, role: Option<&str>) {
        let members = &mut self.workspaces.entry(workspace_id).or_default().members;
        match role {
            Some(role) => {
                members.insert(user_id, role == "guest");
            }
            None => {
                members.remove(&user_id);
            }
        }
    }

    pub fn upsert_channel(
        &mut self,
        id: Uuid,
        workspace_id: Uuid,
        name: &str,
        kind: ChannelKind,
        archived: bool,
    ) {
        let channel = self.channels.entry(id).or_insert_with(|| Channel {
            id,
            workspace_id,
            name: String::new(),
            kind,
            archived,
            members: HashSet::new(),
        });
        channel.name = name.to_owned();
        channel.kind = kind;
        channel.archived = archived;
        self.workspaces.entry(workspace_id).or_default();
    }

    pub fn set_channel_member(&mut self, channel_id: Uuid, user_id: Uuid, joined: bool) {
        if let Some(channel) = self.channels.get_mut(&channel_id) {
            if joined {
                channel.members.insert(user_id);
            } else {
                channel.members.remove(&user_id);
            }
        }
    }

    pub fn channel(&self, id: Uuid) -> Option<&Channel> {
        self.channels.get(&id)
    }

    pub fn is_member(&self, workspace_id: Uuid, user_id: Uuid) -> bool {
        self.workspaces
            .get(&workspace_id)
            .is_some_and(|w| w.members.contains_key(&user_id))
    }

    /// Whether `user_id` may read the channel: a member of it, or a non-guest member of its
    /// workspace when it is public.
    pub fn can_read(&self, user_id: Uuid, channel: &Channel) -> bool {
        if channel.members.contains(&user_id) {
            return true;
        }
        channel.kind == ChannelKind::Public
            && self
                .workspaces
                .get(&channel.workspace_id)
                .and_then(|w| w.members.get(&user_id))
                .is_some_and(|guest| !guest)
    }

    /// The channel if `user_id` may read it; None when it is unknown or hidden from them.
    pub fn readable_channel(&self, user_id: Uuid, channel_id: Uuid) -> Option<&Channel> {
        self.channels
            .get(&channel_id)
            .filter(|c| self.can_read(user_id, c))
    }

    /// What `user_id` may read in a workspace; None when they are not a member of it.
    pub fn scope(&self, workspace_id: Uuid, user_id: Uuid) -> Option<Scope> {
        if !self.is_member(workspace_id, user_id) {
            return None;
        }
        let channels = self
            .channels
            .values()
            .filter(|c| c.workspace_id == workspace_id && self.can_read(user_id, c))
            .map(|c| c.id)
            .collect();
        Some(Scope { channels })
    }

    /// The channels of a workspace.
    pub fn channels_of(&self, workspace_id: Uuid) -> impl Iterator<Item = &Channel> {
        self.channels
            .values()
            .filter(move |c| c.workspace_id == workspace_id)
    }

    /// The members of a workspace.
    pub fn members_of(&self, workspace_id: Uuid) -> Vec<Uuid> {
        self.workspaces
            .get(&workspace_id)
            .map(|w| w.members.keys().copied().collect())
            .unwrap_or_default()
    }

    // ---- messages ----

    /// Adds or replaces a message. A changed text drops its embedding and, when `embedding` is
    /// on, queues it for a new one; `vector` is a stored embedding of exactly this text.
    pub fn upsert(&mut self, doc: Doc, vector: Option<&[f32]>, embedding: bool) {
        let workspace = self.workspaces.entry(doc.workspace_id).or_default();
        let (id, workspace_id) = (doc.id, doc.workspace_id);
        let mut keep: Option<Vec<f32>> = vector.map(<[f32]>::to_vec);
        if let Some(&slot) = workspace.slots.get(&id) {
            let same_text = workspace.docs[slot].text == doc.text;
            if same_text && keep.is_none() && workspace.embedded[slot] {
                keep = Some(workspace.vectors[slot * DIM..(slot + 1) * DIM].to_vec());
            }
            if workspace.embedded[slot] {
                self.embedded -= 1;
            }
            workspace.remove(id);
        }
        let has_vector = keep.is_some();
        workspace.insert(doc, keep.as_deref());
        if has_vector {
            self.embedded += 1;
        } else if embedding && self.queued.insert(id) {
            self.pending.push_back((workspace_id, id));
        }
    }

    /// Removes a message (deleted, or its channel's workspace gone).
    pub fn remove(&mut self, workspace_id: Uuid, id: Uuid) {
        if let Some(workspace) = self.workspaces.get_mut(&workspace_id) {
            if let Some(&slot) = workspace.slots.get(&id)
                && workspace.embedded[slot]
            {
                self.embedded -= 1;
            }
            workspace.remove(id);
        }
    }

    /// Up to `n` messages waiting for an embedding, taken off the queue.
    pub fn take_pending(&mut self, n: usize) -> Vec<Pending> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some((workspace_id, id)) = self.pending.pop_front() else {
                break;
            };
            self.queued.remove(&id);
            if let Some(doc) = self.workspaces.get(&workspace_id).and_then(|w| w.doc(id)) {
                out.push(Pending {
                    workspace_id,
                    id,
                    text: doc.text.clone(),
                });
            }
        }
        out
    }

    /// Stores an embedding computed for `text`; ignored if the message changed or went since.
    pub fn set_vector(&mut self, workspace_id: Uuid, id: Uuid, text: &str, vector: &[f32]) -> bool {
        let Some(workspace) = self.workspaces.get_mut(&workspace_id) else {
            return false;
        };
        let Some(&slot) = workspace.slots.get(&id) else {
            return false;
        };
        if workspace.docs[slot].text != text || vector.len() != DIM {
            return false;
        }
        workspace.vectors[slot * DIM..(slot + 1) * DIM].copy_from_slice(vector);
        if !workspace.embedded[slot] {
            workspace.embedded[slot] = true;
            self.embedded += 1;
        }
        true
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub fn embedded_len(&self) -> usize {
        self.embedded
    }

    pub fn doc_count(&self) -> usize {
        self.workspaces.values().map(|w| w.docs.len()).sum()
    }

    pub fn doc(&self, workspace_id: Uuid, id: Uuid) -> Option<&Doc> {
        self.workspaces.get(&workspace_id)?.doc(id)
    }

    /// A message's embedding, if it has one.
    pub fn vector(&self, workspace_id: Uuid, id: Uuid) -> Option<&[f32]> {
        let workspace = self.workspaces.get(&workspace_id)?;
        let slot = *workspace.slots.get(&id)?;
        workspace.embedded[slot].then(|| &workspace.vectors[slot * DIM..(slot + 1) * DIM])
    }

    /// The messages of a workspace within the scope, in no particular order.
    pub fn docs_in<'a>(&'a self, workspace_id: Uuid, scope: &'a Scope) -> impl Iterator<Item = &'a Doc> + 'a {
        self.workspaces
            .get(&workspace_id)
            .into_iter()
            .flat_map(|w| w.docs.iter())
            .filter(move |d| scope.allows(d))
    }

    /// Document frequency of a term in a workspace, and the workspace's message count (for IDF).
    pub fn df(&self, workspace_id: Uuid, term: &str) -> (usize, usize) {
        self.workspaces.get(&workspace_id).map_or((0, 0), |w| {
            (w.postings.get(term).map_or(0, HashMap::len), w.docs.len())
        })
    }

    // ---- search ----

    /// The `k` best BM25 matches of `query` within the scope, best first, with the fraction of
    /// distinct query terms each matched.
    pub fn keyword(&self, workspace_id: Uuid, scope: &Scope, query: &str, k: usize) -> Vec<(Uuid, f32, f32)> {
        let Some(workspace) = self.workspaces.get(&workspace_id) else {
            return Vec::new();
        };
        let mut terms = text::terms(query);
        terms.sort();
        terms.dedup();
        if terms.is_empty() || workspace.docs.is_empty() {
            return Vec::new();
        }
        let n = workspace.docs.len() as f32;
        let avg_len = (workspace.total_len as f32 / n).max(1.0);
        let mut scores: HashMap<Uuid, (f32, u32)> = HashMap::new();
        for term in &terms {
            let Some(list) = workspace.postings.get(term) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for (id, &tf) in list {
                let Some(doc) = workspace.doc(*id) else { continue };
                if !scope.allows(doc) {
                    continue;
                }
                let tf = tf as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * doc.len as f32 / avg_len));
                let entry = scores.entry(*id).or_default();
                entry.0 += idf * norm;
                entry.1 += 1;
            }
        }
        let mut ranked: Vec<(Uuid, f32, f32)> = scores
            .into_iter()
            .map(|(id, (score, matched))| (id, score, matched as f32 / terms.len() as f32))
            .collect();
        top_k(&mut ranked, k, |r| r.1);
        ranked
    }

    /// The `k` messages within the scope most similar to `query` (a unit vector), best first.
    pub fn semantic(&self, workspace_id: Uuid, scope: &Scope, query: &[f32], k: usize) -> Vec<(Uuid, f32)> {
        let Some(workspace) = self.workspaces.get(&workspace_id) else {
            return Vec::new();
        };
        if query.len() != DIM {
            return Vec::new();
        }
        let mut ranked: Vec<(Uuid, f32)> = workspace
            .docs
            .iter()
            .enumerate()
            .filter(|(slot, doc)| workspace.embedded[*slot] && scope.allows(doc))
            .map(|(slot, doc)| {
                (
                    doc.id,
                    crate::embed::dot(&workspace.vectors[slot * DIM..(slot + 1) * DIM], query),
                )
            })
            .collect();
        top_k(&mut ranked, k, |r| r.1);
        ranked
    }
}

/// Keeps the `k` highest by `score`, sorted best first (a linear selection, then a small sort).
pub fn top_k<T>(items: &mut Vec<T>, k: usize, score: impl Fn(&T) -> f32) {
    let by_score = |a: &T, b: &T| score(b).total_cmp(&score(a));
    if items.len() > k && k > 0 {
        items.select_nth_unstable_by(k - 1, by_score);
        items.truncate(k);
    }
    items.truncate(k);
    items.sort_by(by_score);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; DIM];
        v[i] = 1.0;
        v
    }

    #[test]
    fn removal_keeps_slots_vectors_and_postings_consistent() {
        let (ws, ch, author) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut index = Index::default();
        index.upsert_channel(ch, ws, "general", ChannelKind::Public, false);
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        for (i, id) in ids.iter().enumerate() {
            let doc = Doc::new(*id, ws, ch, author, None, format!("deploy number{i}"), i as i64);
            index.upsert(doc, Some(&unit(i)), true);
        }
        index.remove(ws, ids[0]);
        let scope = Scope {
            channels: [ch].into(),
        };
        assert_eq!(index.semantic(ws, &scope, &unit(2), 1)[0].0, ids[2]);
        assert_eq!(index.keyword(ws, &scope, "deploy", 10).len(), 2);
        assert_eq!(index.embedded_len(), 2);
        assert!(
            index.semantic(ws, &Scope::default(), &unit(2), 5).is_empty(),
            "nothing outside the scope is scored"
        );
    }

    #[test]
    fn an_edit_drops_the_embedding_and_queues_the_message() {
        let (ws, ch, author, id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut index = Index::default();
        index.upsert(
            Doc::new(id, ws, ch, author, None, "one".into(), 0),
            Some(&unit(0)),
            true,
        );
        index.upsert(Doc::new(id, ws, ch, author, None, "one".into(), 0), None, true);
        assert_eq!(
            (index.embedded_len(), index.pending_len()),
            (1, 0),
            "same text keeps its vector"
        );
        index.upsert(Doc::new(id, ws, ch, author, None, "two".into(), 0), None, true);
        assert_eq!((index.embedded_len(), index.pending_len()), (0, 1));
        assert!(
            !index.set_vector(ws, id, "one", &unit(1)),
            "a stale embedding is ignored"
        );
        assert!(index.set_vector(ws, id, "two", &unit(1)));
    }
}
