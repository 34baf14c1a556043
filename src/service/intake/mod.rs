//! Intake: a complaint goes one way — prepare (its text, once) → link (to earlier cases) →
//! judge (model, rules, the links' escalations) → advise (similar cases, suggestions) → make the
//! case → persist — and only then is it answered.

mod case;
mod idempotency;
mod import;
mod import_line;
mod in_flight;
mod limits;
mod links;

use std::sync::Arc;

use jiff::Timestamp;

pub use self::case::{Assessment, CaseAnswer, CreateOutcome, Findings};
use self::case::{Judged, make_case, to_store};
use self::idempotency::{InFlight, check_key, replay, request_hash};
pub use self::import::ImportReport;
pub use self::import_line::intake_of_line;
pub use self::limits::IntakeLimits;
pub use self::links::{GroupSignal, Signals};
use self::links::{Linker, Probe};
use super::advice::{Advisor, Neighbourhood, advice_candidates, similar_candidates};
use super::views::Views;
use super::{DuplicateSettings, SuggestionSettings};
use crate::domain::{Case, Intake};
use crate::error::Result;
use crate::index::SimilarHit;
use crate::store::{CaseStore, NewCase, NewIdempotency};
use crate::text::RawComplaint;
use crate::triage::{Engine, Triage};

/// How much of the intake work a complaint gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Everything: explanations, all three links, similar cases and suggestions.
    Full,
    /// A bulk import of history: no explanations, no group complaints (a backlog is history,
    /// not an arriving crowd), no similar cases or suggestions.
    Lean,
}

/// The intake desk: triage, links, suggestions, and durable storage of new cases.
pub struct IntakeDesk {
    engine: Arc<Engine>,
    store: Arc<dyn CaseStore>,
    views: Arc<Views>,
    advisor: Arc<Advisor>,
    duplicates: DuplicateSettings,
    suggestions: SuggestionSettings,
    limits: IntakeLimits,
    in_flight: InFlight,
}

