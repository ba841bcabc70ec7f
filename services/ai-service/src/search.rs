//! Hybrid retrieval: a keyword leg (BM25 over the projected messages) and a semantic leg
//! (cosine over MiniLM embeddings), each restricted to the caller's readable channels before
//! scoring, fused with reciprocal rank fusion. RRF needs no score calibration between the legs,
//! which matters because BM25 scores and cosines live on unrelated scales.

use std::collections::HashMap;

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::index::{Index, Scope, top_k};

/// The RRF constant: damps the weight of the very first ranks (60 is the usual choice).
const RRF_K: f32 = 60.0;
/// Candidates each leg contributes to the fusion.
const LEG_DEPTH: usize = 50;
/// Below this cosine a message is unrelated to the query for MiniLM, so the semantic leg does not
/// offer it (otherwise every query would "match" every message).
pub const SEMANTIC_FLOOR: f32 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Hybrid,
    Semantic,
    Keyword,
}

/// One ranked message.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: Uuid,
    /// The fused score (RRF), or the leg's own score in a single-leg mode.
    pub score: f32,
    /// Cosine to the query, when the semantic leg saw it.
    pub cosine: Option<f32>,
    /// Fraction of the query's terms the message contains.
    pub coverage: f32,
}

/// Ranks the messages of a workspace within `scope` for `query`. `query_vector` is the query's
/// embedding (None without a model: the search is then keyword only whatever the mode).
pub fn rank(
    index: &Index,
    workspace_id: Uuid,
    scope: &Scope,
    query: &str,
    query_vector: Option<&[f32]>,
    mode: Mode,
    k: usize,
) -> Vec<Hit> {
    let keyword = if mode == Mode::Semantic && query_vector.is_some() {
        Vec::new()
    } else {
        index.keyword(workspace_id, scope, query, LEG_DEPTH.max(k))
    };
    let semantic: Vec<(Uuid, f32)> = match (mode, query_vector) {
        (Mode::Keyword, _) | (_, None) => Vec::new(),
        (_, Some(vector)) => index
            .semantic(workspace_id, scope, vector, LEG_DEPTH.max(k))
            .into_iter()
            .filter(|(_, c)| *c >= SEMANTIC_FLOOR)
            .collect(),
    };
    let mut hits: HashMap<Uuid, Hit> = HashMap::new();
    let single_leg = keyword.is_empty() || semantic.is_empty();
    for (rank, (id, score, coverage)) in keyword.iter().enumerate() {
        let hit = hits.entry(*id).or_insert(Hit {
            id: *id,
            score: 0.0,
            cosine: None,
            coverage: 0.0,
        });
        hit.score += if single_leg && mode == Mode::Keyword {
            *score
        } else {
            1.0 / (RRF_K + rank as f32 + 1.0)
        };
        hit.coverage = *coverage;
    }
    for (rank, (id, cosine)) in semantic.iter().enumerate() {
        let hit = hits.entry(*id).or_insert(Hit {
            id: *id,
            score: 0.0,
            cosine: None,
            coverage: 0.0,
        });
        hit.score += if mode == Mode::Semantic {
            *cosine
        } else {
            1.0 / (RRF_K + rank as f32 + 1.0)
        };
        hit.cosine = Some(*cosine);
    }
    let mut ranked: Vec<Hit> = hits.into_values().collect();
    // Ties (same fused rank) go to the semantically closer message.
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.cosine.unwrap_or(0.0).total_cmp(&a.cosine.unwrap_or(0.0)))
    });
    top_k(&mut ranked, k, |h| h.score);
    ranked
}
