//! Recommendations: public channels the caller has not joined whose content resembles what they
//! read and write, and people who write about the same things. Each person and channel is a
//! profile — the centroid of their messages' embeddings, or a TF-IDF term vector without a
//! model — compared by cosine. People's profiles are built only from messages the caller can
//! read, so a recommendation never reveals what a private channel discusses.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::embed;
use crate::index::{ChannelKind, Doc, Index, Scope};
use crate::textrank::{normalise, sparse_cosine};

/// Messages per profile, the newest: enough for a topic centroid, bounded work per request.
const PROFILE_MESSAGES: usize = 300;
const LIMIT: usize = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct Recommendations {
    pub channels: Vec<ChannelSuggestion>,
    pub people: Vec<PersonSuggestion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSuggestion {
    pub channel_id: Uuid,
    pub name: String,
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonSuggestion {
    pub user_id: Uuid,
    pub score: f32,
}

enum Profile {
    Dense(Vec<f32>),
    Sparse(HashMap<String, f32>),
}

impl Profile {
    fn similarity(&self, other: &Profile) -> f32 {
        match (self, other) {
            (Profile::Dense(a), Profile::Dense(b)) => embed::dot(a, b),
            (Profile::Sparse(a), Profile::Sparse(b)) => sparse_cosine(a, b),
            _ => 0.0,
        }
    }
}

fn profile(index: &Index, workspace_id: Uuid, mut docs: Vec<&Doc>, dense: bool) -> Option<Profile> {
    docs.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    docs.truncate(PROFILE_MESSAGES);
    if dense {
        let centroid = embed::centroid(docs.iter().filter_map(|d| index.vector(workspace_id, d.id)))?;
        return Some(Profile::Dense(centroid));
    }
    let mut v: HashMap<String, f32> = HashMap::new();
    for d in &docs {
        for (term, tf) in d.terms() {
            let (df, total) = index.df(workspace_id, term);
            let idf = ((1.0 + total as f32) / (1.0 + df as f32)).ln() + 1.0;
            *v.entry(term.clone()).or_default() += *tf as f32 * idf;
        }
    }
    normalise(&mut v);
    (!v.is_empty()).then_some(Profile::Sparse(v))
}

/// Recommendations for `user_id` within what they can read (`scope`).
pub fn recommend(
    index: &Index,
    workspace_id: Uuid,
    user_id: Uuid,
    scope: &Scope,
    dense: bool,
) -> Recommendations {
    let readable: Vec<&Doc> = index.docs_in(workspace_id, scope).collect();
    let joined: Vec<Uuid> = scope
        .channels
        .iter()
        .copied()
        .filter(|c| index.channel(*c).is_some_and(|ch| ch.members.contains(&user_id)))
        .collect();
    // What the user writes, and what is said where they are.
    let mine: Vec<&Doc> = readable
        .iter()
        .copied()
        .filter(|d| d.author_id == user_id || joined.contains(&d.channel_id))
        .collect();
    let me = profile(index, workspace_id, mine, dense);

    let mut by_channel: HashMap<Uuid, Vec<&Doc>> = HashMap::new();
    let mut by_author: HashMap<Uuid, Vec<&Doc>> = HashMap::new();
    for d in &readable {
        by_channel.entry(d.channel_id).or_default().push(d);
        by_author.entry(d.author_id).or_default().push(d);
    }

    let mut channels: Vec<ChannelSuggestion> = index
        .channels_of(workspace_id)
        .filter(|c| {
            c.kind == ChannelKind::Public
                && !c.archived
                && !c.members.contains(&user_id)
                && scope.channels.contains(&c.id)
        })
        .map(|c| {
            let docs = by_channel.get(&c.id).cloned().unwrap_or_default();
            let activity = docs.len();
            let score = match (&me, profile(index, workspace_id, docs, dense)) {
                (Some(me), Some(theirs)) => me.similarity(&theirs),
                // No profile to compare: lively channels first, below any real match.
                _ => -1.0 + (activity as f32).ln_1p() / 100.0,
            };
            ChannelSuggestion {
                channel_id: c.id,
                name: c.name.clone(),
                score,
            }
        })
        .collect();
    channels.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    channels.truncate(LIMIT);

    let mut people: Vec<PersonSuggestion> = match &me {
        None => Vec::new(),
        Some(me) => index
            .members_of(workspace_id)
            .into_iter()
            .filter(|u| *u != user_id)
            .filter_map(|u| {
                let theirs = profile(
                    index,
                    workspace_id,
                    by_author.get(&u).cloned().unwrap_or_default(),
                    dense,
                )?;
                Some(PersonSuggestion {
                    user_id: u,
                    score: me.similarity(&theirs),
                })
            })
            .collect(),
    };
    people.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.user_id.cmp(&b.user_id)));
    people.truncate(LIMIT);
    Recommendations { channels, people }
}
