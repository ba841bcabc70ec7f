//! Maintenance commands beside the servers.

pub mod events;
