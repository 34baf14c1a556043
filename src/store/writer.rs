//! The one writer: a thread that owns the write connection and commits commands in small
//! groups. One `fsync` per group instead of per case is what lets durable intake keep up with
//! many clients; every caller is answered only after its group has committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value};

use super::bands::BandIndex;
use super::light::{LightCache, lock};
use super::{CaseUpdate, Created, ImportCheckpoint, NewCase};
use crate::domain::{AuditEvent, Case, CaseId, Grade, Reason, beijing_day_code};
use crate::error::{Error, Result};
use crate::text::BANDS;

/// Most commands committed in one transaction.
const GROUP: usize = 64;
/// Commands that may wait for the writer before callers block (back-pressure, not an
/// unbounded queue).
const QUEUE: usize = 4096;

type Reply<T> = SyncSender<Result<T>>;

pub(super) enum Command {
    Create(Box<NewCase>, Reply<Created>),
    CreateMany(
        Vec<NewCase>,
        Option<ImportCheckpoint>,
        Reply<Vec<Result<Created>>>,
    ),
    Update(CaseId, String, CaseUpdate, Reply<Case>),
    /// Bulk loading on or off ([`super::CaseStore::set_bulk`]).
    Bulk(bool, Reply<()>),
}

/// Handle to the writer thread; dropping it stops the thread after the queued commands.
pub(super) struct Writer {
    tx: Option<SyncSender<Command>>,
    depth: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(
        conn: Connection,
        bands: Arc<RwLock<BandIndex>>,
        light: Arc<Mutex<LightCache>>,
    ) -> Result<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let depth = Arc::new(AtomicUsize::new(0));
        let mut state = State::load(conn, bands, light)?;
        let d = Arc::clone(&depth);
        let thread = std::thread::Builder::new()
            .name("tousu-store-writer".into())
            .spawn(move || state.run(rx, d))
            .map_err(|e| Error::Store(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            depth,
            thread: Some(thread),
        })
    }

    /// Sends `cmd` and waits for its answer.
    pub fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, answer) = sync_channel(1);
        let tx = self.tx.as_ref().expect("writer is running until dropped");
        self.depth.fetch_add(1, Ordering::Relaxed);
        if tx.send(make(reply)).is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::Store("the store writer has stopped".into()));
        }
        answer
            .recv()
            .map_err(|_| Error::Store("the store writer stopped before answering".into()))?
    }

    pub fn queue_depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct State {
    conn: Connection,
    next_seq: u64,
    next_version: u64,
    /// The in-memory band index, given each new case once its transaction has committed.
    bands: Arc<RwLock<BandIndex>>,
    /// Light cases read recently; a case rewritten is dropped from it once committed.
    light: Arc<Mutex<LightCache>>,
    /// What the open transaction changed that memory must follow once it commits.
    effects: Effects,
    /// In a bulk load ([`super::CaseStore::set_bulk`]).
    bulk: bool,
}

/// What a transaction changed that memory must follow once it commits.
#[derive(Default)]
struct Effects {
    /// New cases' band values, for the band index.
    bands: Vec<Fresh>,
    /// Cases rewritten (updates, group links), for the light-case cache.
    rewritten: Vec<CaseId>,
}

/// A new case's band values, for the band index after commit.
struct Fresh {
    seq: u64,
    received_at: i64,
    bands: [u64; BANDS],
}

/// A command's answer, sent once its group has committed.
enum Pending {
    Created(Reply<Created>, Result<Created>),
    Many(Reply<Vec<Result<Created>>>, Result<Vec<Result<Created>>>),
    Updated(Reply<Case>, Result<Case>),
}

