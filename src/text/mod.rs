//! Chinese text handling: normalisation, PII masking, segmentation, keywords, near-duplicate
//! fingerprints, similarity, and the
//! tokenizer adapter that makes the search index segment the same way.

mod fingerprint;
mod keywords;
mod normalize;
mod pii;
mod pipeline;
mod search_tokenizer;
mod segment;
mod similarity;
mod window;

pub use self::fingerprint::{BANDS, MINHASHES, NEAR_DUPLICATE_JACCARD, Signature, Sketch};
pub use self::keywords::Keyword;
pub use self::normalize::normalize;
pub use self::pii::{Masked, PiiSpan, contact_hash, mask_free_text, mask_json, mask_pii};
pub use self::pipeline::{PreparedComplaint, PreparedText, RawComplaint, TextPipeline};
pub use self::search_tokenizer::ChineseTokenizer;
pub use self::segment::{SegmentConfig, Segmenter, Word};
pub use self::similarity::{BigramProfile, similarity};
pub use self::window::{MAX_TEXT_CHARS, WINDOW_HEAD_CHARS, WINDOW_TAIL_CHARS, head_tail_window};
