//! Word segmentation with jieba (default dictionary + the project's domain dictionaries),
//! stop words, and TF-IDF keyword extraction.

use std::collections::HashSet;
use std::io::BufReader;
use std::sync::Arc;

use jieba_rs::{Jieba, KeywordExtract, KeywordExtractConfig, TfIdf};
use serde::Serialize;

/// Domain words jieba's default dictionary splits or misses, one `word freq tag` a line.
/// Embedded so that the binary segments the same way wherever it runs.
const USER_DICTIONARIES: [(&str, &str); 2] = [
    (
        "data/dict/telecom.txt",
        include_str!("../../data/dict/telecom.txt"),
    ),
    ("data/dict/gov.txt", include_str!("../../data/dict/gov.txt")),
];

/// Chinese stop words, one a line (jieba-rs's own keyword stop words are English only).
const STOP_WORDS: &str = include_str!("../../data/dict/stopwords.txt");

/// Options for [`Segmenter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SegmentConfig {
    /// Use jieba's HMM to join characters the dictionary does not know into words.
    pub hmm: bool,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig { hmm: true }
    }
}

/// One word of a segmented text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word itself, a slice of the segmented text.
    pub text: &'a str,
    /// Byte offset of the word in the segmented text.
    pub byte_start: usize,
}

/// A keyword with its TF-IDF weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyword {
    /// The word.
    pub word: String,
    /// TF-IDF weight (jieba's IDF table; higher is more specific to this text).
    pub weight: f64,
}

/// Segments Chinese text. Building one loads jieba's dictionary (~0.3 s): build it once and
/// share it (it is cheap to clone: the dictionary is behind an `Arc`).
#[derive(Clone)]
pub struct Segmenter {
    jieba: Arc<Jieba>,
    tfidf: Arc<TfIdf>,
    stop_words: Arc<HashSet<String>>,
    config: SegmentConfig,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("config", &self.config)
            .finish()
    }
}

impl Segmenter {
    /// Loads jieba's default dictionary and the domain dictionaries. Blocking, ~0.3 s.
    pub fn new(config: SegmentConfig) -> Self {
        let mut jieba = Jieba::new();
        for (name, dict) in USER_DICTIONARIES {
            jieba
                .load_dict(&mut BufReader::new(dict.as_bytes()))
                .unwrap_or_else(|e| panic!("embedded dictionary {name} is malformed: {e}"));
        }
        let stop_words: HashSet<String> = STOP_WORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let mut kw = KeywordExtractConfig::builder().use_hmm(config.hmm);
        for w in &stop_words {
            kw = kw.add_stop_word(w.clone());
        }
        // jieba's embedded IDF table; `TfIdf::new(None, …)` would leave every weight 0.
        let mut tfidf = TfIdf::default();
        *tfidf.config_mut() = kw.build();
        Segmenter {
            jieba: Arc::new(jieba),
            tfidf: Arc::new(tfidf),
            stop_words: Arc::new(stop_words),
            config,
        }
    }

    /// The options this segmenter was built with.
    pub fn config(&self) -> SegmentConfig {
        self.config
    }

