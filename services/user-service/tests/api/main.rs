//! Black-box tests of user-service through the gateway, on SQLite and on PostgreSQL.

// Helpers shared by many tests fail loudly; clippy.toml only exempts #[test] functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod gateway;
mod profile;
mod sessions;
mod tokens;
