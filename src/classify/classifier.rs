//! A trained model loaded from `models/<profile>/`, ready to predict and explain.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::labels::Labels;
use super::model::{ComplaintModel, FoldedModel, Head, IDF, ModelConfig, tfidf_weights};
use super::prediction::{Driver, Prediction, head_prediction};
use super::reasons::{best_reason, pool_reason_row};
use super::tokenizer::{UnitBag, UnitTokenizer};
use crate::domain::{PiiKind, Reason};
use crate::error::{Error, Result};
use crate::text::PreparedText;

/// Phrases listed as the drivers of a prediction.
pub const DRIVERS: usize = 5;

/// A loaded model: tokenizer, weights, labels and calibration. Immutable and `Send + Sync`;
/// share it behind an `Arc`.
#[derive(Debug)]
pub struct Classifier {
    config: ModelConfig,
    labels: Labels,
    tokenizer: UnitTokenizer,
    idf: Vec<f32>,
    model: FoldedModel,
}

/// Files of a model directory.
pub(crate) const TOKENIZER_FILE: &str = "tokenizer.json";
pub(crate) const WEIGHTS_FILE: &str = "model.safetensors";
pub(crate) const CONFIG_FILE: &str = "config.json";
pub(crate) const LABELS_FILE: &str = "labels.json";
pub(crate) const CARD_FILE: &str = "README.md";

