//! Links to earlier cases, three signals: repeat (same complainant, similar matter), near
//! duplicate (same text again), group complaint (many complainants, same issue). Linked,
//! never merged.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::{CaseId, Grade, Links, Reason};
use crate::error::Result;
use crate::index::SimilarHit;
use crate::service::DuplicateSettings;
use crate::service::advice::{Neighbourhood, case_ref};
use crate::service::views::DuplicateView;
use crate::store::{CaseRef, CaseStore, Change, Update};
use crate::text::{BigramProfile, Signature};
use crate::triage::Escalation;

/// Most repeat links kept on a case.
const MAX_REPEATS: usize = 5;
/// Candidates fetched from the index when looking for a group.
const GROUP_CANDIDATES: usize = 25;

/// A group complaint the case belongs to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupSignal {
    /// The group's id: an existing group's, or a new one named after its first case.
    pub group_id: String,
    /// Different complainants in the group, this one included.
    pub complainants: usize,
    /// Earlier cases in the group (those not yet linked are linked when the case is stored).
    pub cases: Vec<CaseId>,
    /// Of those, the ones not in a group yet when assessed: the store links only these (and
    /// re-checks each), instead of loading every member on every new case of a large group.
    #[serde(skip)]
    pub unlinked: Vec<CaseId>,
}

/// What links a complaint to earlier cases.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Signals {
    /// Earlier cases of the same complainant on a similar matter, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repeat_of: Vec<CaseId>,
    /// The earliest case with nearly the same text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<CaseId>,
    /// The group complaint it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupSignal>,
}

impl GroupSignal {
    /// The updates that put the earlier cases not yet in a group under this one, decided
    /// here and written by the store with the new case: each joins the group and is raised to
    /// 重大 with reason `group`, unless an analyst corrected its grade; a case that joined
    /// another group meanwhile is left as it is.
    pub fn joins(&self) -> Vec<Update> {
        self.unlinked
            .iter()
            .map(|id| {
                let group = self.group_id.clone();
                Update {
                    id: id.clone(),
                    actor: "system".into(),
                    change: Change::apply(move |case| {
                        if case.links.group_id.is_some() {
                            return Ok(None);
                        }
                        case.links.group_id = Some(group);
                        if case.corrections.grade.is_none() {
                            case.grade = Grade::Major;
                            if !case.reasons.contains(&Reason::Group) {
                                case.reasons.insert(0, Reason::Group);
                            }
                        }
                        Ok(Some("link"))
                    }),
                }
            })
            .collect()
    }
}

impl Signals {
    /// The facts that raise the grade: a repeat, a group complaint.
    pub fn escalations(&self, repeat_days: u32) -> Vec<Escalation> {
        let mut out = Vec::new();
        if !self.repeat_of.is_empty() {
            let ids: Vec<&str> = self.repeat_of.iter().map(CaseId::as_str).collect();
            out.push(Escalation {
                reason: Reason::Repeat,
                evidence: format!("同一投诉人 {repeat_days} 天内再次投诉: {}", ids.join(", ")),
            });
        }
        if let Some(g) = &self.group {
            out.push(Escalation {
                reason: Reason::Group,
                evidence: format!("群体投诉 {}: {} 位投诉人", g.group_id, g.complainants),
            });
        }
        out
    }

    /// The links a case records.
    pub fn links(&self) -> Links {
        Links {
            repeat_of: self.repeat_of.clone(),
            duplicate_of: self.duplicate_of.clone(),
            group_id: self.group.as_ref().map(|g| g.group_id.clone()),
        }
    }
}

/// What the detector needs to know of a new complaint.
pub(super) struct Probe<'a> {
    /// The masked text (without the title).
    pub masked: &'a str,
    pub contact_hash: Option<&'a str>,
    pub received_at: Timestamp,
    pub fingerprint: &'a Signature,
    /// The index's candidates for the text, best first (group detection).
    pub neighbours: &'a [SimilarHit],
}

/// Finds the links of a complaint to earlier cases.
pub(super) struct Linker<'a> {
    pub store: &'a dyn CaseStore,
    pub duplicates: &'a DuplicateView,
    pub settings: &'a DuplicateSettings,
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

impl Linker<'_> {
    /// All three signals.
    pub fn signals(&self, read: &mut Neighbourhood, probe: &Probe<'_>) -> Result<Signals> {
        let mut signals = self.link_signals(probe)?;
        signals.group = self.group_signal(read, probe)?;
        Ok(signals)
    }

    /// Near duplicate and repeat: store lookups only.
    pub fn link_signals(&self, probe: &Probe<'_>) -> Result<Signals> {
        let s = self.settings;
        let mut signals = Signals::default();

        let since = probe.received_at - days(s.near_duplicate_days);
        signals.duplicate_of =
            self.duplicates
                .near_duplicate(self.store, probe.fingerprint, since)?;

        if let Some(hash) = probe.contact_hash {
            let since = probe.received_at - days(s.repeat_days);
            let earlier: Vec<_> = self
                .store
                .by_contact(hash, since, 50)?
                .into_iter()
                .filter(|c| c.received_at <= probe.received_at)
                .collect();
            // Only a complainant with earlier cases needs the text's profile.
            if !earlier.is_empty() {
                let profile = BigramProfile::new(probe.masked);
                signals.repeat_of = earlier
                    .into_iter()
                    .filter(|c| profile.cosine(&BigramProfile::new(&c.text)) >= s.repeat_similarity)
                    .map(|c| c.id)
                    .take(MAX_REPEATS)
                    .collect();
            }
        }
        Ok(signals)
    }

    /// The neighbours that may belong to the complaint's group: those in the window.
    pub fn group_candidates(&self, probe: &Probe<'_>) -> Vec<CaseRef> {
        let from = probe.received_at - days(self.settings.group_window_days);
        let to = probe.received_at + SignedDuration::from_secs(1);
        probe
            .neighbours
            .iter()
            .filter(|h| h.received_at >= from && h.received_at < to)
            .take(GROUP_CANDIDATES)
            .map(case_ref)
            .collect()
    }

    /// A group complaint: enough different complainants with a similar case in the window.
    fn group_signal(
        &self,
        read: &mut Neighbourhood,
        probe: &Probe<'_>,
    ) -> Result<Option<GroupSignal>> {
        let s = self.settings;
        let wanted = self.group_candidates(probe);
        let mut members = Vec::new();
        let mut complainants: HashSet<String> = HashSet::new();
        let own = probe.contact_hash.map(str::to_string);
        for (c, score) in read.ranked(self.store, &wanted)? {
            if score < s.group_similarity {
                continue;
            }
            // Without a contact, each case counts as its own complainant; the same
            // complainant writing again is a repeat, not a group.
            let who = c.contact_hash.clone().unwrap_or_else(|| c.id.0.clone());
            if own.as_deref() == Some(who.as_str()) {
                continue;
            }
            complainants.insert(who);
            members.push(c);
        }
        let total = complainants.len() + 1;
        if total < s.group_min_complainants {
            return Ok(None);
        }
        members.sort_by_key(|c| c.seq);
        let group_id = members
            .iter()
            .find_map(|c| c.links.group_id.clone())
            .unwrap_or_else(|| format!("G{}", members[0].id));
        let unlinked = members
            .iter()
            .filter(|c| c.links.group_id.is_none())
            .map(|c| c.id.clone())
            .collect();
        Ok(Some(GroupSignal {
            group_id,
            complainants: total,
            cases: members.into_iter().map(|c| c.id.clone()).collect(),
            unlinked,
        }))
    }
}