impl Pending {
    /// The cases this command created.
    fn created(&mut self) -> Vec<&mut Created> {
        match self {
            Pending::Created(_, Ok(c)) => vec![c],
            Pending::Many(_, Ok(items)) => {
                items.iter_mut().filter_map(|r| r.as_mut().ok()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// A new case as a neighbour read loads it: without its intake triage (not copied either).
fn light_copy(created: &mut Created) -> Arc<Case> {
    let triage = std::mem::take(&mut created.case.triage);
    let light = Arc::new(created.case.clone());
    created.case.triage = triage;
    light
}

impl State {
    fn load(
        conn: Connection,
        bands: Arc<RwLock<BandIndex>>,
        light: Arc<Mutex<LightCache>>,
    ) -> Result<Self> {
        let (seq, version): (i64, i64) = conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(version), 0) FROM cases",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(store_err)?;
        Ok(State {
            conn,
            next_seq: seq as u64 + 1,
            next_version: version as u64 + 1,
            bands,
            light,
            effects: Effects::default(),
            bulk: false,
        })
    }

    fn run(&mut self, rx: Receiver<Command>, depth: Arc<AtomicUsize>) {
        while let Ok(first) = rx.recv() {
            let mut group = Vec::with_capacity(GROUP);
            let mut next = Some(first);
            // A bulk switch is not part of a transaction: it ends the group and runs after it.
            let mut switch = None;
            while let Some(cmd) = next.take() {
                match cmd {
                    Command::Bulk(on, reply) => switch = Some((on, reply)),
                    cmd => {
                        group.push(cmd);
                        if group.len() < GROUP {
                            next = rx.try_recv().ok();
                        }
                    }
                }
            }
            depth.fetch_sub(
                group.len() + usize::from(switch.is_some()),
                Ordering::Relaxed,
            );
            if !group.is_empty() {
                self.commit_group(group);
            }
            if let Some((on, reply)) = switch {
                drop(reply.send(self.set_bulk(on)));
            }
        }
    }

    fn set_bulk(&mut self, on: bool) -> Result<()> {
        self.bulk = on;
        let pages = if on {
            super::BULK_CHECKPOINT_PAGES
        } else {
            1000
        };
        self.conn
            .pragma_update(None, "wal_autocheckpoint", pages)
            .map_err(store_err)?;
        if !on {
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .map_err(store_err)?;
        }
        Ok(())
    }

    fn commit_group(&mut self, group: Vec<Command>) {
        let (seq, version) = (self.next_seq, self.next_version);
        let mut pending = Vec::with_capacity(group.len());
        let outcome = (|| -> Result<()> {
            let tx = self.conn.transaction().map_err(store_err)?;
            for cmd in group {
                pending.push(match cmd {
                    Command::Create(new, reply) => {
                        let r = in_savepoint(&tx, &mut self.effects, |t, effects| {
                            insert(t, &mut self.next_seq, &mut self.next_version, effects, *new)
                        });
                        Pending::Created(reply, r)
                    }
                    Command::CreateMany(items, checkpoint, reply) => {
                        // All at once in one savepoint (one sub-journal); only if an item
                        // fails, again one savepoint per item so that the others still go in.
                        let all = in_savepoint(&tx, &mut self.effects, |t, effects| {
                            let mut created: Vec<Created> = Vec::with_capacity(items.len());
                            for new in &items {
                                let new =
                                    link_to_item(new.clone(), |j| created.get(j).map(Ok::<_, ()>));
                                created.push(insert(
                                    t,
                                    &mut self.next_seq,
                                    &mut self.next_version,
                                    effects,
                                    new,
                                )?);
                            }
                            Ok(created)
                        });
                        let results = match all {
                            Ok(created) => created.into_iter().map(Ok).collect(),
                            Err(_) => {
                                let mut results: Vec<Result<Created>> =
                                    Vec::with_capacity(items.len());
                                for new in items {
                                    let new = link_to_item(new, |j| {
                                        results.get(j).map(|r| r.as_ref().map_err(drop))
                                    });
                                    results.push(in_savepoint(
                                        &tx,
                                        &mut self.effects,
                                        |t, effects| {
                                            insert(
                                                t,
                                                &mut self.next_seq,
                                                &mut self.next_version,
                                                effects,
                                                new,
                                            )
                                        },
                                    ));
                                }
                                results
                            }
                        };
                        let r = match checkpoint {
                            Some(c) => save_checkpoint(&tx, &c).map(|()| results),
                            None => Ok(results),
                        };
                        Pending::Many(reply, r)
                    }
                    Command::Update(id, actor, update, reply) => {
                        let r = in_savepoint(&tx, &mut self.effects, |t, effects| {
                            apply_update(t, &mut self.next_version, effects, &id, &actor, update)
                        });
                        Pending::Updated(reply, r)
                    }
                    Command::Bulk(..) => unreachable!("run() keeps bulk switches out of groups"),
                });
            }
            tx.commit().map_err(store_err)
        })();
        let effects = std::mem::take(&mut self.effects);
        if let Err(e) = outcome {
            // Nothing of this group is durable: every caller gets the error, and the counters
            // go back to what the database holds.
            self.next_seq = seq;
            self.next_version = version;
            let msg = format!("commit failed: {e}");
            for p in pending {
                let err = || Error::Store(msg.clone());
                match p {
                    Pending::Created(reply, _) => drop(reply.send(Err(err()))),
                    Pending::Many(reply, _) => drop(reply.send(Err(err()))),
                    Pending::Updated(reply, _) => drop(reply.send(Err(err()))),
                }
            }
            return;
        }
        // Before anyone is answered: a near duplicate sent right after its ack is found.
        let mut bands = self.bands.write().expect("band index lock");
        for f in effects.bands {
            bands.insert(f.seq, f.received_at, &f.bands);
        }
        drop(bands);
        // New cases are the likeliest neighbours of the next intakes (repeats, group
        // complaints, a rising topic); not during a bulk load, which would only churn the
        // cache. Cached before the group's rewrites are forgotten: a case created and then
        // linked in the same group is not kept in its first version.
        let mut light = lock(&self.light);
        if !self.bulk {
            light.add_new(
                pending
                    .iter_mut()
                    .flat_map(Pending::created)
                    .map(light_copy),
            );
        }
        if !effects.rewritten.is_empty() {
            light.forget(&effects.rewritten);
        }
        drop(light);
        for p in pending {
            // A caller that gave up waiting is no reason to stop.
            match p {
                Pending::Created(reply, r) => drop(reply.send(r)),
                Pending::Many(reply, r) => drop(reply.send(r)),
                Pending::Updated(reply, r) => drop(reply.send(r)),
            }
        }
    }
}

/// Sets the duplicate link of an item that nearly duplicates an earlier item of its batch, to
/// that item's root case, once `earlier(j)` has it stored (a failed item links nothing).
fn link_to_item<'a>(
    mut new: NewCase,
    earlier: impl FnOnce(usize) -> Option<std::result::Result<&'a Created, ()>>,
) -> NewCase {
    if let Some(Some(Ok(c))) = new.duplicate_of_item.map(earlier) {
        let root = c.case.links.duplicate_of.clone();
        new.case.links.duplicate_of = Some(root.unwrap_or_else(|| c.case.id.clone()));
    }
    new
}

/// Runs `f` in a savepoint: its writes are kept only if it succeeds, so one bad command does
/// not undo the rest of its group. The band values it gathered in `effects` are dropped with
/// it if it fails (cases it rewrote stay listed: forgetting one more cached case is harmless).
fn in_savepoint<T>(
    tx: &Transaction<'_>,
    effects: &mut Effects,
    f: impl FnOnce(&Connection, &mut Effects) -> Result<T>,
) -> Result<T> {
    // Cached statements: `execute_batch` would parse the SQL again for every command.
    let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut st| st.execute([]));
    run("SAVEPOINT cmd").map_err(store_err)?;
    let mark = effects.bands.len();
    match f(tx, effects) {
        Ok(v) => {
            run("RELEASE cmd").map_err(store_err)?;
            Ok(v)
        }
        Err(e) => {
            effects.bands.truncate(mark);
            tx.execute_batch("ROLLBACK TO cmd; RELEASE cmd")
                .map_err(store_err)?;
            Err(e)
        }
    }
}

fn insert(
    conn: &Connection,
    next_seq: &mut u64,
    next_version: &mut u64,
    effects: &mut Effects,
    new: NewCase,
) -> Result<Created> {
    let NewCase {
        mut case,
        triage_json,
        original_text,
        signature,
        actor,
        idempotency,
        response_extra,
        group_members,
        duplicate_of_item: _,
    } = new;
    if let Some(idem) = &idempotency {
        let taken: Option<String> = conn
            .prepare_cached("SELECT case_id FROM idempotency WHERE key = ?1")
            .and_then(|mut st| st.query_row([&idem.key], |r| r.get(0)).optional())
            .map_err(store_err)?;
        if let Some(id) = taken {
            return Err(Error::Conflict(format!(
                "Idempotency-Key already used for case {id}"
            )));
        }
    }
    let now = Timestamp::now();
    let day = beijing_day_code(case.received_at);
    let n: i64 = conn
        .prepare_cached(
            "INSERT INTO day_counters (day, n) VALUES (?1, 1)
             ON CONFLICT(day) DO UPDATE SET n = n + 1 RETURNING n",
        )
        .and_then(|mut st| st.query_row([&day], |r| r.get(0)))
        .map_err(store_err)?;
    case.id = CaseId::new(&day, n as u64);
    case.seq = take(next_seq);
    case.version = take(next_version);
    case.created_at = now;
    case.updated_at = now;
    let doc = to_json(&mut case);
    let triage = triage_json.unwrap_or_else(|| case.triage.to_string());
    conn.prepare_cached(
        "INSERT INTO cases (seq, id, version, received_at, contact_hash, original_text, doc, triage)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            case.seq as i64,
            case.id.as_str(),
            case.version as i64,
            case.received_at.as_millisecond(),
            case.contact_hash,
            original_text,
            doc,
            triage,
        ])
    })
    .map_err(store_err)?;
    let bands = signature.bands();
    let b = bands.map(|h| h as i64);
    conn.prepare_cached(
        "INSERT INTO signatures (seq, id, received_at, signature,
                                 band0, band1, band2, band3, band4, band5, band6, band7)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut st| {
        st.execute(params![
            case.seq as i64,
            case.id.as_str(),
            case.received_at.as_millisecond(),
            signature.to_bytes(),
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6],
            b[7],
        ])
    })
    .map_err(store_err)?;
    // The case itself is the state after creation; the event records the decisions.
    let after = serde_json::json!({
        "status": case.status,
        "category": case.category,
        "grade": case.grade,
        "reasons": case.reasons,
        "department": case.department,
        "links": case.links,
    });
    audit(conn, &case.id, now, &actor, "create", Value::Null, after)?;
    let created = Created {
        case,
        extra: response_extra,
    };
    if let Some(idem) = idempotency {
        conn.prepare_cached(
            "INSERT INTO idempotency (key, request_hash, case_id, response, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut st| {
            st.execute(params![
                idem.key,
                idem.request_hash,
                created.case.id.as_str(),
                created.body(),
                now.as_millisecond()
            ])
        })
        .map_err(store_err)?;
    }
    if let Some(group) = created.case.links.group_id.clone() {
        for member in group_members {
            join_group(conn, next_version, effects, &member, &group, now)?;
        }
    }
    effects.bands.push(Fresh {
        seq: created.case.seq,
        received_at: created.case.received_at.as_millisecond(),
        bands,
    });
    Ok(created)
}

