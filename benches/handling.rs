#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Work queues, KPIs and the deadline sweep over a million cases' handling facts, in memory as
//! the service keeps them (`service::views::WorkView`):
//!
//!     cargo bench --bench handling
//!
//! The million cases are synthetic, shaped like a desk's history: received evenly over two
//! years, 20 departments and 300 handlers, grades 80/17/3 %; cases older than 30 days are
//! ended (92 % closed, 3 % closed abnormally, 5 % withdrawn), newer ones spread over the open
//! statuses — about 41,000 open. `TOUSU_BENCH_ALL_OPEN=1` keeps every case open (the worst
//! case for a queue: a store imported and never handled).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use tousu::domain::{CaseFacts, CaseId, Channel, DeadlineFact, Grade, Satisfaction, Status, Step};
use tousu::handling::{GroupBy, Queue, QueueQuery, Viewer, crossings, report};
use tousu::service::WorkView;

const CASES: u64 = 1_000_000;
/// The due-soon share of the view and of every query: the view's queue lines are made with
/// it, and a query with another share would read the facts instead.
const SHARE: f64 = 0.8;

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn facts(now: Timestamp, all_open: bool) -> Vec<CaseFacts> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let span = 2 * 365 * 24 * 3600;
    let departments: Vec<String> = (0..20).map(|i| format!("部门{i:02}")).collect();
    let handlers: Vec<String> = (0..300).map(|i| format!("handler{i:03}")).collect();
    let categories = [
        "网络问题",
        "费用问题",
        "服务问题",
        "业务办理问题",
        "业务使用问题",
        "不知情定制问题",
        "信息安全问题",
        "营销活动问题",
    ];
    let open = [
        Status::Triaged,
        Status::Assigned,
        Status::Handling,
        Status::Replied,
        Status::FollowedUp,
        Status::Suspended,
    ];
    (1..=CASES)
        .map(|seq| {
            let received = now - SignedDuration::from_secs((span * (CASES - seq) / CASES) as i64);
            let age_days = now.duration_since(received).as_hours() / 24;
            let d = rng.below(20) as usize;
            let grade = match rng.below(100) {
                0..80 => Grade::General,
                80..97 => Grade::Serious,
                _ => Grade::Major,
            };
            let status = if all_open {
                open[rng.below(open.len() as u64) as usize]
            } else if age_days > 30 {
                match rng.below(100) {
                    0..92 => Status::Closed,
                    92..95 => Status::ClosedAbnormally,
                    _ => Status::Withdrawn,
                }
            } else {
                open[rng.below(open.len() as u64) as usize]
            };
            let ended = !status.is_open();
            let late = rng.below(10) == 0;
            let deadline = |step, limit_h: i64, met_h: i64| DeadlineFact {
                step,
                start: received,
                due: received + hours(limit_h),
                met: (ended || step == Step::Confirm && status != Status::Triaged)
                    .then(|| received + hours(if late { limit_h + 5 } else { met_h })),
            };
            CaseFacts {
                seq,
                id: CaseId(format!("TS20260101-{seq:06}")),
                version: seq,
                received_at: received,
                status,
                department: Some(departments[d].as_str().into()),
                assignee: (status != Status::Triaged)
                    .then(|| handlers[d * 15 + rng.below(15) as usize].as_str().into()),
                category: Some(categories[rng.below(8) as usize].into()),
                channel: Channel::Phone,
                grade,
                deadlines: vec![
                    deadline(Step::Confirm, 8, 2),
                    deadline(Step::Reply, 5 * 24, 3 * 24),
                    deadline(Step::Close, 15 * 24, 6 * 24),
                ],
                accepted_at: (status != Status::Triaged).then(|| received + hours(2)),
                replied_at: ended.then(|| received + hours(72)),
                closed_at: ended.then(|| received + hours(144)),
                satisfaction: (status == Status::Closed).then(|| match rng.below(10) {
                    0..7 => Satisfaction::Satisfied,
                    7..9 => Satisfaction::FairlySatisfied,
                    _ => Satisfaction::Unsatisfied,
                }),
                solved: (status == Status::Closed).then(|| rng.below(10) < 9),
                returns: u32::from(rng.below(20) == 0),
                reopened: u32::from(rng.below(50) == 0),
                extensions: u32::from(rng.below(25) == 0),
                repeat: rng.below(12) == 0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let now = Timestamp::now();
    let all_open = std::env::var_os("TOUSU_BENCH_ALL_OPEN").is_some();
    let view = WorkView::from_facts(facts(now, all_open), SHARE);
    let work = view.read();
    eprintln!("{} cases, {} open", work.len(), work.open().count());
    let mut g = c.benchmark_group("handling_1m");
    g.sample_size(30);

    let one = ["部门07".to_string()];
    let handler = Viewer {
        name: "handler105",
        departments: Some(&one),
    };
    let supervisor = Viewer {
        name: "lead",
        departments: None,
    };
    let query = |queue| QueueQuery {
        queue,
        department: None,
        offset: 0,
        limit: 50,
        now,
        due_soon_share: SHARE,
    };
    g.bench_function("queue_page_mine_handler", |b| {
        b.iter(|| work.queue_page(&handler, &query(Queue::Mine)).total)
    });
    g.bench_function("queue_page_overdue_all_departments", |b| {
        b.iter(|| work.queue_page(&supervisor, &query(Queue::Overdue)).total)
    });
    let year_ago = now - hours(365 * 24);
    g.bench_function("kpis_year_by_department", |b| {
        b.iter(|| {
            report(
                work.received_between(year_ago, now),
                black_box(year_ago),
                now,
                Some(GroupBy::Department),
                now,
            )
            .total
            .volume
        })
    });
    g.bench_function("deadline_sweep_open_cases", |b| {
        b.iter(|| crossings(work.open(), now, SHARE, hours(72)).len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
