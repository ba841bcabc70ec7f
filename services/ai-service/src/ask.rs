//! The assistant: questions answered from the messages the caller can read. Retrieval is the
//! hybrid search within the caller's scope; when nothing retrieved is relevant enough (no close
//! embedding and no good keyword overlap) it declines rather than guess. Extractive answers quote
//! the sentences closest to the question; generated ones come from the LLM given the retrieved
//! messages, and cite only ids from that context.

use std::collections::HashSet;

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::Core;
use crate::generate::Task;
use crate::index::Doc;
use crate::textrank::{sparse_cosine, tfidf_vectors};
use crate::{embed, llm, text};

/// A retrieved message counts as relevant from this cosine to the question…
pub const MIN_COSINE: f32 = 0.35;
/// …or when it contains at least this fraction of the question's terms.
pub const MIN_COVERAGE: f32 = 0.5;
/// Messages retrieved as context.
pub const CONTEXT: usize = 8;

pub const DECLINE: &str = "I couldn't find anything about that in the messages you can read.";

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    pub answer: String,
    pub citations: Vec<Citation>,
    /// What produced it: the LLM's model name, or `extractive/<embedder>`.
    pub model: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Citation {
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub snippet: String,
}

/// A question and the relevant messages retrieved for it (best first, all readable).
pub struct AskTask {
    pub question: String,
    pub question_vector: Option<Vec<f32>>,
    /// (message, channel name)
    pub context: Vec<(Doc, String)>,
}

fn cite(doc: &Doc) -> Citation {
    Citation {
        message_id: doc.id,
        channel_id: doc.channel_id,
        snippet: text::snippet(&doc.text, 200),
    }
}

#[async_trait]
impl Task for AskTask {
    type Output = Answer;

    fn prompt(&self) -> Option<(String, String)> {
        if self.context.is_empty() {
            return None;
        }
        let system = "You answer questions about a team's chat history using only the messages given. \
            Be brief. Cite the messages you rely on by putting their ids in square brackets, like [id]. \
            If the messages do not answer the question, say that you do not know."
            .to_owned();
        let mut user = String::from("Messages:\n");
        for (d, channel) in &self.context {
            user.push_str(&format!(
                "[{}] #{} {}: {}\n",
                d.id,
                channel,
                echo_domain::time::rfc3339(d.created_at),
                text::snippet(&d.text, 1000)
            ));
        }
        user.push_str(&format!("\nQuestion: {}", self.question));
        Some((system, user))
    }

    fn output_from(&self, generated: &str, model: &str) -> Answer {
        let allowed: HashSet<Uuid> = self.context.iter().map(|(d, _)| d.id).collect();
        let cited = llm::cited_ids(generated, &allowed);
        let citations = if cited.is_empty() {
            // An answer without citations still rests on the context: show the best of it.
            self.context.iter().take(3).map(|(d, _)| cite(d)).collect()
        } else {
            cited
                .iter()
                .filter_map(|id| self.context.iter().find(|(d, _)| d.id == *id))
                .map(|(d, _)| cite(d))
                .collect()
        };
        Answer {
            answer: llm::strip_citations(generated),
            citations,
            model: model.to_owned(),
        }
    }

    async fn extractive(&self, core: &Core) -> anyhow::Result<Answer> {
        let model = format!("extractive/{}", core.embedder_name());
        if self.context.is_empty() {
            return Ok(Answer {
                answer: DECLINE.into(),
                citations: Vec::new(),
                model,
            });
        }
        // Sentences of the best few messages, scored against the question.
        let mut sentences: Vec<(usize, String)> = Vec::new();
        for (i, (d, _)) in self.context.iter().take(5).enumerate() {
            for s in text::sentences(&d.text) {
                sentences.push((i, s));
            }
        }
        let scores: Vec<f32> = match (&self.question_vector, core.embedder.is_some()) {
            (Some(q), true) => {
                let texts = sentences.iter().map(|(_, s)| s.clone()).collect();
                let vectors = core.embed_now(texts).await?.unwrap_or_default();
                vectors.iter().map(|v| embed::dot(v, q)).collect()
            }
            _ => {
                let mut texts: Vec<&str> = vec![self.question.as_str()];
                texts.extend(sentences.iter().map(|(_, s)| s.as_str()));
                let vectors = tfidf_vectors(&texts);
                vectors[1..]
                    .iter()
                    .map(|v| sparse_cosine(&vectors[0], v))
                    .collect()
            }
        };
        // Earlier (better retrieved) messages get a small head start.
        let mut order: Vec<usize> = (0..sentences.len()).collect();
        let boosted = |k: usize| scores.get(k).copied().unwrap_or(0.0) - 0.02 * sentences[k].0 as f32;
        order.sort_by(|&a, &b| boosted(b).total_cmp(&boosted(a)));
        let mut used: Vec<usize> = Vec::new();
        let mut quotes: Vec<String> = Vec::new();
        for k in order {
            let (i, sentence) = &sentences[k];
            if quotes.len() >= 3 {
                break;
            }
            if text::terms(sentence).len() < 2 || used.contains(i) {
                continue;
            }
            used.push(*i);
            quotes.push(format!(
                "“{}” (#{})",
                text::snippet(sentence, 240),
                self.context[*i].1
            ));
        }
        if quotes.is_empty() {
            used.push(0);
            quotes.push(format!(
                "“{}” (#{})",
                text::snippet(&self.context[0].0.text, 240),
                self.context[0].1
            ));
        }
        let intro = if quotes.len() == 1 {
            "Here is the most relevant message I found:"
        } else {
            "Here is what I found in the messages you can read:"
        };
        let answer = format!(
            "{intro}\n{}",
            quotes
                .iter()
                .map(|q| format!("- {q}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let citations = used.iter().map(|&i| cite(&self.context[i].0)).collect();
        Ok(Answer {
            answer,
            citations,
            model,
        })
    }
}
