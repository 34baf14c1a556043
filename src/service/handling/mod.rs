//! Handling a case after intake: reading it (within the caller's departments), taking the
//! steps of the process (`steps.rs`), recording notes and call-backs, and analysts'
//! corrections of category and grade (`corrections.rs`: kept, with who and when, as training
//! data; they re-route and re-time the case). Every free text written here is masked before it
//! is stored. The complainant's contact is shown only by an audited reveal (`reveal.rs`), and
//! administrators search the audit trail across cases (`audit.rs`).

mod audit;
mod corrections;
mod reveal;
mod steps;
mod work;

pub use self::audit::{AuditEntry, AuditFilter, AuditPage, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
pub use self::reveal::{MAX_REASON_CHARS, PiiValue, REVEAL_CONTACT, Revealed};
pub use self::steps::CaseInHand;
pub use self::work::QueueRequest;

use std::sync::Arc;

use super::views::Views;
use crate::domain::{AuditEvent, Case, CaseId};
use crate::error::{Error, Result, cut};
use crate::handling::{Actor, Directory};
use crate::store::{CaseStore, Change, Update};
use crate::triage::Engine;

/// Reads and changes stored cases.
pub struct Handling {
    engine: Arc<Engine>,
    store: Arc<dyn CaseStore>,
    views: Arc<Views>,
    directory: Arc<Directory>,
}

impl std::fmt::Debug for Handling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handling").finish_non_exhaustive()
    }
}

impl Handling {
    /// Handling over these parts; `directory` says where cases may be sent.
    pub(super) fn new(engine: Arc<Engine>, views: Arc<Views>, directory: Arc<Directory>) -> Self {
        Handling {
            engine,
            store: Arc::clone(views.store()),
            views,
            directory,
        }
    }

    /// Where cases may be sent: departments and handlers.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The categories a correction may name: the model's.
    pub fn categories(&self) -> Vec<String> {
        self.engine.classifier().labels().category.clone()
    }

    /// The root causes a `close` step may name: the profile's.
    pub fn root_causes(&self) -> Vec<String> {
        self.engine.profile().process.root_causes().to_vec()
    }

    /// A case by number, with its triage record; a case outside the actor's departments is
    /// not found, as if absent.
    pub fn get(&self, id: &CaseId, actor: &Actor) -> Result<Case> {
        if !CaseId::is_well_formed(id.as_str()) {
            return Err(Error::NotFound(format!(
                "case {} (case numbers look like TS20261122-000123)",
                cut(id.as_str())
            )));
        }
        self.store
            .get(id)?
            .filter(|c| actor.works_on(c.department.as_deref()))
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// A case's audit trail, oldest first.
    pub fn audit(&self, id: &CaseId, actor: &Actor) -> Result<Vec<AuditEvent>> {
        self.get(id, actor)?;
        self.store.audit(id)
    }

    /// Runs `change` on case `id` inside the store's transaction as `actor` (a case outside
    /// their departments, then or by the time the change runs, is not found), and answers with
    /// the case as it now is, with its triage record.
    fn change(
        &self,
        id: &CaseId,
        actor: &Actor,
        change: impl FnOnce(&mut Case) -> Result<Option<&'static str>> + Send + 'static,
        unchanged: &str,
    ) -> Result<Case> {
        self.get(id, actor)?;
        let scope = actor.clone();
        let updated = self.store.update(Update {
            id: id.clone(),
            actor: actor.name.clone(),
            change: Change::apply(move |case: &mut Case| {
                if !scope.works_on(case.department.as_deref()) {
                    return Err(Error::NotFound(format!("case {}", case.id)));
                }
                change(case)
            }),
        })?;
        if !updated.changed {
            return Err(Error::Invalid(unchanged.to_string()));
        }
        self.views.changed(&updated.case);
        // With its triage record, as a read of it answers.
        let mut case = updated.case;
        case.triage = self.store.get(id)?.and_then(|c| c.triage);
        Ok(case)
    }
}
