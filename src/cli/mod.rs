//! The service commands: serve, import, export, reindex.

pub mod service;
