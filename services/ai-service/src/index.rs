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

/// One entry of a term's posting list: the message's slot in [`Workspace::docs`] and how often
/// the term occurs in it.
#[derive(Debug, Clone, Copy)]
struct Posting {
    slot: u32,
    tf: u32,
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
    /// Per slot, the doc's channel as an ordinal of `channel_ids` and its length in terms: the
    /// search loops read these flat arrays instead of hashing ids or chasing `Doc`s.
    doc_channels: Vec<u32>,
    doc_lens: Vec<u32>,
    /// The channels this workspace's messages were posted in, by ordinal (only ever grows).
    channel_ids: Vec<Uuid>,
    channel_ords: HashMap<Uuid, u32>,
    /// term → the messages containing it, unordered. Keyed by slot rather than id so that
    /// scoring accumulates into a dense array; a removal repoints the postings of the doc that
    /// moves into the freed slot, a linear scan of its terms' lists that edits and deletes can
    /// afford and searches never pay.
    postings: HashMap<String, Vec<Posting>>,
    total_len: u64,
}

impl Workspace {
    fn remove(&mut self, id: Uuid) -> Option<Doc> {
        let slot = self.slots.remove(&id)?;
        let last = self.docs.len() - 1;
        for (term, _) in &self.docs[slot].terms {
            if let Some(list) = self.postings.get_mut(term) {
                if let Some(i) = list.iter().position(|p| p.slot as usize == slot) {
                    list.swap_remove(i);
                }
                if list.is_empty() {
                    self.postings.remove(term);
                }
            }
        }
        if slot != last {
            for (term, _) in &self.docs[last].terms {
                let moved = self
                    .postings
                    .get_mut(term)
                    .and_then(|list| list.iter_mut().find(|p| p.slot as usize == last));
                if let Some(posting) = moved {
                    posting.slot = slot as u32;
                }
            }
        }
        self.docs.swap(slot, last);
        self.embedded.swap(slot, last);
        self.doc_channels.swap(slot, last);
        self.doc_lens.swap(slot, last);
        if slot != last {
            let (head, tail) = self.vectors.split_at_mut(last * DIM);
            head[slot * DIM..(slot + 1) * DIM].copy_from_slice(&tail[..DIM]);
            self.slots.insert(self.docs[slot].id, slot);
        }
        self.vectors.truncate(last * DIM);
        self.embedded.pop();
        self.doc_channels.pop();
        self.doc_lens.pop();
        let doc = self.docs.pop()?;
        self.total_len -= u64::from(doc.len);
        Some(doc)
    }

    fn insert(&mut self, doc: Doc, vector: Option<&[f32]>) {
        let slot = self.docs.len();
        for (term, tf) in &doc.terms {
            self.postings.entry(term.clone()).or_default().push(Posting {
                slot: slot as u32,
                tf: *tf,
            });
        }
        self.total_len += u64::from(doc.len);
        let channel = self.channel_ord(doc.channel_id);
        self.doc_channels.push(channel);
        self.doc_lens.push(doc.len);
        self.slots.insert(doc.id, slot);
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

    fn channel_ord(&mut self, channel_id: Uuid) -> u32 {
        if let Some(&ord) = self.channel_ords.get(&channel_id) {
            return ord;
        }
        let ord = self.channel_ids.len() as u32;
        self.channel_ids.push(channel_id);
        self.channel_ords.insert(channel_id, ord);
        ord
    }

    /// The scope as a flag per channel ordinal: one hash lookup per channel per search, then
    /// only array reads per message.
    fn allowed(&self, scope: &Scope) -> Vec<bool> {
        self.channel_ids
            .iter()
            .map(|c| scope.channels.contains(c))
            .collect()
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
            (w.postings.get(term).map_or(0, Vec::len), w.docs.len())
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
        let allowed = workspace.allowed(scope);
        // Term-at-a-time into a dense array by slot: each posting costs a few array reads and
        // flops, no hashing. Terms are summed in sorted order, so scores do not depend on the
        // order postings happen to be in.
        let mut scores: Vec<(f32, u32)> = vec![(0.0, 0); workspace.docs.len()];
        let mut touched: Vec<u32> = Vec::new();
        for term in &terms {
            let Some(list) = workspace.postings.get(term) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for posting in list {
                let slot = posting.slot as usize;
                if !allowed[workspace.doc_channels[slot] as usize] {
                    continue;
                }
                let tf = posting.tf as f32;
                let len = workspace.doc_lens[slot] as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len));
                let entry = &mut scores[slot];
                if entry.1 == 0 {
                    touched.push(posting.slot);
                }
                entry.0 += idf * norm;
                entry.1 += 1;
            }
        }
        let mut ranked: Vec<(Uuid, f32, f32)> = touched
            .into_iter()
            .map(|slot| {
                let (score, matched) = scores[slot as usize];
                (
                    workspace.docs[slot as usize].id,
                    score,
                    matched as f32 / terms.len() as f32,
                )
            })
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
        let allowed = workspace.allowed(scope);
        let mut ranked: Vec<(Uuid, f32)> = workspace
            .docs
            .iter()
            .enumerate()
            .filter(|(slot, _)| workspace.embedded[*slot] && allowed[workspace.doc_channels[*slot] as usize])
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

