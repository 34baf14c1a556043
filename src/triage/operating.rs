//! 重大 operating points: the grades, rules included, had the model called a complaint 重大
//! whenever its calibrated probability of 重大 reached a threshold, instead of taking its most
//! probable grade. Issue 17 asks for 重大 recall ≥ 0.90 at precision ≥ 0.75; these say which
//! thresholds, if any, give both (out of fold, from `tousu train --folds`).

use serde::Serialize;

use super::rules::admits;
use crate::classify::{ClassScores, confusion_scores};
use crate::domain::Grade;

/// Thresholds on the model's probability of 重大.
pub const MAJOR_THRESHOLDS: [f32; 11] = [
    0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60,
];

/// The grades at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MajorPoint {
    /// The model calls 重大 at this probability or more.
    pub threshold: f32,
    /// Rows truth × predicted (一般, 严重, 重大), rules included.
    pub confusion: [[usize; 3]; 3],
}

impl MajorPoint {
    /// Each grade's scores and the macro-F1, as `tousu eval` scores a head.
    fn scores(&self) -> (Vec<ClassScores>, f64) {
        confusion_scores(&self.confusion.map(Vec::from))
    }

    /// Recall of 重大.
    pub fn major_recall(&self) -> f64 {
        self.scores().0[Grade::Major.index()].recall
    }

    /// Precision of 重大.
    pub fn major_precision(&self) -> f64 {
        self.scores().0[Grade::Major.index()].precision
    }

    /// Macro-F1 over the three grades.
    pub fn macro_f1(&self) -> f64 {
        self.scores().1
    }
}

/// The points at every threshold of [`MAJOR_THRESHOLDS`], counted row by row.
pub fn empty_curve() -> Vec<MajorPoint> {
    MAJOR_THRESHOLDS
        .iter()
        .map(|&threshold| MajorPoint {
            threshold,
            confusion: [[0; 3]; 3],
        })
        .collect()
}

/// Counts one graded row: its label, the model's grade probabilities (一般, 严重, 重大), the
/// grade each rule that fired asks for, and how much the profile's rules need the model to give
/// their grade ([`admits`]: at each point against the grade the model is then called).
pub fn observe(
    curve: &mut [MajorPoint],
    truth: Grade,
    probabilities: &[f32],
    rules: &[Grade],
    need: f32,
) {
    let [general, serious, major] = [0, 1, 2].map(|i| probabilities.get(i).copied());
    let (Some(general), Some(serious), Some(major)) = (general, serious, major) else {
        return;
    };
    for point in curve {
        let model = if major >= point.threshold {
            2
        } else if serious > general {
            1
        } else {
            0
        };
        let called = Grade::from_index(model).unwrap_or(Grade::General);
        let floor = rules
            .iter()
            .filter(|r| admits(**r, called, probabilities, need))
            .max()
            .copied()
            .unwrap_or(Grade::General);
        point.confusion[truth.index()][called.max(floor).index()] += 1;
    }
}

/// Curves of disjoint row sets as one.
pub fn pool_curves<'a>(curves: impl Iterator<Item = &'a [MajorPoint]>) -> Vec<MajorPoint> {
    let mut pooled = empty_curve();
    for curve in curves {
        for (p, q) in pooled.iter_mut().zip(curve) {
            for (row, other) in p.confusion.iter_mut().zip(&q.confusion) {
                row.iter_mut().zip(other).for_each(|(a, b)| *a += b);
            }
        }
    }
    pooled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_threshold_calls_more_major_and_rules_still_raise() {
        let mut curve = empty_curve();
        // A 重大 complaint the model finds 30 % 重大; a 一般 one it finds 12 % 重大 but a rule
        // requires 严重; a 严重 one at 50 %.
        observe(&mut curve, Grade::Major, &[0.4, 0.3, 0.3], &[], 0.0);
        observe(
            &mut curve,
            Grade::General,
            &[0.8, 0.08, 0.12],
            &[Grade::Serious],
            0.0,
        );
        observe(&mut curve, Grade::Serious, &[0.1, 0.4, 0.5], &[], 0.0);
        let at = |t: f32| {
            curve
                .iter()
                .find(|p| (p.threshold - t).abs() < 1e-6)
                .unwrap()
        };

        // At 0.10 all three are called 重大: recall 1, precision 1/3.
        assert_eq!(at(0.10).major_recall(), 1.0);
        assert!((at(0.10).major_precision() - 1.0 / 3.0).abs() < 1e-9);
        // At 0.30 the 一般 one is 严重 by its rule, the other two 重大.
        assert_eq!(at(0.30).confusion[0], [0, 1, 0]);
        assert_eq!(at(0.30).major_precision(), 0.5);
        // At 0.55 only the rule and the most probable grades speak: no 重大 called.
        assert_eq!(at(0.55).confusion[2], [1, 0, 0]);
        assert_eq!(at(0.55).confusion[1], [0, 1, 0]);
        assert_eq!(at(0.55).major_recall(), 0.0);
        assert_eq!(at(0.55).major_precision(), 0.0);
        // 一般 row predicted 严重, 严重 right, 重大 predicted 一般: only 严重 scores.
        assert!((at(0.55).macro_f1() - (2.0 * 0.5 / 1.5) / 3.0).abs() < 1e-9);

        // A profile whose rules need the model to give their grade 0.25: the 一般 one's 严重
        // rule (the model gives 严重 or more 0.2) is held back wherever it is not called 重大.
        let mut gated = empty_curve();
        observe(
            &mut gated,
            Grade::General,
            &[0.8, 0.08, 0.12],
            &[Grade::Serious],
            0.25,
        );
        let point = |t: f32| {
            gated
                .iter()
                .find(|p| (p.threshold - t).abs() < 1e-6)
                .unwrap()
        };
        assert_eq!(point(0.30).confusion[0], [1, 0, 0]);
        assert_eq!(point(0.10).confusion[0], [0, 0, 1]);

        // Pooling two halves gives the whole.
        let pooled = pool_curves([curve.as_slice(), curve.as_slice()].into_iter());
        assert_eq!(pooled[0].confusion[2][2], 2 * curve[0].confusion[2][2]);
    }
}
