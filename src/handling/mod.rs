//! The handling process after intake, HTTP-free: where a case goes and how long each step may
//! take (the profile's policy, on the working-day calendar), the steps of the process and who
//! may take them (the profile's process), and what taking one does to a case — its record, its
//! deadlines (met, paused, extended, timed again on a re-grade). Over many cases: the work
//! queues, the deadline sweep and the KPIs, each a pure function of the cases' facts.

mod actions;
mod actor;
mod calendar;
mod daily;
mod deadlines;
mod directory;
mod kpi;
mod policy;
mod process;
mod queue;
mod queue_line;
mod records;
mod sweep;

pub use self::actions::{MAX_EXTENSION_DAYS, MAX_REPLY_CHARS, MAX_TEXT_CHARS, Rules, take};
pub use self::actor::Actor;
pub use self::calendar::{Deadline as DayDeadline, WorkCalendar, WorkingHours};
pub use self::daily::{DailyReport, DepartmentDay, MAX_LISTED, ReportCase, daily};
pub use self::deadlines::{DeadlineStanding, refresh, standings, state};
pub use self::directory::Directory;
pub use self::kpi::{Durations, GroupBy, KpiReport, Kpis, Rate, report};
pub use self::policy::{CategoryLimits, Policy, PolicySpec, Routing, StepLimits};
pub use self::process::{Process, ProcessSpec, Unreachable};
pub use self::queue::{
    NextDeadline, Queue, QueueCounts, QueueItem, QueuePage, QueueQuery, Viewer, next_deadline, page,
};
pub use self::queue_line::{QueueLine, page_of_lines};
pub use self::records::{MAX_ENTRIES, record_contact, record_note};
pub use self::sweep::{Crossed, Crossing, crossings, due_soon_at};
