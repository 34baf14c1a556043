//! # tousu (投诉)
//!
//! Triage and analysis of Chinese complaints.
//!
//! A complaint goes one way: `text` prepares it once (normalise, mask PII, segment, the contact's
//! hash and the near-duplicate fingerprint) → `service` links it to earlier cases → `triage`
//! judges it (the `classify` model, grade rules with reason codes, the links' escalations,
//! routing and deadlines) → `service` advises and makes the case → `store` persists it. The
//! derived views (`index`, near-duplicate bands, `trends`) follow the store's change feed;
//! `alerts` delivers what the rules raise. The engine never imports HTTP: `http` drives the
//! `service`, and so does the command line.
//!
//! - [`domain`]: plain types shared by every layer (cases, grades, reason codes, alerts).
//! - [`text`]: normalisation, PII masking, jieba segmentation, keywords, fingerprints.
//! - [`classify`]: the unit tokenizer, the candle model, training, evaluation, explanations.
//! - [`handling`]: the process after intake: routing, time limits on the working-day calendar,
//!   the steps and who takes them, what a step does to a case.
//! - [`triage`]: profiles, auditable grade rules, and the engine that judges.
//! - [`store`]: the system of record behind a narrow trait, its contract and conformance suite.
//! - [`index`]: the tantivy search index: search, facets, similar cases.
//! - [`trends`]: counts over time, burst tests, hot topics.
//! - [`alerts`]: webhook formats, signatures, delivery with retries, the live feed.
//! - [`events`]: case events out: the audit trail as an outbox, tailed into signed webhooks.
//! - [`service`]: the case service by job: intake, handling, advice, derived views, tools.
//! - [`http`]: the axum API.
//! - [`config`], [`error`], [`background`]: configuration, the crate's errors, thread priority.
#![warn(missing_docs)]

pub mod alerts;
pub mod background;
pub mod classify;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod handling;
pub mod http;
pub mod index;
pub mod service;
pub mod store;
pub mod text;
pub mod trends;
pub mod triage;

pub use self::error::{Error, Result};
