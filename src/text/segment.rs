//! Word segmentation with jieba (default dictionary + the project's domain dictionaries),
//! stop words, and TF-IDF keyword extraction.

use std::collections::HashSet;
use std::io::BufReader;
use std::sync::{Arc, LazyLock};

use jieba_rs::Jieba;
use serde::Serialize;

use super::keywords::{self, IDF, Keyword};

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

/// Segments Chinese text. Building one loads jieba's dictionary (~0.3 s): build it once and
/// share it (it is cheap to clone: the dictionary is behind an `Arc`).
#[derive(Clone)]
pub struct Segmenter {
    jieba: Arc<Jieba>,
    stop_words: Arc<HashSet<String>>,
    /// The stop words and jieba's English ones: words that are never keywords.
    keyword_stop_words: Arc<HashSet<String>>,
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
        let keyword_stop_words = stop_words
            .iter()
            .cloned()
            .chain(keywords::JIEBA_STOP_WORDS.map(str::to_string))
            .collect();
        // Loaded here rather than on the first complaint's keywords.
        LazyLock::force(&IDF);
        Segmenter {
            jieba: Arc::new(jieba),
            stop_words: Arc::new(stop_words),
            keyword_stop_words: Arc::new(keyword_stop_words),
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
        self.keywords_of_words(self.cut(text).into_iter().map(|w| w.text), k)
    }

    /// [`keywords`](Self::keywords) of a text already cut into `words` (by this segmenter, as
    /// [`cut`](Self::cut) does, in order): the same keywords without segmenting it again.
    pub fn keywords_of_words<'a>(
        &self,
        words: impl Iterator<Item = &'a str>,
        k: usize,
    ) -> Vec<Keyword> {
        keywords::of_words(words, &self.keyword_stop_words, k)
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
    fn keywords_rank_as_jiebas_tfidf_does() {
        // jieba-rs's documented examples of `TfIdf::extract_keywords` (its table, its ranking).
        let top = |text: &str, k| -> Vec<String> {
            SEG.keywords(text, k).into_iter().map(|k| k.word).collect()
        };
        assert_eq!(
            top(
                "今天纽约的天气真好啊，京华大酒店的张尧经理吃了一只北京烤鸭。后天纽约的天气不好，\
                 昨天纽约的天气也不好，北京烤鸭真好吃",
                3
            ),
            ["北京烤鸭", "纽约", "天气"]
        );
        assert_eq!(
            top(
                "此外，公司拟对全资子公司吉林欧亚置业有限公司增资4.3亿元，增资后，吉林欧亚置业注册\
                 资本由7000万元增加到5亿元。吉林欧亚置业主要经营范围为房地产开发及百货零售等业务。\
                 目前在建吉林欧亚城市商业综合体项目。2013年，实现营业收入0万元，实现净利润-139.13万元。",
                5
            ),
            ["欧亚", "吉林", "置业", "万元", "增资"]
        );
    }

    #[test]
    fn no_keyword_comes_from_a_mask_even_an_unclosed_one() {
        let text = "宽带〔手机号〕断网三天，138****1234 打了三次客服，宽带师傅不上门，〔地址";
        let words: Vec<String> = SEG.keywords(text, 10).into_iter().map(|k| k.word).collect();
        assert!(words.contains(&"宽带".to_string()), "{words:?}");
        assert!(
            !words
                .iter()
                .any(|w| w.contains("手机") || w.contains("地址")),
            "{words:?}"
        );
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
