//! # tousu (投诉)
//!
//! Triage and analysis of Chinese customer complaints.
//!
//! Data flows one way: `text` (normalise, mask PII, segment) → `classify` (category and grade
//! model) → `triage` (grade rules with reason codes) → the CLI. The engine never imports HTTP.
//!
//! - [`domain`]: plain types shared by every layer (grades, reason codes, PII kinds).
//! - [`text`]: normalisation, PII masking, jieba segmentation, keywords.
//! - [`classify`]: the unit tokenizer, the candle model, training, evaluation, explanations.
//! - [`triage`]: profiles, auditable grade rules, and the engine that runs it all.
//! - [`background`]: background threads give way to request threads.
#![warn(missing_docs)]

pub mod alerts;
pub mod background;
pub mod classify;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod index;
pub mod service;
pub mod store;
pub mod text;
pub mod trends;
pub mod triage;

pub use self::error::{Error, Result};
