//! Bulk import of JSONL case files: resumable, a bad line reported with its number while the
//! good lines go in.
//!
//! Each chunk of lines is triaged on every core, then stored in one transaction together with
//! the import checkpoint (lines done), so an interrupted import resumes exactly where its last
//! commit stopped: no line twice, none lost. Imports link near duplicates and repeats; they do
//! not form group complaints (a backlog is history, not an arriving crowd) and carry no
//! suggestions.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{channel, sync_channel};

use jiff::SignedDuration;
use sha2::{Digest, Sha256};

use super::case::{make_case, to_store};
use super::import_line::read_line;
use super::in_flight::{InFlight, band_keys};
use super::{Depth, IntakeDesk};
use crate::error::{Error, Result};
use crate::store::{ImportCheckpoint, NewCase};
use crate::text::{Signature, mask_free_text};

/// Lines per transaction. Large, because each commit writes every index page it touched to
/// the write-ahead log (the contact index is touched all over).
pub(super) const CHUNK: usize = 2048;
/// Threads triaging (the machine this is sized for has two cores; the store writer and the
/// index share them).
const TRIAGE_WORKERS: usize = 2;
/// Bad lines reported one by one; past this only counted.
const MAX_REPORTED: usize = 1000;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ImportReport {
    /// Lines read this run (after any resumed-over lines).
    pub lines: u64,
    /// Lines skipped because an earlier run already imported them.
    pub resumed_after: u64,
    /// Cases stored.
    pub imported: u64,
    /// Bad lines: (1-based line number, what is wrong). At most 1000 listed.
    pub bad: Vec<(u64, String)>,
    /// Bad lines in all.
    pub bad_count: u64,
}

/// How a file is recognised across runs: its name and a hash of its first MiB.
fn file_key(path: &Path) -> Result<String> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(1 << 20).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let digest: String = Sha256::digest(&head)[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!("{name}:{digest}"))
}

