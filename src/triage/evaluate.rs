//! Evaluation of a model (grade rules included) on labelled JSONL, and of a baseline's
//! predictions with the same metrics.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::operating::{MajorPoint, empty_curve, observe};
use super::rules::RulePartScore;
use crate::classify::{Example, HeadMetrics, Labels};
use crate::domain::Grade;
use crate::error::{Error, Result};
use crate::text::PreparedText;

/// Grade metrics, with the 重大 figures the policy cares most about.
#[derive(Debug, Clone, Serialize)]
pub struct GradeMetrics {
    /// Metrics of the final grade (model raised by rules).
    #[serde(flatten)]
    pub metrics: HeadMetrics,
    /// Recall of 重大: the share of major complaints graded 重大.
    pub major_recall: f64,
    /// Precision of 重大.
    pub major_precision: f64,
    /// Macro-F1 of the model alone, before rules (for comparison).
    pub model_only_macro_f1: Option<f64>,
    /// Macro-F1 of the rules alone (一般 unless a rule fires), the policy without a model.
    pub rules_only_macro_f1: Option<f64>,
    /// The grades, rules included, had the model called 重大 at each threshold of its
    /// probability (empty for a baseline's predictions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub major_points: Vec<MajorPoint>,
}

/// What `tousu eval` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Rows evaluated.
    pub rows: usize,
    /// Category metrics, when the data has category labels.
    pub category: Option<HeadMetrics>,
    /// Grade metrics, when the data has grade labels.
    pub grade: Option<GradeMetrics>,
    /// Each phrase and pattern of the grade rules that fired on a graded row: how often, and
    /// how often the grade it implies was the labelled one (empty for baseline predictions).
    #[serde(rename = "rules", skip_serializing_if = "Vec::is_empty")]
    pub rule_parts: Vec<RulePartScore>,
    /// Every row whose category or final grade was wrong (empty for baseline predictions),
    /// for error analysis; `tousu eval --errors FILE` writes them as JSONL.
    #[serde(skip)]
    pub errors: Vec<EvalError>,
    /// Every graded row: the model's probabilities and each rule that fired, so that another
    /// way of joining the two can be judged on the same predictions (`tousu train --folds
    /// --oof-grades FILE` writes the out-of-fold ones). Empty for baseline predictions.
    #[serde(skip)]
    pub graded: Vec<GradedRow>,
}

/// One graded row as the engine saw it: the label, the model's grade probabilities, and the
/// rules that fired with the grade each requires.
#[derive(Debug, Clone, Serialize)]
pub struct GradedRow {
    /// The row's id (or its text hash).
    pub id: String,
    /// Labelled grade.
    pub grade: Grade,
    /// The model's calibrated probabilities of 一般, 严重, 重大.
    pub probabilities: Vec<f32>,
    /// The model's grade before rules.
    pub model_grade: Grade,
    /// Each rule that fired (`reason:phrase`) and the grade it requires at least, held back
    /// by the profile's `rules_min_model_probability` or not.
    pub rules: Vec<(String, Grade)>,
    /// The final grade: the model's, raised by the rules the profile admits.
    pub predicted_grade: Grade,
}

/// One misjudged row: what the data says, what tousu said, and who decided the grade.
#[derive(Debug, Clone, Serialize)]
pub struct EvalError {
    /// The row's id (or its text hash).
    pub id: String,
    /// Line in the data file.
    pub line: usize,
    /// Labelled category, when it was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Predicted category, when it was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_category: Option<String>,
    /// Labelled grade, when it was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// Labelled reason code, when the data has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Final predicted grade, when it was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_grade: Option<Grade>,
    /// The model's grade before rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_grade: Option<Grade>,
    /// Rules that fired: `reason:phrase`, with ` (held back)` after those the profile did not
    /// let raise the grade (`[grade] rules_min_model_probability`).
    pub rules: Vec<String>,
    /// The masked text, for reading.
    pub text: String,
}

