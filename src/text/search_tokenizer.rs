//! A tantivy tokenizer over the shared jieba instance, so that the search index segments
//! exactly as the rest of the pipeline does. (tantivy-jieba with a custom dictionary clones the
//! dictionary on every query parse; sharing one `Arc<Jieba>` avoids that.)

use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Search-mode jieba tokenizer for tantivy. Register it under the same name after every
/// index open: tantivy does not persist tokenizers.
#[derive(Clone)]
pub struct ChineseTokenizer {
    jieba: Arc<Jieba>,
    hmm: bool,
    tokens: Vec<Token>,
}

impl ChineseTokenizer {
    /// A tokenizer sharing `jieba` (see [`Segmenter::jieba`](super::Segmenter::jieba)).
    pub fn new(jieba: Arc<Jieba>, hmm: bool) -> Self {
        ChineseTokenizer {
            jieba,
            hmm,
            tokens: Vec::new(),
        }
    }
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
        let words = self.jieba.cut_for_search(text, self.hmm);
        for (position, w) in words
            .into_iter()
            .filter(|w| w.word.chars().any(char::is_alphanumeric))
            .enumerate()
        {
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
}
