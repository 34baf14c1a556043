#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Speed of the text pipeline and the model on realistic ~200-character complaints.
//!
//!     cargo bench --bench pipeline
//!
//! Needs the shipped `models/telecom`. The complaints are in `benches/support/complaints.rs`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tousu::text::{SegmentConfig, Segmenter, TextPipeline, mask_pii, normalize};
use tousu::triage::{Complaint, Engine};

#[path = "support/complaints.rs"]
mod complaints;
use complaints::COMPLAINTS;

fn model_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/telecom"))
}

fn bench(c: &mut Criterion) {
    let bytes: usize = COMPLAINTS.iter().map(|s| s.len()).sum();
    let segmenter = Segmenter::new(SegmentConfig::default());
    let pipeline = TextPipeline::new(segmenter.clone());

    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("segment", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| segmenter.cut(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("normalize", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| normalize(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("mask_pii", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| mask_pii(black_box(t)).spans.len())
                .sum::<usize>()
        })
    });
    g.bench_function("prepare", |b| {
        b.iter(|| {
            COMPLAINTS
                .iter()
                .map(|t| pipeline.prepare(None, black_box(t)).unwrap().masked.len())
                .sum::<usize>()
        })
    });
    g.finish();

    let started = std::time::Instant::now();
    let engine = Engine::load(model_dir(), None).expect("models/telecom is shipped");
    eprintln!("model + profile + jieba load: {:?}", started.elapsed());

    // The batched path (import, eval): prepare + predict, 64 complaints per call.
    let batch: Vec<&str> = COMPLAINTS.iter().cycle().take(64).copied().collect();
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("prepare_and_predict_batch64", |b| {
        b.iter(|| {
            let texts: Vec<_> = batch
                .iter()
                .map(|t| engine.pipeline().prepare(None, t).unwrap())
                .collect();
            let p = engine.classifier().predict(&texts).unwrap();
            assert_eq!(p.len(), 64);
            p
        })
    });
    g.finish();

    // One complaint, everything the CLI and API return: category, grade with rules,
    // explanations and keywords.
    let mut g = c.benchmark_group("triage");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("one_complaint", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % COMPLAINTS.len();
                COMPLAINTS[i]
            },
            |t| {
                let r = engine
                    .triage(&Complaint {
                        title: None,
                        text: t,
                        received_at: None,
                    })
                    .unwrap();
                assert!(r.category.is_some());
                r
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let calendar = tousu::handling::WorkCalendar::builtin().unwrap();
    let policy = engine
        .profile()
        .policy
        .clone()
        .expect("telecom has a policy");
    let received: jiff::Timestamp = "2026-09-30T02:00:00Z".parse().unwrap();
    c.bench_function("sla_deadlines", |b| {
        b.iter(|| {
            policy
                .deadlines(
                    &calendar,
                    tousu::domain::Grade::General,
                    Some("费用问题"),
                    black_box(received),
                )
                .unwrap()
        })
    });

    c.bench_function("model_load", |b| {
        b.iter(|| tousu::classify::Classifier::load(model_dir()).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
