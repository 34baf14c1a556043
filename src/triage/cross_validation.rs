//! K-fold cross-validation of a training recipe: each fold's model is trained on the other
//! folds (stopping early on a tenth of them) and judged on its own fold with the grade rules,
//! exactly as `tousu eval` judges; the baseline's out-of-fold predictions are judged on the same
//! folds. The shipped model is then trained on every row, so its figures are these.

use std::collections::HashMap;
use std::path::Path;

use super::engine::Engine;
use super::evaluate::{
    BaselinePrediction, EvalReport, GradeMetrics, evaluate, evaluate_predictions,
};
use super::operating::pool_curves;
use crate::classify::{DevRule, Example, HeadMetrics, TrainOptions, fold_of, split, train};
use crate::domain::Grade;
use crate::error::{Error, Result};
use crate::text::TextPipeline;

/// Share of a fold's training rows held out for its early stopping and temperatures.
const INNER_DEV: f64 = 0.1;

/// One fold's outcome.
#[derive(Debug, Clone)]
pub struct FoldReport {
    /// The model trained without this fold, judged on it.
    pub model: EvalReport,
    /// The baseline's predictions for this fold, judged alike.
    pub baseline: Option<EvalReport>,
    /// The epoch early stopping kept.
    pub best_epoch: usize,
    /// Temperatures fitted on the fold's inner dev.
    pub category_temperature: f32,
    /// Likewise for the grade head.
    pub grade_temperature: f32,
}

/// Every fold, and the folds pooled (confusions summed: out-of-fold figures over all rows).
#[derive(Debug, Clone)]
pub struct CrossValidation {
    /// Per fold, in fold order.
    pub folds: Vec<FoldReport>,
    /// The model's out-of-fold figures.
    pub model: EvalReport,
    /// The baseline's, when its predictions were given.
    pub baseline: Option<EvalReport>,
}

impl CrossValidation {
    /// The epochs to train the final model for, without a dev set: the folds' mean best epoch.
    pub fn epochs(&self) -> usize {
        let n = self.folds.len().max(1);
        (self.folds.iter().map(|f| f.best_epoch).sum::<usize>() as f64 / n as f64).round() as usize
    }

    /// The folds' mean temperatures (category, grade), for the final model.
    pub fn temperatures(&self) -> (f32, f32) {
        let n = self.folds.len().max(1) as f32;
        (
            self.folds
                .iter()
                .map(|f| f.category_temperature)
                .sum::<f32>()
                / n,
            self.folds.iter().map(|f| f.grade_temperature).sum::<f32>() / n,
        )
    }
}

/// Cross-validates `opts` on `rows` over `folds` folds, training each fold's model under
/// `scratch/fold-k` (removed after). `baseline` holds out-of-fold predictions for the rows.
pub fn cross_validate(
    pipeline: &TextPipeline,
    rows: &[Example],
    folds: usize,
    opts: &TrainOptions,
    profile_file: Option<&Path>,
    baseline: Option<&[BaselinePrediction]>,
    scratch: &Path,
) -> Result<CrossValidation> {
    if folds < 2 {
        return Err(Error::Invalid(format!(
            "--folds {folds}: cross-validation needs at least 2"
        )));
    }
    let mut reports = Vec::with_capacity(folds);
    for k in 0..folds {
        let (held, rest): (Vec<Example>, Vec<Example>) = rows
            .iter()
            .cloned()
            .partition(|e| fold_of(&e.key(), folds) == k);
        let (fit_rows, inner_dev) = split(rest, &DevRule::Fraction(INNER_DEV));
        eprintln!(
            "fold {}/{folds}: training on {}, stopping on {}, judging {}",
            k + 1,
            fit_rows.len(),
            inner_dev.len(),
            held.len()
        );
        let dir = scratch.join(format!("fold-{k}"));
        let report = train(pipeline, &fit_rows, &inner_dev, opts, &dir)?;
        let engine = Engine::load(&dir, profile_file)?;
        let model = evaluate(&engine, &held)?;
        let baseline = baseline
            .map(|b| evaluate_predictions(&held, b))
            .transpose()?;
        drop(engine);
        let _ = std::fs::remove_dir_all(&dir);
        reports.push(FoldReport {
            model,
            baseline,
            best_epoch: report.best_epoch,
            category_temperature: report.category_temperature,
            grade_temperature: report.grade_temperature,
        });
    }
    let model = pool(reports.iter().map(|f| &f.model));
    let baseline = reports
        .iter()
        .map(|f| f.baseline.as_ref())
        .collect::<Option<Vec<_>>>()
        .map(|b| pool(b.into_iter()));
    Ok(CrossValidation {
        folds: reports,
        model,
        baseline,
    })
}

