//! The category as a linear SVM over the units' TF-IDF (`tousu train --category-svm C`).
//!
//! The shared low-rank encoder scored 1–1.5 points of category macro-F1 under a TF-IDF +
//! LinearSVC on the same folds, and a full-rank head trained beside it by cross-entropy did
//! not close the gap (docs/models.md). What the SVM has is its objective, solved to the end:
//! one-vs-rest, squared hinge, L2, every row at once. This fits that objective over the
//! model's own units and IDF, so the result folds into the model's table (one weight per unit
//! and category) and costs nothing per prediction.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::Item;
use crate::classify::model::{
    CATEGORY_HEAD, ModelConfig, SPARSE_HEAD, batch_tensors, tfidf_weights,
};

/// Full-batch optimiser steps. The objective is convex and smooth; on the shipped profiles'
/// rows 600 steps bring its gradient to a small share of where it started
/// ([`CategorySvm::gradient_left`], which training logs).
const STEPS: usize = 600;
/// Adam's step at first; it falls to a tenth by the last step (cosine), so that the weights
/// settle instead of circling the optimum.
const LEARNING_RATE: f64 = 0.05;

/// A fitted SVM: `weights` `[vocab × categories]`, row-major, and one bias per category.
pub(super) struct CategorySvm {
    pub(super) weights: Tensor,
    pub(super) bias: Tensor,
    /// The objective's gradient (L2 norm) at the fitted weights over its norm at zero: how far
    /// from the optimum the fixed number of steps stopped (0 at the optimum).
    pub(super) gradient_left: f32,
}

/// Fits, for each category against the rest, `½‖w‖² + ½b² + C Σ cᵢ max(0, 1 − yᵢ(w·xᵢ + b))²`
/// (LIBLINEAR's L2-regularised L2-loss SVC, as scikit-learn's `LinearSVC` with its intercept
/// as a regularised feature), `xᵢ` a row's L2-normalised sublinear TF-IDF over the units.
/// `class_weights` (balanced classes) weigh a category's own rows in its problem, as
/// LIBLINEAR's per-class `C` does in one against the rest; the other rows weigh 1. (With two
/// categories LIBLINEAR fits one problem whose both sides are weighted; this fits two.)
pub(super) fn fit(
    train: &[Item],
    idf: &[f32],
    categories: usize,
    c: f64,
    class_weights: Option<&[f32]>,
    device: &Device,
) -> candle_core::Result<CategorySvm> {
    let rows: Vec<&Item> = train.iter().filter(|i| i.category.is_some()).collect();
    let vocab = idf.len();
    let weights = Var::zeros((vocab, categories), DType::F32, device)?;
    let bias = Var::zeros(categories, DType::F32, device)?;
    if rows.is_empty() || categories == 0 {
        return Ok(CategorySvm {
            weights: weights.as_tensor().clone(),
            bias: bias.as_tensor().clone(),
            gradient_left: 0.0,
        });
    }
    let problem = Problem::new(&rows, idf, categories, c, class_weights, device)?;
    let at_zero = problem.gradient_norm(&weights, &bias)?;
    let mut optimizer = AdamW::new(
        vec![weights.clone(), bias.clone()],
        ParamsAdamW {
            lr: LEARNING_RATE,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;
    for step in 0..STEPS {
        let progress = step as f64 / STEPS as f64;
        optimizer.set_learning_rate(
            LEARNING_RATE * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())),
        );
        optimizer.backward_step(&problem.objective(weights.as_tensor(), bias.as_tensor())?)?;
    }
    let left = problem.gradient_norm(&weights, &bias)?;
    Ok(CategorySvm {
        weights: weights.as_tensor().copy()?,
        bias: bias.as_tensor().copy()?,
        gradient_left: if at_zero > 0.0 { left / at_zero } else { 0.0 },
    })
}

/// Makes the SVM the category: its weights the sparse table's category columns (the whole
/// table when the model has no sparse head of its own), its biases the category head's, whose
/// weights from the encoder become 0 (the encoder then serves the grade alone).
pub(super) fn install(
    tensors: &mut HashMap<String, Tensor>,
    config: &mut ModelConfig,
    svm: CategorySvm,
) -> candle_core::Result<()> {
    let head = format!("{CATEGORY_HEAD}.weight");
    if let Some(w) = tensors.get(&head) {
        let zeros = w.zeros_like()?;
        tensors.insert(head, zeros);
    }
    tensors.insert(format!("{CATEGORY_HEAD}.bias"), svm.bias);
    let sparse = format!("{SPARSE_HEAD}.weight");
    let categories = config.num_categories;
    let table = match tensors.get(&sparse) {
        Some(t) if t.dim(1)? > categories => {
            let rest = t.narrow(1, categories, t.dim(1)? - categories)?;
            Tensor::cat(&[&svm.weights, &rest], 1)?
        }
        _ => {
            config.category_svm = true;
            svm.weights
        }
    };
    tensors.insert(sparse, table);
    config.sparse_head = true;
    Ok(())
}

