//! Intake: triage a complaint, link it to earlier cases, suggest resolutions, and (for
//! `create`) store it durably before answering.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Service;
use super::neighbourhood::Neighbourhood;
use super::signals::{Probe, Signals};
use super::suggest::{Advice, SimilarCase, advice_candidates, similar_candidates};
use crate::domain::{Case, CaseId, Corrections, Grade, Intake, Links, PiiKind, Reason, Status};
use crate::error::{Error, Result};
use crate::index::SimilarRequest;
use crate::store::{Created, IdempotencyRecord, NewCase};
use crate::text::{Signature, contact_hash, mask_pii, normalize};
use crate::triage::{Complaint, GradeTriage, Triage};

/// Index candidates fetched per intake, shared by the group signal (25 in its window), similar
/// cases (15 re-ranked) and suggestions (20 resolved). The top-k search costs more with k:
/// 60 took about a sixth more CPU per create than 40 (by hand, paced creates at ~1,000/s).
const NEIGHBOURS: usize = 40;

/// Limits on one intake. Texts over the engine's window are still accepted and processed on
/// its head + tail; past `max_text_chars` the request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Longest text, in characters.
    pub max_text_chars: usize,
    /// Longest title, in characters.
    pub max_title_chars: usize,
    /// Longest contact, in characters.
    pub max_contact_chars: usize,
    /// Largest metadata object, in bytes of JSON.
    pub max_metadata_bytes: usize,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_text_chars: 50_000,
            max_title_chars: 500,
            max_contact_chars: 100,
            max_metadata_bytes: 16 * 1024,
        }
    }
}

impl IntakeLimits {
    /// Checks an intake against the limits, naming the field to fix.
    pub fn check(&self, intake: &Intake) -> Result<()> {
        let too_long = |field: &str, n: usize, max: usize| {
            Error::Invalid(format!(
                "`{field}` has {n} characters; at most {max} are accepted"
            ))
        };
        let n = intake.text.chars().count();
        if n > self.max_text_chars {
            return Err(too_long("text", n, self.max_text_chars));
        }
        if let Some(t) = &intake.title {
            let n = t.chars().count();
            if n > self.max_title_chars {
                return Err(too_long("title", n, self.max_title_chars));
            }
        }
        if let Some(c) = &intake.contact {
            let n = c.chars().count();
            if n > self.max_contact_chars {
                return Err(too_long("contact", n, self.max_contact_chars));
            }
        }
        if let Some(m) = &intake.metadata {
            let n = Value::Object(m.clone()).to_string().len();
            if n > self.max_metadata_bytes {
                return Err(Error::Invalid(format!(
                    "`metadata` is {n} bytes of JSON; at most {} are accepted",
                    self.max_metadata_bytes
                )));
            }
        }
        Ok(())
    }
}

/// Everything said about a complaint at intake.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The engine's triage (grade raised by repeat and group links where they apply).
    #[serde(flatten)]
    pub triage: Triage,
    /// Repeat, duplicate and group links.
    pub signals: Signals,
    /// Most similar earlier cases.
    pub similar: Vec<SimilarCase>,
    /// Resolutions of similar resolved cases, and who handled those cases.
    #[serde(flatten)]
    pub advice: Advice,
}

/// What `create` did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// Stored now; the body to answer with.
    Created(Box<Created>),
    /// A retry of a request already done: the first answer's body.
    Replayed(String),
}

/// An assessment with what storing it needs.
struct Prepared {
    assessment: Assessment,
    received_at: Timestamp,
    contact_hash: Option<String>,
    signature: Signature,
    masked_title: Option<String>,
    masked_text: String,
}

impl Service {
    /// Triages a complaint with links and suggestions; stores nothing.
    pub fn assess(&self, intake: &Intake, limits: &IntakeLimits) -> Result<Assessment> {
        Ok(self.prepare(intake, limits)?.assessment)
    }

