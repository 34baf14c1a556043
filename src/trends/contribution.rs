//! What one case version added to the trend book, kept to take it back when the case changes
//! (a corrected category moves). A million cases keep a million of these, so each is one
//! allocation of 32-bit words: its hour, then its keys (a dimension and a value packed in one
//! word), about 50 bytes for a case with ten key phrases against 140 as a struct with a `Vec`.

use super::book::Dimension;
use super::bucket::compact_hour;

/// Bits of a packed key that hold the value's number; the dimension takes the top three.
const VALUE_BITS: u32 = 29;
const VALUE_MASK: u32 = (1 << VALUE_BITS) - 1;

/// A case's hour and keys.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Contribution(Box<[u32]>);

impl Contribution {
    /// `keys` in order. Value numbers past 2^29 (half a billion distinct names) cannot be
    /// packed: such keys are not kept, so the count they added stays (never a wrong key).
    pub(super) fn new(hour: i64, keys: &[(Dimension, u32)]) -> Self {
        let words = std::iter::once(compact_hour(hour) as u32).chain(
            keys.iter()
                .filter(|(_, v)| *v <= VALUE_MASK)
                .map(|(d, v)| ((*d as u32) << VALUE_BITS) | v),
        );
        Contribution(words.collect())
    }

    /// The Beijing hour of receipt.
    pub(super) fn hour(&self) -> i64 {
        i64::from(self.0[0] as i32)
    }

    /// The keys, in the order given.
    pub(super) fn keys(&self) -> impl Iterator<Item = (Dimension, u32)> + '_ {
        self.0[1..].iter().map(|w| {
            let dim = Dimension::ALL[(w >> VALUE_BITS) as usize];
            (dim, w & VALUE_MASK)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_hour_come_back_as_given() {
        let keys = [
            (Dimension::Category, 0),
            (Dimension::Grade, 7),
            (Dimension::Phrase, VALUE_MASK),
            (Dimension::Department, 123_456),
            (Dimension::Channel, 1),
        ];
        for hour in [0, 490_000, -5, i64::from(i32::MAX)] {
            let c = Contribution::new(hour, &keys);
            assert_eq!(c.hour(), hour);
            assert_eq!(c.keys().collect::<Vec<_>>(), keys);
        }
        // A value too large to pack is left out rather than taken back as another key.
        let c = Contribution::new(
            1,
            &[(Dimension::Phrase, VALUE_MASK + 1), (Dimension::Grade, 2)],
        );
        assert_eq!(c.keys().collect::<Vec<_>>(), [(Dimension::Grade, 2)]);
    }
}
