//! Handling a case: status through the process, department, assignee, resolution and remedy,
//! and analysts' corrections of category and grade (kept, with who and when, as training data).
//! Every free text written here is masked before it is stored.

use std::sync::Arc;

use jiff::Timestamp;

use super::views::Views;
use crate::domain::{AuditEvent, Case, CaseId, CasePatch, Correction, Status};
use crate::error::{Error, Result, cut};
use crate::store::{CaseStore, Change, Update};
use crate::text::mask_free_text;
use crate::triage::Engine;

/// Reads and changes stored cases.
pub struct Handling {
    engine: Arc<Engine>,
    store: Arc<dyn CaseStore>,
    views: Arc<Views>,
}

impl std::fmt::Debug for Handling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handling").finish_non_exhaustive()
    }
}

/// Longest free-text field of a patch, in characters.
const MAX_FIELD_CHARS: usize = 200;
/// Longest resolution, in characters.
const MAX_RESOLUTION_CHARS: usize = 20_000;

impl Handling {
    /// Handling over these parts.
    pub(super) fn new(engine: Arc<Engine>, views: Arc<Views>) -> Self {
        Handling {
            engine,
            store: Arc::clone(views.store()),
            views,
        }
    }

    /// A case by number, with its triage record.
    pub fn get(&self, id: &CaseId) -> Result<Case> {
        if !CaseId::is_well_formed(id.as_str()) {
            return Err(Error::NotFound(format!(
                "case {} (case numbers look like TS20261122-000123)",
                cut(id.as_str())
            )));
        }
        self.store
            .get(id)?
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// A case's audit trail, oldest first.
    pub fn audit(&self, id: &CaseId) -> Result<Vec<AuditEvent>> {
        self.get(id)?;
        self.store.audit(id)
    }

    /// Applies a patch as `actor`; every change is recorded in the audit trail.
    pub fn patch(&self, id: &CaseId, mut patch: CasePatch, actor: &str) -> Result<Case> {
        self.get(id)?;
        if patch.is_empty() {
            return Err(Error::Invalid(
                "the patch is empty: send at least one of status, department, assignee, resolution, remedy, category, grade".into(),
            ));
        }
        for (field, value, max) in [
            ("department", &patch.department, MAX_FIELD_CHARS),
            ("assignee", &patch.assignee, MAX_FIELD_CHARS),
            ("resolution", &patch.resolution, MAX_RESOLUTION_CHARS),
        ] {
            if let Some(v) = value {
                let n = v.chars().count();
                if n > max || v.trim().is_empty() {
                    return Err(Error::Invalid(format!(
                        "`{field}` must have 1 to {max} characters (it has {n})"
                    )));
                }
            }
        }
        if let Some(c) = &patch.category {
            let known = &self.engine.classifier().labels().category;
            if !known.iter().any(|k| k == c) {
                return Err(Error::UnknownLabel {
                    head: "category",
                    label: cut(c).into_owned(),
                    location: String::new(),
                    known: known.join(", "),
                });
            }
        }
        for field in [
            &mut patch.department,
            &mut patch.assignee,
            &mut patch.resolution,
        ] {
            if let Some(v) = field.as_mut()
                && let std::borrow::Cow::Owned(masked) = mask_free_text(v)
            {
                *v = masked;
            }
        }
        let actor_name = actor.to_string();
        let updated = self.store.update(Update {
            id: id.clone(),
            actor: actor.to_string(),
            change: Change::apply(move |case: &mut Case| apply(case, patch, &actor_name).map(Some)),
        })?;
        if !updated.changed {
            return Err(Error::Invalid(
                "the patch changes nothing: every field already has the value sent".into(),
            ));
        }
        self.views.notify();
        // With its triage record, as a read of it answers.
        let mut case = updated.case;
        case.triage = self.store.get(id)?.and_then(|c| c.triage);
        Ok(case)
    }
}

fn apply(case: &mut Case, patch: CasePatch, actor: &str) -> Result<&'static str> {
    if case.status == Status::Archived {
        return Err(Error::Conflict(format!(
            "case {} is archived: it cannot change any more",
            case.id
        )));
    }
    let now = Timestamp::now();
    if let Some(next) = patch.status {
        if next != case.status && !case.status.can_move_to(next) {
            return Err(Error::Conflict(format!(
                "case {} is {}: it cannot move back to {next} (only 反馈/回访 may reopen to handling)",
                case.id, case.status
            )));
        }
        case.status = next;
    }
    if let Some(d) = patch.department {
        case.department = Some(d);
    }
    if let Some(a) = patch.assignee {
        case.assignee = Some(a);
    }
    if let Some(r) = patch.resolution {
        case.resolution = Some(r);
        case.resolved_at.get_or_insert(now);
    }
    if let Some(r) = patch.remedy {
        case.remedy = Some(r);
    }
    let mut action = "update";
    if let Some(c) = patch.category
        && case.category.as_deref() != Some(c.as_str())
    {
        case.corrections.category = Some(Correction {
            from: case.category.clone(),
            to: c.clone(),
            by: actor.to_string(),
            at: now,
        });
        case.category = Some(c);
        action = "correct";
    }
    if let Some(g) = patch.grade
        && case.grade != g
    {
        case.corrections.grade = Some(Correction {
            from: Some(case.grade.label().to_string()),
            to: g.label().to_string(),
            by: actor.to_string(),
            at: now,
        });
        case.grade = g;
        action = "correct";
    }
    Ok(action)
}
