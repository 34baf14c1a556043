//! The complaint model: one shared encoder (a TF-IDF-weighted bag of unit embeddings) and two
//! linear heads, category and grade.
//!
//! Why a bag and not a CNN or transformer: on these short, template-heavy texts a bag of char
//! n-grams is the strong baseline, the model is fast enough for the request path (a MiniLM in
//! candle takes ~45 ms here), and a linear read-out makes every prediction exactly attributable
//! to the units that drove it.

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::reasons::pool_reasons;
use super::units::UnitConfig;
use crate::domain::{Grade, Reason};
use crate::text::SegmentConfig;

/// `config.json`: the model's shape and how its input is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The profile this model belongs to (`telecom`, `gov`, …).
    pub profile: String,
    /// Number of unit ids, `[UNK]` included.
    pub vocab_size: usize,
    /// Embedding (encoder output) dimension.
    pub dim: usize,
    /// Number of categories; 0 when the model has no category head.
    pub num_categories: usize,
    /// Whether the model has a grade head (一般 / 严重 / 重大).
    pub grade_head: bool,
    /// Units the tokenizer extracts.
    pub units: UnitConfig,
    /// Segmentation options the model was trained with.
    pub segment: SegmentConfig,
    /// Softmax temperature of the category head, fitted on dev (1 = uncalibrated).
    pub category_temperature: f32,
    /// Softmax temperature of the grade head, fitted on dev.
    pub grade_temperature: f32,
    /// Whether the grade head learns the guideline's reason codes ([`Reason::ALL`]) rather than
    /// the three grades: 严重 and 重大 are each a union of unlike reasons (a gas leak and a
    /// threat to call the press), which one linear score per grade fits poorly. A grade's
    /// logit is then the largest of its reasons' logits.
    #[serde(default)]
    pub grade_reasons: bool,
    /// Whether each unit also has its own weight per column (`sparse_head`), added to what the
    /// shared encoder gives: a full-rank linear model over the units (a TF-IDF logistic
    /// regression) beside the low-rank one, trained together. It folds into the same table, so
    /// it costs nothing per prediction.
    #[serde(default)]
    pub sparse_head: bool,
    /// Whether the sparse head holds the category columns only: a category SVM's table
    /// (`tousu train --category-svm` without `--sparse-head`), the encoder's category head
    /// weighing nothing (its biases are the SVM's). With `--sparse-head` too, the SVM takes
    /// the category columns of the whole table and this stays false.
    #[serde(default)]
    pub category_svm: bool,
}

impl ModelConfig {
    /// Outputs of the grade head: 3 grades, or 11 reasons; 0 without a grade head.
    pub fn grade_width(&self) -> usize {
        grade_width(self.grade_head, self.grade_reasons)
    }

    /// Columns of a folded row (and of the sparse head): categories, then the grade head's.
    pub fn columns(&self) -> usize {
        self.num_categories + self.grade_width()
    }

    /// Columns of the sparse head: the categories' alone under a category SVM, else all.
    pub fn sparse_width(&self) -> usize {
        if self.category_svm {
            self.num_categories
        } else {
            self.columns()
        }
    }
}

/// Outputs of a grade head: 3 grades, 11 reasons with `reasons`, 0 without a grade head.
pub fn grade_width(grade_head: bool, reasons: bool) -> usize {
    match (grade_head, reasons) {
        (false, _) => 0,
        (true, false) => Grade::ALL.len(),
        (true, true) => Reason::ALL.len(),
    }
}

/// Tensor names, which are the keys in `model.safetensors`.
pub(crate) const EMBEDDING: &str = "encoder.embedding";
pub(crate) const CATEGORY_HEAD: &str = "category_head";
pub(crate) const GRADE_HEAD: &str = "grade_head";
/// Per-unit weights when `sparse_head` is set: of every column, `[vocab_size, columns]`, or of
/// the categories alone, `[vocab_size, num_categories]`, when `category_svm` is set too.
pub(crate) const SPARSE_HEAD: &str = "sparse_head";
/// Per-unit inverse document frequency, shape `[vocab_size]`; not trained.
pub(crate) const IDF: &str = "encoder.idf";

/// The two outputs of a forward pass.
#[derive(Debug)]
pub struct Logits {
    /// `[batch, num_categories]`, when the model has a category head.
    pub category: Option<Tensor>,
    /// `[batch, 3]`, when the model has a grade head.
    pub grade: Option<Tensor>,
    /// `[batch, 11]`, the reasons' logits, when the grade head learns reasons.
    pub reasons: Option<Tensor>,
}