/// Puts an earlier case under `group` and raises it to 重大 with reason `group`.
fn join_group(
    conn: &Connection,
    next_version: &mut u64,
    effects: &mut Effects,
    id: &CaseId,
    group: &str,
    now: Timestamp,
) -> Result<()> {
    let Some(mut case) = load(conn, id)? else {
        return Ok(());
    };
    if case.links.group_id.is_some() {
        return Ok(());
    }
    let before =
        serde_json::json!({"grade": case.grade, "reasons": case.reasons, "group_id": null});
    case.links.group_id = Some(group.to_string());
    if case.corrections.grade.is_none() {
        case.grade = Grade::Major;
        if !case.reasons.contains(&Reason::Group) {
            case.reasons.insert(0, Reason::Group);
        }
    }
    let after =
        serde_json::json!({"grade": case.grade, "reasons": case.reasons, "group_id": group});
    case.version = take(next_version);
    case.updated_at = now;
    save(conn, effects, &mut case)?;
    audit(conn, id, now, "system", "link", before, after)
}

fn apply_update(
    conn: &Connection,
    next_version: &mut u64,
    effects: &mut Effects,
    id: &CaseId,
    actor: &str,
    update: CaseUpdate,
) -> Result<Case> {
    let mut case = load(conn, id)?.ok_or_else(|| Error::NotFound(format!("case {id}")))?;
    let before = serde_json::to_value(&case).map_err(|e| Error::Store(e.to_string()))?;
    let action = update(&mut case)?;
    let now = Timestamp::now();
    case.version = take(next_version);
    case.updated_at = now;
    let after = serde_json::to_value(&case).map_err(|e| Error::Store(e.to_string()))?;
    let (before, after) = changed_fields(before, after);
    if after.as_object().is_some_and(Map::is_empty) {
        return Err(Error::Invalid(
            "the patch changes nothing: every field already has the value sent".into(),
        ));
    }
    save(conn, effects, &mut case)?;
    audit(conn, id, now, actor, action, before, after)?;
    Ok(case)
}

