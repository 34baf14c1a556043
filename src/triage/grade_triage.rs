//! The grade part of a triage: the final grade with who decided it, the rules behind it (and
//! those held back), and how a fact found outside the text (a repeat, a group) raises it.

use serde::Serialize;

use super::rules::RuleHit;
use crate::classify::{Alternative, Driver, HeadPrediction};
use crate::domain::{Grade, Reason};

/// Who set the final grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The model's grade stood.
    Model,
    /// A rule raised it.
    Rule,
}

/// The grade part of a triage.
#[derive(Debug, Clone, Serialize)]
pub struct GradeTriage {
    /// The final grade: the model's, raised by rules.
    pub label: Grade,
    /// Probability of the final grade: the model's, conditioned on the rules (grades below a
    /// fired rule's are ruled out and the rest renormalised).
    pub confidence: f32,
    /// Other grades still possible, with their conditioned probabilities.
    pub alternatives: Vec<Alternative>,
    /// Whether the model or a rule set the grade.
    pub decided_by: DecidedBy,
    /// The reason code of the deciding rule, when a rule decided.
    pub reason: Option<Reason>,
    /// The model's own grade, before rules.
    pub model: HeadPrediction,
    /// The guideline reason the model read behind its own grade, when its grade head learns
    /// reasons. Shown to the handler only: alerts and [`GradeTriage::reasons`] follow the rules,
    /// whose hits quote their evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_reason: Option<Reason>,
    /// Every rule that fired and may raise the grade (the profile admits it; one at or under
    /// the model's grade raises nothing), in the guideline's order, then facts found outside
    /// the text (repeat and group links).
    pub rules: Vec<RuleHit>,
    /// Rules that fired but asked for a grade the model gives less than the profile's
    /// `[grade] rules_min_model_probability`: shown as evidence, raising nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_rules: Vec<RuleHit>,
    /// The phrases that drove the model's grade.
    pub drivers: Vec<Driver>,
}

impl GradeTriage {
    /// The reason codes behind the grade: the deciding one first, then every other rule in
    /// [`GradeTriage::rules`], each once (rules held back are not reasons: they raised nothing
    /// and wake no alert).
    pub fn reasons(&self) -> Vec<Reason> {
        let mut reasons: Vec<Reason> = self.reason.into_iter().collect();
        for hit in &self.rules {
            if !reasons.contains(&hit.reason) {
                reasons.push(hit.reason);
            }
        }
        reasons
    }
}

/// A fact found outside the text that raises the grade (a repeat, a group complaint): the
/// service finds it, the engine weighs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    /// What it is.
    pub reason: Reason,
    /// What shows it, recorded as the rule hit's phrase (e.g. the earlier case numbers).
    pub evidence: String,
}

/// Raises a grade for a fact found outside the text, recorded as a rule hit whose phrase is the
/// evidence. A raised grade is certain: the link is a fact, not a model guess.
pub(super) fn escalate(g: &mut GradeTriage, e: &Escalation) {
    let grade = e.reason.guideline_grade();
    g.rules.push(RuleHit {
        reason: e.reason,
        grade,
        phrase: e.evidence.clone(),
        start: None,
    });
    if grade <= g.label {
        return;
    }
    g.label = grade;
    g.decided_by = DecidedBy::Rule;
    g.reason = Some(e.reason);
    g.confidence = 1.0;
    g.alternatives.clear();
}
