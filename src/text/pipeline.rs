//! The text pipeline every complaint goes through before it is modelled, indexed or logged:
//! window → normalise → mask PII → segment.

use serde::Serialize;

use super::normalize::normalize;
use super::pii::{PiiSpan, mask_pii};
use super::segment::{Segmenter, Word};
use super::window::head_tail_window;
use crate::error::{Error, Result};

/// A complaint's text made ready for the model and the index.
#[derive(Debug, Clone, Serialize)]
pub struct PreparedText {
    /// Normalised text, PII still in it. Only for the system of record: never log it.
    #[serde(skip)]
    pub normalized: String,
    /// Normalised text with PII replaced by typed placeholders: what may be indexed and logged.
    pub masked: String,
    /// PII found, with offsets into `normalized`.
    pub pii: Vec<PiiSpan>,
    /// Whether the text was cut to its head + tail window.
    pub truncated: bool,
    /// Word boundaries in `masked`, as byte ranges.
    #[serde(skip)]
    word_spans: Vec<(u32, u32)>,
}

impl PreparedText {
    /// The words of the masked text, in order.
    pub fn words(&self) -> impl Iterator<Item = &str> + '_ {
        self.word_spans
            .iter()
            .map(|&(s, e)| &self.masked[s as usize..e as usize])
    }

    /// The words with their byte offsets in the masked text.
    pub fn word_offsets(&self) -> impl Iterator<Item = Word<'_>> + '_ {
        self.word_spans.iter().map(|&(s, e)| Word {
            text: &self.masked[s as usize..e as usize],
            byte_start: s as usize,
        })
    }
}

/// Runs the text stages. Cheap to clone; build once (it owns the jieba dictionary).
#[derive(Debug, Clone)]
pub struct TextPipeline {
    segmenter: Segmenter,
}

impl TextPipeline {
    /// A pipeline over `segmenter`.
    pub fn new(segmenter: Segmenter) -> Self {
        TextPipeline { segmenter }
    }

    /// The segmenter, for keyword extraction and adapters.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Prepares a complaint: `title` (optional) and `text` are joined with `。`, windowed if over
    /// [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS), normalised, masked and segmented.
    ///
    /// Errors with [`Error::EmptyText`] when nothing but whitespace is left.
    pub fn prepare(&self, title: Option<&str>, text: &str) -> Result<PreparedText> {
        let joined;
        let full = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => {
                joined = format!("{t}。{text}");
                joined.as_str()
            }
            None => text,
        };
        if text.trim().is_empty() {
            return Err(Error::EmptyText);
        }
        let (window, truncated) = head_tail_window(full);
        let normalized = normalize(&window);
        if normalized.is_empty() {
            return Err(Error::EmptyText);
        }
        let masked = mask_pii(&normalized);
        let word_spans = self
            .segmenter
            .cut(&masked.text)
            .into_iter()
            .map(|w| (w.byte_start as u32, (w.byte_start + w.text.len()) as u32))
            .collect();
        Ok(PreparedText {
            normalized,
            masked: masked.text,
            pii: masked.spans,
            truncated,
            word_spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::SegmentConfig;

    #[test]
    fn prepares_masked_segmented_text() {
        let p = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
        let t = p
            .prepare(
                Some("寬帶斷網"),
                "我的電話１３８１２３４５６７８，寬帶三天沒網",
            )
            .unwrap();
        assert_eq!(t.masked, "宽带断网。我的电话〔手机号〕,宽带三天没网");
        assert!(t.words().any(|w| w == "宽带"));
        assert!(!t.words().any(|w| w.contains("138")));
        assert_eq!(t.pii.len(), 1);
        assert!(!t.truncated);
    }

    #[test]
    fn rejects_empty_text() {
        let p = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
        assert!(matches!(p.prepare(None, " \n\t "), Err(Error::EmptyText)));
        assert!(matches!(p.prepare(Some("标题"), ""), Err(Error::EmptyText)));
    }
}
