//! A stored complaint case, the intake that creates it and its audit trail.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{CaseId, Channel, Deadline, Grade, HandlingRecord, Reason, Remedy, Status};

/// A complaint as an intake system sends it (`POST /v1/triage`, `POST /v1/cases`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    /// The complaint's words (required).
    pub text: String,
    /// Subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where it came in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The complainant's phone, id number or e-mail. Kept only in the store's column for it,
    /// for the audited reveal to call back (never in the case, the index, logs or exports);
    /// its salted hash finds repeats. When absent, the first phone or id number in the text is
    /// hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// When the problem happened.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::api_time::deserialize"
    )]
    pub occurred_at: Option<Timestamp>,
    /// When the organisation received it (SLA deadlines count from here); now when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::api_time::deserialize"
    )]
    pub received_at: Option<Timestamp>,
    /// The intake system's own fields (ticket number, region, …), kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// How a case relates to earlier ones. Links, never merges: every case keeps its own record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Links {
    /// Earlier cases from the same complainant on a similar matter (newest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeat_of: Vec<CaseId>,
    /// The earliest case with (nearly) the same text, e.g. the same complaint sent through two
    /// channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<CaseId>,
    /// The group complaint this case belongs to (群体投诉).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

impl Links {
    /// Whether the case has no links.
    pub fn is_empty(&self) -> bool {
        self.repeat_of.is_empty() && self.duplicate_of.is_none() && self.group_id.is_none()
    }
}

/// An analyst's correction of a prediction: what the model said, what the analyst set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The value before the correction.
    pub from: Option<String>,
    /// The corrected value.
    pub to: String,
    /// Who corrected it (the API key's name).
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// Analysts' corrections of a case's category and grade, kept as training data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Corrections {
    /// Category correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Correction>,
    /// Grade correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Correction>,
}

impl Corrections {
    /// Whether nothing was corrected.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.grade.is_none()
    }
}

/// A stored case: the intake, its triage, and what handling has done since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Case number.
    pub id: CaseId,
    /// Order of creation in the store (1, 2, …).
    pub seq: u64,
    /// Store-wide change sequence of the last write to this case; the index follows it.
    pub version: u64,
    /// When the case was stored.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// When the organisation received it.
    pub received_at: Timestamp,
    /// When the problem happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
    /// Intake channel.
    pub channel: Channel,
    /// Subject line, PII masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The complaint, normalised with PII masked: what is indexed, shown and logged.
    pub text: String,
    /// Salted hash of the complainant's contact, for repeat detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_hash: Option<String>,
    /// Category (the analyst's correction when there is one, else the model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The model's confidence in its category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_confidence: Option<f32>,
    /// Grade (correction, else model raised by rules and links).
    pub grade: Grade,
    /// Reason codes behind the grade, deciding one first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// The model's own grade, before rules and links raised it (absent on cases stored before
    /// it was kept): whether a phrase alone made the case 重大.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_grade: Option<Grade>,
    /// The model's calibrated probability of 重大 (absent on cases stored before it was kept):
    /// how sure the model itself is that the case is 重大, whatever the rules said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_major_probability: Option<f32>,
    /// Handling tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Department handling the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The department dispatch suggests (learned from resolved history, or the table), absent
    /// on cases stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<crate::domain::Dispatch>,
    /// Person handling the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Where the case is in the handling process.
    pub status: Status,
    /// The reply or resolution given to the complainant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// What remedy was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    /// When the resolution was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Keywords of the text (TF-IDF), for topics and explanations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Repeat, duplicate and group links.
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    pub links: Links,
    /// The deadlines of its handling steps, as last computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<Deadline>,
    /// The record of its handling: notes, call-backs, remedy, follow-up, returns, pauses,
    /// extensions, root cause.
    #[serde(default, skip_serializing_if = "HandlingRecord::is_empty")]
    pub handling: HandlingRecord,
    /// Analysts' corrections of category and grade.
    #[serde(default, skip_serializing_if = "Corrections::is_empty")]
    pub corrections: Corrections,
    /// The intake system's own fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The triage as computed at intake (model output, rules, deadlines), for audit: kept and
    /// returned verbatim, never read back by the service. Absent from light reads (lists,
    /// the index), which do not need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageRecord>,
}

/// A JSON record kept verbatim: written once, returned as written, never parsed again (the
/// intake triage is most of a case's bytes, and nothing decides on it after intake).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TriageRecord(Box<serde_json::value::RawValue>);

impl TriageRecord {
    /// The record of `value`, serialised once.
    pub fn of(value: &impl Serialize) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(TriageRecord)
    }

    /// A record from its JSON text (as stored); errors when it is not JSON.
    pub fn from_json(json: String) -> serde_json::Result<Self> {
        serde_json::value::RawValue::from_string(json).map(TriageRecord)
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for TriageRecord {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Case {
    /// Whether the case carries a resolution that can be suggested for similar cases.
    pub fn is_resolved(&self) -> bool {
        has_resolution(self.resolution.as_deref())
    }
}

/// Whether a resolution says anything (the index's `resolved` flag and the suggestions both
/// go by it).
pub(super) fn has_resolution(resolution: Option<&str>) -> bool {
    resolution.is_some_and(|r| !r.trim().is_empty())
}

/// One entry of a case's audit trail: who changed what, when, from what to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The case.
    pub case_id: CaseId,
    /// When.
    pub at: Timestamp,
    /// Who (an API key's name, `import`, or `system` for automatic links).
    pub actor: String,
    /// What: `create`, `update`, `correct` (a category or grade correction), `link` (joined
    /// a group complaint), a step of the process (`assign`, `reply`, …), `note`, `contact`;
    /// or a read that changed nothing: `reveal_contact` (the complainant's contact shown).
    pub action: String,
    /// The changed fields before, as JSON (null on create and on a read).
    pub before: Value,
    /// The changed fields after (`{}` on a read).
    pub after: Value,
    /// Why, for a read (the reason given, masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