impl IntakeDesk {
    /// Imports `path`. With `resume`, lines an earlier run committed are skipped.
    /// `progress` is told the lines done so far.
    pub fn import(
        &self,
        path: &Path,
        resume: bool,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport> {
        let key = file_key(path)?;
        let start = if resume {
            self.store
                .import_checkpoint(&key)?
                .map_or(0, |c| c.lines_done)
        } else {
            0
        };
        let reader = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
        let mut report = ImportReport {
            resumed_after: start,
            ..Default::default()
        };
        // Bytes, not `lines()`: a line that is not UTF-8 (a GBK export, say) is a bad line to
        // report, not the end of the import.
        let mut lines = reader.split(b'\n');
        let mut line_no = 0u64;
        let segments_before = self.views.begin_bulk()?;
        // The stages overlap, so that no core waits on another or on an fsync: this thread
        // reads chunks, a triage worker per core takes whole chunks as they come, and a
        // storer hands them to the store writer in file order (the checkpoint only moves
        // forward).
        let (to_triage, triage_in) = sync_channel::<(usize, Vec<(u64, Vec<u8>)>)>(1);
        let triage_in = Mutex::new(triage_in);
        let stored = std::thread::scope(|scope| -> Result<()> {
            let (triaged_out, triaged_in) = sync_channel::<(usize, Triaged)>(TRIAGE_WORKERS);
            for _ in 0..TRIAGE_WORKERS {
                let (triage_in, triaged_out) = (&triage_in, triaged_out.clone());
                scope.spawn(move || {
                    loop {
                        let next = triage_in.lock().expect("import queue").recv();
                        let Ok((no, chunk)) = next else { break };
                        let last = chunk.last().map_or(0, |(n, _)| *n);
                        let rows = chunk
                            .iter()
                            .map(|(n, l)| (*n, self.import_line(l)))
                            .collect();
                        if triaged_out.send((no, Triaged { rows, last })).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(triaged_out);
            // Unbounded, so the storer never waits on this thread while it waits on a worker.
            let (stored_out, from_storer) = channel::<Result<Stored>>();
            let key = &key;
            scope.spawn(move || {
                let mut early = BTreeMap::new();
                let mut next = 0;
                let mut in_flight = InFlight::default();
                for (no, t) in triaged_in {
                    early.insert(no, t);
                    while let Some(t) = early.remove(&next) {
                        next += 1;
                        let r = self.store_chunk(key, t, &mut in_flight);
                        let failed = r.is_err();
                        if stored_out.send(r).is_err() || failed {
                            return;
                        }
                    }
                }
            });
            let mut tally = |stored: Result<Stored>| -> Result<()> {
                let stored = stored?;
                let last = stored.last;
                stored.tally(&mut report);
                progress(last);
                Ok(())
            };
            for no in 0.. {
                let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK);
                for line in lines.by_ref() {
                    line_no += 1;
                    let line = line.map_err(|e| Error::io(path, e))?;
                    if line_no > start {
                        chunk.push((line_no, line));
                        if chunk.len() == CHUNK {
                            break;
                        }
                    }
                }
                while let Ok(stored) = from_storer.try_recv() {
                    tally(stored)?;
                }
                // A closed queue means the storer stopped on an error, which comes next.
                if chunk.is_empty() || to_triage.send((no, chunk)).is_err() {
                    break;
                }
            }
            drop(to_triage);
            for stored in from_storer {
                tally(stored)?;
            }
            Ok(())
        });
        // Whatever went in is indexed, even when the import stopped on an error.
        let ended = self.views.end_bulk(&segments_before);
        stored?;
        ended?;
        progress(line_no);
        report.lines = line_no - start.min(line_no);
        Ok(report)
    }

    /// Stores a triaged chunk with its checkpoint in one transaction, after linking the near
    /// duplicates the store could not show its triage (see [`InFlight`]).
    fn store_chunk(&self, key: &str, t: Triaged, in_flight: &mut InFlight) -> Result<Stored> {
        let mut new: Vec<NewCase> = Vec::with_capacity(t.rows.len());
        let mut fingerprints: Vec<Signature> = Vec::with_capacity(t.rows.len());
        // Per item: the earlier item of this chunk at the root of its duplicate chain.
        let mut root_item: Vec<Option<usize>> = Vec::with_capacity(t.rows.len());
        let mut numbers = Vec::with_capacity(t.rows.len());
        let mut outcome = Vec::with_capacity(t.rows.len());
        let window =
            SignedDuration::from_hours(24 * i64::from(self.duplicates.near_duplicate_days));
        let mut chunk_bands: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
        for (n, r) in t.rows {
            match r {
                Ok((mut c, fingerprint)) => {
                    let since = c.case.received_at - window;
                    if c.case.links.duplicate_of.is_none() {
                        c.case.links.duplicate_of = in_flight.duplicate_of(&fingerprint, since);
                    }
                    let bands = band_keys(&fingerprint);
                    let mut root = None;
                    if c.case.links.duplicate_of.is_none() {
                        let earlier = bands
                            .iter()
                            .filter_map(|b| chunk_bands.get(b))
                            .flatten()
                            .copied()
                            .find(|&j| {
                                new[j].case.received_at >= since
                                    && fingerprints[j].is_near_duplicate(&fingerprint)
                            });
                        if let Some(j) = earlier {
                            match new[j].case.links.duplicate_of.clone() {
                                // Already linked to a stored case: the same root.
                                Some(id) => c.case.links.duplicate_of = Some(id),
                                // Its number is assigned in this transaction.
                                None => {
                                    let r = root_item[j].unwrap_or(j);
                                    root = Some(r);
                                    c.complete = Some(Box::new(move |case, earlier| {
                                        case.links.duplicate_of = earlier[r].clone();
                                    }));
                                }
                            }
                        }
                    }
                    for b in bands {
                        chunk_bands.entry(b).or_default().push(new.len());
                    }
                    new.push(c);
                    fingerprints.push(fingerprint);
                    root_item.push(root);
                    numbers.push(n);
                }
                Err(e) => outcome.push((n, Err(e.to_string()))),
            }
        }
        let results = self.store.insert(
            new,
            Some(ImportCheckpoint {
                file_key: key.to_string(),
                lines_done: t.last,
            }),
        )?;
        self.views.created(
            results
                .iter()
                .zip(&fingerprints)
                .filter_map(|(r, fp)| r.as_ref().ok().map(|c| (c, fp))),
        );
        for ((n, r), fingerprint) in numbers.into_iter().zip(results).zip(fingerprints) {
            if let Ok(created) = &r {
                in_flight.remember(fingerprint, created);
            }
            outcome.push((n, r.map(|_| ()).map_err(|e| e.to_string())));
        }
        outcome.sort_by_key(|(n, _)| *n);
        Ok(Stored {
            outcome,
            last: t.last,
        })
    }

    fn import_line(&self, line: &[u8]) -> Result<(NewCase, Signature)> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|e| {
            Error::Invalid(format!(
                "not UTF-8 (byte {}): convert the file first, e.g. `iconv -f GBK -t UTF-8`",
                e.valid_up_to() + 1
            ))
        })?;
        if line.trim().is_empty() {
            return Err(Error::Invalid("empty line".into()));
        }
        let (intake, handled) = read_line(line, None)?;
        let judged = self.judge(&intake, Depth::Lean)?;
        let mut case = make_case(&intake, &judged)?;
        handled.apply_to(&mut case);
        let fingerprint = judged.prepared.fingerprint.clone();
        Ok((
            to_store(case, &intake, &judged, "import", None, Vec::new()),
            fingerprint,
        ))
    }
}

/// A line's number and the case to store with its fingerprint, or what is wrong with the line.
type Row = (u64, Result<(NewCase, Signature)>);

/// A triaged chunk.
struct Triaged {
    rows: Vec<Row>,
    last: u64,
}

/// A stored chunk: per line, stored or why not.
struct Stored {
    outcome: Vec<(u64, std::result::Result<(), String>)>,
    last: u64,
}

impl Stored {
    fn tally(self, report: &mut ImportReport) {
        for (n, r) in self.outcome {
            match r {
                Ok(()) => report.imported += 1,
                Err(e) => note_bad(report, n, e),
            }
        }
    }
}

/// Counts a bad line, and reports it with its message masked: a message may quote the value
/// that was wrong (a phone number in `received_at`, say), and the report is printed and logged.
fn note_bad(report: &mut ImportReport, line: u64, message: String) {
    report.bad_count += 1;
    if report.bad.len() < MAX_REPORTED {
        report
            .bad
            .push((line, mask_free_text(&message).into_owned()));
    }
}
