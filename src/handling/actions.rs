//! Taking a step of the handling process on a case: checked against the profile's process and
//! the caller's role, the record kept, the deadlines met, moved or started. A pure change of the
//! case: the service runs it inside the store's transaction, so a step and its audit event
//! commit together or not at all.

use jiff::{SignedDuration, Timestamp};

use super::actor::Actor;
use super::calendar::WorkCalendar;
use super::deadlines::{meet, refresh, start};
use super::directory::Directory;
use super::policy::Policy;
use super::process::Process;
use super::records::{checked_text, push, remedy};
use crate::domain::{
    Action, ActionRequest, Case, ContactAttempt, Extension, FollowUp, Note, Pause, Returned, Role,
    Satisfaction, Status, Step,
};
use crate::error::{Error, Result};

/// Longest free text of a step (a reason, a note, a comment), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest reply, in characters.
pub const MAX_REPLY_CHARS: usize = 20_000;
/// Most working days one extension may ask for.
pub const MAX_EXTENSION_DAYS: u32 = 60;

/// What a step is checked and timed against.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The profile's process.
    pub process: &'a Process,
    /// The profile's policy (time limits), if it has one.
    pub policy: Option<&'a Policy>,
    /// The working-day calendar.
    pub calendar: &'a WorkCalendar,
    /// Where cases may be sent.
    pub directory: &'a Directory,
}

/// Takes `req` on `case` as `actor` at `now`. Returns the audit action (the step's code).
/// Refuses with [`Error::InvalidTransition`] (naming what may be done instead) a step the
/// process does not allow from the case's status for the actor's role, and with
/// [`Error::Invalid`] (naming the field) a step without what it needs. A refused step leaves
/// the case as it was.
pub fn take(
    case: &mut Case,
    req: ActionRequest,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<&'static str> {
    let mut draft = case.clone();
    let code = take_on(&mut draft, req, actor, rules, now)?;
    *case = draft;
    Ok(code)
}

