//! The HTTP-free triage engine: text pipeline → model → grade rules, with explanations.

use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use super::grade_triage::{DecidedBy, Escalation, GradeTriage, escalate};
use super::office_kind::{OTHER_OFFICE, canonical_department};
use super::profile::Profile;
use super::rules::{admitted, raise};
use crate::classify::{Alternative, Classifier, Driver, Head, HeadPrediction};
use crate::domain::{Deadline, Dispatch, DispatchOption, DispatchSource, Grade};
use crate::error::{Error, Result};
use crate::handling::{Routing, WorkCalendar};
use crate::text::{Keyword, PiiSpan, PreparedText, Segmenter, TextPipeline};

/// Where a profile's dispatch model lives, inside its model directory.
pub const DISPATCH_DIR: &str = "dispatch";

/// Keywords reported per complaint.
const KEYWORDS: usize = 8;

/// One complaint to triage.
#[derive(Debug, Clone, Default)]
pub struct Complaint<'a> {
    /// Optional subject line.
    pub title: Option<&'a str>,
    /// The complaint's words.
    pub text: &'a str,
    /// When it was received; SLA deadlines count from here (now when not given).
    pub received_at: Option<Timestamp>,
}

/// The category part of a triage.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryTriage {
    /// The model's category, confidence and alternatives.
    #[serde(flatten)]
    pub prediction: HeadPrediction,
    /// The phrases that drove it.
    pub drivers: Vec<Driver>,
}

/// Everything the engine says about one complaint.
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    /// PII found and masked (offsets into the normalised text).
    pub pii: Vec<PiiSpan>,
    /// Whether the text was cut to its head + tail window.
    pub truncated: bool,
    /// Category, when the model has a category head.
    pub category: Option<CategoryTriage>,
    /// Grade, when the model has a grade head.
    pub grade: Option<GradeTriage>,
    /// Tier and department, when the profile has a policy and the model a grade head.
    pub routing: Option<Routing>,
    /// The department dispatch suggests: the profile's dispatch model, or its category table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<Dispatch>,
    /// The deadlines of the handling steps on the working-day calendar, likewise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<Deadline>,
    /// The complaint's keywords (TF-IDF), for explanations and topics.
    pub keywords: Vec<Keyword>,
}

/// Everything needed to triage: pipeline, model and profile. Build once at start; `Send +
/// Sync`, share behind an `Arc`.
#[derive(Debug)]
pub struct Engine {
    pipeline: TextPipeline,
    classifier: Classifier,
    /// The dispatch model (`<model dir>/dispatch`), when the profile ships one.
    dispatcher: Option<Classifier>,
    profile: Profile,
    calendar: WorkCalendar,
}

impl Engine {
    /// Loads the model in `model_dir` and its profile: `profile_file` if given, else the
    /// built-in profile the model names. Blocking: ~0.5 s (jieba dictionary, weights).
    pub fn load(model_dir: &Path, profile_file: Option<&Path>) -> Result<Self> {
        let classifier = Classifier::load(model_dir)?;
        let profile = match profile_file {
            Some(p) => Profile::load(p)?,
            None => Profile::builtin(&classifier.config().profile)?,
        };
        if let Some(policy) = &profile.policy {
            policy
                .check_categories(&classifier.labels().category)
                .map_err(|e| Error::Invalid(format!("profile `{}`: {e}", profile.name)))?;
        }
        let pipeline = TextPipeline::new(Segmenter::new(classifier.config().segment));
        let dispatch_dir = model_dir.join(DISPATCH_DIR);
        let dispatcher = if dispatch_dir.join("config.json").exists() {
            let d = Classifier::load(&dispatch_dir)?;
            // It reads the text the main pipeline prepared, so it must segment alike.
            if d.config().segment != classifier.config().segment || d.labels().category.is_empty() {
                return Err(Error::Invalid(format!(
                    "{}: a dispatch model needs a category head and the main model's segmentation",
                    dispatch_dir.display()
                )));
            }
            Some(d)
        } else {
            None
        };
        Ok(Engine {
            pipeline,
            classifier,
            dispatcher,
            profile,
            calendar: WorkCalendar::builtin()?,
        })
    }

    /// The text pipeline.
    pub fn pipeline(&self) -> &TextPipeline {
        &self.pipeline
    }

