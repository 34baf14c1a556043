//! How alike two complaints read: cosine similarity of their character-bigram counts.
//!
//! Used to confirm candidates found by the index (repeat and group detection): bigrams need no
//! segmentation, are robust to jieba's choices on place names, and score 1 for equal texts.

use std::collections::HashMap;

/// Character-bigram counts of a text, ignoring whitespace and punctuation.
#[derive(Debug, Clone, Default)]
pub struct BigramProfile {
    counts: HashMap<(char, char), u32>,
    norm: f32,
}

impl BigramProfile {
    /// The profile of `text`.
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
        let mut counts = HashMap::with_capacity(chars.len());
        for w in chars.windows(2) {
            *counts.entry((w[0], w[1])).or_insert(0u32) += 1;
        }
        let norm = counts
            .values()
            .map(|&c| (c as f32) * (c as f32))
            .sum::<f32>()
            .sqrt();
        BigramProfile { counts, norm }
    }

    /// Cosine similarity with `other`, in [0, 1]; 0 when either text has no bigram.
    pub fn cosine(&self, other: &BigramProfile) -> f32 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let (small, large) = if self.counts.len() <= other.counts.len() {
            (self, other)
        } else {
            (other, self)
        };
        let dot: f32 = small
            .counts
            .iter()
            .filter_map(|(k, &a)| large.counts.get(k).map(|&b| a as f32 * b as f32))
            .sum();
        (dot / (self.norm * other.norm)).clamp(0.0, 1.0)
    }
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
    }
}