/// The rows as tensors, with each (row, category) term's sign and cost.
struct Problem {
    /// `[n × len]` unit ids, flattened, and their weights `[n, len]` (0 for padding).
    ids: Tensor,
    ws: Tensor,
    n: usize,
    len: usize,
    signs: Tensor,
    cost: Tensor,
}

impl Problem {
    fn new(
        rows: &[&Item],
        idf: &[f32],
        categories: usize,
        c: f64,
        class_weights: Option<&[f32]>,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let weighted: Vec<(&[u32], Vec<f32>)> = rows
            .iter()
            .map(|it| {
                (
                    it.bag.ids.as_slice(),
                    tfidf_weights(&it.bag.ids, &it.bag.counts, idf),
                )
            })
            .collect();
        let (ids, ws) = batch_tensors(&weighted, device)?;
        let (n, len) = ids.dims2()?;
        let mut signs = vec![-1f32; n * categories];
        let mut cost = vec![c as f32; n * categories];
        for (r, it) in rows.iter().enumerate() {
            let y = it.category.expect("rows with a category") as usize;
            signs[r * categories + y] = 1.0;
            if let Some(w) = class_weights {
                cost[r * categories + y] *= w[y];
            }
        }
        Ok(Problem {
            ids: ids.flatten_all()?,
            ws,
            n,
            len,
            signs: Tensor::from_vec(signs, (n, categories), device)?,
            cost: Tensor::from_vec(cost, (n, categories), device)?,
        })
    }

    /// `[n, categories]` decision values.
    fn decision(&self, weights: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let categories = weights.dim(1)?;
        weights
            .index_select(&self.ids, 0)?
            .reshape((self.n, self.len, categories))?
            .broadcast_mul(&self.ws.unsqueeze(2)?)?
            .sum(1)?
            .broadcast_add(bias)
    }

    /// The objective, summed over the categories' problems.
    fn objective(&self, weights: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let margin = (1.0 - (self.decision(weights, bias)? * &self.signs)?)?.relu()?;
        let norm = (weights.sqr()?.sum_all()? + bias.sqr()?.sum_all()?)?;
        (margin.sqr()? * &self.cost)?.sum_all()? + (norm * 0.5)?
    }

