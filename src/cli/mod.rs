//! The service commands: serve, import, export, reindex; trends and replay.

pub mod service;
pub mod trends;
