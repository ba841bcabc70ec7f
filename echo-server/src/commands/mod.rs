//! Maintenance commands beside the servers.

pub mod ai;
pub mod events;
pub mod import;
