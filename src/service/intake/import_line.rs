//! One line of an import file: the intake it describes and the handling history it carries.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::{
    Case, Channel, FollowUp, Intake, Remedy, Satisfaction, Status, Step, parse_time,
};
use crate::error::{Error, Result};
use crate::text::mask_free_text;

/// One line of an import file. Unknown fields (the source's own: `id`, `likes`, …) are kept in
/// the case's metadata.
#[derive(Debug, Deserialize)]
pub(super) struct ImportRecord {
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default, alias = "created_at")]
    received_at: Option<String>,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    resolved_at: Option<String>,
    #[serde(default)]
    accepted_at: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
    #[serde(default)]
    satisfaction: Option<Satisfaction>,
    #[serde(default)]
    remedy: Option<Remedy>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// What a line says about the handling of a case already worked on (history being imported).
pub(super) struct Handled {
    status: Option<Status>,
    department: Option<String>,
    assignee: Option<String>,
    resolution: Option<String>,
    resolved_at: Option<jiff::Timestamp>,
    accepted_at: Option<jiff::Timestamp>,
    closed_at: Option<jiff::Timestamp>,
    satisfaction: Option<Satisfaction>,
    remedy: Option<Remedy>,
}

impl Handled {
    /// Puts the history's handling on a case made at intake, every free text masked.
    pub(super) fn apply_to(self, case: &mut Case) {
        let mask = |s: Option<String>| {
            s.filter(|s| !s.trim().is_empty())
                .map(|s| mask_free_text(&s).into_owned())
        };
        let resolution = mask(self.resolution);
        let resolved = resolution.is_some();
        if let Some(d) = mask(self.department) {
            case.department = Some(d);
        }
        case.assignee = mask(self.assignee);
        case.status = self.status.unwrap_or(if resolved {
            Status::Replied
        } else {
            Status::Triaged
        });
        case.resolved_at = self.resolved_at.or(resolved.then_some(case.received_at));
        case.resolution = resolution;
        case.remedy = self.remedy;
        // The history's times meet the deadlines they stand for, so that KPIs count history
        // as it was handled: 签收 at `accepted_at`, the reply at `resolved_at`, every step of an
        // ended case at `closed_at` (its reply time, else its receipt, when none is given).
        let meet = |case: &mut Case, step: Step, at: jiff::Timestamp| {
            if let Some(d) = case
                .deadlines
                .iter_mut()
                .find(|d| d.step == step && d.met_at.is_none())
            {
                d.met_at = Some(at);
            }
        };
        if let Some(at) = self.accepted_at {
            case.handling.accepted_at = Some(at);
            meet(case, Step::Confirm, at);
        }
        if let Some(at) = case.resolved_at.filter(|_| case.resolution.is_some()) {
            meet(case, Step::Confirm, at);
            meet(case, Step::Reply, at);
        }
        if let Some(result) = self.satisfaction {
            case.handling.follow_up = Some(FollowUp {
                at: self
                    .closed_at
                    .or(case.resolved_at)
                    .unwrap_or(case.received_at),
                by: "import".into(),
                result,
                solved: None,
                comment: None,
            });
        }
        if !case.status.is_open() {
            let at = self
                .closed_at
                .or(case.resolved_at)
                .unwrap_or(case.received_at);
            case.handling.closed_at = Some(at);
            for step in Step::ALL {
                meet(case, step, at);
            }
        }
    }
}

/// Reads one line into the intake it describes and its handling. `contact_field` names a
/// source field to read the complainant from when the line has no `contact` (a message
/// board's user id, say), and leaves it out of the metadata; the source's other fields are kept
/// in the metadata.
pub(super) fn read_line(line: &str, contact_field: Option<&str>) -> Result<(Intake, Handled)> {
    let mut r: ImportRecord =
        serde_json::from_str(line).map_err(|e| Error::Invalid(format!("not a case: {e}")))?;
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| parse_time(s).map_err(|e| Error::Invalid(format!("`{field}`: {e}"))))
            .transpose()
    };
    // The field named as the contact is the contact: hashed, never kept in the metadata.
    let named = contact_field.and_then(|f| r.extra.remove(f));
    let contact = r
        .contact
        .clone()
        .or_else(|| named.and_then(|v| v.as_str().map(str::to_string)));
    let handled = Handled {
        status: r.status,
        department: r.department,
        assignee: r.assignee,
        resolution: r.resolution,
        resolved_at: time("resolved_at", &r.resolved_at)?,
        accepted_at: time("accepted_at", &r.accepted_at)?,
        closed_at: time("closed_at", &r.closed_at)?,
        satisfaction: r.satisfaction,
        remedy: r.remedy,
    };
    let mut metadata = r.metadata.unwrap_or_default();
    metadata.extend(r.extra);
    let intake = Intake {
        text: r.text,
        title: r.title,
        channel: r.channel,
        contact,
        occurred_at: time("occurred_at", &r.occurred_at)?,
        received_at: time("received_at", &r.received_at)?,
        metadata: Some(metadata),
    };
    Ok((intake, handled))
}

/// The intake of one import line (its handling fields, if any, left out): what a replay
/// feeds through intake. See [`read_line`] for `contact_field`.
pub fn intake_of_line(line: &str, contact_field: Option<&str>) -> Result<Intake> {
    read_line(line, contact_field).map(|(intake, _)| intake)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_named_as_the_contact_is_not_kept_in_the_metadata() {
        let line = r#"{"text":"噪音扰民","user":"王五-13612345678","likes":3}"#;
        let intake = intake_of_line(line, Some("user")).unwrap();
        assert_eq!(intake.contact.as_deref(), Some("王五-13612345678"));
        let metadata = intake.metadata.unwrap();
        assert!(!metadata.contains_key("user"), "{metadata:?}");
        assert_eq!(metadata["likes"], 3);
        // Without naming it, it is just one of the source's fields.
        let kept = intake_of_line(line, None).unwrap().metadata.unwrap();
        assert!(kept.contains_key("user"));
    }

    #[test]
    fn imported_history_meets_the_deadlines_it_stands_for() {
        let line = r#"{"text":"路灯坏了","received_at":"2026-03-02 09:00","status":"closed",
            "accepted_at":"2026-03-02 10:00","resolution":"已修复","resolved_at":"2026-03-04 09:00",
            "closed_at":"2026-03-05 09:00","satisfaction":"基本满意"}"#
            .replace('\n', "");
        let (_, handled) = read_line(&line, None).unwrap();
        let mut case = crate::store::conformance::sample_case("路灯坏了", "2026-03-02T01:00:00Z");
        let due: jiff::Timestamp = "2026-03-30T00:00:00Z".parse().unwrap();
        case.deadlines = Step::ALL[..3]
            .iter()
            .map(|&step| crate::domain::Deadline {
                step,
                limit: crate::domain::Limit::WorkingDays(15),
                start: case.received_at,
                extended_days: 0,
                due,
                calendar_complete: true,
                met_at: None,
            })
            .collect();
        handled.apply_to(&mut case);
        let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
        let met: Vec<_> = case.deadlines.iter().map(|d| d.met_at).collect();
        assert_eq!(
            met,
            [
                Some(at("2026-03-02T02:00:00Z")),
                Some(at("2026-03-04T01:00:00Z")),
                Some(at("2026-03-05T01:00:00Z")),
            ]
        );
        assert_eq!(case.status, Status::Closed);
        assert_eq!(case.handling.closed_at, Some(at("2026-03-05T01:00:00Z")));
        assert_eq!(
            case.handling.follow_up.as_ref().map(|f| f.result),
            Some(Satisfaction::FairlySatisfied)
        );
    }
}
