//! The deadline sweep as alerts: `sla_due_soon` and `sla_breached`, once per case, deadline and
//! due time. Run by the follower every minute over the work view's open cases.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashMap;

use super::work::WorkView;
use crate::alerts::Alert;
use crate::domain::{CaseId, Step, beijing, summary_of};
use crate::handling::{Crossed, Crossing, crossings};
use crate::store::CaseStore;

/// The deadline sweep's settings and what it has raised.
#[derive(Debug)]
pub struct DeadlineWatch {
    /// The share of a deadline's time after which it is due soon; `None`: the profile has no
    /// time limits, or deadline alerts are off.
    share: Option<f64>,
    /// Crossings longer ago than this are not news.
    look_back: SignedDuration,
    /// (case seq, step, what) → the due time alerted on (Unix ms): the store drops a repeat
    /// anyway, this saves it the lookup every minute.
    raised: Mutex<FxHashMap<(u64, Step, Crossed), i64>>,
    /// The last sweep: how long it took with its alerts raised (µs, + 1 once there was
    /// one), over how many open cases, and how many deadlines it found crossed.
    last_micros: AtomicU64,
    last_open: AtomicU64,
    last_crossed: AtomicU64,
    /// Sweeps done.
    sweeps: AtomicU64,
}

/// What the last sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepStats {
    /// How long it took.
    pub took: std::time::Duration,
    /// The open cases it looked at.
    pub open_cases: u64,
    /// Deadlines it found crossed (alerts handed on, repeats the store drops included).
    pub crossed: u64,
    /// Sweeps done since the start.
    pub sweeps: u64,
}

/// The longest look-back a sweep takes, in hours (a thousand years).
const MAX_LOOK_BACK_HOURS: i64 = 1000 * 366 * 24;

impl DeadlineWatch {
    /// A sweep that raises deadline alerts at `share` of a deadline's time and at its end, for
    /// crossings at most `look_back_hours` old.
    pub fn new(share: Option<f64>, look_back_hours: i64) -> Self {
        DeadlineWatch {
            share,
            // A replay lifts the age limit to "forever" (i64::MAX / 4 hours), more hours than a
            // duration holds: a thousand years is forever enough.
            look_back: SignedDuration::from_hours(look_back_hours.clamp(1, MAX_LOOK_BACK_HOURS)),
            raised: Mutex::new(FxHashMap::default()),
            last_micros: AtomicU64::new(0),
            last_open: AtomicU64::new(0),
            last_crossed: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
        }
    }

    /// A sweep that raises nothing.
    pub fn off() -> Self {
        Self::new(None, 1)
    }

    /// The alerts of the deadlines crossed since the last sweep (or within the look-back, after
    /// a start).
    pub(super) fn sweep(
        &self,
        work: &WorkView,
        store: &dyn CaseStore,
        now: Timestamp,
    ) -> Vec<Alert> {
        let Some(share) = self.share else {
            return Vec::new();
        };
        let w = work.read();
        let found = crossings(w.open(), now, share, self.look_back);
        self.last_open.store(w.open_len() as u64, Ordering::Relaxed);
        let mut raised = self.raised.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = (now - self.look_back).as_millisecond();
        raised.retain(|_, due| *due >= oldest - self.look_back.as_millis() as i64);
        let mut fresh = Vec::new();
        for c in found {
            let key = (c.case.seq, c.deadline.step, c.crossed);
            let due = c.deadline.due.as_millisecond();
            if raised.get(&key) == Some(&due) {
                continue;
            }
            raised.insert(key, due);
            fresh.push(c);
        }
        // The cases' lines for the titles, from the store (the facts keep none); an alert
        // goes out without one rather than not at all.
        let ids: Vec<CaseId> = fresh.iter().map(|c| c.case.id.clone()).collect();
        let lines: HashMap<CaseId, String> = match store.get_many(&ids) {
            Ok(cases) => cases
                .iter()
                .map(|c| (c.id.clone(), summary_of(c)))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "deadline alerts: the cases' summaries could not be read");
                HashMap::new()
            }
        };
        fresh
            .iter()
            .map(|c| alert(c, now, lines.get(&c.case.id).map_or("", String::as_str)))
            .collect()
    }

    /// Records what a sweep cost, its alerts raised: `took`, finding `crossed` deadlines.
    pub(super) fn record(&self, took: std::time::Duration, crossed: usize) {
        if self.share.is_none() {
            return;
        }
        self.last_micros
            .store(took.as_micros() as u64 + 1, Ordering::Relaxed);
        self.last_crossed.store(crossed as u64, Ordering::Relaxed);
        let sweeps = self.sweeps.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(
            sweep = sweeps,
            open = self.last_open.load(Ordering::Relaxed),
            crossed,
            took_ms = took.as_secs_f64() * 1000.0,
            "deadline sweep, its alerts raised"
        );
    }

    /// What the last sweep did (none yet, or sweeping is off: `None`).
    pub fn last(&self) -> Option<SweepStats> {
        let micros = self.last_micros.load(Ordering::Relaxed);
        (micros > 0).then(|| SweepStats {
            took: std::time::Duration::from_micros(micros - 1),
            open_cases: self.last_open.load(Ordering::Relaxed),
            crossed: self.last_crossed.load(Ordering::Relaxed),
            sweeps: self.sweeps.load(Ordering::Relaxed),
        })
    }
}

/// The alert of one crossing.
fn alert(c: &Crossing<'_>, now: Timestamp, line: &str) -> Alert {
    let f = c.case;
    let step = c.deadline.step;
    let due = c
        .deadline
        .due
        .to_zoned(beijing())
        .strftime("%Y-%m-%d %H:%M");
    let (tag, what) = match c.crossed {
        Crossed::DueSoon => ("即将超时", format!("{}时限将至（{due} 前）", step.label())),
        Crossed::Breached => ("已超时", format!("{}已超过时限（{due}）", step.label())),
    };
    Alert {
        id: String::new(),
        rule: c.crossed.rule().to_string(),
        key: format!("{}:{}:{}", c.crossed.rule(), f.id, step.code()),
        fingerprint: c.deadline.due.to_string(),
        title: format!("{tag}：{} {line}", f.id),
        summary: format!(
            "案件 {}（{}，{}）{}\n部门：{}；处理人：{}",
            f.id,
            f.category.as_deref().unwrap_or("未分类"),
            f.grade.label(),
            what,
            f.department.as_deref().unwrap_or("未派单"),
            f.assignee.as_deref().unwrap_or("未指定"),
        ),
        severity: f.grade.label().to_string(),
        department: f.department.as_deref().map(String::from),
        created_at: now,
        data: serde_json::json!({
            "case": f.id,
            "step": step.code(),
            "due": c.deadline.due,
            "crossed_at": c.at,
            "department": f.department,
            "assignee": f.assignee,
            "grade": f.grade.label(),
            "category": f.category,
        }),
    }
}
