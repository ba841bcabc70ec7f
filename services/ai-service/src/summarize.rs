//! Channel and thread summaries. Extractive: TextRank over the messages (embeddings, or TF-IDF
//! without a model) picks the central, mutually different ones; each becomes a bullet citing it
//! and its closest neighbours, and the summary line says who talked, when, and about what (TF-IDF
//! keywords). Generated: the messages, oldest first and tagged with their ids, go to the LLM,
//! whose bullets must cite those ids.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::Core;
use crate::generate::Task;
use crate::index::Doc;
use crate::textrank::{self, Similarity};
use crate::{llm, text};

/// Messages considered at most (the newest), to bound the quadratic similarity graph.
const MAX_MESSAGES: usize = 300;

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub summary: String,
    pub bullets: Vec<Bullet>,
    /// What produced it: the LLM's model name, or `extractive-textrank/<embedder>`.
    pub model: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bullet {
    pub text: String,
    pub message_ids: Vec<Uuid>,
}

/// A summary to produce over these messages (oldest first, all readable by the caller).
pub struct SummaryTask {
    pub channel_name: String,
    pub docs: Vec<Doc>,
    /// The stored embeddings of the docs, where there are.
    pub vectors: Vec<Option<Vec<f32>>>,
    /// TF-IDF keywords of the messages against their workspace.
    pub keywords: Vec<String>,
    pub llm_context: usize,
}

impl SummaryTask {
    /// Keeps the newest messages when there are too many.
    pub fn new(
        channel_name: String,
        mut docs: Vec<(Doc, Option<Vec<f32>>)>,
        keywords: Vec<String>,
        llm_context: usize,
    ) -> Self {
        docs.sort_by_key(|(d, _)| (d.created_at, d.id));
        if docs.len() > MAX_MESSAGES {
            docs.drain(..docs.len() - MAX_MESSAGES);
        }
        let (docs, vectors) = docs.into_iter().unzip();
        Self {
            channel_name,
            docs,
            vectors,
            keywords,
            llm_context,
        }
    }