/// Evaluates `engine` on `examples`. Fails before predicting anything if a category label is
/// unknown to the model (the error lists the model's labels), or if the data has labels for a
/// head the model lacks.
pub fn evaluate(engine: &Engine, examples: &[Example]) -> Result<EvalReport> {
    let labels = engine.classifier().labels();
    let mut cat_truth = Vec::new();
    for e in examples {
        if let Some(c) = &e.category {
            if labels.category.is_empty() {
                return Err(Error::Invalid(format!(
                    "the data has `category` labels but the model has no category head (line {})",
                    e.line
                )));
            }
            cat_truth.push(Some(
                labels.category_id(c, &format!(" at line {}", e.line))?,
            ));
        } else {
            cat_truth.push(None);
        }
    }
    if examples.iter().any(|e| e.grade.is_some()) && labels.grade.is_empty() {
        return Err(Error::Invalid(
            "the data has `grade` labels but the model has no grade head".into(),
        ));
    }

    let texts: Vec<PreparedText> = examples
        .iter()
        .map(|e| {
            engine
                .pipeline()
                .prepare(e.title.as_deref(), &e.text)
                .map_err(|err| Error::Invalid(format!("line {}: {err}", e.line)))
        })
        .collect::<Result<_>>()?;
    let predictions = engine.classifier().predict(&texts)?;

    let mut cat = Scores::default();
    let mut grade = Scores::default();
    let mut grade_model = Scores::default();
    let mut grade_rules = Scores::default();
    let mut errors = Vec::new();
    let mut parts = engine.profile().rules.part_scorer();
    let mut major_points = empty_curve();
    let mut graded = Vec::new();
    for ((e, truth), (text, p)) in examples
        .iter()
        .zip(&cat_truth)
        .zip(texts.iter().zip(predictions))
    {
        let mut error = EvalError {
            id: e.key(),
            line: e.line,
            category: None,
            predicted_category: None,
            grade: None,
            reason: e.reason.clone(),
            predicted_grade: None,
            model_grade: None,
            rules: Vec::new(),
            text: text.masked.clone(),
        };
        if let (Some(y), Some(pc)) = (truth, &p.category) {
            cat.push(*y, pc.class, pc.confidence);
            if *y != pc.class {
                error.category = Some(labels.category[*y].clone());
                error.predicted_category = Some(labels.category[pc.class].clone());
            }
        }
        if let (Some(y), Some(pg)) = (e.grade, p.grade) {
            parts.observe(&text.masked, y);
            grade_model.push(y.index(), pg.class, pg.confidence);
            let probabilities = pg.probabilities.clone();
            let g = engine.grade(text, pg, Vec::new());
            grade.push(y.index(), g.label.index(), g.confidence);
            // Every rule that fired, held back by the profile or not: what the rules alone
            // would grade, and what the operating points gate again at each threshold.
            let fired: Vec<(String, Grade)> = g
                .rules
                .iter()
                .chain(&g.held_rules)
                .map(|h| (format!("{}:{}", h.reason, h.phrase), h.grade))
                .collect();
            let asked: Vec<Grade> = fired.iter().map(|(_, grade)| *grade).collect();
            let by_rules = asked.iter().copied().max().unwrap_or(Grade::General);
            observe(
                &mut major_points,
                y,
                &probabilities,
                &asked,
                engine.profile().rules_min_model_probability,
            );
            grade_rules.push(y.index(), by_rules.index(), 1.0);
            let model_grade = Grade::from_index(g.model.class).unwrap_or(Grade::General);
            if y != g.label {
                error.grade = Some(y);
                error.predicted_grade = Some(g.label);
                error.model_grade = Some(model_grade);
                // The held ones come after the admitted ones in `fired`.
                error.rules = fired
                    .iter()
                    .enumerate()
                    .map(|(i, (rule, _))| {
                        if i < g.rules.len() {
                            rule.clone()
                        } else {
                            format!("{rule} (held back)")
                        }
                    })
                    .collect();
            }
            graded.push(GradedRow {
                id: e.key(),
                grade: y,
                probabilities,
                model_grade,
                rules: fired,
                predicted_grade: g.label,
            });
        }
        if error.predicted_category.is_some() || error.predicted_grade.is_some() {
            errors.push(error);
        }
    }
    Ok(EvalReport {
        rows: examples.len(),
        category: cat.metrics(&labels.category),
        grade: grade.metrics(&labels.grade).map(|m| GradeMetrics {
            model_only_macro_f1: grade_model.metrics(&labels.grade).map(|x| x.macro_f1),
            rules_only_macro_f1: grade_rules.metrics(&labels.grade).map(|x| x.macro_f1),
            major_points,
            ..with_major(m)
        }),
        rule_parts: parts.finish(),
        errors,
        graded,
    })
}

