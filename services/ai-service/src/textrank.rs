//! TextRank: sentences (here, messages) as the nodes of a graph weighted by their similarity,
//! ranked by PageRank; the central ones are the key messages. Similarity is the cosine of
//! MiniLM embeddings when there are any, else of TF-IDF term vectors (the lexical fallback).

use std::collections::HashMap;

use crate::embed::dot;
use crate::text;

const DAMPING: f32 = 0.85;
const ITERATIONS: usize = 40;

/// Pairwise similarities of some texts.
pub struct Similarity {
    matrix: Vec<f32>,
    n: usize,
}

impl Similarity {
    /// From unit embeddings (cosines).
    pub fn from_vectors(vectors: &[Vec<f32>]) -> Self {
        let n = vectors.len();
        let mut matrix = vec![0.0; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let s = dot(&vectors[i], &vectors[j]);
                matrix[i * n + j] = s;
                matrix[j * n + i] = s;
            }
            matrix[i * n + i] = 1.0;
        }
        Self { matrix, n }
    }

    /// From TF-IDF vectors of the texts' terms.
    pub fn lexical(texts: &[&str]) -> Self {
        let vectors = tfidf_vectors(texts);
        let n = texts.len();
        let mut matrix = vec![0.0; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let s = sparse_cosine(&vectors[i], &vectors[j]);
                matrix[i * n + j] = s;
                matrix[j * n + i] = s;
            }
            matrix[i * n + i] = 1.0;
        }
        Self { matrix, n }
    }

    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.matrix[i * self.n + j]
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// L2-normalised TF-IDF vectors, with IDF taken over the texts themselves.
pub fn tfidf_vectors(texts: &[&str]) -> Vec<HashMap<String, f32>> {
    let term_lists: Vec<Vec<String>> = texts.iter().map(|t| text::terms(t)).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for terms in &term_lists {
        let mut seen: Vec<&str> = terms.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1;
        }
    }
    let n = texts.len() as f32;
    term_lists
        .iter()
        .map(|terms| {
            let mut v: HashMap<String, f32> = HashMap::new();
            for t in terms {
                *v.entry(t.clone()).or_default() += 1.0;
            }
            for (t, w) in v.iter_mut() {
                let idf = (1.0 + n / (1.0 + *df.get(t.as_str()).unwrap_or(&0) as f32)).ln();
                *w *= idf;
            }
            normalise(&mut v);
            v
        })
        .collect()
}

pub fn normalise(v: &mut HashMap<String, f32>) {
    let norm = v.values().map(|w| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.values_mut().for_each(|w| *w /= norm);
    }
}

pub fn sparse_cosine(a: &HashMap<String, f32>, b: &HashMap<String, f32>) -> f32 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .map(|(t, w)| w * large.get(t).copied().unwrap_or(0.0))
        .sum()
}

/// PageRank scores of the similarity graph (negative similarities count as no edge).
pub fn rank(sim: &Similarity) -> Vec<f32> {
    let n = sim.len();
    if n == 0 {
        return Vec::new();
    }
    let weight = |i: usize, j: usize| if i == j { 0.0 } else { sim.get(i, j).max(0.0) };
    let out_sums: Vec<f32> = (0..n).map(|i| (0..n).map(|j| weight(i, j)).sum()).collect();
    let mut scores = vec![1.0 / n as f32; n];
    for _ in 0..ITERATIONS {
        let next: Vec<f32> = (0..n)
            .map(|i| {
                let incoming: f32 = (0..n)
                    .filter(|&j| out_sums[j] > 0.0)
                    .map(|j| weight(j, i) / out_sums[j] * scores[j])
                    .sum();
                (1.0 - DAMPING) / n as f32 + DAMPING * incoming
            })
            .collect();
        scores = next;
    }
    scores
}

/// Picks up to `k` central, mutually different items: by score, skipping any too similar to one
/// already picked. Returns indexes in the input order.
pub fn pick(sim: &Similarity, scores: &[f32], k: usize, redundant: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() >= k {
            break;
        }
        if chosen.iter().all(|&c| sim.get(i, c) < redundant) {
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_central_message_ranks_first() {
        let texts = [
            "deploy the api service today",
            "the api deploy failed",
            "api service deploy rollback",
            "lunch menu pizza",
        ];
        let sim = Similarity::lexical(&texts);
        let scores = rank(&sim);
        let best = (0..4).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        assert_ne!(best, Some(3));
        assert!(scores[3] < scores[0]);
    }
}
