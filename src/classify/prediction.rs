//! What a model answers for one complaint: each head's label with its calibrated confidence and
//! alternatives, the reason behind a grade, and the phrases that drove a label.

use serde::Serialize;

use super::calibrate::softmax;
use crate::domain::Reason;

/// Alternatives listed beside a head's top label.
pub const ALTERNATIVES: usize = 3;

/// One alternative label and its calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// The label.
    pub label: String,
    /// Calibrated probability.
    pub confidence: f32,
}

/// A head's answer for one complaint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadPrediction {
    /// The most probable label.
    pub label: String,
    /// Its class id.
    #[serde(skip)]
    pub class: usize,
    /// Its calibrated probability (temperature-scaled on dev).
    pub confidence: f32,
    /// The next most probable labels, best first (at most [`ALTERNATIVES`]).
    pub alternatives: Vec<Alternative>,
    /// Calibrated probability of every class, in class-id order.
    #[serde(skip)]
    pub probabilities: Vec<f32>,
}

/// Both heads' answers for one complaint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Category, when the model has a category head.
    pub category: Option<HeadPrediction>,
    /// Grade as the model alone sees it, when the model has a grade head.
    pub grade: Option<HeadPrediction>,
    /// The guideline reason behind that grade, when the grade head learns reasons.
    pub reason: Option<Reason>,
}

/// A phrase of the complaint that pushed a prediction towards its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    /// The phrase: whole words of the masked text (the n-gram the model weighed, widened to
    /// the words that hold it).
    pub phrase: String,
    /// Its contribution to the label's logit (higher pushes more).
    pub weight: f32,
    /// Character offset of its first occurrence in the masked text.
    pub start: usize,
}

/// Top label, calibrated confidence and alternatives from one row of logits.
pub(crate) fn head_prediction(logits: &[f32], labels: &[String], t: f32) -> HeadPrediction {
    let probabilities = softmax(logits, t);
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    let class = order[0];
    HeadPrediction {
        label: labels[class].clone(),
        class,
        confidence: probabilities[class],
        alternatives: order[1..]
            .iter()
            .take(ALTERNATIVES)
            .map(|&c| Alternative {
                label: labels[c].clone(),
                confidence: probabilities[c],
            })
            .collect(),
        probabilities,
    }
}