    /// The L2 norm of the objective's gradient at `weights` and `bias`.
    fn gradient_norm(&self, weights: &Var, bias: &Var) -> candle_core::Result<f32> {
        let grads = self
            .objective(weights.as_tensor(), bias.as_tensor())?
            .backward()?;
        let mut sum = 0f32;
        for v in [weights, bias] {
            if let Some(g) = grads.get(v) {
                sum += g.sqr()?.sum_all()?.to_scalar::<f32>()?;
            }
        }
        Ok(sum.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::tokenizer::UnitBag;

    fn item(ids: &[u32], category: u32) -> Item {
        Item {
            bag: UnitBag {
                ids: ids.to_vec(),
                counts: vec![1.0; ids.len()],
            },
            category: Some(category),
            grade: None,
            reason: None,
        }
    }

    fn predict(svm: &CategorySvm, ids: &[u32], idf: &[f32]) -> usize {
        let w: Vec<Vec<f32>> = svm.weights.to_vec2().unwrap();
        let b: Vec<f32> = svm.bias.to_vec1().unwrap();
        let x = tfidf_weights(ids, &vec![1.0; ids.len()], idf);
        let scores: Vec<f32> = (0..b.len())
            .map(|k| {
                b[k] + ids
                    .iter()
                    .zip(&x)
                    .map(|(&u, v)| v * w[u as usize][k])
                    .sum::<f32>()
            })
            .collect();
        (0..scores.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap()
    }

    #[test]
    fn learns_which_units_mark_each_category_and_ignores_shared_ones() {
        // Units 1–2 mark category 0, 3–4 category 1, 5–6 category 2; 7 is in every row.
        let train = vec![
            item(&[1, 7], 0),
            item(&[2, 7], 0),
            item(&[1, 2, 7], 0),
            item(&[3, 7], 1),
            item(&[4, 7], 1),
            item(&[3, 4, 7], 1),
            item(&[5, 7], 2),
            item(&[6, 7], 2),
        ];
        let idf = vec![0.0, 1.5, 1.5, 1.5, 1.5, 1.7, 1.7, 1.0];
        let svm = fit(&train, &idf, 3, 1.0, None, &Device::Cpu).unwrap();
        for (ids, want) in [
            (&[1u32, 7][..], 0),
            (&[4, 7], 1),
            (&[6], 2),
            (&[2, 5, 6, 7], 2),
        ] {
            assert_eq!(predict(&svm, ids, &idf), want, "{ids:?}");
        }
        let w: Vec<Vec<f32>> = svm.weights.to_vec2().unwrap();
        // The shared unit separates nothing: it weighs less than any marker in its column.
        for k in 0..3 {
            let marker = w[1 + 2 * k][k];
            assert!(w[7][k] < marker, "category {k}: {} ≥ {marker}", w[7][k]);
        }
        // [UNK] (IDF 0) never moves.
        assert!(w[0].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn stops_near_the_optimum_of_a_weighted_problem_of_three_categories() {
        // Overlapping rows (no category is separable from the others by one unit) and
        // unequal costs: the gradient at the fit is what says it is the optimum.
        let train = vec![
            item(&[1, 2, 7], 0),
            item(&[1, 3], 0),
            item(&[2, 4, 7], 0),
            item(&[3, 4], 1),
            item(&[4, 5, 7], 1),
            item(&[5, 6], 2),
            item(&[1, 6, 7], 2),
            item(&[2, 6], 2),
        ];
        let idf = vec![0.0, 1.2, 1.3, 1.4, 1.2, 1.5, 1.1, 1.0];
        let svm = fit(&train, &idf, 3, 4.0, Some(&[0.5, 2.5, 0.5]), &Device::Cpu).unwrap();
        assert!(
            svm.gradient_left < 0.01,
            "gradient left {}",
            svm.gradient_left
        );
        // An objective that dropped the class weights would stop elsewhere: its own optimum's
        // gradient under the weighted objective is far from 0.
        let unweighted = fit(&train, &idf, 3, 4.0, None, &Device::Cpu).unwrap();
        let rows: Vec<&Item> = train.iter().collect();
        let weighted =
            Problem::new(&rows, &idf, 3, 4.0, Some(&[0.5, 2.5, 0.5]), &Device::Cpu).unwrap();
        let (w, b) = (
            Var::from_tensor(&unweighted.weights).unwrap(),
            Var::from_tensor(&unweighted.bias).unwrap(),
        );
        let (w0, b0) = (
            Var::zeros((8, 3), DType::F32, &Device::Cpu).unwrap(),
            Var::zeros(3, DType::F32, &Device::Cpu).unwrap(),
        );
        let off =
            weighted.gradient_norm(&w, &b).unwrap() / weighted.gradient_norm(&w0, &b0).unwrap();
        assert!(
            off > 0.05 && off > 10.0 * svm.gradient_left,
            "the unweighted fit is as good: {off} against {}",
            svm.gradient_left
        );
    }

    #[test]
    fn a_larger_cost_fits_the_margins_closer() {
        let train = vec![item(&[1, 2], 0), item(&[2, 3], 1), item(&[1, 3], 0)];
        let idf = vec![0.0, 1.2, 1.0, 1.2];
        let norm = |c: f64| {
            let svm = fit(&train, &idf, 2, c, None, &Device::Cpu).unwrap();
            svm.weights
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        // Less regularisation, larger weights: the objective, not a fixed step count, decides.
        assert!(norm(10.0) > norm(0.1) * 2.0);
    }

    #[test]
    fn balanced_weights_favour_the_rare_category() {
        // Unit 2 is in both categories' rows, four times as often in the common one's.
        let mut train: Vec<Item> = (0..8).map(|_| item(&[1, 2], 0)).collect();
        train.extend((0..2).map(|_| item(&[3, 2], 1)));
        let idf = vec![0.0, 1.0, 1.0, 1.0];
        let lead_of_rare = |svm: &CategorySvm| {
            let w: Vec<Vec<f32>> = svm.weights.to_vec2().unwrap();
            let b: Vec<f32> = svm.bias.to_vec1().unwrap();
            (w[2][1] + b[1]) - (w[2][0] + b[0])
        };
        let plain = fit(&train, &idf, 2, 1.0, None, &Device::Cpu).unwrap();
        let balanced = fit(&train, &idf, 2, 1.0, Some(&[0.625, 2.5]), &Device::Cpu).unwrap();
        assert_eq!(predict(&plain, &[2], &idf), 0);
        assert!(
            lead_of_rare(&balanced) > lead_of_rare(&plain) + 0.1,
            "balanced {} against plain {}",
            lead_of_rare(&balanced),
            lead_of_rare(&plain)
        );
    }
}
