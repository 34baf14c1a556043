//! The steps of the process on a stored case, and the notes and call-backs recorded between
//! them: each taken inside the store's transaction, with its audit event.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use super::Handling;
use crate::domain::{Action, ActionRequest, Case, CaseId};
use crate::error::Result;
use crate::handling::{
    Actor, DeadlineStanding, Rules, record_contact, record_note, standings, take,
};

/// A case with what the caller may do next and where its deadlines stand now (what a read of
/// a case answers).
#[derive(Debug, Clone, Serialize)]
pub struct CaseInHand {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Its deadlines, as they stand now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deadline_status: Vec<DeadlineStanding>,
    /// The steps the caller may take now.
    pub next_actions: Vec<Action>,
}

impl Handling {
    /// A case, with what `actor` may do next and its deadlines as they stand now.
    pub fn in_hand(&self, case: Case, actor: &Actor) -> CaseInHand {
        let profile = self.engine.profile();
        let share = profile.policy.as_ref().map_or(0.8, |p| p.due_soon_share());
        CaseInHand {
            deadline_status: standings(&case, Timestamp::now(), share),
            next_actions: profile.process.next(case.status, actor.role),
            case,
        }
    }

    /// Takes a step of the process on case `id` as `actor`; the step and its audit event commit
    /// together or not at all.
    pub fn act(&self, id: &CaseId, req: ActionRequest, actor: &Actor) -> Result<Case> {
        let (engine, directory) = (Arc::clone(&self.engine), Arc::clone(&self.directory));
        let who = actor.clone();
        self.change(
            id,
            actor,
            move |case| {
                let profile = engine.profile();
                let rules = Rules {
                    process: &profile.process,
                    policy: profile.policy.as_ref(),
                    calendar: engine.calendar(),
                    directory: &directory,
                };
                take(case, req, &who, &rules, Timestamp::now()).map(Some)
            },
            "the step changed nothing",
        )
    }

    /// Records a note on case `id`.
    pub fn note(&self, id: &CaseId, text: String, actor: &Actor) -> Result<Case> {
        let who = actor.clone();
        self.change(
            id,
            actor,
            move |case| record_note(case, &text, &who, Timestamp::now()).map(|()| Some("note")),
            "the note changed nothing",
        )
    }

    /// Records a call-back on case `id`: reached or not, and what came of it.
    pub fn contact(
        &self,
        id: &CaseId,
        reached: bool,
        outcome: Option<String>,
        actor: &Actor,
    ) -> Result<Case> {
        let who = actor.clone();
        self.change(
            id,
            actor,
            move |case| {
                record_contact(case, reached, outcome.as_deref(), &who, Timestamp::now())
                    .map(|()| Some("contact"))
            },
            "the call-back changed nothing",
        )
    }
}
