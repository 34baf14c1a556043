//! The unit vocabulary, kept as a `tokenizers` WordLevel model in `tokenizer.json`.
//!
//! Units (char n-grams, words) are produced by [`for_each_unit`](super::units::for_each_unit);
//! the tokenizer maps each to its id. Id 0 is `[UNK]`, which the model weights at zero.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use tokenizers::Tokenizer;
use tokenizers::models::wordlevel::WordLevel;

use super::units::{UnitConfig, for_each_unit};
use crate::error::{Error, Result};
use crate::text::PreparedText;

/// The out-of-vocabulary unit; its id is 0.
pub const UNK: &str = "[UNK]";

/// A complaint as a bag of unit ids with their counts, ids ascending, `[UNK]` dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitBag {
    /// Unit ids, ascending, unique.
    pub ids: Vec<u32>,
    /// How often each unit occurs.
    pub counts: Vec<f32>,
}

/// Maps units to ids. Wraps a `tokenizers::Tokenizer` so that the vocabulary is saved and
/// loaded in the standard `tokenizer.json` format.
#[derive(Clone)]
pub struct UnitTokenizer {
    tokenizer: Tokenizer,
    units: UnitConfig,
    /// The same vocabulary for encoding: `Tokenizer::token_to_id` looks each unit up twice
    /// (added tokens, then the model), the first time with SipHash, for a few hundred units
    /// a complaint.
    ids: Arc<FxHashMap<Box<str>, u32>>,
}

impl std::fmt::Debug for UnitTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("units", &self.units)
            .finish()
    }
}

impl UnitTokenizer {
    /// Builds the vocabulary from training texts: units occurring in at least `min_df`
    /// texts, the `max_vocab − 1` most frequent by document frequency (ties broken by the
    /// unit, so the result is deterministic). Returns the tokenizer and each id's document
    /// frequency (index 0, `[UNK]`, has 0).
    pub fn build(
        texts: &[PreparedText],
        units: UnitConfig,
        min_df: usize,
        max_vocab: usize,
    ) -> Result<(Self, Vec<u32>)> {
        let mut df: HashMap<&str, u32> = HashMap::new();
        let mut seen: Vec<&str> = Vec::new();
        for t in texts {
            seen.clear();
            for_each_unit(t, units, |u| seen.push(u));
            seen.sort_unstable();
            seen.dedup();
            for u in &seen {
                *df.entry(u).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, u32)> = df
            .into_iter()
            .filter(|&(_, n)| n as usize >= min_df)
            .collect();
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        kept.truncate(max_vocab.saturating_sub(1));

        let mut vocab = ahash::AHashMap::with_capacity(kept.len() + 1);
        vocab.insert(UNK.to_string(), 0u32);
        let mut dfs = vec![0u32];
        for (i, (u, n)) in kept.into_iter().enumerate() {
            vocab.insert(u.to_string(), i as u32 + 1);
            dfs.push(n);
        }
        let model = WordLevel::builder()
            .vocab(vocab)
            .unk_token(UNK.to_string())
            .build()
            .map_err(|e| Error::Model(e.to_string()))?;
        Ok((UnitTokenizer::new(Tokenizer::new(model), units), dfs))
    }

    /// Loads `tokenizer.json`; `units` comes from the model's `config.json`.
    pub fn load(path: &Path, units: UnitConfig) -> Result<Self> {
        let tokenizer = Tokenizer::from_file(path)
            .map_err(|e| Error::bad_file(path, format!("not a tokenizer.json: {e}")))?;
        Ok(UnitTokenizer::new(tokenizer, units))
    }

    fn new(tokenizer: Tokenizer, units: UnitConfig) -> Self {
        let ids = tokenizer
            .get_vocab(false)
            .into_iter()
            .map(|(unit, id)| (unit.into_boxed_str(), id))
            .collect();
        UnitTokenizer {
            tokenizer,
            units,
            ids: Arc::new(ids),
        }
    }

    /// Writes `tokenizer.json`.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.tokenizer
            .save(path, false)
            .map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Number of ids, `[UNK]` included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(false)
    }

    /// The unit with id `id`.
    pub fn unit(&self, id: u32) -> Option<String> {
        self.tokenizer.id_to_token(id)
    }

    /// The complaint's bag of known units.
    pub fn encode(&self, text: &PreparedText) -> UnitBag {
        let mut ids: Vec<u32> = Vec::with_capacity(text.masked.len());
        for_each_unit(text, self.units, |u| {
            if let Some(&id) = self.ids.get(u).filter(|&&id| id != 0) {
                ids.push(id);
            }
        });
        ids.sort_unstable();
        let mut bag = UnitBag::default();
        for id in ids {
            if bag.ids.last() == Some(&id) {
                *bag.counts.last_mut().expect("pushed with ids") += 1.0;
            } else {
                bag.ids.push(id);
                bag.counts.push(1.0);
            }
        }
        bag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{SegmentConfig, Segmenter, TextPipeline};

    #[test]
    fn builds_saves_loads_and_encodes() {
        let p = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
        let texts: Vec<_> = ["宽带断网", "宽带很慢", "话费乱扣"]
            .iter()
            .map(|t| p.prepare(None, t).unwrap())
            .collect();
        let (tok, df) = UnitTokenizer::build(&texts, UnitConfig::default(), 2, 100).unwrap();
        assert_eq!(tok.vocab_size(), 4, "[UNK], 宽, 带, 宽带");
        assert_eq!(df, vec![0, 2, 2, 2]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tok.save(&path).unwrap();
        let back = UnitTokenizer::load(&path, UnitConfig::default()).unwrap();
        let bag = back.encode(&p.prepare(None, "宽带宽带坏").unwrap());
        assert_eq!(bag.counts, vec![2.0, 2.0, 2.0], "坏 is unknown and dropped");
        assert_eq!(bag.ids.len(), 3);
        // The encoding map is the saved vocabulary, id for id.
        for unit in ["[UNK]", "宽", "带", "宽带"] {
            assert_eq!(
                back.ids.get(unit).copied(),
                back.tokenizer.token_to_id(unit),
                "{unit}"
            );
            assert_eq!(back.ids.get(unit), tok.ids.get(unit), "{unit}");
        }
    }
}
