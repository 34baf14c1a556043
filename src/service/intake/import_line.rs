//! One line of an import file: the intake it describes and the handling history it carries.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::{Case, Channel, Intake, Remedy, Status, parse_time};
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
}
