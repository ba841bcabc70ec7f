//! The `echo-server` program as a library, so tests and tools can start Echo exactly as the binary
//! does.
//!
//! - [`cli`]: the command line (`up`, `serve`, `migrate`, `keys`, `events`); [`commands`]: the
//!   maintenance commands.
//! - [`config`]: layered configuration.
//! - [`system`]: assembling services — all in one process, or one alone.

pub mod cli;
pub mod commands;
pub mod config;
pub mod system;
