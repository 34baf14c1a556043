//! A tantivy tokenizer over the shared jieba instance, so that the search index segments
//! exactly as the rest of the pipeline does. (tantivy-jieba with a custom dictionary clones the
//! dictionary on every query parse; sharing one `Arc<Jieba>` avoids that.)
//!
//! Two modes, as Chinese search engines pair them (ik_max_word to index, ik_smart to search):
//! the index holds jieba's search mode (each word and the dictionary words inside it: 公积金,
//! 公积), the words inside a word at that word's position; a query is cut into whole words. A
//! query word is then one term, not a phrase of its parts (a phrase reads positions, which
//! was a tenth of the search's time at a million cases), and a phrase of whole words matches
//! the index's positions.

use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Jieba tokenizer for tantivy. Register it under the same name after every index open:
/// tantivy does not persist tokenizers.
#[derive(Clone)]
pub struct ChineseTokenizer {
    jieba: Arc<Jieba>,
    hmm: bool,
    /// Search mode (the index) or whole words (queries).
    parts: bool,
    tokens: Vec<Token>,
}

impl ChineseTokenizer {
    /// The index's tokenizer, sharing `jieba` (see
    /// [`Segmenter::jieba`](super::Segmenter::jieba)): words and the words inside them.
    pub fn new(jieba: Arc<Jieba>, hmm: bool) -> Self {
        ChineseTokenizer {
            jieba,
            hmm,
            parts: true,
            tokens: Vec::new(),
        }
    }

    /// The queries' tokenizer of the same jieba: whole words only.
    pub fn for_queries(&self) -> Self {
        ChineseTokenizer {
            parts: false,
            tokens: Vec::new(),
            ..self.clone()
        }
    }
}

/// Positions of search-mode tokens: jieba gives each word after the words inside it, all
/// within its bytes, so walking back, a token that starts before the current word's start is
/// the previous word. Returns, per token, the number of its word.
fn word_numbers(words: &[jieba_rs::Token<'_>]) -> Vec<usize> {
    let mut numbers = vec![0; words.len()];
    let mut word_start = usize::MAX;
    let mut n = 0;
    for (i, w) in words.iter().enumerate().rev() {
        if w.byte_start < word_start {
            n += 1;
            word_start = w.byte_start;
        }
        numbers[i] = n;
    }
    // Counted from the end: turn into ascending word numbers from 0.
    for x in &mut numbers {
        *x = n - *x;
    }
    numbers
}

/// The tokens of one text, handed out in order.
pub struct ChineseTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    index: usize,
}

impl Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = ChineseTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ChineseTokenStream<'a> {
        self.tokens.clear();
        let words = if self.parts {
            self.jieba.cut_for_search(text, self.hmm)
        } else {
            self.jieba.cut(text, self.hmm)
        };
        let numbers = if self.parts {
            word_numbers(&words)
        } else {
            (0..words.len()).collect()
        };
        // Positions count the words kept (punctuation dropped), so that a phrase across a comma
        // still reads as adjacent words, as before.
        let mut position = 0;
        let mut last_word = None;
        for (w, number) in words.into_iter().zip(numbers) {
            if !w.word.chars().any(char::is_alphanumeric) {
                continue;
            }
            if last_word.is_some_and(|n| n != number) {
                position += 1;
            }
            last_word = Some(number);
            self.tokens.push(Token {
                offset_from: w.byte_start,
                offset_to: w.byte_start + w.word.len(),
                position,
                // Chinese has no case; lower-casing every word costs a table lookup per
                // character and shows in search profiles.
                text: if w.word.chars().any(char::is_uppercase) {
                    w.word.to_lowercase()
                } else {
                    w.word.to_string()
                },
                position_length: 1,
            });
        }
        // Jieba gives a word after the words inside it (积金 before 公积金): tantivy's snippets
        // need offsets that never go back, and a word's tokens share a position, so within a
        // word they go by offset.
        self.tokens.sort_by_key(|t| (t.position, t.offset_from));
        ChineseTokenStream {
            tokens: &mut self.tokens,
            index: 0,
        }
    }
}

impl TokenStream for ChineseTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{SegmentConfig, Segmenter};

    #[test]
    fn emits_search_words_with_offsets() {
        let seg = Segmenter::new(SegmentConfig::default());
        let mut tok = ChineseTokenizer::new(seg.jieba(), true);
        let text = "中华人民共和国的宽带，断网了！";
        let mut stream = tok.token_stream(text);
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            assert_eq!(&text[t.offset_from..t.offset_to], t.text);
            seen.push(t.text.clone());
        }
        assert!(seen.contains(&"宽带".to_string()));
        assert!(
            seen.contains(&"人民".to_string()),
            "search mode adds sub-words: {seen:?}"
        );
        assert!(!seen.iter().any(|w| w == "，" || w == "！"));
    }

    fn tokens(tok: &mut ChineseTokenizer, text: &str) -> Vec<(String, usize)> {
        let mut stream = tok.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().text.clone(), stream.token().position));
        }
        out
    }

    #[test]
    fn words_inside_a_word_share_its_position() {
        let seg = Segmenter::new(SegmentConfig::default());
        let mut tok = ChineseTokenizer::new(seg.jieba(), true);
        let t = tokens(&mut tok, "提取住房公积金，中华人民共和国成立");
        let at = |w: &str| t.iter().find(|(x, _)| x == w).map(|(_, p)| *p);
        assert_eq!(at("公积"), at("公积金"), "{t:?}");
        assert_eq!(at("人民"), at("中华人民共和国"), "{t:?}");
        assert_eq!(at("共和"), at("中华人民共和国"), "{t:?}");
        // Whole words follow one another, across the comma.
        assert_eq!(at("住房").unwrap() + 1, at("公积金").unwrap(), "{t:?}");
        assert_eq!(
            at("公积金").unwrap() + 1,
            at("中华人民共和国").unwrap(),
            "{t:?}"
        );
        assert_eq!(
            at("中华人民共和国").unwrap() + 1,
            at("成立").unwrap(),
            "{t:?}"
        );
        // Positions never go back (tantivy requires it).
        assert!(t.windows(2).all(|w| w[0].1 <= w[1].1), "{t:?}");
        // Nor do offsets (tantivy's snippets require it).
        let mut stream = tok.token_stream("公积金中心认定为二套房");
        let mut last = 0;
        while stream.advance() {
            assert!(stream.token().offset_from >= last, "{:?}", stream.token());
            last = stream.token().offset_from;
        }
    }

    #[test]
    fn a_query_is_cut_into_whole_words() {
        let seg = Segmenter::new(SegmentConfig::default());
        let mut tok = ChineseTokenizer::new(seg.jieba(), true).for_queries();
        let t = tokens(&mut tok, "住房公积金");
        assert_eq!(t, vec![("住房".into(), 0), ("公积金".into(), 1)]);
    }
}
