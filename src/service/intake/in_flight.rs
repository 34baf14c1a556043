//! The cases an import stored while later lines were already being triaged, kept so that
//! those lines are still linked to their near duplicates.

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;

use super::import::CHUNK;
use crate::domain::{Case, CaseId};
use crate::text::Signature;

/// Cases stored this import that may not have been in the store when later lines were
/// triaged: up to ~6 chunks are in flight between reading and storing, so each line's store
/// lookup misses the lines just before it. The storer checks these, the newest
/// [`IN_FLIGHT`] stored, in file order (and the earlier lines of its own chunk), so that two
/// near-identical lines close together in a file are linked like any others.
#[derive(Default)]
pub(super) struct InFlight {
    recent: VecDeque<Recent>,
    /// Number of `recent[0]` since the import began.
    first: usize,
    by_band: HashMap<(usize, u64), VecDeque<usize>>,
}

struct Recent {
    signature: Signature,
    root: CaseId,
    received_at: Timestamp,
}

/// Stored cases [`InFlight`] keeps: more than the lines in flight (6 × [`CHUNK`]).
const IN_FLIGHT: usize = 8 * CHUNK;

/// A signature's band hashes, keyed by band.
pub(super) fn band_keys(signature: &Signature) -> Vec<(usize, u64)> {
    signature.bands().into_iter().enumerate().collect()
}

impl InFlight {
    /// The root case of the newest remembered near duplicate received at or after `since`.
    pub(super) fn duplicate_of(&self, signature: &Signature, since: Timestamp) -> Option<CaseId> {
        band_keys(signature)
            .iter()
            .filter_map(|b| self.by_band.get(b))
            .flat_map(|numbers| numbers.iter().rev())
            .map(|n| &self.recent[n - self.first])
            .find(|r| r.received_at >= since && r.signature.is_near_duplicate(signature))
            .map(|r| r.root.clone())
    }

    pub(super) fn remember(&mut self, signature: Signature, case: &Case) {
        let number = self.first + self.recent.len();
        for b in band_keys(&signature) {
            self.by_band.entry(b).or_default().push_back(number);
        }
        self.recent.push_back(Recent {
            signature,
            root: case
                .links
                .duplicate_of
                .clone()
                .unwrap_or_else(|| case.id.clone()),
            received_at: case.received_at,
        });
        if self.recent.len() > IN_FLIGHT {
            let old = self.recent.pop_front().expect("over capacity");
            for b in band_keys(&old.signature) {
                if let Some(numbers) = self.by_band.get_mut(&b) {
                    numbers.pop_front();
                    if numbers.is_empty() {
                        self.by_band.remove(&b);
                    }
                }
            }
            self.first += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(text: &str, id: &str, at: &str) -> (Signature, Case) {
        let mut case = crate::store::conformance::sample_case(text, at);
        case.id = CaseId(id.into());
        (Signature::of(text), case)
    }

    #[test]
    fn in_flight_cases_link_near_duplicates_to_their_root_until_forgotten() {
        let text = "小区门口的垃圾站三个月没有清运，夏天臭味很大，蚊蝇滋生，多次向物业反映无人处理";
        let mut in_flight = InFlight::default();
        let (sig, case) = stored(text, "TS20261001-000001", "2026-10-01T00:00:00Z");
        in_flight.remember(sig.clone(), &case);
        // A later duplicate of it links to it; a duplicate of that one links to the root.
        let since: Timestamp = "2026-09-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            in_flight.duplicate_of(&sig, since),
            Some(CaseId("TS20261001-000001".into()))
        );
        let (_, mut second) = stored(text, "TS20261001-000002", "2026-10-01T01:00:00Z");
        second.links.duplicate_of = Some(CaseId("TS20261001-000001".into()));
        in_flight.remember(sig.clone(), &second);
        // Outside the window it is no duplicate; another text is none either.
        let later: Timestamp = "2026-10-02T00:00:00Z".parse().unwrap();
        assert_eq!(in_flight.duplicate_of(&sig, later), None);
        let other =
            Signature::of("话费被多扣了二十元，要求退还，营业厅说查不到原因，让我自己打客服电话");
        assert_eq!(in_flight.duplicate_of(&other, since), None);
        // Past its capacity the oldest are forgotten, and the band lists with them.
        for n in 0..IN_FLIGHT {
            let t = format!("第{n}号不同的投诉内容，编号{n}，与其他投诉都不一样的文字{n}");
            let (s, c) = stored(&t, &format!("TS20261002-{n:06}"), "2026-10-02T00:00:00Z");
            in_flight.remember(s, &c);
        }
        assert_eq!(in_flight.recent.len(), IN_FLIGHT);
        assert_eq!(in_flight.duplicate_of(&sig, since), None);
        assert!(in_flight.by_band.values().all(|v| !v.is_empty()));
    }
}