fn take_on(
    case: &mut Case,
    req: ActionRequest,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<&'static str> {
    let action = req.action;
    if !rules.process.allows(action, case.status, actor.role) {
        return Err(Error::InvalidTransition {
            action: action.code(),
            status: case.status.code(),
            allowed: rules
                .process
                .next(case.status, actor.role)
                .iter()
                .map(|a| a.code())
                .collect(),
        });
    }
    let by = actor.name.clone();
    let text = |field: &str, v: &Option<String>, max: usize| -> Result<Option<String>> {
        v.as_deref()
            .map(|t| checked_text(field, t, max))
            .transpose()
    };
    let required = |field: &str, v: &Option<String>, max: usize| -> Result<String> {
        text(field, v, max)?.ok_or_else(|| {
            Error::Invalid(format!(
                "`{field}` is required to {} a case",
                action.label()
            ))
        })
    };
    if let Some(note) = text("note", &req.note, MAX_TEXT_CHARS)? {
        push(
            &mut case.handling.notes,
            Note {
                at: now,
                by: by.clone(),
                text: note,
            },
            "note",
        )?;
    }
    match action {
        Action::Assign => {
            let department = required("department", &req.department, MAX_TEXT_CHARS)?;
            rules
                .directory
                .check_department("department", &department)?;
            let handler = text("handler", &req.handler, MAX_TEXT_CHARS)?;
            if let Some(h) = &handler {
                rules.directory.check_handler("handler", h, &department)?;
            }
            case.department = Some(department);
            case.assignee = handler;
            case.status = Status::Assigned;
        }
        Action::Accept => {
            case.status = Status::Handling;
            case.handling.accepted_at = Some(now);
            if case.assignee.is_none() && actor.role == Role::Handler {
                case.assignee = Some(by.clone());
            }
            meet(case, Step::Confirm, now);
        }
        Action::Return => {
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            case.handling.returns.push(Returned {
                at: now,
                by: by.clone(),
                department: case.department.clone(),
                reason,
            });
            case.assignee = None;
            case.status = Status::Returned;
        }
        Action::Reply => {
            let reply = required("reply", &req.reply, MAX_REPLY_CHARS)?;
            if let Some(kind) = req.remedy {
                case.handling.remedy = Some(remedy(kind, req.amount, actor, rules, now)?);
                case.remedy = Some(kind);
            } else if req.amount.is_some() {
                return Err(Error::Invalid(
                    "`amount` belongs to a `remedy`: say which (退款, 补偿, …)".into(),
                ));
            }
            case.resolution = Some(reply);
            case.resolved_at = Some(now);
            case.status = Status::Replied;
            meet(case, Step::Reply, now);
            if let Some(policy) = rules.policy {
                start(case, Step::FollowUp, now, policy, rules.calendar)?;
            }
        }
        Action::FollowUp => {
            let Some(result) = req.result else {
                return Err(Error::Invalid(
                    "`result` (满意, 基本满意 or 不满意) is required to record a follow-up".into(),
                ));
            };
            if case.resolution.is_none() {
                return Err(Error::Invalid(
                    "`result`: the case was never answered; a follow-up asks about the reply"
                        .into(),
                ));
            }
            let comment = text("comment", &req.comment, MAX_TEXT_CHARS)?;
            push(
                &mut case.handling.contacts,
                ContactAttempt {
                    at: now,
                    by: by.clone(),
                    reached: true,
                    outcome: Some(result_label(result).to_string()),
                },
                "call-back",
            )?;
            case.handling.follow_up = Some(FollowUp {
                at: now,
                by: by.clone(),
                result,
                solved: req.solved,
                comment,
            });
            case.status = Status::FollowedUp;
            meet(case, Step::FollowUp, now);
        }
        Action::Close => {
            let causes = rules.process.root_causes();
            let cause = text("root_cause", &req.root_cause, MAX_TEXT_CHARS)?;
            match (&cause, causes.is_empty()) {
                (None, false) => {
                    return Err(Error::Invalid(format!(
                        "`root_cause` is required to close a case: one of {}",
                        causes.join(", ")
                    )));
                }
                (Some(c), false) if !causes.contains(c) => {
                    return Err(Error::Invalid(format!(
                        "`root_cause` {:?} is not one of the profile's: {}",
                        crate::error::cut(c),
                        causes.join(", ")
                    )));
                }
                _ => {}
            }
            case.handling.root_cause = cause;
            close(case, Status::Closed, None, now);
        }
        Action::Reopen => {
            let satisfied = case
                .handling
                .follow_up
                .as_ref()
                .map(|f| f.result != Satisfaction::Unsatisfied);
            if satisfied != Some(false) {
                return Err(Error::Invalid(
                    "`action` reopen (重办) follows an unsatisfied follow-up (不满意); this case has none"
                        .into(),
                ));
            }
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            push(
                &mut case.handling.notes,
                Note {
                    at: now,
                    by: by.clone(),
                    text: format!("重办：{reason}"),
                },
                "note",
            )?;
            case.handling.reopened += 1;
            case.status = Status::Handling;
            // A reopened case is due a new reply and a new close, from now.
            if let Some(policy) = rules.policy {
                for step in [Step::Reply, Step::Close] {
                    start(case, step, now, policy, rules.calendar)?;
                }
            }
        }
        Action::Suspend => {
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            push(
                &mut case.handling.pauses,
                Pause {
                    from: now,
                    to: None,
                    was: case.status,
                    reason,
                },
                "pause",
            )?;
            case.status = Status::Suspended;
        }
        Action::Resume => {
            // A case imported as suspended has no pause on record: it resumes to 处理中.
            case.status = match case.handling.pauses.last_mut().filter(|p| p.to.is_none()) {
                Some(pause) => {
                    pause.to = Some(now);
                    pause.was
                }
                None => Status::Handling,
            };
        }
        Action::Withdraw => {
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            close(case, Status::Withdrawn, Some(reason), now);
        }
        Action::CloseAbnormally => {
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            let rule = rules.process.unreachable();
            let since = now - SignedDuration::from_hours(24 * i64::from(rule.within_days));
            let failed = case
                .handling
                .contacts
                .iter()
                .filter(|c| !c.reached && c.at >= since)
                .count();
            if failed < rule.failed_contacts as usize {
                return Err(Error::Invalid(format!(
                    "`action` close_abnormally needs {} failed call-backs within {} days; this case has {failed}: record them with POST /v1/cases/{{id}}/contacts",
                    rule.failed_contacts, rule.within_days
                )));
            }
            close(case, Status::ClosedAbnormally, Some(reason), now);
        }
        Action::RequestExtension => {
            if case.handling.pending_extension().is_some() {
                return Err(Error::Conflict(
                    "an extension is already asked for and not yet decided".into(),
                ));
            }
            let reason = required("reason", &req.reason, MAX_TEXT_CHARS)?;
            let days = req.days.ok_or_else(|| {
                Error::Invalid(
                    "`days` (working days, 1 or more) is required to ask for an extension".into(),
                )
            })?;
            if !(1..=MAX_EXTENSION_DAYS).contains(&days) {
                return Err(Error::Invalid(format!(
                    "`days` is {days}: an extension is 1 to {MAX_EXTENSION_DAYS} working days"
                )));
            }
            let step = req.step.unwrap_or(Step::Close);
            if !case
                .deadlines
                .iter()
                .any(|d| d.step == step && d.met_at.is_none())
            {
                return Err(Error::Invalid(format!(
                    "`step`: the case has no running {step} deadline to extend"
                )));
            }
            push(
                &mut case.handling.extensions,
                Extension {
                    at: now,
                    by: by.clone(),
                    step,
                    days,
                    reason,
                    granted: None,
                    decided_by: None,
                    decided_at: None,
                    decision_note: None,
                },
                "extension",
            )?;
        }
        Action::GrantExtension | Action::RefuseExtension => {
            let granted = action == Action::GrantExtension;
            let note = text("reason", &req.reason, MAX_TEXT_CHARS)?;
            let e = case
                .handling
                .extensions
                .last_mut()
                .filter(|e| e.granted.is_none())
                .ok_or_else(|| Error::Conflict("no extension is waiting for a decision".into()))?;
            e.granted = Some(granted);
            e.decided_by = Some(by.clone());
            e.decided_at = Some(now);
            e.decision_note = note;
            let (step, days) = (e.step, e.days);
            if granted
                && let Some(d) = case
                    .deadlines
                    .iter_mut()
                    .find(|d| d.step == step && d.met_at.is_none())
            {
                d.extended_days += days;
            }
        }
    }
    if let Some(policy) = rules.policy {
        refresh(case, policy, rules.calendar, now)?;
    }
    Ok(action.code())
}

/// Ends a case: the close deadline met, every other running one too (nothing is due of a
/// closed case).
fn close(case: &mut Case, status: Status, reason: Option<String>, now: Timestamp) {
    case.status = status;
    case.handling.closed_at = Some(now);
    case.handling.close_reason = reason;
    if let Some(p) = case.handling.pauses.last_mut().filter(|p| p.to.is_none()) {
        p.to = Some(now);
    }
    for step in Step::ALL {
        meet(case, step, now);
    }
}

fn result_label(r: Satisfaction) -> &'static str {
    match r {
        Satisfaction::Satisfied => "满意",
        Satisfaction::FairlySatisfied => "基本满意",
        Satisfaction::Unsatisfied => "不满意",
    }
}