impl Classifier {
    /// Loads `dir/{config.json, labels.json, tokenizer.json, model.safetensors}`. Blocking;
    /// well under a second for a shipped profile.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = |f: &str| -> PathBuf { dir.join(f) };
        if !dir.is_dir() {
            return Err(Error::bad_file(
                dir,
                "model directory not found: pass --model models/<profile> (trained by `tousu train`)",
            ));
        }
        let cfg_path = path(CONFIG_FILE);
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
        let config: ModelConfig = serde_json::from_str(&cfg_text)
            .map_err(|e| Error::bad_file(&cfg_path, e.to_string()))?;
        let labels = Labels::load(&path(LABELS_FILE))?;
        let tokenizer = UnitTokenizer::load(&path(TOKENIZER_FILE), config.units)?;
        let device = Device::Cpu;
        let weights_path = path(WEIGHTS_FILE);
        // Shipped weights may be f16 (`halve_weights`): widened here, computed in f32.
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .and_then(|ts| {
                ts.into_iter()
                    .map(|(name, t)| Ok((name, t.to_dtype(DType::F32)?)))
                    .collect::<candle_core::Result<HashMap<_, _>>>()
            })
            .map_err(|e| Error::bad_file(&weights_path, e.to_string()))?;
        Self::from_parts(config, labels, tokenizer, tensors)
            .map_err(|e| Error::bad_file(&weights_path, e.to_string()))
    }

    /// Assembles a classifier from in-memory parts (used by training for dev scoring).
    pub(crate) fn from_parts(
        config: ModelConfig,
        labels: Labels,
        tokenizer: UnitTokenizer,
        tensors: HashMap<String, Tensor>,
    ) -> Result<Self> {
        let device = Device::Cpu;
        let model_err = |e: candle_core::Error| Error::Model(e.to_string());
        let idf = tensors
            .get(IDF)
            .ok_or_else(|| Error::Model(format!("tensor {IDF} missing")))?
            .to_vec1::<f32>()
            .map_err(model_err)?;
        if idf.len() != config.vocab_size || tokenizer.vocab_size() != config.vocab_size {
            return Err(Error::Model(format!(
                "vocabulary sizes disagree: config {}, tokenizer {}, idf {}",
                config.vocab_size,
                tokenizer.vocab_size(),
                idf.len()
            )));
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = ComplaintModel::new(vb, &config)
            .and_then(|m| FoldedModel::new(&m))
            .map_err(model_err)?;
        Ok(Classifier {
            config,
            labels,
            tokenizer,
            idf,
            model,
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The model's labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The unit tokenizer.
    pub fn tokenizer(&self) -> &UnitTokenizer {
        &self.tokenizer
    }

    /// Predicts category and grade for each text.
    pub fn predict(&self, texts: &[PreparedText]) -> Result<Vec<Prediction>> {
        let bags: Vec<UnitBag> = texts.iter().map(|t| self.tokenizer.encode(t)).collect();
        Ok(self.predict_bags(&bags))
    }

    /// Predicts category and grade for one text, and the text as the model read it (for
    /// [`Classifier::explain_bag`], instead of encoding it again).
    pub fn predict_one(&self, text: &PreparedText) -> Result<(Prediction, UnitBag)> {
        let bag = self.tokenizer.encode(text);
        let prediction = self
            .predict_bags(std::slice::from_ref(&bag))
            .pop()
            .expect("one bag, one prediction");
        Ok((prediction, bag))
    }

    fn predict_bags(&self, bags: &[UnitBag]) -> Vec<Prediction> {
        let HeadLogits {
            category: cat,
            grade,
            reasons,
        } = self.head_logits(bags);
        let head = |logits: Option<&Vec<f32>>, labels: &[String], t: f32| {
            logits.map(|l| head_prediction(l, labels, t))
        };
        (0..bags.len())
            .map(|i| {
                let grade = head(
                    grade.as_ref().map(|g| &g[i]),
                    &self.labels.grade,
                    self.config.grade_temperature,
                );
                let reason = match (&grade, &reasons) {
                    (Some(g), Some(r)) => Some(Reason::ALL[best_reason(&r[i], g.class)]),
                    _ => None,
                };
                Prediction {
                    category: head(
                        cat.as_ref().map(|c| &c[i]),
                        &self.labels.category,
                        self.config.category_temperature,
                    ),
                    grade,
                    reason,
                }
            })
            .collect()
    }

    /// Raw (uncalibrated) logits of both heads, one row per bag.
    #[allow(clippy::type_complexity)]
    pub(crate) fn logits(
        &self,
        bags: &[UnitBag],
    ) -> (Option<Vec<Vec<f32>>>, Option<Vec<Vec<f32>>>) {
        let l = self.head_logits(bags);
        (l.category, l.grade)
    }

    fn head_logits(&self, bags: &[UnitBag]) -> HeadLogits {
        let mut cat = self.model_has(Head::Category).then(Vec::new);
        let mut grade = self.model_has(Head::Grade).then(Vec::new);
        let mut reasons = self.config.grade_reasons.then(Vec::new);
        let split = self.model.num_categories();
        for bag in bags {
            let w = tfidf_weights(&bag.ids, &bag.counts, &self.idf);
            let row = self.model.columns(&bag.ids, &w);
            let (c, g) = row.split_at(split);
            if let Some(acc) = cat.as_mut() {
                acc.push(c.to_vec());
            }
            match (grade.as_mut(), reasons.as_mut()) {
                (Some(grade), Some(reasons)) => {
                    grade.push(pool_reason_row(g).to_vec());
                    reasons.push(g.to_vec());
                }
                (Some(grade), None) => grade.push(g.to_vec()),
                _ => {}
            }
        }
        HeadLogits {
            category: cat,
            grade,
            reasons,
        }
    }

    fn model_has(&self, head: Head) -> bool {
        match head {
            Head::Category => self.config.num_categories > 0,
            Head::Grade => self.config.grade_head,
        }
    }

    /// The phrases that pushed `head` towards class `class` most, strongest first, at most
    /// [`DRIVERS`]; overlapping n-grams are reported once, as the strongest.
    pub fn explain(&self, text: &PreparedText, head: Head, class: usize) -> Result<Vec<Driver>> {
        self.explain_bag(text, &self.tokenizer.encode(text), head, class)
    }

    /// As [`Classifier::explain`], for the text as [`Classifier::predict_one`] encoded it.
    pub fn explain_bag(
        &self,
        text: &PreparedText,
        bag: &UnitBag,
        head: Head,
        class: usize,
    ) -> Result<Vec<Driver>> {
        if bag.ids.is_empty() {
            return Ok(Vec::new());
        }
        let w = tfidf_weights(&bag.ids, &bag.counts, &self.idf);
        // A head of reasons explains a grade by its best reason's column.
        let column = if head == Head::Grade && self.config.grade_reasons {
            let row = self.model.columns(&bag.ids, &w);
            best_reason(&row[self.model.num_categories()..], class)
        } else {
            class
        };
        let Some(contributions) = self.model.contributions(head, column, &bag.ids, &w) else {
            return Ok(Vec::new());
        };
        let mut scored: Vec<(f32, u32)> = contributions
            .into_iter()
            .zip(bag.ids.iter().copied())
            .filter(|(c, _)| *c > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));

        let mut drivers: Vec<Driver> = Vec::new();
        let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
        for (weight, id) in scored {
            let Some(unit) = self.tokenizer.unit(id) else {
                continue;
            };
            // The first place the n-gram, widened to the jieba words that hold it (an analyst
            // reads words), makes a phrase: not inside a placeholder, not already a driver.
            let found = text
                .masked
                .match_indices(unit.as_str())
                .find_map(|(at, _)| {
                    let span = text.whole_words(at, at + unit.len());
                    let phrase = &text.masked[span.clone()];
                    // Single characters, punctuation and masked values explain nothing.
                    let telling = phrase.chars().count() >= 2
                        && phrase.chars().any(char::is_alphanumeric)
                        && !PiiKind::touches_mask(phrase)
                        && !in_placeholder(&text.masked, span.start);
                    // Units of one word (宽带, 宽, 带宽…) count once, at their strongest.
                    let fresh = !spans
                        .iter()
                        .any(|s| s.start < span.end && span.start < s.end)
                        && !drivers.iter().any(|d| d.phrase == phrase);
                    (telling && fresh).then_some(span)
                });
            let Some(span) = found else {
                continue;
            };
            let phrase = &text.masked[span.clone()];
            drivers.push(Driver {
                phrase: phrase.to_string(),
                weight,
                start: text.masked[..span.start].chars().count(),
            });
            spans.push(span);
            if drivers.len() == DRIVERS {
                break;
            }
        }
        Ok(drivers)
    }
}

/// Raw logits of a batch, one row per bag: each head's, and the reasons' behind the grades.
struct HeadLogits {
    category: Option<Vec<Vec<f32>>>,
    grade: Option<Vec<Vec<f32>>>,
    reasons: Option<Vec<Vec<f32>>>,
}

/// Whether byte `at` of `masked` is inside a PII placeholder (`〔手机号〕`): its words say that
/// something was masked, not why the complaint was judged as it was.
fn in_placeholder(masked: &str, at: usize) -> bool {
    let before = &masked[..at];
    before
        .rfind('〔')
        .is_some_and(|open| before[open..].find('〕').is_none())
}