    /// Triages and stores a complaint. Answers only after the case, its audit event and its
    /// idempotency record have committed. With an idempotency key: a retry with the same body
    /// gets the first answer; another body under the key is refused; a retry while the first
    /// is still running is a conflict.
    pub fn create(
        &self,
        intake: &Intake,
        limits: &IntakeLimits,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome> {
        self.create_then(intake, limits, actor, idempotency_key, || {})
    }

    /// [`Service::create`], calling `triaged` once the CPU-bound part (model, rules, index
    /// lookups) is done and only the store's commit is left: a caller that bounds concurrent
    /// triage can let the next request in while this one waits for its `fsync` group.
    pub fn create_then(
        &self,
        intake: &Intake,
        limits: &IntakeLimits,
        actor: &str,
        idempotency_key: Option<&str>,
        triaged: impl FnOnce(),
    ) -> Result<CreateOutcome> {
        let Some(key) = idempotency_key else {
            return self
                .create_now(intake, limits, actor, None, triaged)
                .map(|c| CreateOutcome::Created(Box::new(c)));
        };
        check_key(key)?;
        let record = IdempotencyRecord {
            key: key.to_string(),
            request_hash: request_hash(intake),
        };
        let _claim = self.claim(
            key.to_string(),
            &format!("a request with Idempotency-Key {key:?}"),
        )?;
        if let Some(body) = self.replay(&record)? {
            return Ok(CreateOutcome::Replayed(body));
        }
        self.create_now(intake, limits, actor, Some(record), triaged)
            .map(|c| CreateOutcome::Created(Box::new(c)))
    }

    /// Marks `key` as in flight until the claim is dropped; a second claim meanwhile is a
    /// conflict (`what` names the request in its message).
    fn claim(&self, key: String, what: &str) -> Result<Claim<'_>> {
        let mut in_flight = self.in_flight.lock().expect("in-flight lock");
        if !in_flight.insert(key.clone()) {
            return Err(Error::Conflict(format!(
                "{what} is still being processed; retry shortly"
            )));
        }
        Ok(Claim { service: self, key })
    }

