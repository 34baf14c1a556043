//! How alike two complaints read: cosine similarity of their character-bigram counts.
//!
//! Used to confirm candidates found by the index (repeat and group detection): bigrams need no
//! segmentation, are robust to jieba's choices on place names, and score 1 for equal texts.

/// Character-bigram counts of a text, ignoring whitespace and punctuation.
///
/// Held as a sorted list, not a hash map: an intake compares its text with dozens of
/// neighbours, and building and merging short sorted lists costs a fraction of hashing.
#[derive(Debug, Clone, Default)]
pub struct BigramProfile {
    /// (bigram packed as `first << 32 | second`, count), sorted by bigram.
    counts: Vec<(u64, u32)>,
    norm: f32,
}

impl BigramProfile {
    /// The profile of `text`.
    pub fn new(text: &str) -> Self {
        let mut prev: Option<char> = None;
        let mut bigrams: Vec<u64> = Vec::with_capacity(text.len() / 3);
        for c in text.chars().filter(|&c| is_word_char(c)) {
            if let Some(p) = prev {
                bigrams.push(u64::from(p) << 32 | u64::from(c));
            }
            prev = Some(c);
        }
        bigrams.sort_unstable();
        let mut counts: Vec<(u64, u32)> = Vec::with_capacity(bigrams.len());
        for b in bigrams {
            match counts.last_mut() {
                Some((last, n)) if *last == b => *n += 1,
                _ => counts.push((b, 1)),
            }
        }
        let norm = counts
            .iter()
            .map(|&(_, c)| (c as f32) * (c as f32))
            .sum::<f32>()
            .sqrt();
        BigramProfile { counts, norm }
    }

    /// Cosine similarity with `other`, in [0, 1]; 0 when either text has no bigram.
    pub fn cosine(&self, other: &BigramProfile) -> f32 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let (a, b) = (&self.counts, &other.counts);
        let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += a[i].1 as f32 * b[j].1 as f32;
                    i += 1;
                    j += 1;
                }
            }
        }
        (dot / (self.norm * other.norm)).clamp(0.0, 1.0)
    }
}

/// Letters, digits and CJK ideographs (checked first: they are most of a complaint, and
/// the general Unicode lookup is slow for them).
fn is_word_char(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || c.is_alphanumeric()
}

/// Cosine similarity of the bigram counts of `a` and `b`.
pub fn similarity(a: &str, b: &str) -> f32 {
    BigramProfile::new(a).cosine(&BigramProfile::new(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_score_one_and_unrelated_near_zero() {
        let a = "小区停车位被物业私自出租，业主无处停车";
        assert!((similarity(a, a) - 1.0).abs() < 1e-5);
        assert!(similarity(a, "宽带断网三天无人维修") < 0.1);
        assert!(similarity(a, "物业私自出租小区停车位，业主停车难") > 0.4);
        assert_eq!(similarity("", a), 0.0);
        // Repeated bigrams count: "停车停车" has 停车 twice and 车停 once.
        let twice = BigramProfile::new("停车停车");
        assert_eq!(twice.counts.len(), 2);
        assert!((twice.norm - 5f32.sqrt()).abs() < 1e-6);
    }
}
