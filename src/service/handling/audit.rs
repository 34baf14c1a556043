//! The audit trail searched across cases, for administrators: who did what, when, by actor,
//! action, case and time, newest first, a page at a time.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::Handling;
use crate::domain::{AuditEvent, CaseId, Role};
use crate::error::{Error, Result, cut};
use crate::handling::Actor;
use crate::store::{AuditQuery, AuditRow};

/// Most events on one page. An event of a handling step carries the whole handling record
/// before and after, so a page of full events can reach megabytes; 500 keeps it bounded.
pub const MAX_AUDIT_PAGE: usize = 500;

/// Events on a page when the caller does not say.
pub const DEFAULT_AUDIT_PAGE: usize = 50;

/// Longest actor name searched for, in characters.
const MAX_ACTOR_CHARS: usize = 200;

/// Longest action code: the longest written today is `request_extension`.
const MAX_ACTION_CHARS: usize = 40;

/// What to search the audit trail for; every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Who acted (a key's name, `import`, `system`), exactly.
    pub actor: Option<String>,
    /// The action (`create`, `assign`, `reveal_contact`, …), exactly.
    pub action: Option<String>,
    /// The case number.
    pub case_id: Option<String>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    /// Events numbered below this: the `next_before` of the page before.
    pub before: Option<u64>,
    /// Events on the page, 1 to [`MAX_AUDIT_PAGE`].
    pub limit: usize,
    /// With each event's `before` and `after` (else only the names of the fields it changed).
    pub full: bool,
}

impl Default for AuditFilter {
    fn default() -> Self {
        AuditFilter {
            actor: None,
            action: None,
            case_id: None,
            from: None,
            to: None,
            before: None,
            limit: DEFAULT_AUDIT_PAGE,
            full: false,
        }
    }
}

impl AuditFilter {
    /// The store's query, once every filter is checked ([`Error::Invalid`] names the one to
    /// fix).
    pub fn check(&self) -> Result<AuditQuery> {
        let invalid = |m: String| Err(Error::Invalid(m));
        if let Some(actor) = &self.actor {
            let n = actor.chars().count();
            if n == 0 || n > MAX_ACTOR_CHARS {
                return invalid(format!(
                    "`actor` must be a name of 1 to {MAX_ACTOR_CHARS} characters (a key's name, \
                     `import` or `system`); it has {n}"
                ));
            }
        }
        if let Some(action) = &self.action {
            let code = |c: char| c.is_ascii_lowercase() || c == '_';
            if action.is_empty() || action.len() > MAX_ACTION_CHARS || !action.chars().all(code) {
                return invalid(format!(
                    "`action` {:?} is not an audit action: use create, update, correct, link, \
                     note, contact, a step (assign, accept, reply, close, …) or reveal_contact",
                    cut(action)
                ));
            }
        }
        let case_id = match &self.case_id {
            Some(id) if !CaseId::is_well_formed(id) => {
                return invalid(format!(
                    "`case_id` {:?} is not a case number (they look like TS20261122-000123)",
                    cut(id)
                ));
            }
            other => other.clone().map(CaseId),
        };
        if self.before == Some(0) {
            return invalid("`before` must be an event number (`seq`), 1 or more".into());
        }
        if self.limit == 0 || self.limit > MAX_AUDIT_PAGE {
            return invalid(format!(
                "`limit` must be 1 to {MAX_AUDIT_PAGE}, not {}",
                self.limit
            ));
        }
        Ok(AuditQuery {
            actor: self.actor.clone(),
            action: self.action.clone(),
            case_id,
            from: self.from,
            to: self.to,
            before: self.before,
            limit: self.limit,
        })
    }
}

/// A page of the audit search.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEntry>,
    /// When there are more: the `before` that asks for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// One event of the audit search: a case's audit event with its number.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// The event's number in the trail (events are numbered in the order they committed).
    pub seq: u64,
    /// The case.
    pub case_id: CaseId,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Why, for a read (a reveal's reason, masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The fields the event set (the names in `after`).
    pub fields: Vec<String>,
    /// With `full`: the fields before, as the case's audit trail has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// With `full`: the fields after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl AuditEntry {
    fn of(row: AuditRow, full: bool) -> Self {
        let AuditEvent {
            case_id,
            at,
            actor,
            action,
            before,
            after,
            note,
        } = row.event;
        let fields = after
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        AuditEntry {
            seq: row.seq,
            case_id,
            at,
            actor,
            action,
            note,
            fields,
            before: full.then_some(before),
            after: full.then_some(after),
        }
    }
}

impl Handling {
    /// Audit events of every case matching `filter`, newest first (administrators only).
    pub fn audit_search(&self, filter: &AuditFilter, actor: &Actor) -> Result<AuditPage> {
        if actor.role != Role::Admin {
            return Err(Error::Forbidden(format!(
                "the role `{}` may not search the audit trail: administrators may",
                actor.role
            )));
        }
        let mut query = filter.check()?;
        // One more than asked for says whether there is a next page.
        query.limit += 1;
        let mut rows = self.store.audit_search(&query)?;
        let more = rows.len() > filter.limit;
        rows.truncate(filter.limit);
        let next_before = more.then(|| rows.last().map(|r| r.seq)).flatten();
        Ok(AuditPage {
            events: rows
                .into_iter()
                .map(|r| AuditEntry::of(r, filter.full))
                .collect(),
            next_before,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(f: AuditFilter) -> String {
        f.check().unwrap_err().to_string()
    }

    #[test]
    fn each_bad_filter_is_named() {
        let ok = AuditFilter::default();
        assert_eq!(ok.check().unwrap().limit, DEFAULT_AUDIT_PAGE);
        // A window that ends before it starts is empty, not wrong (OpenAPI cannot say `from` <
        // `to`, and a request the document allows is taken).
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let empty = AuditFilter {
            from: Some(t("2026-01-02T00:00:00Z")),
            to: Some(t("2026-01-01T00:00:00Z")),
            ..ok.clone()
        };
        assert!(empty.check().is_ok());
        for (bad, field) in [
            (
                AuditFilter {
                    actor: Some(String::new()),
                    ..ok.clone()
                },
                "`actor`",
            ),
            (
                AuditFilter {
                    action: Some("Reveal-Contact".into()),
                    ..ok.clone()
                },
                "`action`",
            ),
            (
                AuditFilter {
                    case_id: Some("42".into()),
                    ..ok.clone()
                },
                "`case_id`",
            ),
            (
                AuditFilter {
                    before: Some(0),
                    ..ok.clone()
                },
                "`before`",
            ),
            (
                AuditFilter {
                    limit: MAX_AUDIT_PAGE + 1,
                    ..ok.clone()
                },
                "`limit`",
            ),
        ] {
            let m = message(bad);
            assert!(m.contains(field), "{m}");
        }
    }
}
