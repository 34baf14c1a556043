//! tousu's integration tests, one binary organised by feature.
//!
//! Fast by default: they use the tiny fixture model in `tests/fixtures/model` (regenerate it
//! with the command in `tests/fixtures/make_tiny.py`). Tests that need the real data sets in
//! `../shared/datasets/` are `#[ignore]`d: run them with `cargo test -- --ignored`; they skip
//! with a message when the data is absent.

mod alerts;
mod api;
mod bulk;
mod case_pages;
mod cli;
mod datasets;
mod deadlines;
mod dispatch;
mod durability;
mod events;
mod export;
mod faults;
mod handling;
mod hardening;
mod labels;
mod openapi;
mod pii_sweep;
mod process;
mod properties;
mod receiver;
mod replay;
mod reveal;
mod session;
mod support;
mod training;
mod watch;
mod web;
mod workbench_api;