impl Logits {
    /// Both heads' logits from the category columns and the grade head's raw output.
    fn of(
        category: Option<Tensor>,
        grade_head: Option<Tensor>,
        reasons: bool,
    ) -> candle_core::Result<Self> {
        if !reasons {
            return Ok(Logits {
                category,
                grade: grade_head,
                reasons: None,
            });
        }
        let grade = grade_head.as_ref().map(pool_reasons).transpose()?;
        Ok(Logits {
            category,
            grade,
            reasons: grade_head,
        })
    }
}

/// The candle module.
#[derive(Debug, Clone)]
pub struct ComplaintModel {
    embedding: Embedding,
    category: Option<Linear>,
    grade: Option<Linear>,
    /// `[vocab, columns]`, read like the embedding: each unit's own logit per column.
    sparse: Option<Embedding>,
    num_categories: usize,
    reasons: bool,
}

impl ComplaintModel {
    /// Builds the model from `vb` (names: `encoder.embedding.weight`, `category_head.{weight,bias}`,
    /// `grade_head.{weight,bias}`, `sparse_head.weight`).
    pub fn new(vb: VarBuilder, cfg: &ModelConfig) -> candle_core::Result<Self> {
        let embedding = candle_nn::embedding(cfg.vocab_size, cfg.dim, vb.pp(EMBEDDING))?;
        let category = (cfg.num_categories > 0)
            .then(|| candle_nn::linear(cfg.dim, cfg.num_categories, vb.pp(CATEGORY_HEAD)))
            .transpose()?;
        let grade = cfg
            .grade_head
            .then(|| candle_nn::linear(cfg.dim, cfg.grade_width(), vb.pp(GRADE_HEAD)))
            .transpose()?;
        let sparse = cfg
            .sparse_head
            .then(|| candle_nn::embedding(cfg.vocab_size, cfg.sparse_width(), vb.pp(SPARSE_HEAD)))
            .transpose()?;
        Ok(ComplaintModel {
            embedding,
            category,
            grade,
            sparse,
            num_categories: cfg.num_categories,
            reasons: cfg.grade_reasons,
        })
    }

    /// The encoder: `ids` `[batch, len]` (u32) and `weights` `[batch, len]` (f32, 0 for padding)
    /// → `[batch, dim]`, the weighted sum of the units' embeddings.
    pub fn encode(&self, ids: &Tensor, weights: &Tensor) -> candle_core::Result<Tensor> {
        bag(&self.embedding, ids, weights)
    }

    /// Both heads' logits for a batch (see [`encode`](Self::encode) for shapes).
    pub fn forward(&self, ids: &Tensor, weights: &Tensor) -> candle_core::Result<Logits> {
        let h = self.encode(ids, weights)?;
        let mut category = self.category.as_ref().map(|l| l.forward(&h)).transpose()?;
        let mut grade = self.grade.as_ref().map(|l| l.forward(&h)).transpose()?;
        if let Some(sparse) = &self.sparse {
            let s = bag(sparse, ids, weights)?;
            let nc = self.num_categories;
            if let Some(c) = &mut category {
                *c = (&*c + s.narrow(1, 0, nc)?)?;
            }
            if let Some(g) = &mut grade
                && s.dim(1)? > nc
            {
                *g = (&*g + s.narrow(1, nc, s.dim(1)? - nc)?)?;
            }
        }
        Logits::of(category, grade, self.reasons)
    }
}

/// The weighted sum of `table`'s rows for each bag: `[batch, len]` ids and weights → `[batch,
/// width]`.
fn bag(table: &Embedding, ids: &Tensor, weights: &Tensor) -> candle_core::Result<Tensor> {
    let rows = table.forward(ids)?;
    rows.broadcast_mul(&weights.unsqueeze(D::Minus1)?)?.sum(1)
}

