//! echo-server as a whole: the command line, separate `serve` processes in a scaled topology on
//! PostgreSQL and Redis, and the deployment files.

// Test code: a failed step should panic with its cause. `allow-unwrap-in-tests` in clippy.toml
// only covers `#[test]` functions, not the helpers they share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ai_reindex;
mod cli;
mod deploy;
mod failures;
mod scaled;
mod telemetry;
mod topology;
mod up;
