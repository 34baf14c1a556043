//! The text pipeline every complaint goes through before it is modelled, indexed or logged:
//! normalise → mask PII → window → segment. Title and text are normalised and masked each on
//! its own, then joined (`title。text`) for the model.

use std::ops::Range;

use serde::Serialize;

use super::fingerprint::Signature;
use super::normalize::normalize;
use super::pii::{PiiSpan, contact_hash, mask_pii};
use super::segment::Segmenter;
use super::window::head_tail_window;
use crate::domain::PiiKind;
use crate::error::{Error, Result};

/// Joins a title and its text for the model.
const TITLE_JOIN: &str = "。";

/// A complaint's text made ready for the model and the index.
#[derive(Debug, Clone, Serialize)]
pub struct PreparedText {
    /// `title。text`, normalised, with PII replaced by typed placeholders, cut to its head +
    /// tail window when over-long: what the model reads, and what may be logged.
    pub masked: String,
    /// PII found, with offsets into the normalised text before masking (title, `。`, text).
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

    /// The whole words of the masked text that hold the bytes `[start, end)`, without the
    /// punctuation and spaces at their edges: a character n-gram the model weighed, widened to
    /// what a reader would call a word or phrase (`染,` → `污染`, `保部门` → `环保部门`).
    /// Empty when the range holds nothing but punctuation.
    pub fn whole_words(&self, start: usize, end: usize) -> Range<usize> {
        let spans = &self.word_spans;
        // The first word ending after `start`, the last word starting before `end`.
        let first = spans.partition_point(|&(_, e)| (e as usize) <= start);
        let last = spans.partition_point(|&(s, _)| (s as usize) < end);
        let (mut a, mut b) = match (
            spans.get(first),
            last.checked_sub(1).and_then(|i| spans.get(i)),
        ) {
            (Some(&(s, _)), Some(&(_, e))) if first < last => (s as usize, e as usize),
            _ => (start, end),
        };
        let text = &self.masked;
        while let Some(c) = text[a..b].chars().next().filter(|c| !c.is_alphanumeric()) {
            a += c.len_utf8();
        }
        while let Some(c) = text[a..b]
            .chars()
            .next_back()
            .filter(|c| !c.is_alphanumeric())
        {
            b -= c.len_utf8();
        }
        a..b
    }
}

/// A complaint as intake receives it: the fields a person typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawComplaint<'a> {
    /// Subject line, if any.
    pub title: Option<&'a str>,
    /// The complaint's words.
    pub text: &'a str,
    /// The complainant's phone, id number or e-mail, if given apart from the text.
    pub contact: Option<&'a str>,
}

/// Everything intake needs of a complaint's text, made once: nothing downstream normalises or
/// masks it again.
#[derive(Debug, Clone)]
pub struct PreparedComplaint {
    /// What the model reads.
    pub text: PreparedText,
    /// Where the masked title and text are.
    parts: Parts,
    /// The complainant's salted contact hash: of the contact given, else of the first mobile
    /// or id number in the text.
    pub contact_hash: Option<String>,
    /// The near-duplicate fingerprint of the masked text (without the title).
    pub fingerprint: Signature,
}

/// The masked title and text: ranges of the model's text, unless it was windowed.
#[derive(Debug, Clone)]
enum Parts {
    Within {
        title: Option<Range<usize>>,
        body: Range<usize>,
    },
    /// The whole `title。text`, with the ranges of both in it.
    Windowed {
        full: String,
        title: Option<Range<usize>>,
        body: Range<usize>,
    },
}

impl PreparedComplaint {
    /// The title, normalised and masked.
    pub fn title(&self) -> Option<&str> {
        match &self.parts {
            Parts::Within { title, .. } => title.clone().map(|r| &self.text.masked[r]),
            Parts::Windowed { full, title, .. } => title.clone().map(|r| &full[r]),
        }
    }

    /// The whole text (not windowed), normalised and masked: what is stored, indexed and shown.
    pub fn body(&self) -> &str {
        match &self.parts {
            Parts::Within { body, .. } => &self.text.masked[body.clone()],
            Parts::Windowed { full, body, .. } => &full[body.clone()],
        }
    }
}

