//! The HTTP-free triage engine: profiles, auditable grade rules, the engine that runs text →
//! model → rules, evaluation, and model cards.

mod card;
mod cross_validation;
mod engine;
mod evaluate;
mod grade_triage;
pub mod office_kind;
mod operating;
mod profile;
pub mod reply;
mod rules;

pub use self::card::{ModelCard, write_model_card};
pub use self::cross_validation::{CrossValidation, FoldReport, cross_validate, pool};
pub use self::engine::{CategoryTriage, Complaint, Engine, Triage};
pub use self::evaluate::{
    BaselinePrediction, EvalReport, GradeMetrics, GradedRow, evaluate, evaluate_predictions,
};
pub use self::grade_triage::{DecidedBy, Escalation, GradeTriage};
pub use self::operating::{MAJOR_THRESHOLDS, MajorPoint};
pub use self::profile::Profile;
pub use self::rules::{
    GradeRules, RuleHit, RulePartScore, RulePartScorer, RulesSpec, admitted, raise,
};