    fn headline(&self) -> String {
        let people: HashSet<Uuid> = self.docs.iter().map(|d| d.author_id).collect();
        let (first, last) = match (self.docs.first(), self.docs.last()) {
            (Some(f), Some(l)) => (day(f.created_at), day(l.created_at)),
            _ => return "There are no messages to summarize.".into(),
        };
        let span = if first == last {
            format!("on {first}")
        } else {
            format!("from {first} to {last}")
        };
        let n = self.docs.len();
        let mut line = format!(
            "{n} message{} from {} {} {span}",
            if n == 1 { "" } else { "s" },
            people.len(),
            if people.len() == 1 { "person" } else { "people" }
        );
        if !self.keywords.is_empty() {
            line.push_str(&format!(
                "; main topics: {}",
                self.keywords
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        line.push('.');
        line
    }
}

fn day(ms: i64) -> String {
    echo_domain::time::from_ms(ms).format("%Y-%m-%d").to_string()
}

#[async_trait]
impl Task for SummaryTask {
    type Output = Summary;

    fn prompt(&self) -> Option<(String, String)> {
        if self.docs.is_empty() {
            return None;
        }
        let system = "You summarize team chat conversations for someone catching up. Use only the messages given. \
            Answer in this format: one or two sentences of summary on the first line, then up to six bullet points, \
            each on its own line starting with \"- \" and ending with the ids of the messages it is based on in \
            square brackets, like [id1, id2]. Use only ids that appear in the messages. Do not add anything else."
            .to_owned();
        let start = self.docs.len().saturating_sub(self.llm_context);
        let mut user = format!("Channel #{}. Messages, oldest first:\n", self.channel_name);
        for d in &self.docs[start..] {
            user.push_str(&format!(
                "[{}] {} {}: {}\n",
                d.id,
                echo_domain::time::rfc3339(d.created_at),
                short(d.author_id),
                text::snippet(&d.text, 1000)
            ));
        }
        Some((system, user))
    }

    fn output_from(&self, generated: &str, model: &str) -> Summary {
        let allowed: HashSet<Uuid> = self.docs.iter().map(|d| d.id).collect();
        let mut summary = Vec::new();
        let mut bullets = Vec::new();
        for line in generated.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let bullet = ["- ", "* ", "• "].iter().find_map(|p| line.strip_prefix(p));
            match bullet {
                Some(body) => {
                    let text = llm::strip_citations(body);
                    if !text.is_empty() {
                        bullets.push(Bullet {
                            text,
                            message_ids: llm::cited_ids(body, &allowed),
                        });
                    }
                }
                None => summary.push(llm::strip_citations(line)),
            }
        }
        Summary {
            summary: summary.join(" "),
            bullets,
            model: model.to_owned(),
        }
    }

    async fn extractive(&self, core: &Core) -> anyhow::Result<Summary> {
        let label = format!("extractive-textrank/{}", core.embedder_name());
        if self.docs.is_empty() {
            return Ok(Summary {
                summary: self.headline(),
                bullets: Vec::new(),
                model: label,
            });
        }
        let sim = similarity(core, &self.docs, &self.vectors).await?;
        let mut scores = textrank::rank(&sim);
        // A one-word reply ("ok", "thanks") is rarely a key message however central it looks.
        for (score, doc) in scores.iter_mut().zip(&self.docs) {
            let terms = text::terms(&doc.text).len();
            if terms < 4 {
                *score *= 0.3 + 0.175 * terms as f32;
            }
        }
        let k = (self.docs.len() / 5).clamp(1, 6).min(self.docs.len());
        let redundant = if core.embedder.is_some() { 0.85 } else { 0.6 };
        let support = if core.embedder.is_some() { 0.6 } else { 0.3 };
        let chosen = textrank::pick(&sim, &scores, k, redundant);
        let bullets = chosen
            .iter()
            .map(|&i| {
                let mut neighbours: Vec<usize> = (0..self.docs.len())
                    .filter(|&j| j != i && !chosen.contains(&j) && sim.get(i, j) >= support)
                    .collect();
                neighbours.sort_by(|&a, &b| sim.get(i, b).total_cmp(&sim.get(i, a)));
                let mut message_ids = vec![self.docs[i].id];
                message_ids.extend(neighbours.into_iter().take(2).map(|j| self.docs[j].id));
                Bullet {
                    text: text::snippet(&self.docs[i].text, 240),
                    message_ids,
                }
            })
            .collect();
        Ok(Summary {
            summary: self.headline(),
            bullets,
            model: label,
        })
    }
}

/// The similarity graph of some messages: embeddings when the model is loaded (computing the
/// few that are still queued), TF-IDF otherwise.
pub async fn similarity(
    core: &Core,
    docs: &[Doc],
    vectors: &[Option<Vec<f32>>],
) -> anyhow::Result<Similarity> {
    if core.embedder.is_none() {
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        return Ok(Similarity::lexical(&texts));
    }
    let missing: Vec<usize> = (0..docs.len()).filter(|&i| vectors[i].is_none()).collect();
    let mut filled: HashMap<usize, Vec<f32>> = HashMap::new();
    if !missing.is_empty() {
        let texts = missing.iter().map(|&i| docs[i].text.clone()).collect();
        if let Some(computed) = core.embed_now(texts).await? {
            filled = missing.into_iter().zip(computed).collect();
        }
    }
    let all: Vec<Vec<f32>> = (0..docs.len())
        .map(|i| {
            vectors[i]
                .clone()
                .or_else(|| filled.remove(&i))
                .unwrap_or_default()
        })
        .collect();
    Ok(Similarity::from_vectors(&all))
}

/// A short stable handle for an author in prompts (the id's last block).
fn short(id: Uuid) -> String {
    let s = id.simple().to_string();
    format!("user-{}", &s[s.len() - 6..])
}

/// The top TF-IDF keywords of some messages against their workspace, shown in their most
/// common written form.
pub fn keywords(core: &Core, workspace_id: Uuid, docs: &[Doc], n: usize) -> Vec<String> {
    let mut tf: HashMap<String, f32> = HashMap::new();
    let mut surface: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for d in docs {
        for word in text::words(&d.text) {
            if word.len() < 3 || text::is_stop_word(&word) || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let term = text::fold(&word);
            *tf.entry(term.clone()).or_default() += 1.0;
            *surface.entry(term).or_default().entry(word).or_default() += 1;
        }
    }
    let index = core.read();
    let mut scored: Vec<(String, f32)> = tf
        .into_iter()
        .filter(|(_, count)| *count >= 2.0 || docs.len() < 10)
        .map(|(term, count)| {
            let (df, total) = index.df(workspace_id, &term);
            let idf = ((1.0 + total as f32) / (1.0 + df as f32)).ln() + 1.0;
            (term, count * idf)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .take(n)
        .map(|(term, _)| {
            surface
                .get(&term)
                .and_then(|forms| {
                    forms
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                        .map(|(w, _)| w.clone())
                })
                .unwrap_or(term)
        })
        .collect()
}
