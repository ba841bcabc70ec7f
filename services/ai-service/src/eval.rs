//! The retrieval-quality evaluation: a written corpus of team-chat messages
//! (`eval/corpus.tsv`: `id<TAB>channel<TAB>text`) and labelled queries (`eval/queries.tsv`:
//! `query<TAB>relevant ids, comma-separated`), scored as mean recall@10 for the keyword,
//! semantic and hybrid legs of [`crate::search::rank`]. Run by the `ai-eval` binary and the
//! test suite; the figures are recorded in `docs/ai-evaluation.md`.

use std::collections::HashMap;

use anyhow::{Context, bail};
use uuid::Uuid;

use crate::embed::Embedder;
use crate::index::{ChannelKind, Doc, Index, Scope};
use crate::search::{Mode, rank};

pub const CORPUS: &str = include_str!("../eval/corpus.tsv");
pub const QUERIES: &str = include_str!("../eval/queries.tsv");

/// Depth at which recall is measured.
pub const K: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub messages: usize,
    pub queries: usize,
    pub keyword: f64,
    pub semantic: f64,
    pub hybrid: f64,
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Runs the evaluation with the given model (blocking: it embeds ~250 texts).
pub fn run(embedder: &Embedder) -> anyhow::Result<Report> {
    let workspace = Uuid::from_u128(1);
    let author = Uuid::from_u128(2);
    let mut index = Index::default();
    let mut ids: HashMap<String, Uuid> = HashMap::new();
    let mut channels: HashMap<String, Uuid> = HashMap::new();
    let mut docs = Vec::new();
    for (n, line) in lines(CORPUS).enumerate() {
        let mut fields = line.splitn(3, '\t');
        let (Some(label), Some(channel), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            bail!("corpus line {} is not id<TAB>channel<TAB>text", n + 1);
        };
        let next = channels.len() as u128;
        let channel_id = *channels
            .entry(channel.to_owned())
            .or_insert_with(|| Uuid::from_u128(1000 + next));
        let id = Uuid::from_u128(100_000 + n as u128);
        ids.insert(label.to_owned(), id);
        docs.push(Doc::new(
            id,
            workspace,
            channel_id,
            author,
            None,
            text.to_owned(),
            n as i64,
        ));
    }
    for (name, id) in &channels {
        index.upsert_channel(*id, workspace, name, ChannelKind::Public, false);
    }
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let vectors = embedder.embed(&texts).context("embedding the corpus")?;
    let messages = docs.len();
    for (doc, vector) in docs.into_iter().zip(&vectors) {
        index.upsert(doc, Some(vector), true);
    }
    let scope = Scope {
        channels: channels.values().copied().collect(),
    };

    let mut queries = Vec::new();
    for (n, line) in lines(QUERIES).enumerate() {
        let Some((query, relevant)) = line.split_once('\t') else {
            bail!("query line {} has no tab", n + 1)
        };
        let relevant: Vec<Uuid> = relevant
            .split(',')
            .map(|l| {
                ids.get(l.trim())
                    .copied()
                    .with_context(|| format!("query {:?} names unknown message {l:?}", query))
            })
            .collect::<anyhow::Result<_>>()?;
        queries.push((query.to_owned(), relevant));
    }
    let query_texts: Vec<String> = queries.iter().map(|(q, _)| q.clone()).collect();
    let query_vectors = embedder.embed(&query_texts).context("embedding the queries")?;
    let recall = |mode: Mode| -> f64 {
        let total: f64 = queries
            .iter()
            .zip(&query_vectors)
            .map(|((q, relevant), v)| {
                let found = rank(&index, workspace, &scope, q, Some(v), mode, K);
                let hits = relevant
                    .iter()
                    .filter(|r| found.iter().any(|h| h.id == **r))
                    .count();
                hits as f64 / relevant.len() as f64
            })
            .sum();
        total / queries.len().max(1) as f64
    };
    Ok(Report {
        messages,
        queries: queries.len(),
        keyword: recall(Mode::Keyword),
        semantic: recall(Mode::Semantic),
        hybrid: recall(Mode::Hybrid),
    })
}
