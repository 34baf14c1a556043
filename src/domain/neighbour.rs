//! An earlier case as intake compares a complaint with it.
//!
//! Every intake reads 30–40 earlier cases (its index neighbours) for the group signal, similar
//! cases and suggestions, and at a million cases most of them come from the store, not from
//! memory. What those three read of a case is a dozen fields; its handling record, deadlines,
//! keywords, dispatch and metadata are most of what parsing a whole case costs (allocations
//! and timestamps). A neighbour is read from the same stored document, its other fields
//! skipped.

use jiff::Timestamp;
use serde::Deserialize;

use super::{Case, CaseId, Grade, Links, Remedy, Status};

/// What intake reads of an earlier case. Deserialised from a stored case's document: the
/// names are [`Case`]'s.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Neighbour {
    /// Case number.
    pub id: CaseId,
    /// Order of creation in the store.
    pub seq: u64,
    /// When the organisation received it.
    pub received_at: Timestamp,
    /// The complaint, PII masked.
    pub text: String,
    /// Salted hash of the complainant's contact.
    #[serde(default)]
    pub contact_hash: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Grade.
    pub grade: Grade,
    /// Where the case is in the handling process.
    pub status: Status,
    /// Department handling the case.
    #[serde(default)]
    pub department: Option<String>,
    /// The reply or resolution given.
    #[serde(default)]
    pub resolution: Option<String>,
    /// What remedy was given.
    #[serde(default)]
    pub remedy: Option<Remedy>,
    /// Repeat, duplicate and group links.
    #[serde(default)]
    pub links: Links,
}

impl Neighbour {
    /// Whether it carries a resolution that can be suggested for similar cases.
    pub fn is_resolved(&self) -> bool {
        super::case::has_resolution(self.resolution.as_deref())
    }
}

impl From<&Case> for Neighbour {
    fn from(c: &Case) -> Self {
        Neighbour {
            id: c.id.clone(),
            seq: c.seq,
            received_at: c.received_at,
            text: c.text.clone(),
            contact_hash: c.contact_hash.clone(),
            category: c.category.clone(),
            grade: c.grade,
            status: c.status,
            department: c.department.clone(),
            resolution: c.resolution.clone(),
            remedy: c.remedy,
            links: c.links.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_case_reads_as_the_neighbour_it_converts_to() {
        let mut case =
            crate::store::conformance::sample_case("宽带断网三天", "2026-11-21T17:30:00Z");
        case.resolution = Some("已派维修人员上门更换光猫".into());
        case.department = Some("网络运维中心".into());
        case.links.group_id = Some("GTS1".into());
        case.keywords = vec!["宽带".into(), "断网".into()];
        let json = serde_json::to_string(&case).unwrap();
        let read: Neighbour = serde_json::from_str(&json).unwrap();
        assert_eq!(read, Neighbour::from(&case));
        assert!(read.is_resolved());
        assert_eq!(read.links.group_id.as_deref(), Some("GTS1"));
    }
}