/// Runs the text stages. Cheap to clone; build once (it owns the jieba dictionary).
#[derive(Debug, Clone)]
pub struct TextPipeline {
    segmenter: Segmenter,
}

/// Title and text normalised and masked, joined.
struct Masked {
    joined: String,
    pii: Vec<PiiSpan>,
    title: Option<Range<usize>>,
    body: Range<usize>,
    /// The first mobile or id number of the text, unmasked.
    contact_in_text: Option<String>,
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

    /// Prepares a text for the model: `title` (optional) and `text` normalised and masked, joined
    /// with `。`, windowed if over [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS), and segmented.
    /// Training, evaluation and intake all read complaints through this.
    ///
    /// Errors with [`Error::EmptyText`] when the text has nothing but whitespace.
    pub fn prepare(&self, title: Option<&str>, text: &str) -> Result<PreparedText> {
        let masked = mask(title, text)?;
        Ok(self.model_text(masked.joined.into(), masked.pii).0)
    }

    /// Prepares a complaint at intake: [`TextPipeline::prepare`], and the title and text kept
    /// apart, the contact's hash (with `salt`) and the fingerprint.
    pub fn prepare_complaint(
        &self,
        complaint: &RawComplaint<'_>,
        salt: &str,
    ) -> Result<PreparedComplaint> {
        let Masked {
            joined,
            pii,
            title,
            body,
            contact_in_text,
        } = mask(complaint.title, complaint.text)?;
        let contact = complaint
            .contact
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .or(contact_in_text);
        let fingerprint = Signature::of(&joined[body.clone()]);
        let (text, windowed) = self.model_text(std::borrow::Cow::Owned(joined), pii);
        let parts = match windowed {
            Some(full) => Parts::Windowed { full, title, body },
            None => Parts::Within { title, body },
        };
        Ok(PreparedComplaint {
            text,
            parts,
            contact_hash: contact.map(|c| contact_hash(&c, salt)),
            fingerprint,
        })
    }

    /// Windows and segments the joined masked text; returns the whole text too when it was
    /// windowed.
    fn model_text(
        &self,
        joined: std::borrow::Cow<'_, str>,
        pii: Vec<PiiSpan>,
    ) -> (PreparedText, Option<String>) {
        let (window, truncated) = head_tail_window(&joined);
        let (masked, full) = if truncated {
            (window.into_owned(), Some(joined.into_owned()))
        } else {
            drop(window);
            (joined.into_owned(), None)
        };
        let word_spans = self
            .segmenter
            .cut(&masked)
            .into_iter()
            .map(|w| (w.byte_start as u32, (w.byte_start + w.text.len()) as u32))
            .collect();
        (
            PreparedText {
                masked,
                pii,
                truncated,
                word_spans,
            },
            full,
        )
    }
}