/// A baseline's prediction for one row, joined to the data by `id`.
#[derive(Debug, Clone, Deserialize)]
pub struct BaselinePrediction {
    /// The data row's id.
    pub id: String,
    /// Predicted category.
    #[serde(default)]
    pub category: Option<String>,
    /// Predicted grade.
    #[serde(default)]
    pub grade: Option<Grade>,
}

/// Scores another system's predictions (e.g. the TF-IDF + SVM baseline) against `examples`
/// with the same metrics as [`evaluate`]. A head is scored when the predictions give it at
/// all; then every row labelled for it must have a prediction.
pub fn evaluate_predictions(
    examples: &[Example],
    predictions: &[BaselinePrediction],
) -> Result<EvalReport> {
    let by_id: HashMap<&str, &BaselinePrediction> =
        predictions.iter().map(|p| (p.id.as_str(), p)).collect();
    let cat_labels: Vec<String> = examples
        .iter()
        .filter_map(|e| e.category.clone())
        .chain(predictions.iter().filter_map(|p| p.category.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let has_cat = predictions.iter().any(|p| p.category.is_some());
    let has_grade = predictions.iter().any(|p| p.grade.is_some());
    let mut cat = Scores::default();
    let mut grade = Scores::default();
    for e in examples {
        let key = e.key();
        let missing = || Error::Invalid(format!("no prediction for id {key} (line {})", e.line));
        if let Some(c) = e.category.as_ref().filter(|_| has_cat) {
            let p = by_id
                .get(key.as_str())
                .and_then(|p| p.category.as_ref())
                .ok_or_else(missing)?;
            let idx = |l: &str| {
                cat_labels
                    .iter()
                    .position(|x| x == l)
                    .expect("label collected")
            };
            cat.push(idx(c), idx(p), 1.0);
        }
        if let Some(g) = e.grade.filter(|_| has_grade) {
            let p = by_id
                .get(key.as_str())
                .and_then(|p| p.grade)
                .ok_or_else(missing)?;
            grade.push(g.index(), p.index(), 1.0);
        }
    }
    Ok(EvalReport {
        rows: examples.len(),
        category: cat.metrics(&cat_labels),
        grade: grade.metrics(&Labels::grades()).map(with_major),
        rule_parts: Vec::new(),
        errors: Vec::new(),
        graded: Vec::new(),
    })
}

fn with_major(m: HeadMetrics) -> GradeMetrics {
    let major = m.per_class.get(Grade::Major.label()).copied();
    GradeMetrics {
        major_recall: major.map_or(0.0, |s| s.recall),
        major_precision: major.map_or(0.0, |s| s.precision),
        model_only_macro_f1: None,
        rules_only_macro_f1: None,
        major_points: Vec::new(),
        metrics: m,
    }
}

#[derive(Default)]
struct Scores {
    truth: Vec<usize>,
    predicted: Vec<usize>,
    confidence: Vec<f32>,
}

impl Scores {
    fn push(&mut self, truth: usize, predicted: usize, confidence: f32) {
        self.truth.push(truth);
        self.predicted.push(predicted);
        self.confidence.push(confidence);
    }

    fn metrics(&self, labels: &[String]) -> Option<HeadMetrics> {
        (!self.truth.is_empty())
            .then(|| HeadMetrics::compute(labels, &self.truth, &self.predicted, &self.confidence))
    }
}