/// The top-level fields that differ, as two objects (bookkeeping fields left out).
fn changed_fields(before: Value, after: Value) -> (Value, Value) {
    let (Value::Object(b), Value::Object(mut a)) = (before, after) else {
        return (Value::Null, Value::Null);
    };
    let mut old = Map::new();
    let mut new = Map::new();
    for key in b
        .keys()
        .chain(a.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
    {
        if matches!(key.as_str(), "version" | "updated_at") {
            continue;
        }
        let bv = b.get(&key).cloned().unwrap_or(Value::Null);
        let av = a.remove(&key).unwrap_or(Value::Null);
        if bv != av {
            old.insert(key.clone(), bv);
            new.insert(key, av);
        }
    }
    (Value::Object(old), Value::Object(new))
}

fn save_checkpoint(conn: &Connection, c: &ImportCheckpoint) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut st| {
        st.execute(params![
            format!("import:{}", c.file_key),
            c.lines_done.to_string()
        ])
    })
    .map_err(store_err)?;
    Ok(())
}

/// A case with the triage recorded at intake.
pub(super) fn load(conn: &Connection, id: &CaseId) -> Result<Option<Case>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT doc, triage FROM cases WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(store_err)?;
    row.map(|(doc, triage)| {
        let mut case = from_json(&doc)?;
        case.triage = serde_json::from_str(&triage).unwrap_or(Value::Null);
        Ok(case)
    })
    .transpose()
}

