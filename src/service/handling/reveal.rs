//! 回访 needs the complainant's number: the contact given at intake and the personal values in
//! the complaint as received, shown to a handler or supervisor of the case's department only,
//! and only once the reveal (who, when, why) is in the case's audit trail.

use serde::Serialize;

use super::Handling;
use crate::domain::{CaseId, PiiKind, Role};
use crate::error::{Error, Result};
use crate::handling::Actor;
use crate::store::Access;
use crate::text::{mask_free_text, mask_pii, normalize};

/// The audit action of a reveal.
pub const REVEAL_CONTACT: &str = "reveal_contact";

/// Longest reason for a reveal, in characters: a few words (回访, 核实诉求), not a note.
pub const MAX_REASON_CHARS: usize = 200;

/// What a reveal shows. Never logged, cached or stored anywhere else.
#[derive(Clone, Serialize)]
pub struct Revealed {
    /// The case.
    pub case_id: CaseId,
    /// The contact the intake system gave, as given; `None` when it gave none.
    pub contact: Option<String>,
    /// The personal values in the complaint's text as received, in text order, each once:
    /// what masking replaced in the case's text.
    pub in_text: Vec<PiiValue>,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revealed")
            .field("case_id", &self.case_id)
            .finish_non_exhaustive()
    }
}

/// One personal value of a text.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PiiValue {
    /// What it is.
    pub kind: PiiKind,
    /// The value, as the text has it once normalised (full-width digits made ASCII).
    pub value: String,
}

impl Handling {
    /// Shows `actor` the complainant's contact of case `id`, for `reason` (required, at most
    /// [`MAX_REASON_CHARS`], masked before it is kept). Handlers and supervisors only, within
    /// their departments (a case outside them is not found, as if absent). The reveal is
    /// recorded in the case's audit trail (`reveal_contact`: who, when, the reason; never the
    /// values) and the values are returned only once that record has committed.
    pub fn reveal_contact(&self, id: &CaseId, reason: &str, actor: &Actor) -> Result<Revealed> {
        if !matches!(actor.role, Role::Handler | Role::Supervisor) {
            return Err(Error::Forbidden(format!(
                "the role `{}` may not read a complainant's contact: handlers and supervisors \
                 of the case's department may",
                actor.role
            )));
        }
        let reason = reason.trim();
        let n = reason.chars().count();
        if n == 0 || n > MAX_REASON_CHARS {
            return Err(Error::Invalid(format!(
                "`reason` must say why the contact is needed (e.g. 回访), in 1 to \
                 {MAX_REASON_CHARS} characters; it has {n}"
            )));
        }
        self.get(id, actor)?;
        let scope = actor.clone();
        let kept = self.store.reveal(Access {
            id: id.clone(),
            actor: actor.name.clone(),
            action: REVEAL_CONTACT,
            note: mask_free_text(reason).into_owned(),
            // The case may have been sent elsewhere since it was read.
            check: Box::new(move |case| {
                if scope.works_on(case.department.as_deref()) {
                    Ok(())
                } else {
                    Err(Error::NotFound(format!("case {}", case.id)))
                }
            }),
        })?;
        tracing::info!(case = %id, actor = %actor.name, "complainant's contact revealed");
        Ok(Revealed {
            case_id: id.clone(),
            contact: kept.contact,
            in_text: values_in(&kept.original_text),
        })
    }
}

/// The personal values of `text`, found as intake found them when it masked the text (the
/// same normalisation, the same spans), each once.
fn values_in(text: &str) -> Vec<PiiValue> {
    let normalized = normalize(text);
    let mut values: Vec<PiiValue> = Vec::new();
    for span in mask_pii(&normalized).spans {
        let value = PiiValue {
            kind: span.kind,
            value: normalized[span.byte_start..span.byte_end].to_string(),
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_values_are_those_masking_finds_each_once() {
        let text = "宽带断了，电话１３８１２３４５６７８，再说一遍13812345678，邮箱 a.b@example.com，订单号88776655";
        let found: Vec<(PiiKind, String)> = values_in(text)
            .into_iter()
            .map(|v| (v.kind, v.value))
            .collect();
        assert_eq!(
            found,
            [
                (PiiKind::Mobile, "13812345678".to_string()),
                (PiiKind::Email, "a.b@example.com".to_string()),
            ]
        );
        assert!(values_in("路灯坏了一个月").is_empty());
    }
}
