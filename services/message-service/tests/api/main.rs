//! message-service's black-box tests: the whole of Echo on 127.0.0.1:0, real HTTP through the
//! gateway, every test on SQLite and on PostgreSQL.

// Helpers shared by many tests fail loudly; clippy.toml only exempts #[test] functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod bot_events;
mod channels;
mod dms;
mod email;
mod events;
mod export;
mod files;
mod helpers;
mod integrations;
mod isolation;
mod messages;
mod notifications;
mod paging;
mod permissions;
mod reactions_pins;
mod realtime;
mod s3;
mod search;
mod slack_api;
mod slack_import;
mod threads;
mod unreads;
mod web_push;
mod workspaces;
