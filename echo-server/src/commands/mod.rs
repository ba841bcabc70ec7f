//! Maintenance commands beside the servers.

pub mod ai;
pub mod cluster;
pub mod events;
pub mod export;
pub mod import;