/// The model for inference: each head folded into the embedding table. A head is linear over
/// a weighted sum of embeddings, so `logit_c = Σ w_i · (E[id_i] · W_c) + b_c`; precomputing
/// `E · Wᵀ` once at load leaves a `[vocab, classes]` table (one float per class or reason per
/// unit instead of 96–128), and a prediction becomes a weighted lookup: the same logits, an
/// order of magnitude less memory traffic per complaint. The lookup is a loop over slices:
/// candle folds the table, but its per-operation cost would dwarf a few hundred row reads.
#[derive(Debug, Clone)]
pub struct FoldedModel {
    /// `[vocab × columns]`, row-major: category columns first, then grade (or reason).
    table: Vec<f32>,
    /// Columns of a row: `num_categories + grade_width`.
    columns: usize,
    /// One per column, in the table's column order.
    bias: Vec<f32>,
    num_categories: usize,
    /// Columns of the grade head (0, 3 or 11).
    grade_width: usize,
    reasons: bool,
}

impl FoldedModel {
    /// Folds `model`'s heads into its embedding table.
    pub fn new(model: &ComplaintModel) -> candle_core::Result<Self> {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        // `ComplaintModel::new` builds every head with a bias.
        for linear in [&model.category, &model.grade].into_iter().flatten() {
            weights.push(linear.weight().clone());
            biases.push(linear.bias().expect("heads have a bias").clone());
        }
        if weights.is_empty() {
            return Err(candle_core::Error::Msg(
                "the model has neither a category nor a grade head".into(),
            ));
        }
        let w = Tensor::cat(&weights, 0)?; // [classes, dim]
        let mut table = model.embedding.embeddings().matmul(&w.t()?)?;
        if let Some(sparse) = &model.sparse {
            let sparse = sparse.embeddings();
            let width = sparse.dim(1)?;
            table = if width == table.dim(1)? {
                (table + sparse)?
            } else {
                // A category SVM's table: the category columns only.
                let rest = table.narrow(1, width, table.dim(1)? - width)?;
                Tensor::cat(&[&(table.narrow(1, 0, width)? + sparse)?, &rest], 1)?
            };
        }
        let columns = table.dim(1)?;
        let num_categories = model
            .category
            .as_ref()
            .map_or(Ok(0), |l| l.weight().dim(0))?;
        let grade_width = model.grade.as_ref().map_or(Ok(0), |l| l.weight().dim(0))?;
        Ok(FoldedModel {
            table: table.flatten_all()?.to_vec1()?,
            columns,
            bias: Tensor::cat(&biases, 0)?.to_vec1()?,
            num_categories,
            grade_width,
            reasons: model.reasons,
        })
    }

    /// Both heads' logits for a batch: `ids` `[batch, len]` (u32), `weights` `[batch, len]`
    /// (f32, 0 for padding).
    pub fn forward(&self, ids: &Tensor, weights: &Tensor) -> candle_core::Result<Logits> {
        let (ids, weights) = (ids.to_vec2::<u32>()?, weights.to_vec2::<f32>()?);
        let rows: Vec<f32> = ids
            .iter()
            .zip(&weights)
            .flat_map(|(i, w)| self.columns(i, w))
            .collect();
        let logits = Tensor::from_vec(rows, (ids.len(), self.columns), &Device::Cpu)?;
        Logits::of(
            (self.num_categories > 0)
                .then(|| logits.narrow(1, 0, self.num_categories))
                .transpose()?,
            (self.grade_width > 0)
                .then(|| logits.narrow(1, self.num_categories, self.grade_width))
                .transpose()?,
            self.reasons,
        )
    }

    /// Every column's logit for one complaint's units `ids` and their `weights` (category
    /// columns first, then the grade head's, reasons unpooled): a weighted sum of table rows.
    /// Plain slices, not candle: for one complaint its per-operation overhead was most of the
    /// model's time.
    pub fn columns(&self, ids: &[u32], weights: &[f32]) -> Vec<f32> {
        let mut out = self.bias.clone();
        for (&id, &w) in ids.iter().zip(weights) {
            let row = &self.table[id as usize * self.columns..][..self.columns];
            out.iter_mut().zip(row).for_each(|(o, t)| *o += w * t);
        }
        out
    }

    /// Columns of the category head (the first ones of [`columns`](Self::columns)).
    pub fn num_categories(&self) -> usize {
        self.num_categories
    }

    /// Where a head's columns are in a row: `(first, count)`, `None` without that head.
    fn span(&self, head: Head) -> Option<(usize, usize)> {
        match head {
            Head::Category if self.num_categories > 0 => Some((0, self.num_categories)),
            Head::Grade if self.grade_width > 0 => Some((self.num_categories, self.grade_width)),
            _ => None,
        }
    }

