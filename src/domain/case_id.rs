//! The case number.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A case number: `TS` + the Beijing date of intake + a per-day sequence, e.g.
/// `TS20261122-000123`. Case numbers are what citizens and staff quote on the phone, so they
/// are short, dated and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub String);

impl CaseId {
    /// The case number for the `n`th case (1-based) of the Beijing day `yyyymmdd`.
    pub fn new(yyyymmdd: &str, n: u64) -> Self {
        CaseId(format!("TS{yyyymmdd}-{n:06}"))
    }

    /// Whether `s` looks like a case number (so that a typo gets a clear 404, not a scan).
    pub fn is_well_formed(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 17
            && s.starts_with("TS")
            && b[2..10].iter().all(u8::is_ascii_digit)
            && b[10] == b'-'
            && b[11..].iter().all(u8::is_ascii_digit)
    }

    /// The case number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case number packed in a `u64` (`yyyymmdd × 10⁹ + n`), for a fast index column;
    /// `None` when it is not well formed or `n` has more than 9 digits.
    pub fn packed(&self) -> Option<u64> {
        if !Self::is_well_formed(&self.0) || self.0.len() > 20 {
            return None;
        }
        let day: u64 = self.0[2..10].parse().ok()?;
        let n: u64 = self.0[11..].parse().ok()?;
        Some(day * PACK + n)
    }

    /// The case number [`CaseId::packed`] gave.
    pub fn unpack(packed: u64) -> Self {
        let day = (packed / PACK).to_string();
        CaseId::new(&day, packed % PACK)
    }
}

/// Room for the day's sequence number in a packed case number.
const PACK: u64 = 1_000_000_000;

/// So that reads keyed by case number take numbers and richer keys alike.
impl AsRef<CaseId> for CaseId {
    fn as_ref(&self) -> &CaseId {
        self
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_number_packs_and_unpacks() {
        for id in [
            "TS20261122-000123",
            "TS20251231-999999",
            "TS20270101-1234567",
        ] {
            let id = CaseId(id.to_string());
            let packed = id.packed().expect("well formed");
            assert_eq!(CaseId::unpack(packed), id);
        }
        assert_eq!(CaseId("TS2026-1".into()).packed(), None);
        assert_eq!(CaseId("TS20261122-1234567890".into()).packed(), None);
    }
}
