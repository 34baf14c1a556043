//! The one writer: a thread that owns the write connection and commits commands in small
//! groups. One `fsync` per group instead of per case is what lets durable intake keep up with
//! many clients; every caller is answered only after its group has committed. Writing from one
//! thread is also what keeps the change feed in order: versions are handed out here, and commit
//! in the order they were handed out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rusqlite::Connection;

use super::alerts::{self, AlertWrite, AlertWritten};
use super::commands::{apply, in_savepoint, insert_all, reveal, save_checkpoint};
use super::events::{self, EventWrite, EventWritten};
use super::light::{Recent, lock};
use super::mapping::CommitPace;
use super::pending::{Pending, created};
use super::rows::store_err;
use crate::domain::{Case, CaseId};
use crate::error::{Error, Result};
use crate::store::{Access, ImportCheckpoint, KeptApart, NewCase, Update, Updated};

/// Most commands committed in one transaction.
const GROUP: usize = 64;
/// Commands that may wait for the writer before callers block (back-pressure, not an
/// unbounded queue).
const QUEUE: usize = 4096;
/// WAL pages between the writer's own checkpoints while bulk loading (256 MiB of 4 KiB
/// pages); 1,000 otherwise, SQLite's default.
const BULK_CHECKPOINT_PAGES: u32 = 65_536;
/// A group that takes longer than this to commit is logged with where its time went: every
/// intake in it waits for it, so a slow disk or a long checkpoint shows in the log and not
/// only in the latency (bulk loads, whose large groups are meant to be slow, are left out).
const SLOW_COMMIT: Duration = Duration::from_millis(200);

pub(super) type Reply<T> = SyncSender<Result<T>>;

pub(super) enum Command {
    Insert(
        Vec<NewCase>,
        Option<ImportCheckpoint>,
        Reply<Vec<Result<Case>>>,
    ),
    Update(Update, Reply<Updated>),
    /// A read recorded in the audit trail ([`crate::store::CaseStore::reveal`]).
    Reveal(Access, Reply<KeptApart>),
    Alerts(AlertWrite, Reply<AlertWritten>),
    Events(EventWrite, Reply<EventWritten>),
    /// Bulk loading on or off ([`crate::store::CaseStore::bulk_load`]).
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
        recent: Arc<Recent>,
        pace: Arc<CommitPace>,
        pending: Arc<AtomicUsize>,
        failure: Arc<Mutex<Option<String>>>,
    ) -> Result<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let depth = Arc::new(AtomicUsize::new(0));
        let mut state = State::load(conn, recent, pace, pending, failure)?;
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
    /// Cases read recently; a case rewritten is dropped from them once committed.
    recent: Arc<Recent>,
    /// How often commits come, for the readers.
    pace: Arc<CommitPace>,
    /// Pending alert deliveries (kept in step after each commit).
    pending: Arc<AtomicUsize>,
    /// Why the last group could not commit, until one does (readiness).
    failure: Arc<Mutex<Option<String>>>,
    /// Cases rewritten by the open transaction, for the caches after commit.
    rewritten: Vec<CaseId>,
    /// In a bulk load ([`crate::store::CaseStore::bulk_load`]).
    bulk: bool,
}