/// Normalises and masks the title and the text, each on its own, and joins them.
fn mask(title: Option<&str>, text: &str) -> Result<Masked> {
    if text.trim().is_empty() {
        return Err(Error::EmptyText);
    }
    let body_norm = normalize(text);
    if body_norm.is_empty() {
        return Err(Error::EmptyText);
    }
    let body = mask_pii(&body_norm);
    let contact_in_text = body
        .spans
        .iter()
        .find(|s| matches!(s.kind, PiiKind::Mobile | PiiKind::IdCard))
        .map(|s| body_norm[s.byte_start..s.byte_end].to_string());
    let title_norm = title.map(normalize).filter(|t| !t.is_empty());
    let Some(title_norm) = title_norm else {
        let len = body.text.len();
        return Ok(Masked {
            joined: body.text,
            pii: body.spans,
            title: None,
            body: 0..len,
            contact_in_text,
        });
    };
    let title = mask_pii(&title_norm);
    let mut joined = String::with_capacity(title.text.len() + TITLE_JOIN.len() + body.text.len());
    joined.push_str(&title.text);
    joined.push_str(TITLE_JOIN);
    let body_start = joined.len();
    joined.push_str(&body.text);
    // Body offsets move past the title and the join, in the normalised text.
    let (chars, bytes) = (
        title_norm.chars().count() + TITLE_JOIN.chars().count(),
        title_norm.len() + TITLE_JOIN.len(),
    );
    let mut pii = title.spans;
    pii.extend(body.spans.into_iter().map(|s| PiiSpan {
        start: s.start + chars,
        end: s.end + chars,
        byte_start: s.byte_start + bytes,
        byte_end: s.byte_end + bytes,
        ..s
    }));
    Ok(Masked {
        pii,
        title: Some(0..title.text.len()),
        body: body_start..joined.len(),
        joined,
        contact_in_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{MAX_TEXT_CHARS, SegmentConfig};

    fn pipeline() -> TextPipeline {
        TextPipeline::new(Segmenter::new(SegmentConfig::default()))
    }

    #[test]
    fn an_ngram_widens_to_the_whole_words_that_hold_it() {
        let t = pipeline()
            .prepare(None, "河水被严重污染,请环保部门处理")
            .unwrap();
        let words = |unit: &str| {
            let at = t.masked.find(unit).unwrap();
            t.masked[t.whole_words(at, at + unit.len())].to_string()
        };
        assert_eq!(words("染,"), "污染");
        assert_eq!(words("保部门"), "环保部门");
        assert_eq!(words("严重"), "严重");
        let at = t.masked.find(',').unwrap();
        assert!(t.whole_words(at, at + 1).is_empty());
    }

    #[test]
    fn prepares_masked_segmented_text() {
        let t = pipeline()
            .prepare(
                Some("寬帶斷網"),
                "我的電話１３８１２３４５６７８，寬帶三天沒網",
            )
            .unwrap();
        assert_eq!(t.masked, "宽带断网。我的电话〔手机号〕,宽带三天没网");
        assert!(t.words().any(|w| w == "宽带"));
        assert!(!t.words().any(|w| w.contains("138")));
        assert_eq!(t.pii.len(), 1);
        // In the normalised joined text: 宽带断网。我的电话 is 9 characters.
        assert_eq!((t.pii[0].start, t.pii[0].end), (9, 20));
        assert!(!t.truncated);
    }

    #[test]
    fn rejects_empty_text() {
        let p = pipeline();
        assert!(matches!(p.prepare(None, " \n\t "), Err(Error::EmptyText)));
        assert!(matches!(p.prepare(Some("标题"), ""), Err(Error::EmptyText)));
    }

    #[test]
    fn a_complaint_keeps_title_and_text_apart_and_hashes_the_contact_once() {
        let p = pipeline();
        let c = p
            .prepare_complaint(
                &RawComplaint {
                    title: Some(" 投訴 13912345678 "),
                    text: "電話１３８１２３４５６７８，寬帶三天沒網",
                    contact: None,
                },
                "salt",
            )
            .unwrap();
        assert_eq!(c.title(), Some("投诉 〔手机号〕"));
        assert_eq!(c.body(), "电话〔手机号〕,宽带三天没网");
        assert_eq!(
            c.text.masked,
            "投诉 〔手机号〕。电话〔手机号〕,宽带三天没网"
        );
        // The contact is the text's number, not the title's.
        assert_eq!(c.contact_hash, Some(contact_hash("13812345678", "salt")));
        assert_eq!(c.fingerprint, Signature::of(c.body()));
        let given = p
            .prepare_complaint(
                &RawComplaint {
                    title: None,
                    text: "电话13812345678",
                    contact: Some(" 13700000000 "),
                },
                "salt",
            )
            .unwrap();
        assert_eq!(
            given.contact_hash,
            Some(contact_hash("13700000000", "salt"))
        );
        assert_eq!(given.title(), None);
        assert_eq!(given.body(), "电话〔手机号〕");
    }

    #[test]
    fn a_windowed_complaint_still_stores_its_whole_text() {
        let long = format!(
            "开头{}结尾13812345678",
            "很长的投诉".repeat(MAX_TEXT_CHARS / 5 + 10)
        );
        let c = pipeline()
            .prepare_complaint(
                &RawComplaint {
                    title: Some("标题"),
                    text: &long,
                    contact: None,
                },
                "s",
            )
            .unwrap();
        assert!(c.text.truncated);
        assert!(c.text.masked.chars().count() < c.body().chars().count());
        assert!(c.body().starts_with("开头") && c.body().ends_with("结尾〔手机号〕"));
        assert_eq!(c.title(), Some("标题"));
        assert!(!c.body().contains("138"));
    }
}
