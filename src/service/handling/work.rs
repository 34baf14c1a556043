//! Reading many cases at once from the work view: a caller's work queues, KPIs over a period,
//! the daily report. Each is held to the caller's departments, as reading one case is.

use jiff::Timestamp;

use super::Handling;
use crate::domain::{CaseFacts, CaseId, summary_of};
use crate::error::{Error, Result};
use crate::handling::{
    Actor, DailyReport, GroupBy, KpiReport, Queue, QueuePage, QueueQuery, Viewer, daily, report,
};

/// Most cases on one queue page.
pub const MAX_QUEUE_PAGE: usize = 200;
/// Furthest into a queue a page may start (deeper than this, narrow it by department).
pub const MAX_QUEUE_OFFSET: usize = 10_000;
/// Longest period KPIs are computed over, in days.
pub const MAX_KPI_DAYS: i64 = 731;

/// A queue page asked for.
#[derive(Debug, Clone)]
pub struct QueueRequest {
    /// Which queue.
    pub queue: Queue,
    /// Only this department.
    pub department: Option<String>,
    /// Cases skipped.
    pub offset: usize,
    /// Cases on the page.
    pub limit: usize,
}

impl Handling {
    fn due_soon_share(&self) -> f64 {
        self.engine
            .profile()
            .policy
            .as_ref()
            .map_or(0.8, |p| p.due_soon_share())
    }

    /// A page of one of `actor`'s work queues, with every queue's count.
    pub fn queue(&self, actor: &Actor, req: &QueueRequest) -> Result<QueuePage> {
        if !(1..=MAX_QUEUE_PAGE).contains(&req.limit) {
            return Err(Error::Invalid(format!(
                "`limit` is {}: a page holds 1 to {MAX_QUEUE_PAGE} cases",
                req.limit
            )));
        }
        if req.offset > MAX_QUEUE_OFFSET {
            return Err(Error::Invalid(format!(
                "`offset` is {}: pages start at most {MAX_QUEUE_OFFSET} cases in; narrow the queue by `department`",
                req.offset
            )));
        }
        if let Some(d) = &req.department {
            self.directory.check_department("department", d)?;
        }
        let viewer = Viewer {
            name: &actor.name,
            departments: actor.scope(),
        };
        let query = QueueQuery {
            queue: req.queue,
            department: req.department.as_deref(),
            offset: req.offset,
            limit: req.limit,
            now: Timestamp::now(),
            due_soon_share: self.due_soon_share(),
        };
        let mut found = self.views.work().read().queue_page(&viewer, &query);
        let lines = self.summaries(found.cases.iter().map(|c| &c.id))?;
        for c in &mut found.cases {
            c.summary = lines.get(&c.id).cloned().unwrap_or_default();
        }
        Ok(found)
    }

    /// The summaries of the cases `ids`, from the store (the facts in memory keep none).
    fn summaries<'a>(
        &self,
        ids: impl Iterator<Item = &'a CaseId>,
    ) -> Result<std::collections::HashMap<CaseId, String>> {
        let ids: Vec<CaseId> = ids.cloned().collect();
        Ok(self
            .store
            .get_many(&ids)?
            .iter()
            .map(|c| (c.id.clone(), summary_of(c)))
            .collect())
    }

    /// KPIs of the cases received in `[from, to)` that `actor` may see, grouped by `group_by`.
    pub fn kpis(
        &self,
        actor: &Actor,
        from: Timestamp,
        to: Timestamp,
        group_by: Option<GroupBy>,
    ) -> Result<KpiReport> {
        if from >= to {
            return Err(Error::Invalid(format!(
                "`from` ({from}) must be before `to` ({to})"
            )));
        }
        if to.duration_since(from).as_hours() > MAX_KPI_DAYS * 24 {
            return Err(Error::Invalid(format!(
                "the period is longer than {MAX_KPI_DAYS} days: ask for each year apart"
            )));
        }
        let scope = actor.scope();
        let sees = |f: &&CaseFacts| {
            scope.is_none_or(|ds| {
                ds.iter()
                    .any(|d| Some(d.as_str()) == f.department.as_deref())
            })
        };
        let work = self.views.work().read();
        Ok(report(
            work.received_between(from, to).filter(sees),
            from,
            to,
            group_by,
            Timestamp::now(),
        ))
    }

    /// The daily report of the Beijing day `day` over the cases `actor` may see.
    pub fn daily_report(&self, actor: &Actor, day: jiff::civil::Date) -> Result<DailyReport> {
        // Earlier than any case, and years before 0001 do not print as RFC 3339.
        if day < jiff::civil::date(1970, 1, 1) {
            return Err(Error::Invalid(format!(
                "`day` {day} is before 1970-01-01: no case is that old"
            )));
        }
        let bound = |d: jiff::civil::Date| {
            d.to_zoned(crate::domain::beijing())
                .map(|z| z.timestamp())
                .map_err(|e| Error::Invalid(format!("`day` {d}: {e}")))
        };
        let from = bound(day)?;
        // The last day there is ends after the last instant kept: up to that instant.
        let to = match day.tomorrow() {
            Ok(next) => bound(next)?,
            Err(_) => Timestamp::MAX,
        };
        let scope = actor.scope();
        let work = self.views.work().read();
        let visible = work.all().filter(move |f| {
            scope.is_none_or(|ds| {
                ds.iter()
                    .any(|d| Some(d.as_str()) == f.department.as_deref())
            })
        });
        let mut report = daily(visible, &day.to_string(), from, to, Timestamp::now());
        drop(work);
        let lines = self.summaries(
            report
                .received_cases
                .iter()
                .chain(&report.overdue_cases)
                .map(|c| &c.id),
        )?;
        for c in report
            .received_cases
            .iter_mut()
            .chain(report.overdue_cases.iter_mut())
        {
            c.summary = lines.get(&c.id).cloned().unwrap_or_default();
        }
        Ok(report)
    }
}