impl State {
    fn load(
        conn: Connection,
        recent: Arc<Recent>,
        pace: Arc<CommitPace>,
        pending: Arc<AtomicUsize>,
        failure: Arc<Mutex<Option<String>>>,
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
            recent,
            pace,
            pending,
            failure,
            rewritten: Vec::new(),
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
                    cmd => group.push(cmd),
                }
                if group.len() < GROUP && switch.is_none() {
                    next = rx.try_recv().ok();
                }
            }
            let n = group.len() + usize::from(switch.is_some());
            if !group.is_empty() {
                self.commit_group(group);
            }
            if let Some((on, reply)) = switch {
                drop(reply.send(self.set_bulk(on)));
            }
            depth.fetch_sub(n, Ordering::Relaxed);
        }
    }

    fn set_bulk(&mut self, on: bool) -> Result<()> {
        let pages = if on { BULK_CHECKPOINT_PAGES } else { 1000 };
        self.conn
            .pragma_update(None, "wal_autocheckpoint", pages)
            .map_err(store_err)?;
        if !on {
            // Copy back what the load left, once, now rather than in the next intake's commit.
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .map_err(store_err)?;
        }
        self.bulk = on;
        Ok(())
    }

    fn commit_group(&mut self, group: Vec<Command>) {
        let (seq, version) = (self.next_seq, self.next_version);
        let started = Instant::now();
        let commands = group.len();
        let mut pending = Vec::with_capacity(group.len());
        let mut alert_delta: isize = 0;
        // Why the group cannot commit, once known: the rest of it is not run.
        let mut aborted: Option<Error> = None;
        let tx = self
            .conn
            .transaction()
            .map_err(|e| aborted = Some(store_err(e)))
            .ok();
        for cmd in group {
            let Some(tx) = tx.as_ref().filter(|_| aborted.is_none()) else {
                pending.push(Pending::skipped(cmd));
                continue;
            };
            let p = match cmd {
                Command::Insert(items, checkpoint, reply) => {
                    let r = insert_all(
                        tx,
                        &mut self.next_seq,
                        &mut self.next_version,
                        &mut self.rewritten,
                        items,
                    )
                    .and_then(|results| match &checkpoint {
                        Some(c) => save_checkpoint(tx, c).map(|()| results),
                        None => Ok(results),
                    });
                    Pending::Inserted(reply, r)
                }
                Command::Update(update, reply) => {
                    let r = in_savepoint(tx, || {
                        apply(
                            tx,
                            &mut self.next_version,
                            &mut self.rewritten,
                            update,
                            Timestamp::now(),
                        )
                    });
                    Pending::Updated(reply, Box::new(r))
                }
                Command::Reveal(access, reply) => {
                    let r = in_savepoint(tx, || reveal(tx, access, Timestamp::now()));
                    Pending::Revealed(reply, r)
                }
                Command::Alerts(write, reply) => {
                    let r = in_savepoint(tx, || alerts::write(tx, write));
                    if let Ok(w) = &r {
                        alert_delta += w.pending_delta;
                    }
                    Pending::Alerts(reply, r)
                }
                Command::Events(write, reply) => {
                    Pending::Events(reply, in_savepoint(tx, || events::write(tx, write)))
                }
                Command::Bulk(..) => unreachable!("run() keeps bulk switches out of groups"),
            };
            // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction
            // back: the savepoints are gone, and a command run now would commit on its own.
            if tx.is_autocommit() {
                aborted =
                    Some(p.error().unwrap_or_else(|| {
                        Error::Store("SQLite rolled the transaction back".into())
                    }));
            }
            pending.push(p);
        }
        let statements = started.elapsed();
        let outcome = match (tx, aborted) {
            (_, Some(e)) => Err(e),
            (Some(tx), None) => tx.commit().map_err(store_err),
            (None, None) => unreachable!("no transaction means an error"),
        };
        self.log_if_slow(commands, statements, started.elapsed());
        let rewritten = std::mem::take(&mut self.rewritten);
        if let Err(e) = outcome {
            // Nothing of this group is durable: every caller gets the error, and the counters
            // go back to what the database holds.
            self.next_seq = seq;
            self.next_version = version;
            let msg = format!("commit failed: {e}");
            *lock(&self.failure) = Some(msg.clone());
            for p in pending {
                p.fail(&e, &msg);
            }
            return;
        }
        lock(&self.failure).take();
        self.pace.committed(Timestamp::now().as_millisecond());
        if alert_delta != 0 {
            let _ = self
                .pending
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_add_signed(alert_delta))
                });
        }
        // New cases are the likeliest neighbours of the next intakes (repeats, group
        // complaints, a rising topic); not during a bulk load, which would only churn the
        // cache. Cached before the group's rewrites are forgotten: a case created and then
        // linked in the same group is not kept in its first version.
        let new: Vec<Arc<Case>> = if self.bulk {
            Vec::new()
        } else {
            pending
                .iter_mut()
                .flat_map(created)
                .map(light_copy)
                .collect()
        };
        self.recent.committed(&new, &rewritten);
        for p in pending {
            p.answer();
        }
    }

    /// Logs a slow commit: its commands, the time its statements took and the time the commit
    /// itself took (the log's sync, and a checkpoint when the log had grown past SQLite's
    /// limit), with the log's size then.
    fn log_if_slow(&self, commands: usize, statements: Duration, total: Duration) {
        if self.bulk || total < SLOW_COMMIT {
            return;
        }
        let wal_bytes = self
            .conn
            .path()
            .and_then(|p| std::fs::metadata(format!("{p}-wal")).ok())
            .map_or(0, |m| m.len());
        tracing::warn!(
            commands,
            statements_ms = statements.as_millis() as u64,
            commit_ms = total.saturating_sub(statements).as_millis() as u64,
            wal_bytes,
            "a slow store commit: every intake in it waited"
        );
    }
}

/// A new case as a light read (`get_many`) loads it: without its triage record (not copied
/// either). Its neighbour is made from this copy.
fn light_copy(case: &mut Case) -> Arc<Case> {
    let triage = case.triage.take();
    let light = Arc::new(case.clone());
    case.triage = triage;
    light
}
