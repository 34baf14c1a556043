//! TF-IDF keywords of a text already cut into words.
//!
//! The weights and the order are jieba's (`jieba_rs::TfIdf`: its IDF table, `tf · idf / total`,
//! ties by the word), but `TfIdf` segments the text itself, with part-of-speech guesses no one
//! here reads, and keeps its table private. Intake has already cut the text for the model, so
//! ranking those words saves a second segmentation per complaint (a tenth of an import's CPU).

use std::collections::HashSet;
use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// A keyword with its TF-IDF weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyword {
    /// The word.
    pub word: String,
    /// TF-IDF weight (jieba's IDF table; higher is more specific to this text).
    pub weight: f64,
}

/// jieba's IDF table (`src/data/idf.txt` of jieba-rs 0.11, MIT; zstd-compressed, see
/// `data/dict/README.md`).
const JIEBA_IDF: &[u8] = include_bytes!("../../data/dict/idf.txt.zst");

/// jieba's own keyword stop words (`jieba_rs::DEFAULT_STOP_WORDS`, which it exports only with
/// its keyword extractors): English function words, beside the project's Chinese ones.
pub(crate) const JIEBA_STOP_WORDS: [&str; 31] = [
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as", "on",
    "with", "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all", "not",
    "one", "has", "or",
];

/// A word's inverse document frequency, from jieba's table.
pub(crate) struct IdfTable {
    idf: FxHashMap<&'static str, f64>,
    /// What a word the table lacks gets: the lower median of the table's values, as jieba.
    median: f64,
}

/// Loaded once per process (~6 MB of text, ~0.1 s): every segmenter shares it.
pub(crate) static IDF: LazyLock<IdfTable> = LazyLock::new(|| {
    let bytes = zstd::decode_all(JIEBA_IDF).expect("the embedded IDF table is valid zstd");
    let text = String::from_utf8(bytes).expect("the embedded IDF table is UTF-8");
    IdfTable::parse(String::leak(text))
});

impl IdfTable {
    /// `word idf` lines; lines that are not are skipped, a later line overrides an earlier one.
    fn parse(text: &'static str) -> Self {
        let mut idf = FxHashMap::default();
        let mut values = Vec::new();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(word), Some(Ok(value))) = (parts.next(), parts.next().map(str::parse)) {
                idf.insert(word, value);
                values.push(value);
            }
        }
        let mid = values.len().saturating_sub(1) / 2;
        let median = if values.is_empty() {
            0.0
        } else {
            *values.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        IdfTable { idf, median }
    }

    fn idf(&self, word: &str) -> f64 {
        self.idf.get(word).copied().unwrap_or(self.median)
    }
}

/// The `k` keywords of a text cut into `words` (in order): no stop word (`stop_words`, with
/// jieba's English ones), nothing shorter than two characters, nothing inside a placeholder.
pub(crate) fn of_words<'a>(
    words: impl Iterator<Item = &'a str>,
    stop_words: &HashSet<String>,
    k: usize,
) -> Vec<Keyword> {
    // The words of a placeholder (`〔手机号〕`) say that something was masked. jieba makes `〔`
    // and `〕` words of their own, so one pass finds them (an unclosed `〔` masks the rest);
    // upstream masks (`***`) are one-character words, never keywords anyway.
    let mut inside = false;
    let unmasked = words.filter(move |&w| match w {
        "〔" => {
            inside = true;
            false
        }
        "〕" => {
            inside = false;
            false
        }
        _ => !inside,
    });
    top(unmasked, |w| may_be_keyword(w, stop_words), &IDF, k)
        .into_iter()
        // Numbers keep their place in the ranking but are not shown, as before.
        .filter(|(word, _)| {
            !word
                .chars()
                .all(|c| c.is_ascii_punctuation() || c.is_numeric())
        })
        .map(|(word, weight)| Keyword {
            word: word.to_string(),
            weight,
        })
        .collect()
}

/// jieba's test of a keyword: two characters or more, and no stop word (nor, with capitals,
/// once lower-cased).
fn may_be_keyword(word: &str, stop_words: &HashSet<String>) -> bool {
    let mut chars = 0;
    let mut upper = false;
    for c in word.chars() {
        chars += 1;
        upper |= c.is_uppercase();
    }
    chars >= 2
        && !stop_words.contains(word)
        && !(upper && stop_words.contains(&word.to_lowercase()))
}

/// The `k` candidate words with the highest `tf · idf / total` (`total`: how many candidate
/// words the text has), highest first, ties by the word: `(word, weight)`.
fn top<'a>(
    words: impl Iterator<Item = &'a str>,
    is_candidate: impl Fn(&str) -> bool,
    idf: &IdfTable,
    k: usize,
) -> Vec<(&'a str, f64)> {
    let mut term_freq: FxHashMap<&str, u64> = FxHashMap::default();
    for word in words.filter(|w| is_candidate(w)) {
        *term_freq.entry(word).or_default() += 1;
    }
    let total: u64 = term_freq.values().sum();
    let mut scored: Vec<(&str, f64)> = term_freq
        .into_iter()
        .map(|(word, tf)| (word, tf as f64 * idf.idf(word) / total as f64))
        .collect();
    scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    scored.truncate(k);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_lower_one_and_later_lines_win() {
        let t = IdfTable::parse("甲 1.0\n乙 4.0\n坏行\n丙 2.0\n丁 3.0\n");
        // Values 1, 4, 2, 3: the lower of the two middle ones (2), not the upper (3).
        assert_eq!(t.median, 2.0);
        assert_eq!(t.idf("戊"), 2.0);
        let t = IdfTable::parse("甲 1.0\n乙 4.0\n甲 5.0\n");
        assert_eq!(t.idf("甲"), 5.0);
    }

    #[test]
    fn ranks_by_weight_then_word() {
        let t = IdfTable::parse("宽带 2.0\n断网 2.0\n维修 1.0\n");
        let words = ["宽带", "断网", "了", "维修", "维修", "宽带"];
        let got = top(words.into_iter(), |w| w.chars().count() >= 2, &t, 2);
        // total 5: 宽带 2·2/5, 维修 2·1/5, 断网 1·2/5 — a tie broken by the word.
        assert_eq!(got, vec![("宽带", 0.8), ("断网", 0.4)]);
    }
}