    /// Splits `text` into words, whitespace dropped. O(n) in the text's length; ~20 µs for a
    /// 200-character complaint.
    pub fn cut<'a>(&self, text: &'a str) -> Vec<Word<'a>> {
        self.jieba
            .cut(text, self.config.hmm)
            .into_iter()
            .filter(|t| !t.word.trim().is_empty())
            .map(|t| Word {
                text: t.word,
                byte_start: t.byte_start,
            })
            .collect()
    }

    /// Splits `text` for search indexing: long words are also cut into their shorter words.
    pub fn cut_for_search<'a>(&self, text: &'a str) -> Vec<Word<'a>> {
        self.jieba
            .cut_for_search(text, self.config.hmm)
            .into_iter()
            .filter(|t| !t.word.trim().is_empty())
            .map(|t| Word {
                text: t.word,
                byte_start: t.byte_start,
            })
            .collect()
    }

    /// Whether `word` is a stop word (function words, greetings, template words like 客户反映).
    pub fn is_stop_word(&self, word: &str) -> bool {
        self.stop_words.contains(word)
    }

    /// The `k` words of `text` with the highest TF-IDF weight, stop words and single characters
    /// excluded: what a complaint is about, for explanations and topics.
    /// PII placeholders (`〔手机号〕`) and upstream masks (`******`) are no keywords.
    pub fn keywords(&self, text: &str, k: usize) -> Vec<Keyword> {
        let text = without_masks(text);
        self.tfidf
            .extract_keywords(&self.jieba, &text, k, Vec::new())
            .into_iter()
            .filter(|kw| {
                !kw.keyword
                    .chars()
                    .all(|c| c.is_ascii_punctuation() || c.is_numeric())
            })
            .map(|kw| Keyword {
                word: kw.keyword,
                weight: kw.weight,
            })
            .collect()
    }

    /// A tantivy tokenizer that segments as this segmenter does (search mode).
    pub fn search_tokenizer(&self) -> super::ChineseTokenizer {
        super::ChineseTokenizer::new(self.jieba(), self.config().hmm)
    }

    /// The shared jieba instance, for adapters (the search index tokenizer) that must segment
    /// the same way.
    pub fn jieba(&self) -> Arc<Jieba> {
        Arc::clone(&self.jieba)
    }
}

/// `text` with every placeholder (`〔…〕`) and run of `*` blanked out.
fn without_masks(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['〔', '*']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        match c {
            '〔' => inside = true,
            '〕' if inside => {
                inside = false;
                out.push(' ');
            }
            '*' => out.push(' '),
            _ if inside => {}
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static SEG: LazyLock<Segmenter> = LazyLock::new(|| Segmenter::new(SegmentConfig::default()));

    fn words(text: &str) -> Vec<&str> {
        SEG.cut(text).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn domain_words_stay_whole() {
        let w = words("我想办理携号转网，流量包和集团网都要取消");
        for expected in ["携号转网", "流量包", "集团网"] {
            assert!(w.contains(&expected), "{expected} missing from {w:?}");
        }
        let w = words("业委会和物业拒绝公开公积金使用情况");
        for expected in ["业委会", "物业", "公积金"] {
            assert!(w.contains(&expected), "{expected} missing from {w:?}");
        }
    }

    #[test]
    fn offsets_point_at_the_words() {
        let text = "宽带 断网三天了";
        for w in SEG.cut(text) {
            assert_eq!(&text[w.byte_start..w.byte_start + w.text.len()], w.text);
        }
        assert!(!words(text).contains(&" "));
    }

    #[test]
    fn placeholders_are_no_keywords_but_the_word_typed_is() {
        let kws = SEG.keywords("手机号码被停机，请回电〔手机号〕或〔手机号〕，停机三天", 10);
        assert!(kws.iter().all(|k| k.word != "手机号"), "{kws:?}");
        assert!(kws.iter().any(|k| k.word == "停机"), "{kws:?}");
        let kws = SEG.keywords("我的手机号被泄露，天天接到诈骗电话，手机号是******", 10);
        assert!(kws.iter().any(|k| k.word == "手机号"), "{kws:?}");
    }

    #[test]
    fn keywords_skip_stop_words() {
        let kws = SEG.keywords(
            "客户反映宽带断网，宽带维修人员一直不上门，要求尽快处理宽带故障",
            3,
        );
        assert!(kws.iter().any(|k| k.word == "宽带"), "{kws:?}");
        assert!(
            kws.iter().all(|k| k.weight > 0.0),
            "regression: IDF table missing: {kws:?}"
        );
        assert!(kws.iter().all(|k| k.word != "客户" && k.word != "反映"));
    }
}