    /// Creates several cases in one transaction; an item that fails does not stop the others.
    /// With `idempotency_key`, item `i` is created under the key `"{key}#{i}"`: a retried
    /// batch (after a timeout, say) answers the items already stored with their first answer
    /// ([`CreateOutcome::Replayed`]) and creates only the others; an item whose body changed
    /// is refused as a reused key. A batch with the same key still in flight is a conflict.
    pub fn create_batch(
        &self,
        intakes: &[Intake],
        limits: &IntakeLimits,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<Result<CreateOutcome>>> {
        let Some(key) = idempotency_key else {
            return self.create_many_now(intakes, limits, actor, None);
        };
        check_key(key)?;
        let _claim = self.claim(
            format!("{key}#batch"),
            &format!("a batch with Idempotency-Key {key:?}"),
        )?;
        self.create_many_now(intakes, limits, actor, Some(key))
    }

    fn create_many_now(
        &self,
        intakes: &[Intake],
        limits: &IntakeLimits,
        actor: &str,
        key: Option<&str>,
    ) -> Result<Vec<Result<CreateOutcome>>> {
        let mut results: Vec<Option<Result<CreateOutcome>>> = Vec::with_capacity(intakes.len());
        let mut new = Vec::new();
        let mut slots = Vec::new();
        for (i, intake) in intakes.iter().enumerate() {
            let record = key.map(|k| IdempotencyRecord {
                key: format!("{k}#{i}"),
                request_hash: request_hash(intake),
            });
            if let Some(r) = &record {
                match self.replay(r) {
                    Ok(None) => {}
                    Ok(Some(body)) => {
                        results.push(Some(Ok(CreateOutcome::Replayed(body))));
                        continue;
                    }
                    Err(e) => {
                        results.push(Some(Err(e)));
                        continue;
                    }
                }
            }
            match self.prepare(intake, limits) {
                Ok(p) => {
                    new.push(self.new_case(intake, p, actor, record)?);
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let stored = self.store.create_many(new, None)?;
        for (slot, r) in slots.into_iter().zip(stored) {
            results[slot] = Some(r.map(|c| CreateOutcome::Created(Box::new(c))));
        }
        self.follower.notify();
        Ok(results
            .into_iter()
            .map(|r| r.expect("every item answered"))
            .collect())
    }

    /// The first answer under `record`'s key, if there is one and it was for the same body.
    fn replay(&self, record: &IdempotencyRecord) -> Result<Option<String>> {
        match self.store.idempotency(&record.key)? {
            None => Ok(None),
            Some(stored) if stored.request_hash == record.request_hash => Ok(Some(stored.body)),
            Some(stored) => Err(Error::IdempotencyMismatch(format!(
                "Idempotency-Key {:?} was used for a different request (case {}); use a new key for a new complaint",
                record.key, stored.case_id
            ))),
        }
    }

    fn create_now(
        &self,
        intake: &Intake,
        limits: &IntakeLimits,
        actor: &str,
        idempotency: Option<IdempotencyRecord>,
        triaged: impl FnOnce(),
    ) -> Result<Created> {
        let prepared = self.prepare(intake, limits);
        triaged();
        let new = self.new_case(intake, prepared?, actor, idempotency)?;
        let created = self.store.create(new)?;
        self.follower.notify();
        Ok(created)
    }

    fn prepare(&self, intake: &Intake, limits: &IntakeLimits) -> Result<Prepared> {
        limits.check(intake)?;
        let received_at = intake.received_at.unwrap_or_else(Timestamp::now);
        let mut triage = self.engine.triage(&Complaint {
            title: intake.title.as_deref(),
            text: &intake.text,
            received_at: Some(received_at),
        })?;
        let (masked_text, contact) = masked_and_contact(intake, &triage);
        let masked_title = intake
            .title
            .as_deref()
            .map(|t| mask_pii(&normalize(t)).text)
            .filter(|t| !t.is_empty());
        let contact_hash = contact.map(|c| contact_hash(&c, self.store.contact_salt()));
        let signature = Signature::of(&masked_text);
        // One index lookup serves the group signal, similar cases and suggestions.
        let neighbours = self.index.similar(
            &masked_text,
            &SimilarRequest {
                limit: NEIGHBOURS,
                ..Default::default()
            },
        )?;
        let probe = Probe {
            masked: &masked_text,
            contact_hash: contact_hash.as_deref(),
            received_at,
            signature: &signature,
            neighbours: &neighbours,
        };
        let k = &self.settings.suggestions;
        // Every case the three lists below compare, read at once.
        let mut read = Neighbourhood::new(&masked_text);
        let mut wanted = self.group_candidates(&probe);
        wanted.extend(similar_candidates(&neighbours, None, k.similar));
        wanted.extend(advice_candidates(&neighbours, Some(received_at)));
        read.read_ahead(self.store.as_ref(), &wanted)?;
        let signals = self.signals(&mut read, &probe)?;
        if !signals.repeat_of.is_empty() {
            let ids: Vec<&str> = signals.repeat_of.iter().map(CaseId::as_str).collect();
            let evidence = format!(
                "同一投诉人 {} 天内再次投诉: {}",
                self.settings.duplicates.repeat_days,
                ids.join(", ")
            );
            self.engine
                .escalate(&mut triage, Reason::Repeat, evidence, received_at)?;
        }
        if let Some(g) = &signals.group {
            let evidence = format!("群体投诉 {}: {} 位投诉人", g.group_id, g.complainants);
            self.engine
                .escalate(&mut triage, Reason::Group, evidence, received_at)?;
        }
        let similar = self.similar_cases_from(&neighbours, &mut read, None, k.similar)?;
        let advice = self.advice_from(&neighbours, &mut read, Some(received_at), k.suggestions)?;
        Ok(Prepared {
            assessment: Assessment {
                triage,
                signals,
                similar,
                advice,
            },
            received_at,
            contact_hash,
            signature,
            masked_title,
            masked_text,
        })
    }

    fn new_case(
        &self,
        intake: &Intake,
        p: Prepared,
        actor: &str,
        idempotency: Option<IdempotencyRecord>,
    ) -> Result<NewCase> {
        let Assessment {
            triage,
            signals,
            similar,
            advice,
        } = p.assessment;
        let grade = triage.grade.as_ref();
        let reasons = grade.map(GradeTriage::reasons).unwrap_or_default();
        let group_members = signals
            .group
            .as_ref()
            .map(|g| g.unlinked.clone())
            .unwrap_or_default();
        let mut response_extra = Map::new();
        response_extra.insert("signals".into(), json(&signals)?);
        response_extra.insert("similar".into(), json(&similar)?);
        response_extra.insert("suggestions".into(), json(&advice.suggestions)?);
        if let Some(d) = &advice.department {
            response_extra.insert("suggested_department".into(), json(d)?);
        }
        let case = Case {
            id: CaseId(String::new()),
            seq: 0,
            version: 0,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            received_at: p.received_at,
            occurred_at: intake.occurred_at,
            channel: intake.channel.unwrap_or_default(),
            title: p.masked_title,
            text: p.masked_text,
            contact_hash: p.contact_hash,
            category: triage.category.as_ref().map(|c| c.prediction.label.clone()),
            category_confidence: triage.category.as_ref().map(|c| c.prediction.confidence),
            grade: grade.map_or(Grade::General, |g| g.label),
            reasons,
            tier: triage.routing.as_ref().map(|r| r.tier.clone()),
            department: triage.routing.as_ref().map(|r| r.department.clone()),
            assignee: None,
            status: Status::Triaged,
            resolution: None,
            remedy: None,
            resolved_at: None,
            keywords: triage.keywords.iter().map(|k| k.word.clone()).collect(),
            links: Links {
                repeat_of: signals.repeat_of,
                duplicate_of: signals.duplicate_of,
                group_id: signals.group.map(|g| g.group_id),
            },
            corrections: Corrections::default(),
            metadata: intake.metadata.clone().unwrap_or_default(),
            triage: json(&triage)?,
        };
        Ok(NewCase {
            triage_json: None,
            duplicate_of_item: None,
            case,
            original_text: intake.text.clone(),
            signature: p.signature,
            actor: actor.to_string(),
            idempotency,
            response_extra,
            group_members,
        })
    }
}

fn json(v: &impl Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Invalid(format!("cannot serialise the answer: {e}")))
}

/// The complaint's text normalised and masked, and the complainant's contact: as given, else
/// the first mobile or id number in the text. The engine's masked text is the same text when
/// it saw no title and no window cut; then only a contact to read from the unmasked text
/// needs the text normalised again (normalising is a good part of a triage).
pub(super) fn masked_and_contact(intake: &Intake, triage: &Triage) -> (String, Option<String>) {
    let given = intake
        .contact
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let same_text =
        intake.title.as_deref().is_none_or(|t| t.trim().is_empty()) && !triage.truncated;
    let contact_in_text = triage
        .pii
        .iter()
        .any(|s| matches!(s.kind, PiiKind::Mobile | PiiKind::IdCard));
    if same_text && (given.is_some() || !contact_in_text) {
        return (triage.masked_text.clone(), given);
    }
    let normalized = normalize(&intake.text);
    let masked = mask_pii(&normalized);
    let contact = given.or_else(|| {
        masked
            .spans
            .iter()
            .find(|s| matches!(s.kind, PiiKind::Mobile | PiiKind::IdCard))
            .map(|s| normalized[s.byte_start..s.byte_end].to_string())
    });
    (masked.text, contact)
}

/// An idempotency key in flight; released when dropped, also by a panic.
struct Claim<'a> {
    service: &'a Service,
    key: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.service
            .in_flight
            .lock()
            .expect("in-flight lock")
            .remove(&self.key);
    }
}

/// An `Idempotency-Key` must be 1 to 200 characters.
fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 200 {
        return Err(Error::Invalid(
            "Idempotency-Key must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

/// SHA-256 of the request as parsed (so that key order and whitespace do not matter).
fn request_hash(intake: &Intake) -> String {
    let canonical = serde_json::to_string(intake).unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
