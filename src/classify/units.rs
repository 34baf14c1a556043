//! The units a complaint is represented by: character 1..=n-grams and jieba words.
//!
//! Character n-grams carry most of the signal on short, template-like complaints (a TF-IDF
//! char 1–3-gram model is the strong baseline here); jieba words add multi-character terms
//! longer than n (携号转网, 不知情定制). Every unit is a slice of the text: no allocation.

use serde::{Deserialize, Serialize};

use crate::text::PreparedText;

/// Which units to extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitConfig {
    /// Longest character n-gram (1 = characters only).
    pub ngram_max: usize,
    /// Also emit jieba words longer than `ngram_max` characters.
    pub words: bool,
}

impl Default for UnitConfig {
    fn default() -> Self {
        UnitConfig {
            ngram_max: 3,
            words: true,
        }
    }
}

/// Calls `f` with every unit of `text`, repeats included (so counts are term frequencies).
/// N-grams never span whitespace.
pub fn for_each_unit<'a>(text: &'a PreparedText, cfg: UnitConfig, mut f: impl FnMut(&'a str)) {
    let s = text.masked.as_str();
    // Byte offsets of char starts, plus the end, so n-grams are slices.
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let chars = bounds.len() - 1;
    for i in 0..chars {
        for n in 1..=cfg.ngram_max.min(chars - i) {
            let unit = &s[bounds[i]..bounds[i + n]];
            if unit.ends_with(' ') || unit.starts_with(' ') {
                break;
            }
            f(unit);
        }
    }
    if cfg.words {
        for w in text.words() {
            if w.chars().count() > cfg.ngram_max {
                f(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{SegmentConfig, Segmenter, TextPipeline};

    #[test]
    fn emits_ngrams_and_long_words() {
        let p = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
        let t = p.prepare(None, "携号转网 失败").unwrap();
        let mut units = Vec::new();
        for_each_unit(&t, UnitConfig::default(), |u| units.push(u));
        for u in ["携", "携号", "携号转", "失败", "携号转网"] {
            assert!(units.contains(&u), "{u} missing: {units:?}");
        }
        assert!(!units.iter().any(|u| u.contains(' ')));
        assert!(!units.contains(&"网 失"));
    }
}
