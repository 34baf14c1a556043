//! The one way a case is made — create, batch, import and replay alike — and the typed answers
//! intake gives.

use jiff::Timestamp;
use serde::Serialize;

use super::links::Signals;
use crate::domain::{Case, CaseId, Corrections, Grade, Intake, Status, TriageRecord};
use crate::error::{Error, Result};
use crate::service::advice::{Advice, SimilarCase};
use crate::store::{NewCase, NewIdempotency, Update};
use crate::text::{PreparedComplaint, mask_json};
use crate::triage::{GradeTriage, Triage};

/// What intake found for a complaint beside its triage: links, similar cases, suggestions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Findings {
    /// Repeat, duplicate and group links.
    pub signals: Signals,
    /// Most similar earlier cases.
    pub similar: Vec<SimilarCase>,
    /// Resolutions of similar resolved cases, and who handled those cases.
    #[serde(flatten)]
    pub advice: Advice,
}

/// Everything said about a complaint at intake, nothing stored (`POST /v1/triage`).
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The complaint as the model read it (`title。text`, normalised, PII masked).
    pub masked_text: String,
    /// The engine's triage (grade raised by repeat and group links where they apply).
    #[serde(flatten)]
    pub triage: Triage,
    /// Links, similar cases and suggestions.
    #[serde(flatten)]
    pub found: Findings,
}

/// The answer to a create: the case as stored, and what was found for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseAnswer {
    /// The stored case (with its triage record).
    #[serde(flatten)]
    pub case: Case,
    /// Links, similar cases and suggestions.
    #[serde(flatten)]
    pub found: Findings,
}

impl CaseAnswer {
    /// The answer as JSON bytes (what an idempotency record keeps).
    pub fn to_bytes(case: &Case, found: &Findings) -> Vec<u8> {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(flatten)]
            case: &'a Case,
            #[serde(flatten)]
            found: &'a Findings,
        }
        serde_json::to_vec(&View { case, found }).expect("an answer always serialises")
    }
}

/// What a create did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// Stored now.
    Created(Box<CaseAnswer>),
    /// A retry of a request already done: the first answer, as it was given.
    Replayed(Vec<u8>),
}

/// A complaint judged at intake: everything a case is made from.
pub(super) struct Judged {
    pub prepared: PreparedComplaint,
    pub received_at: Timestamp,
    pub triage: Triage,
    pub found: Findings,
}

/// Makes the case of an intake from its prepared text, triage and links: the only place a
/// [`Case`] is built from a complaint. Every free text in it is masked (the text and title by
/// the pipeline, the metadata's strings here).
pub(super) fn make_case(intake: &Intake, judged: &Judged) -> Result<Case> {
    let Judged {
        prepared,
        received_at,
        triage,
        found,
    } = judged;
    let grade = triage.grade.as_ref();
    let mut metadata = serde_json::Value::Object(intake.metadata.clone().unwrap_or_default());
    mask_json(&mut metadata);
    let serde_json::Value::Object(metadata) = metadata else {
        unreachable!("masking keeps an object an object")
    };
    Ok(Case {
        id: CaseId(String::new()),
        seq: 0,
        version: 0,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        received_at: *received_at,
        occurred_at: intake.occurred_at,
        channel: intake.channel.unwrap_or_default(),
        title: prepared.title().map(str::to_string),
        text: prepared.body().to_string(),
        contact_hash: prepared.contact_hash.clone(),
        category: triage.category.as_ref().map(|c| c.prediction.label.clone()),
        category_confidence: triage.category.as_ref().map(|c| c.prediction.confidence),
        grade: grade.map_or(Grade::General, |g| g.label),
        reasons: grade.map(GradeTriage::reasons).unwrap_or_default(),
        model_grade: grade.and_then(|g| Grade::from_index(g.model.class)),
        model_major_probability: grade
            .and_then(|g| g.model.probabilities.get(Grade::Major.index()).copied()),
        tier: triage.routing.as_ref().map(|r| r.tier.clone()),
        department: triage.routing.as_ref().map(|r| r.department.clone()),
        dispatch: triage.dispatch.clone(),
        assignee: None,
        status: Status::Triaged,
        resolution: None,
        remedy: None,
        resolved_at: None,
        keywords: triage.keywords.iter().map(|k| k.word.clone()).collect(),
        links: found.signals.links(),
        deadlines: triage.deadlines.clone(),
        handling: Default::default(),
        corrections: Corrections::default(),
        metadata,
        triage: Some(
            TriageRecord::of(triage)
                .map_err(|e| Error::Invalid(format!("the triage does not serialise: {e}")))?,
        ),
    })
}

/// The case with what the store commits with it.
pub(super) fn to_store(
    case: Case,
    intake: &Intake,
    judged: &Judged,
    actor: &str,
    idempotency: Option<NewIdempotency>,
    also: Vec<Update>,
) -> NewCase {
    NewCase {
        case,
        original_text: intake.text.clone(),
        // As given (trimmed), for the audited reveal; never in the case.
        contact: intake
            .contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        fingerprint: judged.prepared.fingerprint.to_bytes(),
        actor: actor.to_string(),
        idempotency,
        complete: None,
        also,
    }
}
