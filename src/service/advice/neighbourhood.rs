//! The earlier cases one intake is compared with, each read from the store once.
//!
//! The group signal, similar cases and suggestions each rank some of the index's candidates by
//! how alike they read to the intake. Their candidates overlap (the closest cases are often
//! in all three lists), so each case is read and compared once per intake, not once a list.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::{CaseId, Neighbour};
use crate::error::Result;
use crate::store::{CaseRef, CaseStore};
use crate::text::BigramProfile;

/// An intake's text and the earlier cases read so far, with how alike each reads to it.
pub(crate) struct Neighbourhood {
    profile: BigramProfile,
    read: HashMap<CaseId, (Arc<Neighbour>, f32)>,
}

impl Neighbourhood {
    pub fn new(text: &str) -> Self {
        Neighbourhood {
            profile: BigramProfile::new(text),
            read: HashMap::new(),
        }
    }

    /// Reads these cases in one go (one store transaction instead of one per list), for
    /// [`Neighbourhood::ranked`] to find.
    pub fn read_ahead(&mut self, store: &dyn CaseStore, cases: &[CaseRef]) -> Result<()> {
        let mut unread: Vec<CaseRef> = Vec::with_capacity(cases.len());
        for c in cases {
            if !self.read.contains_key(&c.id) && !unread.iter().any(|u| u.id == c.id) {
                unread.push(c.clone());
            }
        }
        if !unread.is_empty() {
            for case in store.neighbours(&unread)? {
                let score = self.profile.cosine(&BigramProfile::new(&case.text));
                self.read.insert(case.id.clone(), (case, score));
            }
        }
        Ok(())
    }

    /// These cases (unknown ones left out) and their bigram cosine with the text, most alike
    /// first.
    pub fn ranked(
        &mut self,
        store: &dyn CaseStore,
        cases: &[CaseRef],
    ) -> Result<Vec<(Arc<Neighbour>, f32)>> {
        self.read_ahead(store, cases)?;
        let mut ranked: Vec<(Arc<Neighbour>, f32)> = cases
            .iter()
            .filter_map(|c| self.read.get(&c.id).cloned())
            .collect();
        // Equal texts tie: the newer case first (its handling is the current practice), so
        // that the order does not depend on where the index happened to put each case.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.seq.cmp(&a.0.seq)));
        Ok(ranked)
    }
}
