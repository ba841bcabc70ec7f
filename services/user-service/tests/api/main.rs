//! Black-box tests of user-service through the gateway, on SQLite and on PostgreSQL.

mod auth;
mod profile;
mod sessions;
mod tokens;
mod gateway;