impl std::fmt::Debug for IntakeDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeDesk")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl IntakeDesk {
    /// A desk over these parts.
    pub(super) fn new(
        engine: Arc<Engine>,
        views: Arc<Views>,
        advisor: Arc<Advisor>,
        duplicates: DuplicateSettings,
        suggestions: SuggestionSettings,
        limits: IntakeLimits,
    ) -> Self {
        IntakeDesk {
            engine,
            store: Arc::clone(views.store()),
            views,
            advisor,
            duplicates,
            suggestions,
            limits,
            in_flight: InFlight::default(),
        }
    }

    /// The limits every intake is checked against.
    pub fn limits(&self) -> &IntakeLimits {
        &self.limits
    }

    /// Triages a complaint with links and suggestions; stores nothing.
    pub fn assess(&self, intake: &Intake) -> Result<Assessment> {
        let judged = self.judge(intake, Depth::Full)?;
        Ok(Assessment {
            masked_text: judged.prepared.text.masked,
            triage: judged.triage,
            found: judged.found,
        })
    }

    /// What drove a stored case's category and grade, as the model reads it now: import keeps
    /// no explanations (they cost as much as the prediction), so the case page asks for them
    /// when it shows one. The grade here is the model's and the rules' (no links).
    pub fn explain(&self, case: &Case) -> Result<Triage> {
        let prepared = self
            .engine
            .pipeline()
            .prepare(case.title.as_deref(), &case.text)?;
        self.engine.judge(&prepared, case.received_at, &[], true)
    }

    /// Triages and stores a complaint as `caller`. Answers only after the case, its audit event
    /// and its idempotency record have committed. With an idempotency key: a retry with the
    /// same body gets the first answer; another body under the key is refused; a retry while
    /// the first is still running is [`Error::Busy`](crate::Error::Busy).
    pub fn create(
        &self,
        intake: &Intake,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome> {
        self.create_then(intake, caller, idempotency_key, || {})
    }

    /// [`IntakeDesk::create`], calling `judged` once the CPU-bound part (model, rules, index
    /// lookups) is done and only the store's commit is left: a caller that bounds concurrent
    /// triage can let the next request in while this one waits for its `fsync` group.
    pub fn create_then(
        &self,
        intake: &Intake,
        caller: &str,
        idempotency_key: Option<&str>,
        judged: impl FnOnce(),
    ) -> Result<CreateOutcome> {
        let Some(key) = idempotency_key else {
            return self.create_now(intake, caller, None, judged);
        };
        check_key(key)?;
        let hash = request_hash(intake);
        let what = format!(
            "a request with Idempotency-Key {:?}",
            crate::error::cut(key)
        );
        let _claim = self.in_flight.claim(caller, key.to_string(), &what)?;
        if let Some(answer) = replay(&*self.store, caller, key, &hash)? {
            return Ok(CreateOutcome::Replayed(answer));
        }
        self.create_now(intake, caller, Some((key.to_string(), hash)), judged)
    }

    /// Creates several cases in one transaction; an item that fails does not stop the others.
    /// With `idempotency_key`, item `i` is created under the key `{key}` + U+001F + `{i}`
    /// (a character no key sent over HTTP can hold, so no single create's key meets it): a retried
    /// batch (after a timeout, say) answers the items already stored with their first answer
    /// ([`CreateOutcome::Replayed`]) and creates only the others; an item whose body changed
    /// is refused as a reused key. A batch with the same key still in flight is
    /// [`Error::Busy`](crate::Error::Busy).
    pub fn create_batch(
        &self,
        intakes: &[Intake],
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<Result<CreateOutcome>>> {
        let Some(key) = idempotency_key else {
            return self.create_many(intakes, caller, None);
        };
        check_key(key)?;
        let what = format!("a batch with Idempotency-Key {:?}", crate::error::cut(key));
        let _claim = self
            .in_flight
            .claim(caller, batch_key(key, "batch"), &what)?;
        self.create_many(intakes, caller, Some(key))
    }

    fn create_many(
        &self,
        intakes: &[Intake],
        caller: &str,
        key: Option<&str>,
    ) -> Result<Vec<Result<CreateOutcome>>> {
        let mut results: Vec<Option<Result<CreateOutcome>>> = Vec::with_capacity(intakes.len());
        let mut new = Vec::new();
        let mut slots = Vec::new();
        for (i, intake) in intakes.iter().enumerate() {
            let record = key.map(|k| (batch_key(k, i), request_hash(intake)));
            if let Some((k, hash)) = &record {
                match replay(&*self.store, caller, k, hash) {
                    Ok(None) => {}
                    Ok(Some(answer)) => {
                        results.push(Some(Ok(CreateOutcome::Replayed(answer))));
                        continue;
                    }
                    Err(e) => {
                        results.push(Some(Err(e)));
                        continue;
                    }
                }
            }
            match self
                .judge(intake, Depth::Full)
                .and_then(|j| self.new_case(intake, j, caller, record))
            {
                Ok(n) => {
                    new.push(n);
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let (stored, found): (Vec<NewCase>, Vec<_>) = new.into_iter().unzip();
        let outcomes = self.persist(stored, found)?;
        for (slot, r) in slots.into_iter().zip(outcomes) {
            results[slot] = Some(r.map(|a| CreateOutcome::Created(Box::new(a))));
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every item answered"))
            .collect())
    }

    fn create_now(
        &self,
        intake: &Intake,
        caller: &str,
        idempotency: Option<(String, String)>,
        judged: impl FnOnce(),
    ) -> Result<CreateOutcome> {
        let j = self.judge(intake, Depth::Full);
        judged();
        let (new, found) = self.new_case(intake, j?, caller, idempotency)?;
        let answer = self
            .persist(vec![new], vec![found])?
            .pop()
            .expect("one answer for one case")?;
        Ok(CreateOutcome::Created(Box::new(answer)))
    }

    /// Stores new cases, and tells the views before answering.
    fn persist(
        &self,
        new: Vec<NewCase>,
        found: Vec<(Findings, crate::text::Signature)>,
    ) -> Result<Vec<Result<CaseAnswer>>> {
        let stored = self.store.insert(new, None)?;
        self.views.created(
            stored
                .iter()
                .zip(&found)
                .filter_map(|(r, (_, fp))| r.as_ref().ok().map(|c| (c, fp))),
        );
        Ok(stored
            .into_iter()
            .zip(found)
            .map(|(r, (found, _))| r.map(|case| CaseAnswer { case, found }))
            .collect())
    }

    /// The new case of a judged complaint, with its idempotency record (key and request
    /// hash) and the group joins, and what goes into the answer.
    fn new_case(
        &self,
        intake: &Intake,
        judged: Judged,
        caller: &str,
        idempotency: Option<(String, String)>,
    ) -> Result<(NewCase, (Findings, crate::text::Signature))> {
        let case = make_case(intake, &judged)?;
        let idempotency = idempotency.map(|(key, request_hash)| {
            let found = judged.found.clone();
            NewIdempotency {
                caller: caller.to_string(),
                key,
                request_hash,
                answer: Box::new(move |case| CaseAnswer::to_bytes(case, &found)),
            }
        });
        let joins = judged
            .found
            .signals
            .group
            .as_ref()
            .map(|g| g.joins())
            .unwrap_or_default();
        let new = to_store(case, intake, &judged, caller, idempotency, joins);
        let fingerprint = judged.prepared.fingerprint;
        Ok((new, (judged.found, fingerprint)))
    }

    /// Prepares, links, judges and (at full depth) advises.
    fn judge(&self, intake: &Intake, depth: Depth) -> Result<Judged> {
        let now = Timestamp::now();
        self.limits.check(intake, now)?;
        let received_at = intake.received_at.unwrap_or(now);
        let prepared = self.engine.pipeline().prepare_complaint(
            &RawComplaint {
                title: intake.title.as_deref(),
                text: &intake.text,
                contact: intake.contact.as_deref(),
            },
            self.store.contact_salt(),
        )?;
        // One index lookup serves the group signal, similar cases and suggestions.
        let neighbours = match depth {
            Depth::Full => self.neighbours(prepared.body()),
            Depth::Lean => Vec::new(),
        };
        let probe = Probe {
            masked: prepared.body(),
            contact_hash: prepared.contact_hash.as_deref(),
            received_at,
            fingerprint: &prepared.fingerprint,
            neighbours: &neighbours,
        };
        let linker = Linker {
            store: &*self.store,
            duplicates: self.views.duplicates(),
            settings: &self.duplicates,
        };
        let (signals, similar, advice) = match depth {
            Depth::Lean => (linker.link_signals(&probe)?, Vec::new(), Default::default()),
            Depth::Full => {
                let k = &self.suggestions;
                // Every case the three lists below compare, read at once.
                let mut read = Neighbourhood::new(prepared.body());
                let mut wanted = linker.group_candidates(&probe);
                wanted.extend(similar_candidates(&neighbours, None, k.similar));
                wanted.extend(advice_candidates(&neighbours, Some(received_at)));
                read.read_ahead(&*self.store, &wanted)?;
                let signals = linker.signals(&mut read, &probe)?;
                let similar =
                    self.advisor
                        .similar_cases_from(&neighbours, &mut read, None, k.similar)?;
                let advice = self.advisor.advice_from(
                    &neighbours,
                    &mut read,
                    Some(received_at),
                    k.suggestions,
                )?;
                (signals, similar, advice)
            }
        };
        let triage = self.engine.judge(
            &prepared.text,
            received_at,
            &signals.escalations(self.duplicates.repeat_days),
            depth == Depth::Full,
        )?;
        Ok(Judged {
            prepared,
            received_at,
            triage,
            found: Findings {
                signals,
                similar,
                advice,
            },
        })
    }

    /// The index's candidates for a text. The index is derived: when it fails, intake goes on
    /// without neighbours (no group signal, similar cases or suggestions this time) rather
    /// than refuse a complaint the store can take.
    fn neighbours(&self, text: &str) -> Vec<SimilarHit> {
        match self.advisor.neighbours(text) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "similar-case lookup failed; intake goes on without neighbours");
                Vec::new()
            }
        }
    }
}

/// The key under which part `part` of a batch sent with `key` is kept: apart from every key a
/// single create can send, which holds only visible characters.
fn batch_key(key: &str, part: impl std::fmt::Display) -> String {
    format!("{key}\u{1f}{part}")
}