    /// Each unit's contribution to column `column` of `head`, for one complaint's `ids` and
    /// `weights`: the column's logit is exactly their sum plus its bias
    /// ([`FoldedModel::bias_of`]). A head of reasons has a column per reason
    /// ([`best_reason`](super::reasons::best_reason) says which explains a grade).
    pub fn contributions(
        &self,
        head: Head,
        column: usize,
        ids: &[u32],
        weights: &[f32],
    ) -> Option<Vec<f32>> {
        let (first, count) = self.span(head)?;
        (column < count).then(|| {
            ids.iter()
                .zip(weights)
                .map(|(&id, &w)| w * self.table[id as usize * self.columns + first + column])
                .collect()
        })
    }

    /// A head's biases, one per column.
    pub fn bias_of(&self, head: Head) -> &[f32] {
        self.span(head)
            .map_or(&[], |(first, count)| &self.bias[first..first + count])
    }
}

/// Which head of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// The category head.
    Category,
    /// The grade head.
    Grade,
}

/// TF-IDF weights for bags: `(1 + ln tf) × idf`, L2-normalised per complaint, padded to the
/// longest bag. Returns `ids` `[batch, len]` u32 and `weights` `[batch, len]` f32.
pub fn batch_tensors(
    bags: &[(&[u32], Vec<f32>)],
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let len = bags
        .iter()
        .map(|(ids, _)| ids.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut ids = vec![0u32; bags.len() * len];
    let mut ws = vec![0f32; bags.len() * len];
    for (row, (bag_ids, bag_w)) in bags.iter().enumerate() {
        ids[row * len..row * len + bag_ids.len()].copy_from_slice(bag_ids);
        ws[row * len..row * len + bag_w.len()].copy_from_slice(bag_w);
    }
    let ids = Tensor::from_vec(ids, (bags.len(), len), device)?;
    let ws = Tensor::from_vec(ws, (bags.len(), len), device)?.to_dtype(DType::F32)?;
    Ok((ids, ws))
}

/// `(1 + ln tf) × idf`, L2-normalised: sublinear TF-IDF, as in the classic baselines.
pub fn tfidf_weights(ids: &[u32], counts: &[f32], idf: &[f32]) -> Vec<f32> {
    let mut w: Vec<f32> = ids
        .iter()
        .zip(counts)
        .map(|(&id, &tf)| (1.0 + tf.ln()) * idf[id as usize])
        .collect();
    let norm = w.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        w.iter_mut().for_each(|x| *x /= norm);
    }
    w
}

#[cfg(test)]
mod tests {
    use candle_nn::VarMap;

    use super::*;
    use crate::classify::reasons::{best_reason, pool_reason_row};

    fn cfg() -> ModelConfig {
        ModelConfig {
            profile: "t".into(),
            vocab_size: 10,
            dim: 4,
            num_categories: 3,
            grade_head: true,
            units: UnitConfig::default(),
            segment: SegmentConfig::default(),
            category_temperature: 1.0,
            grade_temperature: 1.0,
            grade_reasons: false,
            sparse_head: false,
            category_svm: false,
        }
    }

    #[test]
    fn forward_shapes_and_exact_contributions() -> candle_core::Result<()> {
        forward_shapes_and_exact_contributions_of(&cfg())?;
        // A sparse head folds into the same table: the same logits, exactly attributed.
        forward_shapes_and_exact_contributions_of(&ModelConfig {
            sparse_head: true,
            ..cfg()
        })?;
        // So does a category SVM's table, of the category columns alone.
        forward_shapes_and_exact_contributions_of(&ModelConfig {
            sparse_head: true,
            category_svm: true,
            ..cfg()
        })
    }

