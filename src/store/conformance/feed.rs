//! The change feed's order, lookups, and durability across a reopen.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;

use super::alerts::{alert, routed};
use super::{Make, new_case, one, update};
use crate::domain::CaseId;
use crate::store::CaseStore;

/// A follower of the change feed misses nothing while writers race: every case's final
/// version is seen, and versions arrive in order.
pub(super) fn change_feed_order(make: Make<'_>, dir: &Path) {
    let store: Arc<dyn CaseStore> = Arc::from(make(dir));
    const WRITERS: usize = 4;
    const EACH: usize = 60;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut seen: HashMap<CaseId, u64> = HashMap::new();
            let mut last = 0u64;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                let batch = store.changed_since(last, 7).unwrap();
                for c in &batch {
                    assert!(
                        c.version > last,
                        "version {} after {last}: out of order",
                        c.version
                    );
                    assert!(c.triage.is_none(), "the feed is light");
                    last = c.version;
                    seen.insert(c.id.clone(), c.version);
                }
                if batch.is_empty() && finished {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..EACH {
                    let text = format!("第{w}号写者的第{i}件投诉");
                    let c = one(&*store, new_case(&text, "2026-11-21T10:00:00Z"));
                    mine.push(c.id.clone());
                    if i % 3 == 0 {
                        let id = mine[i / 2].clone();
                        store
                            .update(update(&id, move |c| {
                                c.assignee = Some(format!("handler-{i}"));
                                Ok(Some("update"))
                            }))
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("a writer thread");
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let seen = follower.join().expect("the follower thread");
    let all = store.scan(0, WRITERS * EACH * 2).unwrap();
    assert_eq!(all.len(), WRITERS * EACH);
    for c in all {
        assert_eq!(
            seen.get(&c.id),
            Some(&c.version),
            "the follower missed {}'s last write",
            c.id
        );
    }
}

/// By contact, fingerprints.
pub(super) fn lookups(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let at = |h: &str, t: &str, text: &str| {
        let mut n = new_case(text, t);
        n.case.contact_hash = Some(h.into());
        one(&*store, n)
    };
    let a = at("h1", "2026-11-01T10:00:00Z", "一");
    let b = at("h1", "2026-11-20T10:00:00Z", "二");
    let _c = at("h2", "2026-11-20T11:00:00Z", "三");
    let d = at("h1", "2026-11-21T10:00:00Z", "四");
    let since: Timestamp = "2026-11-10T00:00:00Z".parse().unwrap();
    let found = store.by_contact("h1", since, 10).unwrap();
    assert_eq!(
        found.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&d.id, &b.id],
        "newest first, in the window"
    );
    assert_eq!(store.by_contact("h1", since, 1).unwrap().len(), 1);
    assert_eq!(
        store
            .by_contact("h1", "2026-01-01T00:00:00Z".parse().unwrap(), 10)
            .unwrap()
            .len(),
        3
    );
    let rows = store.fingerprints(0, 10).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!((rows[0].seq, &rows[0].id), (a.seq, &a.id));
    assert_eq!(rows[0].fingerprint, "一".as_bytes());
    assert_eq!(rows[0].received_at, a.received_at);
    assert_eq!(store.fingerprints(b.seq, 1).unwrap()[0].id, _c.id);
    let mut looked = 0;
    let found = store
        .find_fingerprint(&[d.seq, 999, b.seq, a.seq], &mut |row| {
            looked += 1;
            row.id == b.id
        })
        .unwrap();
    assert_eq!(found.map(|r| r.id), Some(b.id.clone()));
    assert_eq!(
        looked, 2,
        "in the order given, skipping unknown seqs, no further than the first taken"
    );
    assert!(
        store
            .find_fingerprint(&[999], &mut |_| true)
            .unwrap()
            .is_none()
    );
    let picked = store.fingerprints_of(&[d.seq, 999, a.seq]).unwrap();
    assert_eq!(
        picked.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [d.seq, a.seq]
    );
}

/// Everything acknowledged is there after a reopen, and numbering continues.
pub(super) fn durability(make: Make<'_>, dir: &Path) {
    let (a, salt) = {
        let store = make(dir);
        let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
        store
            .insert_alerts(vec![routed(alert("case:1", "f"), &["ops"])])
            .unwrap();
        (a, store.contact_salt().to_string())
    };
    let store = make(dir);
    assert_eq!(store.get(&a.id).unwrap().as_ref(), Some(&a));
    assert_eq!(store.contact_salt(), salt, "the salt never changes");
    assert!(salt.len() >= 16);
    assert_eq!(store.pending_deliveries(), 1);
    let b = one(&*store, new_case("话费多扣", "2026-11-21T11:00:00Z"));
    assert_eq!(
        b.id.as_str(),
        "TS20261121-000002",
        "numbers are never reused"
    );
    assert!(b.seq > a.seq && b.version > a.version);
}
