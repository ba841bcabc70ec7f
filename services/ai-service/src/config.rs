//! ai-service's typed configuration. Everything has a default, so an empty configuration runs
//! Echo with the embedding model from the usual cache directory (or the lexical fallback when it
//! is missing) and the extractive methods (no LLM endpoint).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// The folder name of the embedding model under the model cache.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The directory holding `model.safetensors`, `tokenizer.json` and `config.json` of
    /// all-MiniLM-L6-v2. Unset: `$ECHO_MODEL_DIR`, else `~/.cache/echo/models/all-MiniLM-L6-v2`.
    pub model_dir: Option<PathBuf>,
    /// An OpenAI-compatible chat endpoint for summaries and answers; unset means extractive.
    pub llm: LlmConfig,
    /// Messages embedded per model call: bounds the memory and the latency a batch adds to
    /// queries that wait for the CPU.
    pub embed_batch: usize,
    /// This replica's name (stable across restarts, unique among replicas): its consumer group
    /// is `ai-service.<name>`. Default: `ai-<HOSTNAME>`, else `ai-1`.
    pub consumer_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/ai.db".into(),
            model_dir: None,
            llm: LlmConfig::default(),
            embed_batch: 32,
            consumer_name: std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .map_or_else(|| "ai-1".to_owned(), |h| format!("ai-{h}")),
        }
    }
}

impl Config {
    /// The model directory in effect: configured, else `$ECHO_MODEL_DIR`, else the user's cache.
    pub fn resolved_model_dir(&self) -> PathBuf {
        self.model_dir.clone().unwrap_or_else(default_model_dir)
    }
}

/// `$ECHO_MODEL_DIR`, else `~/.cache/echo/models/all-MiniLM-L6-v2` (what `scripts/fetch-model.sh`
/// and `echo-server ai fetch-model` fill).
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ECHO_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/echo/models").join(MODEL_NAME)
}

/// An OpenAI-compatible endpoint (`POST {base_url}/chat/completions`): Ollama, vLLM, llama.cpp's
/// server, or a hosted API. `ai.llm.*` in the configuration, or `ECHO_LLM_BASE_URL`,
/// `ECHO_LLM_MODEL` and `ECHO_LLM_API_KEY` in the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// e.g. `http://localhost:11434/v1`.
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<SecretString>,
    /// The whole request, streaming included; past it the extractive method answers instead.
    pub timeout_ms: u64,
    /// Messages given to the model as context, at most.
    pub max_context_messages: usize,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: None,
            api_key: None,
            timeout_ms: 60_000,
            max_context_messages: 120,
        }
    }
}

impl LlmConfig {
    /// This configuration with the `ECHO_LLM_*` variables filling what it leaves unset.
    pub fn with_env_fallback(mut self) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.base_url.is_none() {
            self.base_url = var("ECHO_LLM_BASE_URL");
        }
        if self.model.is_none() {
            self.model = var("ECHO_LLM_MODEL");
        }
        if self.api_key.is_none() {
            self.api_key = var("ECHO_LLM_API_KEY").map(SecretString::from);
        }
        self
    }
}
