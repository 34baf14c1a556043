//! Corrections: an analyst (or supervisor) sets the category or grade a case should have had.
//! Kept as training data, with who and when; the case is re-timed (its deadlines follow the new
//! grade and category) and, while it is not yet dispatched, re-routed.

use jiff::Timestamp;

use super::Handling;
use crate::domain::{Case, CaseId, CasePatch, Correction, Role, Status};
use crate::error::{Error, Result, cut};
use crate::handling::{Actor, refresh};
use crate::text::mask_free_text;

/// Longest free-text field of a patch, in characters.
const MAX_FIELD_CHARS: usize = 200;
/// Longest resolution, in characters.
const MAX_RESOLUTION_CHARS: usize = 20_000;

impl Handling {
    /// Applies a patch as `actor`; every change is recorded in the audit trail. Category and
    /// grade are corrections (analysts, supervisors, admins); department, assignee, resolution
    /// and remedy are an administrator's edits of the record; the status moves only by the
    /// steps of the process.
    pub fn patch(&self, id: &CaseId, mut patch: CasePatch, actor: &Actor) -> Result<Case> {
        if patch.is_empty() {
            return Err(Error::Invalid(
                "the patch is empty: send a corrected category or grade".into(),
            ));
        }
        if patch.status.is_some() {
            return Err(Error::Invalid(
                "`status` moves by the steps of the process: POST /v1/cases/{id}/actions \
                 (GET /v1/cases/{id} lists the steps you may take)"
                    .into(),
            ));
        }
        let edits = patch.department.is_some()
            || patch.assignee.is_some()
            || patch.resolution.is_some()
            || patch.remedy.is_some();
        if edits && actor.role != Role::Admin {
            return Err(Error::Forbidden(
                "department, assignee, resolution and remedy change by the steps of the process \
                 (assign, reply); editing them directly is for administrators"
                    .into(),
            ));
        }
        let corrects = patch.category.is_some() || patch.grade.is_some();
        if corrects && !matches!(actor.role, Role::Analyst | Role::Supervisor | Role::Admin) {
            return Err(Error::Forbidden(
                "corrections of category and grade are for analysts and supervisors".into(),
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
        if let Some(d) = &patch.department {
            self.directory.check_department("department", d)?;
        }
        if let Some(v) = patch.resolution.as_mut()
            && let std::borrow::Cow::Owned(masked) = mask_free_text(v)
        {
            *v = masked;
        }
        let engine = std::sync::Arc::clone(&self.engine);
        let directory = std::sync::Arc::clone(&self.directory);
        let name = actor.name.clone();
        self.change(
            id,
            actor,
            move |case: &mut Case| {
                refuse_closed(case, &patch)?;
                if let Some(h) = &patch.assignee {
                    let department = patch.department.as_deref().or(case.department.as_deref());
                    directory.check_handler("assignee", h, department.unwrap_or_default())?;
                }
                let sent = patch.department.is_some();
                let action = apply(case, patch, &name)?;
                // A new grade or category: new limits (and, before dispatch, a new route,
                // unless the patch names the department).
                if action == "correct"
                    && let Some(policy) = &engine.profile().policy
                {
                    let route = policy.route(case.grade, case.category.as_deref());
                    case.tier = Some(route.tier);
                    if !sent && matches!(case.status, Status::Triaged | Status::Returned) {
                        case.department = Some(route.department);
                    }
                    refresh(case, policy, engine.calendar(), Timestamp::now())?;
                }
                Ok(Some(action))
            },
            "the patch changes nothing: every field already has the value sent",
        )
    }
}

/// A closed case's corrections are still training data; its record does not change.
fn refuse_closed(case: &Case, patch: &CasePatch) -> Result<()> {
    let edits = patch.department.is_some()
        || patch.assignee.is_some()
        || patch.resolution.is_some()
        || patch.remedy.is_some();
    if !case.status.is_open() && edits {
        return Err(Error::Conflict(format!(
            "case {} is {}: its record does not change any more",
            case.id,
            case.status.label()
        )));
    }
    Ok(())
}

fn apply(case: &mut Case, patch: CasePatch, actor: &str) -> Result<&'static str> {
    let now = Timestamp::now();
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