/// Reports of disjoint row sets as one: confusions summed (so macro-F1, accuracy and 重大
/// recall and precision are those of all rows), ECE and the model-alone and rules-alone
/// macro-F1 weighted by rows.
pub fn pool<'a>(reports: impl Iterator<Item = &'a EvalReport>) -> EvalReport {
    let reports: Vec<&EvalReport> = reports.collect();
    let category = pool_heads(reports.iter().filter_map(|r| r.category.as_ref()));
    let grades: Vec<&GradeMetrics> = reports.iter().filter_map(|r| r.grade.as_ref()).collect();
    let grade = pool_heads(grades.iter().map(|g| &g.metrics)).map(|metrics| {
        let major = metrics.per_class.get(Grade::Major.label());
        let weighted = |f: fn(&GradeMetrics) -> Option<f64>| -> Option<f64> {
            let (sum, n) = grades.iter().try_fold((0.0, 0usize), |(s, n), g| {
                f(g).map(|x| (s + x * g.metrics.count as f64, n + g.metrics.count))
            })?;
            (n > 0).then(|| sum / n as f64)
        };
        GradeMetrics {
            major_recall: major.map_or(0.0, |m| m.recall),
            major_precision: major.map_or(0.0, |m| m.precision),
            model_only_macro_f1: weighted(|g| g.model_only_macro_f1),
            rules_only_macro_f1: weighted(|g| g.rules_only_macro_f1),
            major_points: if grades.iter().all(|g| !g.major_points.is_empty()) {
                pool_curves(grades.iter().map(|g| g.major_points.as_slice()))
            } else {
                Vec::new()
            },
            metrics,
        }
    });
    EvalReport {
        rows: reports.iter().map(|r| r.rows).sum(),
        category,
        grade,
        rule_parts: Vec::new(),
        errors: Vec::new(),
        graded: reports.iter().flat_map(|r| r.graded.clone()).collect(),
    }
}

fn pool_heads<'a>(heads: impl Iterator<Item = &'a HeadMetrics>) -> Option<HeadMetrics> {
    let heads: Vec<&HeadMetrics> = heads.collect();
    if heads.is_empty() {
        return None;
    }
    let mut labels: Vec<String> = heads.iter().flat_map(|h| h.labels.clone()).collect();
    labels.sort();
    labels.dedup();
    let id: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    // Each confusion cell back into (truth, predicted) pairs, under the pooled label ids.
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for h in &heads {
        for (t, row) in h.confusion.iter().enumerate() {
            for (p, &n) in row.iter().enumerate() {
                let (ti, pi) = (id[h.labels[t].as_str()], id[h.labels[p].as_str()]);
                truth.extend(std::iter::repeat_n(ti, n));
                predicted.extend(std::iter::repeat_n(pi, n));
            }
        }
    }
    let mut pooled = HeadMetrics::compute(&labels, &truth, &predicted, &vec![0.0; truth.len()]);
    let n: usize = heads.iter().map(|h| h.count).sum();
    pooled.ece = heads.iter().map(|h| h.ece * h.count as f64).sum::<f64>() / n.max(1) as f64;
    Some(pooled)
}
