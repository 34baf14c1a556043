//! Links to earlier cases, three signals: repeat (same complainant, similar matter), near
//! duplicate (same text again), group complaint (many complainants, same issue). Linked,
//! never merged.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::Service;
use super::neighbourhood::Neighbourhood;
use crate::domain::CaseId;
use crate::error::Result;
use crate::index::SimilarHit;
use crate::text::{BigramProfile, Signature};

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

/// What the detector needs to know of a new complaint.
pub(super) struct Probe<'a> {
    pub masked: &'a str,
    pub contact_hash: Option<&'a str>,
    pub received_at: Timestamp,
    pub signature: &'a Signature,
    /// The index's candidates for the text, best first (group detection).
    pub neighbours: &'a [SimilarHit],
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

impl Service {
    /// All three signals.
    pub(super) fn signals(&self, read: &mut Neighbourhood, probe: &Probe<'_>) -> Result<Signals> {
        let mut signals = self.link_signals(probe)?;
        signals.group = self.group_signal(read, probe)?;
        Ok(signals)
    }

    /// Near duplicate and repeat: store lookups only.
    pub(super) fn link_signals(&self, probe: &Probe<'_>) -> Result<Signals> {
        let s = &self.settings.duplicates;
        let mut signals = Signals::default();

        let since = probe.received_at - days(s.near_duplicate_days);
        signals.duplicate_of = self.store.near_duplicate(probe.signature, since)?;

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
    pub(super) fn group_candidates(&self, probe: &Probe<'_>) -> Vec<CaseId> {
        let from = probe.received_at - days(self.settings.duplicates.group_window_days);
        let to = probe.received_at + SignedDuration::from_secs(1);
        probe
            .neighbours
            .iter()
            .filter(|h| h.received_at >= from && h.received_at < to)
            .take(GROUP_CANDIDATES)
            .map(|h| h.id.clone())
            .collect()
    }

    /// A group complaint: enough different complainants with a similar case in the window.
    fn group_signal(
        &self,
        read: &mut Neighbourhood,
        probe: &Probe<'_>,
    ) -> Result<Option<GroupSignal>> {
        let s = &self.settings.duplicates;
        let ids = self.group_candidates(probe);
        let mut members = Vec::new();
        let mut complainants: HashSet<String> = HashSet::new();
        let own = probe.contact_hash.map(str::to_string);
        for (c, score) in read.ranked(self.store.as_ref(), &ids)? {
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
