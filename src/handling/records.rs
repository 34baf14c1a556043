//! The handling record kept on a case apart from the steps: notes, call-backs, the remedy,
//! and the checks every record's free text passes (length, PII masked, a bounded count).

use jiff::Timestamp;

use super::actions::{MAX_TEXT_CHARS, Rules};
use super::actor::Actor;
use crate::domain::{Case, ContactAttempt, Note, Remedy, RemedyGiven, Role};
use crate::error::{Error, Result};
use crate::text::mask_free_text;

/// Most notes or call-backs one case keeps (each step's audit event repeats the record).
pub const MAX_ENTRIES: usize = 200;

/// A call-back recorded on its own (not a step of the process): reached or not, and what came
/// of it. Failed ones count towards an abnormal close.
pub fn record_contact(
    case: &mut Case,
    reached: bool,
    outcome: Option<&str>,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    if !case.status.is_open() {
        return Err(closed(case));
    }
    let outcome = outcome
        .map(|o| checked_text("outcome", o, MAX_TEXT_CHARS))
        .transpose()?;
    push(
        &mut case.handling.contacts,
        ContactAttempt {
            at: now,
            by: actor.name.clone(),
            reached,
            outcome,
        },
        "call-back",
    )
}

/// A note recorded on its own.
pub fn record_note(case: &mut Case, text: &str, actor: &Actor, now: Timestamp) -> Result<()> {
    let text = checked_text("text", text, MAX_TEXT_CHARS)?;
    push(
        &mut case.handling.notes,
        Note {
            at: now,
            by: actor.name.clone(),
            text,
        },
        "note",
    )
}

pub(super) fn closed(case: &Case) -> Error {
    Error::Conflict(format!(
        "case {} is {}: it takes no more call-backs",
        case.id,
        case.status.label()
    ))
}

pub(super) fn push<T>(list: &mut Vec<T>, item: T, what: &str) -> Result<()> {
    if list.len() >= MAX_ENTRIES {
        return Err(Error::Invalid(format!(
            "a case keeps at most {MAX_ENTRIES} of each record; this one has as many {what}s already"
        )));
    }
    list.push(item);
    Ok(())
}

/// Free text as kept: 1 to `max` characters, PII masked.
pub(super) fn checked_text(field: &str, text: &str, max: usize) -> Result<String> {
    let n = text.chars().count();
    if text.trim().is_empty() || n > max {
        return Err(Error::Invalid(format!(
            "`{field}` must have 1 to {max} characters (it has {n})"
        )));
    }
    Ok(mask_free_text(text.trim()).into_owned())
}

/// A remedy as recorded: above the profile's approval amount only a supervisor (or an admin)
/// may record it, and that is its approval.
pub(super) fn remedy(
    kind: Remedy,
    amount: Option<f64>,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<RemedyGiven> {
    if let Some(a) = amount
        && !(a.is_finite() && (0.0..=1e9).contains(&a))
    {
        return Err(Error::Invalid(format!(
            "`amount` {a} is not an amount in yuan (0 to 1,000,000,000)"
        )));
    }
    let over = match (amount, rules.process.remedy_approval_amount()) {
        (Some(a), Some(limit)) => a > limit,
        _ => false,
    };
    let approver = matches!(actor.role, Role::Supervisor | Role::Admin);
    if over && !approver {
        return Err(Error::Invalid(format!(
            "`amount` {} is above the approval amount {}: a supervisor must record this remedy",
            amount.unwrap_or_default(),
            rules.process.remedy_approval_amount().unwrap_or_default()
        )));
    }
    Ok(RemedyGiven {
        kind,
        amount: amount.map(|a| (a * 100.0).round() / 100.0),
        approved_by: over.then(|| actor.name.clone()),
        by: actor.name.clone(),
        at: now,
    })
}
