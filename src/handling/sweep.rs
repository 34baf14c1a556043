//! The deadline sweep: which running deadlines have, since the last look, used their due-soon
//! share of time or passed their due time. Each crossing is raised once (the alert's key is the
//! case and step, its fingerprint the due time: a deadline moved by an extension can alert
//! again); crossings older than the look-back are history, not news (an import of old cases
//! raises nothing).

use jiff::{SignedDuration, Timestamp};

use crate::domain::{CaseFacts, DeadlineFact, Status};

/// What a deadline crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crossed {
    /// Its due-soon share of time is used (`sla_due_soon`).
    DueSoon,
    /// It is past due (`sla_breached`).
    Breached,
}

impl Crossed {
    /// The alert rule's name.
    pub fn rule(self) -> &'static str {
        match self {
            Crossed::DueSoon => "sla_due_soon",
            Crossed::Breached => "sla_breached",
        }
    }
}

/// One crossing.
#[derive(Debug, Clone, Copy)]
pub struct Crossing<'a> {
    /// The case.
    pub case: &'a CaseFacts,
    /// Its deadline.
    pub deadline: &'a DeadlineFact,
    /// What it crossed.
    pub crossed: Crossed,
    /// When.
    pub at: Timestamp,
}

/// When `d` becomes due soon: `share` of the time from its start to its due time.
pub fn due_soon_at(d: &DeadlineFact, share: f64) -> Timestamp {
    let total = d.due.duration_since(d.start);
    let soon = SignedDuration::from_secs_f64(total.as_secs_f64().max(0.0) * share);
    d.start.checked_add(soon).unwrap_or(d.due)
}

/// The crossings of the running deadlines of `open` cases at `now` that happened within
/// `look_back` (a breach supersedes the due-soon of the same deadline). Suspended cases are
/// skipped: their clock is stopped.
pub fn crossings<'a>(
    open: impl Iterator<Item = &'a CaseFacts>,
    now: Timestamp,
    share: f64,
    look_back: SignedDuration,
) -> Vec<Crossing<'a>> {
    let since = now - look_back;
    let mut out = Vec::new();
    for case in open.filter(|c| c.status.is_open() && c.status != Status::Suspended) {
        for deadline in case.deadlines.iter().filter(|d| d.met.is_none()) {
            let (crossed, at) = if now > deadline.due {
                (Crossed::Breached, deadline.due)
            } else {
                let soon = due_soon_at(deadline, share);
                if now < soon {
                    continue;
                }
                (Crossed::DueSoon, soon)
            };
            if at >= since {
                out.push(Crossing {
                    case,
                    deadline,
                    crossed,
                    at,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseId, Channel, Grade, Step};

    fn at(s: &str) -> Timestamp {
        format!("2026-03-{s}:00Z").parse().unwrap()
    }

    /// Open, with a reply deadline from the 2nd 00:00 to the 2nd 10:00 (due soon at 08:00).
    fn case(status: Status) -> CaseFacts {
        CaseFacts {
            id: CaseId("TS20260302-000001".into()),
            version: 1,
            status,
            channel: Channel::Phone,
            grade: Grade::Serious,
            deadlines: vec![DeadlineFact {
                step: Step::Reply,
                start: at("02T00:00"),
                due: at("02T10:00"),
                met: None,
            }],
            ..CaseFacts::blank(1, at("02T00:00"))
        }
    }

    fn found(c: &CaseFacts, now: &str) -> Vec<(Crossed, Timestamp)> {
        crossings(
            std::iter::once(c),
            at(now),
            0.8,
            SignedDuration::from_hours(24),
        )
        .iter()
        .map(|x| (x.crossed, x.at))
        .collect()
    }

    #[test]
    fn due_soon_then_breached_and_old_crossings_are_history() {
        let c = case(Status::Handling);
        assert!(found(&c, "02T07:59").is_empty());
        assert_eq!(found(&c, "02T08:00"), [(Crossed::DueSoon, at("02T08:00"))]);
        assert_eq!(found(&c, "02T10:01"), [(Crossed::Breached, at("02T10:00"))]);
        assert_eq!(found(&c, "03T09:59"), [(Crossed::Breached, at("02T10:00"))]);
        assert!(found(&c, "03T10:01").is_empty(), "more than a day ago");
        assert!(
            found(&case(Status::Suspended), "02T10:01").is_empty(),
            "the clock is stopped"
        );
        assert!(found(&case(Status::Closed), "02T10:01").is_empty());
        let mut met = case(Status::Handling);
        met.deadlines[0].met = Some(at("02T09:00"));
        assert!(found(&met, "02T10:01").is_empty());
    }
}