/// A case without the triage recorded at intake (lists, similarity, the index: the triage
/// explanation is most of a case's bytes and none of them need it).
pub(super) fn load_light(conn: &Connection, id: &CaseId) -> Result<Option<Case>> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM cases WHERE id = ?1")
        .and_then(|mut st| st.query_row([id.as_str()], |r| r.get(0)).optional())
        .map_err(store_err)?;
    doc.map(|d| from_json(&d)).transpose()
}

fn save(conn: &Connection, effects: &mut Effects, case: &mut Case) -> Result<()> {
    effects.rewritten.push(case.id.clone());
    let doc = to_json(case);
    conn.prepare_cached("UPDATE cases SET version = ?1, doc = ?2 WHERE id = ?3")
        .and_then(|mut st| st.execute(params![case.version as i64, doc, case.id.as_str()]))
        .map_err(store_err)?;
    Ok(())
}

fn audit(
    conn: &Connection,
    id: &CaseId,
    at: Timestamp,
    actor: &str,
    action: &str,
    before: Value,
    after: Value,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (case_id, at, actor, action, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id.as_str(),
            at.as_millisecond(),
            actor,
            action,
            before.to_string(),
            after.to_string()
        ])
    })
    .map_err(store_err)?;
    Ok(())
}

pub(super) fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    let at: i64 = row.get(1)?;
    let parse = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
    Ok(AuditEvent {
        case_id: CaseId(row.get(0)?),
        at: Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH),
        actor: row.get(2)?,
        action: row.get(3)?,
        before: parse(row.get(4)?),
        after: parse(row.get(5)?),
    })
}

fn take(counter: &mut u64) -> u64 {
    let v = *counter;
    *counter += 1;
    v
}

/// The case's document, without its intake triage (kept in a column of its own). The triage
/// is set aside while serialising, not copied out of a JSON tree.
pub(super) fn to_json(case: &mut Case) -> String {
    let triage = std::mem::take(&mut case.triage);
    let doc = serde_json::to_string(case).expect("a case always serialises");
    case.triage = triage;
    doc
}

pub(super) fn from_json(doc: &str) -> Result<Case> {
    serde_json::from_str(doc)
        .map_err(|e| Error::Store(format!("a stored case does not parse: {e}")))
}

pub(super) fn store_err(e: rusqlite::Error) -> Error {
    Error::Store(e.to_string())
}
