//! Near-duplicate fingerprints: MinHash over character 3-shingles of the masked text, with
//! locality-sensitive bands.
//!
//! Two complaints whose shingle sets overlap by a Jaccard similarity of about
//! [`NEAR_DUPLICATE_JACCARD`] or more are near duplicates (the same complaint sent through two
//! channels, with a greeting added). The 32 minimums are cut into 8 bands of 4; a store indexes
//! each band's hash, so candidates are found with 8 equality lookups (a pair at Jaccard 0.8
//! shares a band with probability 0.98; at 0.3, 0.06), then confirmed on the whole signature.
//! (SimHash was tried first: on 50-character complaints a two-character greeting moves it by
//! more bits than any threshold that keeps unrelated texts apart.)
//!
//! Hashes are xxh3 with fixed seeds: signatures are stored, so they must not change between
//! runs or builds.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Minimums per signature.
pub const MINHASHES: usize = 32;
/// Bands per signature (each of `MINHASHES / BANDS` minimums).
pub const BANDS: usize = 8;
/// Estimated Jaccard similarity at or above which two texts are near duplicates.
pub const NEAR_DUPLICATE_JACCARD: f32 = 0.8;

/// Characters per shingle: 3 keeps short Chinese texts distinct while tolerating small edits.
const SHINGLE: usize = 3;

/// A MinHash signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub [u64; MINHASHES]);

/// The low byte of each of a signature's minimums: 32 bytes a case that the near-duplicate
/// view keeps in memory to rule candidates out without reading their whole signatures. Equal
/// minimums have equal low bytes, so a pair the whole signatures call near duplicates always
/// passes [`Sketch::may_be_near_duplicate`]; a pass is confirmed on the whole signatures (two
/// unequal minimums share their low byte once in 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sketch([u8; MINHASHES]);

impl Sketch {
    /// Whether the two signatures this sketches could be near duplicates.
    pub fn may_be_near_duplicate(&self, other: &Sketch) -> bool {
        agreement(&self.0, &other.0) >= NEAR_DUPLICATE_JACCARD
    }
}

/// The share of positions where the two agree: of minimums, the estimated Jaccard similarity.
fn agreement<T: PartialEq>(a: &[T; MINHASHES], b: &[T; MINHASHES]) -> f32 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f32 / MINHASHES as f32
}

/// Odd multipliers and offsets of the hash family `h_i(x) = a_i·x + b_i` (mod 2^64),
/// derived once from fixed seeds.
fn family() -> &'static [(u64, u64); MINHASHES] {
    static FAMILY: std::sync::LazyLock<[(u64, u64); MINHASHES]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|i| {
            let a = xxh3_64_with_seed(b"tousu-minhash-a", i as u64) | 1;
            let b = xxh3_64_with_seed(b"tousu-minhash-b", i as u64);
            (a, b)
        })
    });
    &FAMILY
}

impl Signature {
    /// The signature of `text`, ignoring whitespace and punctuation.
    pub fn of(text: &str) -> Self {
        let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
        let mut mins = [u64::MAX; MINHASHES];
        let mut buf = String::new();
        let mut add = |s: &str| {
            let h = xxh3_64(s.as_bytes());
            for (m, (a, b)) in mins.iter_mut().zip(family()) {
                *m = (*m).min(a.wrapping_mul(h).wrapping_add(*b));
            }
        };
        if chars.len() < SHINGLE {
            buf.extend(&chars);
            add(&buf);
        } else {
            for window in chars.windows(SHINGLE) {
                buf.clear();
                buf.extend(window);
                add(&buf);
            }
        }
        Signature(mins)
    }

    /// The hash of each band.
    pub fn bands(&self) -> [u64; BANDS] {
        let rows = MINHASHES / BANDS;
        std::array::from_fn(|i| {
            let mut bytes = [0u8; 8 * (MINHASHES / BANDS)];
            for (j, m) in self.0[i * rows..(i + 1) * rows].iter().enumerate() {
                bytes[j * 8..(j + 1) * 8].copy_from_slice(&m.to_le_bytes());
            }
            xxh3_64_with_seed(&bytes, i as u64)
        })
    }

    /// Estimated Jaccard similarity of the two texts' shingle sets.
    pub fn jaccard(&self, other: &Signature) -> f32 {
        agreement(&self.0, &other.0)
    }

    /// Whether the two texts are near duplicates.
    pub fn is_near_duplicate(&self, other: &Signature) -> bool {
        self.jaccard(other) >= NEAR_DUPLICATE_JACCARD
    }

    /// The signature's [`Sketch`].
    pub fn sketch(&self) -> Sketch {
        Sketch(self.0.map(|m| m as u8))
    }

    /// The signature as bytes, for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|m| m.to_le_bytes()).collect()
    }

    /// A signature from [`Signature::to_bytes`]; `None` for a blob of another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != MINHASHES * 8 {
            return None;
        }
        Some(Signature(std::array::from_fn(|i| {
            u64::from_le_bytes(bytes[i * 8..(i + 1) * 8].try_into().expect("8 bytes"))
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "本人于上周在营业厅办理了宽带业务，安装至今三天无法上网，多次报修无人处理，要求尽快修复并赔偿损失。";

    #[test]
    fn same_text_through_another_channel_is_a_near_duplicate() {
        let a = Signature::of(TEXT);
        let resent = Signature::of(&format!("您好，{TEXT}"));
        assert!(
            a.is_near_duplicate(&resent),
            "jaccard {}",
            a.jaccard(&resent)
        );
        assert!(a.bands().iter().zip(resent.bands()).any(|(x, y)| *x == y));
        assert_eq!(a, Signature::of(&TEXT.replace('，', " ")));
    }

    #[test]
    fn different_complaints_are_not() {
        let other = "小区门口的垃圾站长期无人清理，夏天臭味严重，蚊虫滋生，居民多次向物业反映未果，请环保部门督促整改。";
        let (a, b) = (Signature::of(TEXT), Signature::of(other));
        assert!(a.jaccard(&b) < 0.2);
        assert!(!a.bands().iter().zip(b.bands()).any(|(x, y)| *x == y));
    }

    #[test]
    fn a_sketch_never_rules_out_a_near_duplicate() {
        let a = Signature::of(TEXT);
        let chars: Vec<char> = TEXT.chars().collect();
        let (mut near, mut passed_far) = (0, 0);
        // Every cut of the text's tail: from near duplicates to texts that share a third.
        for cut in 1..chars.len() {
            let b = Signature::of(&chars[..chars.len() - cut].iter().collect::<String>());
            if a.is_near_duplicate(&b) {
                near += 1;
                assert!(a.sketch().may_be_near_duplicate(&b.sketch()), "cut {cut}");
            } else if a.sketch().may_be_near_duplicate(&b.sketch()) {
                passed_far += 1;
            }
        }
        assert!(near >= 3, "the test covers near duplicates ({near})");
        assert!(passed_far <= 1, "sketches rule out the rest ({passed_far})");
        let other = Signature::of("小区门口的垃圾站长期无人清理，夏天臭味严重，蚊虫滋生。");
        assert!(!a.sketch().may_be_near_duplicate(&other.sketch()));
    }

    #[test]
    fn round_trips_through_bytes_and_handles_tiny_texts() {
        let a = Signature::of(TEXT);
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
        assert_eq!(Signature::of("断网"), Signature::of("断网!"));
        assert_ne!(Signature::of("断网"), Signature::of("停水"));
    }
}
