//! Black-box tests of `echo-events` against real backends: a SQLite file in a temporary
//! directory, the shared Redis on 127.0.0.1:6379 (a unique key prefix per test), PostgreSQL on
//! 127.0.0.1:5432 (a fresh database per test), and a private `redis-server` for the restart test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod helpers;
mod outbox;
mod redis_restart;
mod sqlite_log;
