//! Case numbers kept side by side in one string: topics remember each member's number (for
//! samples and `/v1/topics/{id}/cases`), a million of them, and a `String` each costs 24 bytes
//! plus a 32-byte allocation for a 17-character number; here it is the 17 bytes and a 4-byte
//! end.

use crate::domain::CaseId;

/// Numbers, each known by its position.
#[derive(Debug, Default)]
pub(super) struct CaseIds {
    text: String,
    ends: Vec<u32>,
}

impl CaseIds {
    /// Keeps `id`; its position.
    pub(super) fn push(&mut self, id: &CaseId) -> u32 {
        self.text.push_str(id.as_str());
        // 4 GiB of numbers is 250 million cases: far past what one machine serves.
        let end = u32::try_from(self.text.len()).expect("case numbers under 4 GiB");
        self.ends.push(end);
        (self.ends.len() - 1) as u32
    }

    /// The number at position `at`.
    pub(super) fn get(&self, at: u32) -> CaseId {
        let at = at as usize;
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        CaseId(self.text[start..self.ends[at] as usize].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_back_by_position() {
        let mut ids = CaseIds::default();
        let given = ["TS20190301-000001", "", "C-42", "TS20190301-000002"];
        let at: Vec<u32> = given
            .iter()
            .map(|s| ids.push(&CaseId(s.to_string())))
            .collect();
        assert_eq!(at, [0, 1, 2, 3]);
        for (a, s) in at.iter().zip(given) {
            assert_eq!(ids.get(*a).as_str(), s);
        }
    }
}
