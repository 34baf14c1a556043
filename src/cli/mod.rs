//! Every command: its flags and what it runs. `main.rs` only parses and dispatches.

pub mod agreement;
pub mod allocator;
pub mod audit;
pub mod closed_pipe;
pub mod data;
pub mod dispatch_split;
pub mod eval;
pub mod eval_suggestions;
pub mod halve;
pub mod hash_password;
pub mod kpis;
pub mod memory;
pub mod open;
pub mod output;
pub mod replay_alerts;
pub mod report;
pub mod serve;
pub mod split;
pub mod train;
pub mod trends;
pub mod triage;
