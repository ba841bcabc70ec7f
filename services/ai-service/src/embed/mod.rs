//! Sentence embeddings: all-MiniLM-L6-v2 run in-process with candle, from a local directory.
//!
//! [`Embedder::open`] reads `config.json` and `tokenizer.json` and checks `model.safetensors`; the
//! weights (90 MB) are read on the first embedding, so a server that has nothing to embed stays
//! small ([`Embedder::load`] reads them at once). The model is a 6-layer BERT whose token states are mean-pooled over the attention mask and L2-normalised,
//! so the dot product of two embeddings is their cosine similarity. Inference is CPU-bound and
//! synchronous: callers go through [`embed_blocking`], which runs it on the blocking pool so it
//! never stalls the async runtime. [`fetch`] downloads the model.

pub mod fetch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::{Context, anyhow};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub use self::fetch::fetch_model;
use crate::config::MODEL_NAME;

/// Dimensions of an all-MiniLM-L6-v2 embedding.
pub const DIM: usize = 384;

/// Tokens per text: the model was trained on 256-token windows; longer messages keep their start.
const MAX_TOKENS: usize = 256;

pub struct Embedder {
    config: BertConfig,
    weights: PathBuf,
    /// Built from `weights` on first use.
    model: Mutex<Option<Arc<BertModel>>>,
    tokenizer: Tokenizer,
    device: Device,
    batch: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &MODEL_NAME)
            .field("batch", &self.batch)
            .finish()
    }
}

/// Whether `dir` holds the three files the embedder needs.
pub fn model_present(dir: &Path) -> bool {
    ["config.json", "tokenizer.json", "model.safetensors"]
        .iter()
        .all(|f| dir.join(f).is_file())
}

impl Embedder {
    /// Opens the model in `dir`, its weights checked but not yet read; `batch` bounds the texts
    /// run through the model at once.
    pub fn open(dir: &Path, batch: usize) -> anyhow::Result<Self> {
        let config_text = std::fs::read_to_string(dir.join("config.json")).context("reading config.json")?;
        let config: BertConfig = serde_json::from_str(&config_text).context("parsing config.json")?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| anyhow!("loading tokenizer.json: {e}"))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| anyhow!("configuring truncation: {e}"))?;
        let weights = dir.join("model.safetensors");
        check_safetensors(&weights)?;
        Ok(Self {
            config,
            weights,
            model: Mutex::new(None),
            tokenizer,
            device: Device::Cpu,
            batch: batch.clamp(1, 256),
        })
    }

    /// Opens the model in `dir` and reads its weights now.
    pub fn load(dir: &Path, batch: usize) -> anyhow::Result<Self> {
        let embedder = Self::open(dir, batch)?;
        embedder.model()?;
        Ok(embedder)
    }

    /// The model, built from the weights the first time it is needed.
    fn model(&self) -> anyhow::Result<Arc<BertModel>> {
        let mut model = self
            .model
            .lock()
            .map_err(|_| anyhow!("the model failed to load earlier"))?;
        if let Some(model) = model.as_ref() {
            return Ok(model.clone());
        }
        // Read into memory rather than memory-mapped: mapping is `unsafe` (the file could change
        // under us) and 90 MB once per process is cheap.
        let bytes = std::fs::read(&self.weights).context("reading model.safetensors")?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &self.device)
            .context("reading the weights")?;
        let built = Arc::new(BertModel::load(vb, &self.config).context("building the BERT model")?);
        tracing::info!(model = MODEL_NAME, "embedding model loaded");
        *model = Some(built.clone());
        Ok(built)
    }

    pub fn name(&self) -> &'static str {
        MODEL_NAME
    }

    /// Embeds texts (blocking, CPU-heavy): one unit vector of [`DIM`] floats per text, in order.
    pub fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        // Batching texts of similar length wastes less work on padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            for (&i, vector) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        if rows == 0 || width == 0 {
            return Ok(vec![vec![0.0; DIM]; rows]);
        }
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings.iter().flat_map(|e| f(e).to_vec()).collect()
        };
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), (rows, width), &self.device)?;
        let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), (rows, width), &self.device)?;
        let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), (rows, width), &self.device)?;
        let states = self.model()?.forward(&ids, &types, Some(&mask))?;
        // Mean pooling over real tokens only, then L2 normalisation.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = states.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}

/// Checks a safetensors file's framing (a length, then a JSON header naming tensors) without
/// reading the tensors, so a truncated or foreign file is refused when the model is opened.
fn check_safetensors(path: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let invalid = || anyhow!("{} is not a safetensors file", path.display());
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata()?.len();
    let mut length = [0u8; 8];
    file.read_exact(&mut length).map_err(|_| invalid())?;
    let length = u64::from_le_bytes(length);
    if length == 0 || length > 100 * 1024 * 1024 || 8 + length > size {
        return Err(invalid());
    }
    let mut header = vec![0u8; usize::try_from(length)?];
    file.read_exact(&mut header).map_err(|_| invalid())?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|_| invalid())?;
    anyhow::ensure!(
        header.keys().any(|k| k != "__metadata__"),
        "{} holds no tensors",
        path.display()
    );
    Ok(())
}

