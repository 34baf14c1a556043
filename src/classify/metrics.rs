//! Classification metrics: per-class precision / recall / F1, macro-F1, accuracy, the confusion
//! matrix and expected calibration error.

use std::collections::BTreeMap;

use serde::Serialize;

/// Bins of the expected calibration error: the common choice (Guo et al., 2017).
pub const ECE_BINS: usize = 15;

/// Scores of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassScores {
    /// Of the predictions of this class, the share that were right.
    pub precision: f64,
    /// Of the cases of this class, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Cases of this class in the data.
    pub support: usize,
}

/// Metrics of one head over a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadMetrics {
    /// Unweighted mean of the per-class F1 over the classes present in the data or predicted.
    pub macro_f1: f64,
    /// Share of exact hits.
    pub accuracy: f64,
    /// Expected calibration error of the top-class confidence, in [0, 1].
    pub ece: f64,
    /// Scores per class label.
    pub per_class: BTreeMap<String, ClassScores>,
    /// `confusion[i][j]`: cases of `labels[i]` predicted as `labels[j]`.
    pub confusion: Vec<Vec<usize>>,
    /// Row and column labels of `confusion`.
    pub labels: Vec<String>,
    /// Number of cases scored.
    pub count: usize,
}

impl HeadMetrics {
    /// Scores predictions against the truth. `truth` and `predicted` are class ids into
    /// `labels`; `confidence` is the probability given to the predicted class (for ECE).
    /// Classes with no support and no predictions are left out of the macro average.
    pub fn compute(
        labels: &[String],
        truth: &[usize],
        predicted: &[usize],
        confidence: &[f32],
    ) -> HeadMetrics {
        let k = labels.len();
        let n = truth.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let (scores, macro_f1) = confusion_scores(&confusion);
        let per_class = labels.iter().cloned().zip(scores).collect();
        let hits = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
        HeadMetrics {
            macro_f1,
            accuracy: ratio(hits as f64, n as f64),
            ece: expected_calibration_error(truth, predicted, confidence),
            per_class,
            confusion,
            labels: labels.to_vec(),
            count: n,
        }
    }
}

/// Each class's scores and the macro-F1 of a confusion matrix (`confusion[truth][predicted]`).
/// Classes with no support and no predictions are left out of the macro average.
pub fn confusion_scores(confusion: &[Vec<usize>]) -> (Vec<ClassScores>, f64) {
    let (mut f1_sum, mut present) = (0.0, 0);
    let scores = (0..confusion.len())
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let support: usize = confusion[c].iter().sum();
            let predicted_c: usize = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted_c as f64);
            let recall = ratio(tp, support as f64);
            let f1 = ratio(2.0 * precision * recall, precision + recall);
            if support > 0 || predicted_c > 0 {
                f1_sum += f1;
                present += 1;
            }
            ClassScores {
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    (scores, ratio(f1_sum, present as f64))
}

/// ECE over [`ECE_BINS`] equal-width confidence bins: Σ (bin size / n) × |accuracy − mean
/// confidence|.
pub fn expected_calibration_error(truth: &[usize], predicted: &[usize], confidence: &[f32]) -> f64 {
    let n = truth.len();
    if n == 0 {
        return 0.0;
    }
    let mut bins = [(0usize, 0usize, 0f64); ECE_BINS];
    for i in 0..n {
        let c = f64::from(confidence[i]).clamp(0.0, 1.0);
        let b = ((c * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[b].0 += 1;
        bins[b].1 += usize::from(truth[i] == predicted[i]);
        bins[b].2 += c;
    }
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(count, hits, conf)| {
            let acc = hits as f64 / count as f64;
            (count as f64 / n as f64) * (acc - conf / count as f64).abs()
        })
        .sum()
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn hand_computed_scores() {
        // truth a a b b c ; predicted a b b b a
        let m = HeadMetrics::compute(&labels(), &[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], &[1.0; 5]);
        let a = m.per_class["a"];
        assert_eq!((a.precision, a.recall), (0.5, 0.5));
        let b = m.per_class["b"];
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12 && b.recall == 1.0);
        assert_eq!(m.per_class["c"].f1, 0.0);
        assert!((m.macro_f1 - (0.5 + 0.8 + 0.0) / 3.0).abs() < 1e-12);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        assert_eq!(m.confusion[0], vec![1, 1, 0]);
        // All confidence 1.0 but 60 % right: ECE 0.4.
        assert!((m.ece - 0.4).abs() < 1e-9);
    }

    #[test]
    fn absent_classes_do_not_drag_macro_f1() {
        let m = HeadMetrics::compute(&labels(), &[0, 1], &[0, 1], &[0.9, 0.9]);
        assert!((m.macro_f1 - 1.0).abs() < 1e-12);
    }
}
