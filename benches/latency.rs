//! Tail latency of triaging one complaint at a time (criterion reports means; the target is a
//! p99): times every call over a few thousand single triages and prints the percentiles.
//!
//!     cargo bench --bench latency
//!     TOUSU_BENCH_PROFILE=gov cargo bench --bench latency   (gov: with its dispatch model)
//!
//! Needs the shipped `models/<profile>` (telecom by default); the complaints are those of
//! `benches/support/complaints.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use tousu::triage::{Complaint, Engine};

#[path = "support/complaints.rs"]
mod complaints;

const CALLS: usize = 5_000;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, so keep it short then.
    let calls = if std::env::args().any(|a| a == "--bench") {
        CALLS
    } else {
        50
    };
    let profile = std::env::var("TOUSU_BENCH_PROFILE").unwrap_or_else(|_| "telecom".into());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(&profile);
    let started = Instant::now();
    let engine = Engine::load(&dir, None).expect("models/<profile> is shipped");
    println!("profile {profile}");
    println!(
        "engine load (model, profile, jieba): {:?}",
        started.elapsed()
    );

    let mut took: Vec<Duration> = Vec::with_capacity(calls);
    for i in 0..calls + 200 {
        let text = complaints::COMPLAINTS[i % complaints::COMPLAINTS.len()];
        let t = Instant::now();
        let r = engine
            .triage(&Complaint {
                title: None,
                text,
                received_at: None,
            })
            .expect("triage");
        let elapsed = t.elapsed();
        assert!(r.category.is_some());
        // The first 200 calls warm caches and are not counted.
        if i >= 200 {
            took.push(elapsed);
        }
    }
    took.sort();
    let pct = |p: f64| took[((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1];
    println!(
        "triage one complaint, {} calls: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        took.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        took[took.len() - 1]
    );
}