/// Runs [`Embedder::embed`] on the blocking thread pool, at normal priority: for a query
/// someone is waiting on.
pub async fn embed_blocking(embedder: Arc<Embedder>, texts: Vec<String>) -> anyhow::Result<Vec<Vec<f32>>> {
    tokio::task::spawn_blocking(move || embedder.embed(&texts))
        .await
        .context("the embedding task failed")?
}

/// The threads that embed messages for the index. They run at the lowest scheduling priority
/// (nice 19), so indexing takes only the CPU that requests leave: under a burst of posts the
/// posts are acknowledged at full speed and embedded afterwards, and lexical search finds them
/// meanwhile. None when the pool cannot be started (then the caller's thread embeds).
static BACKGROUND: LazyLock<Option<rayon::ThreadPool>> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("embed-{i}"))
        .start_handler(|_| {
            if let Err(error) =
                thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
            {
                tracing::warn!(?error, "could not lower an embedding thread's priority");
            }
        })
        .build()
        .inspect_err(|error| tracing::warn!(%error, "could not start the background embedding threads"))
        .ok()
});

/// Runs [`Embedder::embed`] on the background embedding threads: for indexing, which nobody
/// waits on.
pub async fn embed_in_background(
    embedder: Arc<Embedder>,
    texts: Vec<String>,
) -> anyhow::Result<Vec<Vec<f32>>> {
    tokio::task::spawn_blocking(move || match BACKGROUND.as_ref() {
        Some(pool) => pool.install(|| embedder.embed(&texts)),
        None => embedder.embed(&texts),
    })
    .await
    .context("the embedding task failed")?
}

/// Cosine similarity of two unit vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight running sums instead of one: a single float sum must be added in order, which keeps
    // the compiler from using SIMD; independent lanes let it, and this is the inner loop of
    // every semantic search.
    let mut lanes = [0.0_f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// f32 little-endian bytes, the stored form of a vector.
pub fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`to_bytes`]; None when the length is not a whole vector of [`DIM`].
pub fn from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if bytes.len() != DIM * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The normalised mean of some unit vectors (a centroid), None when there are none.
pub fn centroid<'a>(vectors: impl Iterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut sum = vec![0.0_f32; DIM];
    let mut n = 0;
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1;
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    (n > 0 && norm > 0.0).then(|| sum.iter().map(|x| x / norm).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_whatever_the_length() {
        for len in [0, 3, 8, 13, DIM] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "length {len}");
        }
    }

    #[test]
    fn background_embedding_threads_run_at_the_lowest_priority() {
        let pool = BACKGROUND.as_ref().unwrap();
        let nice = pool.install(|| {
            // The fields after the parenthesised thread name; the 17th is the nice value.
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
            let fields = &stat[stat.rfind(')').unwrap() + 2..];
            fields.split(' ').nth(16).unwrap().parse::<i32>().unwrap()
        });
        assert_eq!(nice, 19);
    }

    /// The real model (run `scripts/fetch-model.sh` first: the test fails, never skips, without it).
    fn model_dir() -> std::path::PathBuf {
        let dir = crate::config::default_model_dir();
        assert!(
            model_present(&dir),
            "the embedding model is missing from {}",
            dir.display()
        );
        dir
    }

    #[test]
    fn an_opened_model_reads_its_weights_on_the_first_embedding_only() {
        let embedder = Embedder::open(&model_dir(), 8).unwrap();
        assert!(
            embedder.model.lock().unwrap().is_none(),
            "weights not read when opened"
        );
        let first = embedder.embed(&["the deploy failed".to_owned()]).unwrap();
        let loaded = embedder
            .model
            .lock()
            .unwrap()
            .clone()
            .expect("read by the first embedding");
        let again = embedder.embed(&["the deploy failed".to_owned()]).unwrap();
        assert!(Arc::ptr_eq(&loaded, &embedder.model().unwrap()), "read once");
        assert_eq!((first.len(), first[0].len()), (1, DIM));
        assert_eq!(first, again);
    }

    #[test]
    fn weights_that_are_not_safetensors_are_refused_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["config.json", "tokenizer.json"] {
            std::fs::copy(model_dir().join(file), dir.path().join(file)).unwrap();
        }
        for bytes in [
            &b""[..],
            b"not a model at all",
            &[16, 0, 0, 0, 0, 0, 0, 0, b'{', b'}'],
        ] {
            std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
            let refused = Embedder::open(dir.path(), 8).unwrap_err();
            assert!(
                format!("{refused:#}").contains("model.safetensors"),
                "{refused:#}"
            );
        }
    }

    #[test]
    fn vectors_round_trip_through_bytes() {
        let v: Vec<f32> = (0..DIM).map(|i| i as f32 / 7.0).collect();
        assert_eq!(from_bytes(&to_bytes(&v)), Some(v));
        assert_eq!(from_bytes(&[0, 1, 2]), None);
    }
}