    fn forward_shapes_and_exact_contributions_of(cfg: &ModelConfig) -> candle_core::Result<()> {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let m = ComplaintModel::new(vb, cfg)?;
        assert_eq!(m.sparse.is_some(), cfg.sparse_head);
        let bag_ids = [1u32, 4, 7];
        let w = tfidf_weights(&bag_ids, &[1.0, 2.0, 1.0], &[1.0; 10]);
        let (ids, ws) = batch_tensors(&[(&bag_ids, w.clone()), (&[2], vec![1.0])], &Device::Cpu)?;
        let out = m.forward(&ids, &ws)?;
        assert_eq!(out.category.as_ref().unwrap().dims(), &[2, 3]);
        assert_eq!(out.grade.as_ref().unwrap().dims(), &[2, 3]);

        // Folding the heads into the table changes nothing but speed.
        let folded = FoldedModel::new(&m)?;
        let fast = folded.forward(&ids, &ws)?;
        for (full, fold) in [
            (out.category.as_ref(), fast.category.as_ref()),
            (out.grade.as_ref(), fast.grade.as_ref()),
        ] {
            let (full, fold) = (
                full.unwrap().to_vec2::<f32>()?,
                fold.unwrap().to_vec2::<f32>()?,
            );
            for (a, b) in full.iter().flatten().zip(fold.iter().flatten()) {
                assert!((a - b).abs() < 1e-5, "{full:?} vs {fold:?}");
            }
        }

        for (head, logits) in [(Head::Category, &out.category), (Head::Grade, &out.grade)] {
            let linear = match head {
                Head::Category => m.category.as_ref(),
                Head::Grade => m.grade.as_ref(),
            };
            let bias = linear.unwrap().bias().unwrap().to_vec1::<f32>()?;
            assert_eq!(folded.bias_of(head), bias.as_slice());
            let logits = logits.as_ref().unwrap().get(0)?.to_vec1::<f32>()?;
            for (column, logit) in logits.iter().enumerate() {
                let c = folded.contributions(head, column, &bag_ids, &w).unwrap();
                assert_eq!(c.len(), bag_ids.len());
                let rebuilt = c.iter().sum::<f32>() + bias[column];
                assert!((rebuilt - logit).abs() < 1e-5, "{rebuilt} vs {logit}");
            }
            assert!(
                folded
                    .contributions(head, logits.len(), &bag_ids, &w)
                    .is_none()
            );
        }
        Ok(())
    }

    #[test]
    fn a_head_of_reasons_gives_each_grade_its_best_reason() -> candle_core::Result<()> {
        let cfg = ModelConfig {
            grade_reasons: true,
            ..cfg()
        };
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let m = ComplaintModel::new(vb, &cfg)?;
        let bag_ids = [1u32, 4, 7];
        let w = tfidf_weights(&bag_ids, &[1.0, 2.0, 1.0], &[1.0; 10]);
        let (ids, ws) = batch_tensors(&[(&bag_ids, w.clone())], &Device::Cpu)?;
        let out = m.forward(&ids, &ws)?;
        let reasons = out.reasons.unwrap().get(0)?.to_vec1::<f32>()?;
        assert_eq!(reasons.len(), Reason::ALL.len());
        let grades = out.grade.unwrap().get(0)?.to_vec1::<f32>()?;
        for g in Grade::ALL {
            let best = Reason::ALL
                .iter()
                .zip(&reasons)
                .filter(|(r, _)| r.guideline_grade() == g)
                .map(|(_, l)| *l)
                .fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(grades[g.index()], best, "{g}");
            assert_eq!(pool_reason_row(&reasons)[g.index()], best, "{g}");
            // The column that explains the grade is that best reason's.
            let column = best_reason(&reasons, g.index());
            assert_eq!(Reason::ALL[column].guideline_grade(), g);
            assert_eq!(reasons[column], best);
        }

        // Folded, the same grades; its grade contributions are the reasons' columns.
        let folded = FoldedModel::new(&m)?;
        let fast = folded
            .forward(&ids, &ws)?
            .grade
            .unwrap()
            .get(0)?
            .to_vec1::<f32>()?;
        for (a, b) in grades.iter().zip(&fast) {
            assert!((a - b).abs() < 1e-5, "{grades:?} vs {fast:?}");
        }
        let bias = folded.bias_of(Head::Grade);
        assert_eq!(bias.len(), Reason::ALL.len());
        for (column, l) in reasons.iter().enumerate() {
            let c = folded
                .contributions(Head::Grade, column, &bag_ids, &w)
                .unwrap();
            assert!((c.iter().sum::<f32>() + bias[column] - l).abs() < 1e-5);
        }
        // One complaint's columns, unpooled: the categories', then the reasons'.
        let row = folded.columns(&bag_ids, &w);
        assert_eq!(row.len(), 3 + Reason::ALL.len());
        for (a, b) in row[3..].iter().zip(&reasons) {
            assert!((a - b).abs() < 1e-5);
        }
        Ok(())
    }

    #[test]
    fn weights_are_unit_length() {
        let w = tfidf_weights(&[1, 2], &[1.0, 3.0], &[0.0, 2.0, 1.0]);
        let n: f32 = w.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-6);
    }
}
