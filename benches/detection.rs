#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Hot-topic detection and trend queries.
//!
//!     cargo bench --bench detection
//!
//! - `detection/observe`: cases per second the watch (trend counts + topic grouping + alert
//!   rules, no webhooks) takes in; the target is to keep up with 1,000 cases/s of intake.
//! - `trends/*`: trend queries over a book of 1,000,000 cases spread over a year (target
//!   ≤ 200 ms).
//!
//! Key phrases are jieba TF-IDF keywords of real complaints when `../shared/datasets` is there
//! (as intake computes them), else of the bench complaints in `benches/support/complaints.rs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use tousu::domain::Case;
use tousu::service::{AlertRules, Watch};
use tousu::text::{SegmentConfig, Segmenter};
use tousu::trends::{Bucket, Dimension, TopicSettings};

#[path = "support/complaints.rs"]
mod complaints;

const CATEGORIES: [&str; 8] = [
    "网络问题",
    "资费问题",
    "业务办理问题",
    "服务问题",
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
];

/// Keyword lists of real complaints (or the bench ones).
fn keyword_sets() -> Vec<Vec<String>> {
    let segmenter = Segmenter::new(SegmentConfig::default());
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/datasets/tipdm/hotspots.jsonl"
    );
    let texts: Vec<String> = std::fs::read_to_string(root)
        .map(|s| {
            s.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|_| {
            complaints::COMPLAINTS
                .iter()
                .map(|s| s.to_string())
                .collect()
        });
    texts
        .iter()
        .map(|t| {
            segmenter
                .keywords(t, 8)
                .into_iter()
                .map(|k| k.word)
                .collect()
        })
        .collect()
}

fn case(seq: u64, at: Timestamp, keywords: &[String]) -> Case {
    let mut c: Case = serde_json::from_value(serde_json::json!({
        "id": format!("TS20260101-{seq:06}"),
        "seq": seq,
        "version": seq,
        "created_at": at,
        "updated_at": at,
        "received_at": at,
        "channel": "web",
        "text": "",
        "grade": "一般",
        "status": "triaged",
    }))
    .expect("a minimal case");
    c.category = Some(CATEGORIES[(seq % CATEGORIES.len() as u64) as usize].to_string());
    c.contact_hash = Some(format!("c{}", seq % 50_000));
    c.keywords = keywords.to_vec();
    c
}

fn bench(c: &mut Criterion) {
    let sets = keyword_sets();
    let start: Timestamp = "2026-01-01T00:00:00+08:00".parse().expect("time");

    // Detection: a watch fed batches of new cases, 20 seconds of history apart (4,320 a day).
    let watch = Watch::new(TopicSettings::default(), AlertRules::default(), None);
    let mut seq = 0u64;
    let mut g = c.benchmark_group("detection");
    const BATCH: u64 = 1000;
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("observe", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let batch: Vec<Case> = (0..BATCH)
                    .map(|_| {
                        seq += 1;
                        let at = start + SignedDuration::from_secs(20 * seq as i64);
                        case(seq, at, &sets[seq as usize % sets.len()])
                    })
                    .collect();
                let t = Instant::now();
                watch.observe(&batch, true);
                took += t.elapsed();
            }
            took
        })
    });
    g.finish();

    // Trend queries over 1M cases in a year.
    let book = Watch::new(TopicSettings::default(), AlertRules::default(), None);
    let n = 1_000_000u64;
    let filled = Instant::now();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(10_000) {
        let batch: Vec<Case> = chunk
            .iter()
            .map(|&s| {
                let at = start + SignedDuration::from_secs((s * 31_536_000 / n) as i64);
                case(s, at, &sets[s as usize % sets.len()])
            })
            .collect();
        book.observe(&batch, false);
    }
    println!("1M cases counted in {:?}", filled.elapsed());
    let end = start + SignedDuration::from_hours(24 * 365);
    let mut g = c.benchmark_group("trends");
    g.sample_size(20);
    g.bench_function("category_by_day_90d_1M", |b| {
        b.iter(|| {
            black_box(book.table(
                Dimension::Category,
                Bucket::Day,
                end - SignedDuration::from_hours(24 * 90),
                end,
                10,
            ))
        })
    });
    g.bench_function("phrase_by_week_year_1M", |b| {
        b.iter(|| black_box(book.table(Dimension::Phrase, Bucket::Week, start, end, 20)))
    });
    g.bench_function("rising_phrases_week_vs_4w_1M", |b| {
        b.iter(|| black_box(book.rising(Dimension::Phrase, end, 24 * 7, 24 * 28, 3, 20)))
    });
    g.bench_function("hot_topics_1M", |b| {
        b.iter(|| black_box(book.hot_topics(end, 10)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