    /// The model.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The dispatch model, when the profile ships one.
    pub fn dispatcher(&self) -> Option<&Classifier> {
        self.dispatcher.as_ref()
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The working-day calendar.
    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    /// Triages one complaint, with explanations and keywords (the command line, evaluation:
    /// intake prepares the text once itself and calls [`Engine::judge`]).
    pub fn triage(&self, complaint: &Complaint<'_>) -> Result<Triage> {
        let text = self.pipeline.prepare(complaint.title, complaint.text)?;
        let received = complaint.received_at.unwrap_or_else(Timestamp::now);
        self.judge(&text, received, &[], true)
    }

    /// Judges a prepared text received at `received`: the model, the grade rules, then the
    /// `escalations` found outside the text (each raises the grade to its guideline grade,
    /// never lowers it), and routing and deadlines for the final grade. Without `explain`, the
    /// phrases behind each prediction are left out (bulk import: they cost as much as the
    /// prediction); rule hits and keywords are kept.
    pub fn judge(
        &self,
        text: &PreparedText,
        received: Timestamp,
        escalations: &[Escalation],
        explain: bool,
    ) -> Result<Triage> {
        let (prediction, bag) = self.classifier.predict_one(text)?;
        let category = prediction
            .category
            .map(|p| -> Result<_> {
                let drivers = if explain {
                    self.classifier
                        .explain_bag(text, &bag, Head::Category, p.class)?
                } else {
                    Vec::new()
                };
                Ok(CategoryTriage {
                    prediction: p,
                    drivers,
                })
            })
            .transpose()?;
        let grade = prediction
            .grade
            .map(|p| -> Result<_> {
                let drivers = if explain {
                    self.classifier
                        .explain_bag(text, &bag, Head::Grade, p.class)?
                } else {
                    Vec::new()
                };
                let mut g = self.grade(text, p, drivers);
                g.model_reason = prediction.reason;
                for e in escalations {
                    escalate(&mut g, e);
                }
                Ok(g)
            })
            .transpose()?;
        // The words the text was cut into for the model: no second segmentation.
        let keywords = self
            .pipeline
            .segmenter()
            .keywords_of_words(text.words(), KEYWORDS);
        let (routing, deadlines) = match (&self.profile.policy, &grade) {
            (Some(policy), Some(g)) => {
                let label = category.as_ref().map(|c| c.prediction.label.as_str());
                (
                    Some(policy.route(g.label, label)),
                    policy.deadlines(&self.calendar, g.label, label, received)?,
                )
            }
            _ => (None, Vec::new()),
        };
        let dispatch = self.dispatch(text, category.as_ref(), routing.as_ref())?;
        Ok(Triage {
            pii: text.pii.clone(),
            truncated: text.truncated,
            category,
            grade,
            routing,
            dispatch,
            deadlines,
            keywords,
        })
    }

    /// The department to dispatch to: the dispatch model's office kind when it names one it
    /// learned, else the department the profile's table gives the category.
    fn dispatch(
        &self,
        text: &PreparedText,
        category: Option<&CategoryTriage>,
        routing: Option<&Routing>,
    ) -> Result<Option<Dispatch>> {
        if let Some(d) = &self.dispatcher
            && let Some(p) = d.predict_one(text)?.0.category
            && p.label != OTHER_OFFICE
        {
            let policy_department = self.profile.policy.as_ref().and_then(|policy| {
                let kind = canonical_department(&p.label);
                policy
                    .departments()
                    .into_iter()
                    .find(|d| canonical_department(d) == kind)
                    .map(str::to_string)
            });
            return Ok(Some(Dispatch {
                department: p.label,
                confidence: p.confidence,
                source: DispatchSource::Model,
                policy_department,
                alternatives: p
                    .alternatives
                    .into_iter()
                    .filter(|a| a.label != OTHER_OFFICE)
                    .map(|a| DispatchOption {
                        department: a.label,
                        confidence: a.confidence,
                    })
                    .collect(),
            }));
        }
        Ok(routing.map(|r| Dispatch {
            department: r.department.clone(),
            confidence: category.map_or(1.0, |c| c.prediction.confidence),
            source: DispatchSource::Table,
            policy_department: Some(r.department.clone()),
            alternatives: Vec::new(),
        }))
    }

    /// The final grade of a prepared text given the model's grade prediction.
    pub fn grade(
        &self,
        text: &PreparedText,
        model: HeadPrediction,
        drivers: Vec<Driver>,
    ) -> GradeTriage {
        let model_grade = Grade::from_index(model.class).unwrap_or(Grade::General);
        let (hits, held_rules) = admitted(
            self.profile.rules.apply(&text.masked),
            model_grade,
            &model.probabilities,
            self.profile.rules_min_model_probability,
        );
        let (label, decider) = raise(model_grade, &hits);
        // Condition the model's distribution on "grade ≥ the highest fired rule's grade".
        let floor = hits.iter().map(|h| h.grade).max().unwrap_or(Grade::General);
        let mass: f32 = Grade::ALL
            .iter()
            .filter(|g| **g >= floor)
            .map(|g| model.probabilities[g.index()])
            .sum();
        let conditioned = |g: Grade| {
            if g < floor || mass <= 0.0 {
                f32::from(u8::from(g == label))
            } else {
                model.probabilities[g.index()] / mass
            }
        };
        let mut alternatives: Vec<Alternative> = Grade::ALL
            .iter()
            .filter(|g| **g != label && **g >= floor)
            .map(|g| Alternative {
                label: g.label().to_string(),
                confidence: conditioned(*g),
            })
            .collect();
        alternatives.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        GradeTriage {
            label,
            confidence: conditioned(label),
            alternatives,
            decided_by: if decider.is_some() {
                DecidedBy::Rule
            } else {
                DecidedBy::Model
            },
            reason: decider.map(|h| h.reason),
            model,
            model_reason: None,
            rules: hits,
            held_rules,
            drivers,
        }
    }
}
