//! What the in-memory views cost: each built alone from the store while the process's
//! anonymous memory is read before and after (Linux: `/proc/self/smaps_rollup`). `tousu memory`
//! prints it; operators size a machine from it.

use std::any::Any;

use super::progress::Progress;
use super::{DuplicateView, Watch, WorkView};
use crate::error::Result;
use crate::store::{CaseRef, CaseStore};

/// The process's resident memory, split as the kernel counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessMemory {
    /// Heap and other private memory: what the budget in `[memory]` is about.
    pub anonymous: u64,
    /// Pages of files mapped in (the store's memory map, the index, the model): the kernel
    /// drops them under pressure and reads them again.
    pub file: u64,
}

impl ProcessMemory {
    /// Now, from `/proc/self/smaps_rollup`; `None` where there is none.
    pub fn now() -> Option<Self> {
        let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
        let kib = |key: &str| -> Option<u64> {
            let line = text.lines().find(|l| l.starts_with(key))?;
            line[key.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        };
        let rss = kib("Rss:")?;
        let anonymous = kib("Anonymous:")?;
        Some(ProcessMemory {
            anonymous: anonymous * 1024,
            file: rss.saturating_sub(anonymous) * 1024,
        })
    }
}

/// One part's cost.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// What was built.
    pub part: &'static str,
    /// Anonymous memory it added, in bytes (it may be slightly off: the allocator keeps some
    /// freed memory for later).
    pub bytes: i64,
}

/// Builds each view of `store` in turn, keeping them all, and measures what each added. The
/// neighbour cache is filled with the newest `recent_cases` cases, as steady intake fills it,
/// and the light-case cache with the newest [`crate::store::LIGHT_CAPACITY`].
/// `None` where the process's memory cannot be read (not Linux).
pub fn measure(
    store: &dyn CaseStore,
    watch: Watch,
    recent_cases: usize,
) -> Result<Option<Vec<Footprint>>> {
    let Some(before) = ProcessMemory::now() else {
        return Ok(None);
    };
    let total = store.count()?;
    let mut kept: Vec<Box<dyn Any>> = Vec::new();
    let mut out = Vec::new();
    let mut last = before.anonymous;
    let mut record = |part: &'static str, out: &mut Vec<Footprint>| {
        let now = ProcessMemory::now().map_or(last, |m| m.anonymous);
        out.push(Footprint {
            part,
            bytes: now as i64 - last as i64,
        });
        last = now;
    };
    kept.push(Box::new(DuplicateView::rebuild(
        store,
        &Progress::new("near-duplicate view", total),
    )?));
    record("near-duplicate bands", &mut out);
    kept.push(Box::new(WorkView::rebuild(
        store,
        // What a line holds does not depend on the share.
        super::work::DEFAULT_SHARE,
        &Progress::new("work queues", total),
    )?));
    record("work queues (handling facts)", &mut out);
    watch.rebuild(store, &Progress::new("trends and topics", total))?;
    kept.push(Box::new(watch));
    record("trends and topics", &mut out);
    // The newest cases (seqs count up from 1), read as intake reads its neighbours, then as
    // lists read them: they stay in the store's caches.
    newest(store, total, recent_cases, |cases| {
        store.neighbours(cases).map(drop)
    })?;
    record("recent cases (neighbour cache)", &mut out);
    newest(store, total, crate::store::LIGHT_CAPACITY, |cases| {
        let ids: Vec<_> = cases.iter().map(|c| c.id.clone()).collect();
        store.get_many(&ids).map(drop)
    })?;
    record("recent cases (light-case cache)", &mut out);
    drop(kept);
    Ok(Some(out))
}

/// Reads the newest `n` of the store's `total` cases by `read`, a thousand at a time.
fn newest(
    store: &dyn CaseStore,
    total: u64,
    n: usize,
    read: impl Fn(&[CaseRef]) -> Result<()>,
) -> Result<()> {
    let mut after = total.saturating_sub(n as u64);
    loop {
        let facts = store.facts(after, 1000)?;
        let Some(last) = facts.last() else { break };
        after = last.seq;
        let cases: Vec<_> = facts
            .into_iter()
            .map(|f| CaseRef::at(f.id, f.seq))
            .collect();
        read(&cases)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_memory_grows_with_what_it_holds() {
        if ProcessMemory::now().is_none() {
            return; // not Linux
        }
        // The other tests of this binary allocate and free meanwhile (a free can hide tens of
        // megabytes): one of a few tries must see the 64 MB held.
        let mut seen = Vec::new();
        let mut held = Vec::new();
        for _ in 0..5 {
            let before = ProcessMemory::now().unwrap();
            held.push(vec![1u8; 64 << 20]);
            let after = ProcessMemory::now().unwrap();
            if after.anonymous >= before.anonymous + (48 << 20) {
                seen.clear();
                break;
            }
            seen.push((before, after));
        }
        assert!(seen.is_empty(), "{seen:?}");
        assert!(held.iter().flatten().all(|&b| b == 1));
    }
}