    /// BM25 computed the obvious way, from the docs themselves.
    fn reference_bm25(index: &Index, ws: Uuid, scope: &Scope, query: &str) -> HashMap<Uuid, (f32, f32)> {
        let mut terms = text::terms(query);
        terms.sort();
        terms.dedup();
        let all = Scope {
            channels: index.channels_of(ws).map(|c| c.id).collect(),
        };
        let docs: Vec<&Doc> = index.docs_in(ws, &all).collect();
        let n = docs.len() as f32;
        let avg_len = (docs.iter().map(|d| d.len as f32).sum::<f32>() / n).max(1.0);
        let mut out = HashMap::new();
        for doc in docs.iter().filter(|d| scope.allows(d)) {
            let (mut score, mut matched) = (0.0, 0);
            for term in &terms {
                let Some(&(_, tf)) = doc.terms().iter().find(|(t, _)| t == term) else {
                    continue;
                };
                let df = docs
                    .iter()
                    .filter(|d| d.terms().iter().any(|(t, _)| t == term))
                    .count() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                let tf = tf as f32;
                score += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * doc.len as f32 / avg_len));
                matched += 1;
            }
            if matched > 0 {
                out.insert(doc.id, (score, matched as f32 / terms.len() as f32));
            }
        }
        out
    }

    #[test]
    fn keyword_scores_match_plain_bm25_after_inserts_edits_and_deletes() {
        let words = [
            "deploy", "database", "login", "billing", "staging", "failing", "review", "friday",
        ];
        let ws = Uuid::now_v7();
        let channels: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let mut index = Index::default();
        for (i, c) in channels.iter().enumerate() {
            index.upsert_channel(*c, ws, &format!("c{i}"), ChannelKind::Public, false);
        }
        let mut seed = 7_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let text = |next: &mut dyn FnMut() -> u64| {
            let len = 1 + next() % 6;
            (0..len)
                .map(|_| words[(next() % words.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut ids = Vec::new();
        for i in 0..300 {
            let (id, channel) = (Uuid::now_v7(), channels[i % channels.len()]);
            let doc = Doc::new(id, ws, channel, id, None, text(&mut next), i as i64);
            index.upsert(doc, None, false);
            ids.push((id, channel));
        }
        for round in 0..120 {
            let (id, channel) = ids[(next() % ids.len() as u64) as usize];
            if round % 3 == 0 {
                index.remove(ws, id);
            } else {
                let doc = Doc::new(id, ws, channel, id, None, text(&mut next), 0);
                index.upsert(doc, None, false);
            }
        }
        let scope = Scope {
            channels: channels[..3].iter().copied().collect(),
        };
        for query in ["deploy", "database failing", "friday login review"] {
            let expected = reference_bm25(&index, ws, &scope, query);
            assert!(!expected.is_empty(), "{query}");
            let got = index.keyword(ws, &scope, query, 1000);
            assert_eq!(got.len(), expected.len(), "{query}");
            for (id, score, coverage) in got {
                let (want, want_coverage) = expected[&id];
                assert!((score - want).abs() < 1e-4, "{query}: {score} vs {want}");
                assert_eq!(coverage, want_coverage);
            }
        }
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
