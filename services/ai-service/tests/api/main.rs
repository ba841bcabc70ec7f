//! ai-service's black-box tests: the whole of Echo on 127.0.0.1:0, real HTTP through the gateway,
//! with the real all-MiniLM-L6-v2 model (run `scripts/fetch-model.sh` first: the suite fails, it
//! never skips, when the model is missing). An LLM endpoint is faked with wiremock.

// Test code: a failed step should panic with its cause. `allow-unwrap-in-tests` in clippy.toml
// only covers `#[test]` functions, not the helpers they share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ask;
mod eval;
mod events;
mod fallback;
mod helpers;
mod insights;
mod llm;
mod permissions;
mod search;
mod summaries;
