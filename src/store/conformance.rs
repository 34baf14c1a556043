//! The store contract as a test suite: any [`CaseStore`] must pass [`run`].
//!
//! `make(dir)` opens the store kept in `dir`: a fresh, empty store for a directory it has not
//! seen, and the same store again when called a second time with the same directory (that is
//! how durability is checked). A backend that keeps nothing in `dir` (a database server) uses
//! it as the name of a scratch schema or database. Each check panics with what broke.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, json};

use super::{
    CaseStore, Change, DeliveryOutcome, ImportCheckpoint, NewCase, NewIdempotency, Update,
};
use crate::domain::{
    Alert, Case, CaseId, Channel, Corrections, DeliveryStatus, Grade, Links, Status, TriageRecord,
};
use crate::error::Error;

/// A case as the service hands it to the store: phone intake, contact hash `h1`, 网络问题,
/// 一般, triaged; received at `received_at` (RFC 3339).
pub fn sample_case(text: &str, received_at: &str) -> Case {
    Case {
        id: CaseId(String::new()),
        seq: 0,
        version: 0,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        received_at: received_at.parse().expect("an RFC 3339 time"),
        occurred_at: None,
        channel: Channel::Phone,
        title: None,
        text: text.into(),
        contact_hash: Some("h1".into()),
        category: Some("网络问题".into()),
        category_confidence: Some(0.9),
        grade: Grade::General,
        reasons: vec![],
        tier: None,
        department: None,
        assignee: None,
        status: Status::Triaged,
        resolution: None,
        remedy: None,
        resolved_at: None,
        keywords: vec![],
        links: Links::default(),
        corrections: Corrections::default(),
        metadata: Map::new(),
        triage: None,
    }
}

/// [`sample_case`] as a new case with a fingerprint and nothing committed with it.
pub fn new_case(text: &str, received_at: &str) -> NewCase {
    NewCase {
        case: sample_case(text, received_at),
        original_text: format!("原文：{text}"),
        fingerprint: text.as_bytes().to_vec(),
        actor: "test".into(),
        idempotency: None,
        complete: None,
        also: Vec::new(),
    }
}

/// Opens the store kept in a directory (see the module docs).
type Make<'a> = &'a dyn Fn(&Path) -> Box<dyn CaseStore>;

/// One check of the contract.
type Check = fn(Make<'_>, &Path);

/// Runs every check of the contract on stores made by `make`.
pub fn run(make: impl Fn(&Path) -> Box<dyn CaseStore>) {
    let checks: [(&str, Check); 11] = [
        ("numbering", numbering),
        ("reads", reads),
        ("batches", batches),
        ("linked writes", linked_writes),
        ("updates", updates),
        ("idempotency", idempotency),
        ("change feed order", change_feed_order),
        ("lookups", lookups),
        ("durability", durability),
        ("alert queue", alert_queue),
        ("bulk load", bulk_load),
    ];
    for (name, check) in checks {
        let dir = Scratch::new(name);
        check(&make, &dir.0);
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let nanos = Timestamp::now().as_nanosecond();
        let dir = std::env::temp_dir().join(format!(
            "tousu-conformance-{}-{}-{nanos}",
            std::process::id(),
            name.replace(' ', "-")
        ));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn one(store: &dyn CaseStore, new: NewCase) -> Case {
    store
        .insert(vec![new], None)
        .expect("the insert commits")
        .remove(0)
        .expect("the case is stored")
}

fn update(
    id: &CaseId,
    f: impl FnOnce(&mut Case) -> crate::Result<Option<&'static str>> + Send + 'static,
) -> Update {
    Update {
        id: id.clone(),
        actor: "alice".into(),
        change: Change::apply(f),
    }
}

/// Ids are `TS` + the Beijing day of receipt + a per-day number; seq and version grow.
fn numbering(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    // 17:30 UTC is 01:30 the next day in Beijing.
    let a = one(&*store, new_case("宽带断网三天", "2026-11-21T17:30:00Z"));
    let b = one(
        &*store,
        new_case("话费多扣了二十元", "2026-11-21T18:00:00Z"),
    );
    let c = one(&*store, new_case("营业厅态度差", "2026-11-21T10:00:00Z"));
    assert_eq!(a.id.as_str(), "TS20261122-000001");
    assert_eq!(b.id.as_str(), "TS20261122-000002");
    assert_eq!(
        c.id.as_str(),
        "TS20261121-000001",
        "numbers count per Beijing day"
    );
    assert!(a.seq < b.seq && b.seq < c.seq, "seq follows creation");
    assert!(
        a.version < b.version && b.version < c.version,
        "versions grow"
    );
    assert!(a.created_at > Timestamp::UNIX_EPOCH && a.updated_at == a.created_at);
    assert_eq!(store.count().unwrap(), 3);
    assert_eq!(store.max_version().unwrap(), c.version);
    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "create");
    assert_eq!(trail[0].actor, "test");
    assert_eq!(trail[0].after["category"], "网络问题");
}

/// `get` has the triage record; list reads are light; unknown ids are skipped.
fn reads(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let mut n = new_case("小区停水三天", "2026-11-21T10:00:00Z");
    let record = r#"{"category":{"label":"供水","confidence":0.85}}"#;
    n.case.triage = Some(TriageRecord::from_json(record.to_string()).unwrap());
    let a = one(&*store, n);
    let b = one(&*store, new_case("路灯坏了", "2026-11-21T11:00:00Z"));
    let got = store.get(&a.id).unwrap().expect("stored");
    assert_eq!(got, a, "get returns the case as stored");
    assert_eq!(
        got.triage.as_ref().map(TriageRecord::as_json),
        Some(record),
        "the triage record comes back verbatim"
    );
    assert!(
        store
            .get(&CaseId("TS20200101-000001".into()))
            .unwrap()
            .is_none()
    );
    let unknown = CaseId("TS20200101-000009".into());
    let many = store
        .get_many(&[b.id.clone(), unknown, a.id.clone()])
        .unwrap();
    assert_eq!(many.len(), 2, "unknown ids are skipped");
    assert_eq!(
        (&many[0].id, &many[1].id),
        (&b.id, &a.id),
        "in the order asked"
    );
    assert!(
        many.iter().all(|c| c.triage.is_none()),
        "list reads are light"
    );
    let light = Case {
        triage: None,
        ..a.clone()
    };
    assert_eq!(*many[1], light);
    let scanned = store.scan(0, 10).unwrap();
    assert_eq!(
        scanned.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&a.id, &b.id]
    );
    assert!(scanned.iter().all(|c| c.triage.is_none()));
    assert_eq!(store.scan(a.seq, 10).unwrap().len(), 1);
    let mut pages = Vec::new();
    super::for_each_page(&*store, 1, |p| {
        pages.push(p.len());
        Ok(())
    })
    .unwrap();
    assert_eq!(pages, [1, 1]);
}

/// A batch stores each item on its own terms, with its checkpoint; `complete` sees the ids of
/// the items before it.
fn batches(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let keyed = |text: &str| {
        let mut n = new_case(text, "2026-11-21T10:00:00Z");
        n.idempotency = Some(NewIdempotency {
            caller: "crm".into(),
            key: "same".into(),
            request_hash: "h".into(),
            answer: Box::new(|c| c.id.0.clone().into_bytes()),
        });
        n
    };
    let mut last = new_case("二", "2026-11-21T10:00:00Z");
    last.complete = Some(Box::new(|case, earlier| {
        assert_eq!(earlier.len(), 3, "every earlier item is listed");
        assert!(earlier[0].is_some() && earlier[1].is_some());
        assert!(earlier[2].is_none(), "a failed item has no id");
        case.links.duplicate_of = earlier[0].clone();
    }));
    let results = store
        .insert(
            vec![
                new_case("一", "2026-11-21T10:00:00Z"),
                keyed("甲"),
                keyed("乙"),
                last,
            ],
            Some(ImportCheckpoint {
                file_key: "f".into(),
                lines_done: 4,
            }),
        )
        .unwrap();
    assert!(
        matches!(results[2], Err(Error::Conflict(_))),
        "the key is taken by item 1"
    );
    let ok: Vec<&Case> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 3);
    assert_eq!(store.count().unwrap(), 3);
    assert_eq!(ok[2].links.duplicate_of.as_ref(), Some(&ok[0].id));
    let stored = store.get(&ok[2].id).unwrap().unwrap();
    assert_eq!(
        stored.links.duplicate_of.as_ref(),
        Some(&ok[0].id),
        "completed before written"
    );
    let cp = store
        .import_checkpoint("f")
        .unwrap()
        .expect("recorded with the batch");
    assert_eq!(cp.lines_done, 4);
    assert!(store.import_checkpoint("g").unwrap().is_none());
    // The failed item left nothing: no case, and its key still names item 1.
    let answer = store.idempotency("crm", "same").unwrap().unwrap();
    assert_eq!(answer.case_id, ok[1].id);
}

/// `also` updates commit with their case or not at all.
fn linked_writes(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let a = one(&*store, new_case("小区停水三天", "2026-11-21T10:00:00Z"));
    let mut joins = new_case("小区停水三天了", "2026-11-21T11:00:00Z");
    joins.case.links.group_id = Some("G1".into());
    joins.also = vec![Update {
        id: a.id.clone(),
        actor: "system".into(),
        change: Change::apply(|c| {
            c.links.group_id = Some("G1".into());
            c.grade = Grade::Major;
            Ok(Some("link"))
        }),
    }];
    let b = one(&*store, joins);
    let a2 = store.get(&a.id).unwrap().unwrap();
    assert_eq!(a2.links.group_id.as_deref(), Some("G1"));
    assert_eq!(a2.grade, Grade::Major);
    assert!(
        a2.version > b.version,
        "the linked update has its own, later version"
    );
    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.last().unwrap().action, "link");
    assert_eq!(trail.last().unwrap().actor, "system");
    // A failing linked update fails its case: nothing of either is written.
    let mut fails = new_case("第三件", "2026-11-21T12:00:00Z");
    fails.idempotency = Some(NewIdempotency {
        caller: "crm".into(),
        key: "k-fails".into(),
        request_hash: "h".into(),
        answer: Box::new(|_| b"x".to_vec()),
    });
    fails.also = vec![
        Update {
            id: a.id.clone(),
            actor: "system".into(),
            change: Change::apply(|c| {
                c.assignee = Some("changed".into());
                Ok(Some("link"))
            }),
        },
        Update {
            id: CaseId("TS20200101-000001".into()),
            actor: "system".into(),
            change: Change::apply(|_| Ok(Some("link"))),
        },
    ];
    let r = store.insert(vec![fails], None).unwrap().remove(0);
    assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    assert_eq!(store.count().unwrap(), 2);
    assert!(store.idempotency("crm", "k-fails").unwrap().is_none());
    assert_eq!(store.get(&a.id).unwrap().unwrap().assignee, None);
}

/// Updates: audited with the changed fields; no-ops write nothing; errors write nothing;
/// compare-and-set refuses a stale version.
fn updates(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
    // Read once, so that a cache of recent reads (if any) holds it when it changes.
    assert_eq!(
        store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
        Status::Triaged
    );
    let u = store
        .update(update(&a.id, |c| {
            c.status = Status::Investigating;
            Ok(Some("update"))
        }))
        .unwrap();
    assert!(u.changed);
    assert_eq!(u.case.status, Status::Investigating);
    assert!(u.case.version > a.version && u.case.updated_at >= a.updated_at);
    assert_eq!(
        store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
        Status::Investigating,
        "a read after the update sees it"
    );
    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(
        (trail[1].actor.as_str(), trail[1].action.as_str()),
        ("alice", "update")
    );
    assert_eq!(trail[1].before, json!({"status": "triaged"}));
    assert_eq!(trail[1].after, json!({"status": "investigating"}));
    // Nothing to do, or nothing changed: nothing written.
    let same = store.update(update(&a.id, |_| Ok(None))).unwrap();
    assert!(!same.changed && same.case.version == u.case.version);
    let same = store
        .update(update(&a.id, |c| {
            c.status = Status::Investigating;
            Ok(Some("update"))
        }))
        .unwrap();
    assert!(!same.changed && same.case.version == u.case.version);
    assert_eq!(store.audit(&a.id).unwrap().len(), 2);
    // An error writes nothing.
    let err = store
        .update(update(&a.id, |c| {
            c.status = Status::Archived;
            Err(Error::Invalid("no".into()))
        }))
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    assert_eq!(
        store.get(&a.id).unwrap().unwrap().status,
        Status::Investigating
    );
    let missing = store
        .update(update(&CaseId("TS20200101-000009".into()), |_| {
            Ok(Some("update"))
        }))
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound(_)));
    // Compare and set.
    let mut next = u.case.clone();
    next.assignee = Some("bob".into());
    let stale = store.update(Update {
        id: a.id.clone(),
        actor: "bob".into(),
        change: Change::Replace {
            expected_version: a.version,
            case: Box::new(next.clone()),
            action: "update",
        },
    });
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    let set = store
        .update(Update {
            id: a.id.clone(),
            actor: "bob".into(),
            change: Change::Replace {
                expected_version: u.case.version,
                case: Box::new(next),
                action: "update",
            },
        })
        .unwrap();
    assert!(set.changed && set.case.assignee.as_deref() == Some("bob"));
    assert_eq!(
        (set.case.seq, &set.case.id),
        (a.seq, &a.id),
        "the store's fields stay"
    );
}

/// Idempotency records belong to one caller; the answer comes back as written.
fn idempotency(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let keyed = |caller: &str| {
        let mut n = new_case("宽带断网三天", "2026-11-21T10:00:00Z");
        n.idempotency = Some(NewIdempotency {
            caller: caller.into(),
            key: "k1".into(),
            request_hash: format!("hash-{caller}"),
            answer: Box::new(|c| format!("{{\"id\":\"{}\"}}", c.id).into_bytes()),
        });
        n
    };
    let a = one(&*store, keyed("crm"));
    let b = one(&*store, keyed("wechat"));
    assert_ne!(a.id, b.id, "two callers' keys never meet");
    let got = store.idempotency("crm", "k1").unwrap().unwrap();
    assert_eq!(got.case_id, a.id);
    assert_eq!(got.request_hash, "hash-crm");
    assert_eq!(got.answer, format!("{{\"id\":\"{}\"}}", a.id).into_bytes());
    assert_eq!(
        store.idempotency("wechat", "k1").unwrap().unwrap().case_id,
        b.id
    );
    assert!(store.idempotency("other", "k1").unwrap().is_none());
    let again = store.insert(vec![keyed("crm")], None).unwrap().remove(0);
    assert!(matches!(again, Err(Error::Conflict(_))));
    assert_eq!(store.count().unwrap(), 2);
}

/// A follower of the change feed misses nothing while writers race: every case's final
/// version is seen, and versions arrive in order.
fn change_feed_order(make: Make<'_>, dir: &Path) {
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
fn lookups(make: Make<'_>, dir: &Path) {
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
    let picked = store.fingerprints_of(&[d.seq, 999, a.seq]).unwrap();
    assert_eq!(
        picked.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [d.seq, a.seq]
    );
}

/// Everything acknowledged is there after a reopen, and numbering continues.
fn durability(make: Make<'_>, dir: &Path) {
    let (a, salt) = {
        let store = make(dir);
        let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
        store
            .insert_alerts(vec![alert("case:1", "f")], &["ops".into()])
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

fn alert(key: &str, fingerprint: &str) -> Alert {
    Alert {
        id: String::new(),
        rule: "safety_case".into(),
        key: key.into(),
        fingerprint: fingerprint.into(),
        title: "安全隐患".into(),
        summary: "燃气泄漏".into(),
        severity: "重大".into(),
        created_at: Timestamp::now(),
        data: json!({"case": key}),
    }
}

/// Alerts with their deliveries; repeats of a key's state dropped; outcomes recorded.
fn alert_queue(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let hooks = vec!["wecom".to_string(), "ops".to_string()];
    let stored = store
        .insert_alerts(vec![alert("case:1", "a"), alert("case:2", "a")], &hooks)
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0].id.starts_with("AL") && stored[0].id != stored[1].id);
    assert_eq!(store.pending_deliveries(), 4);
    let repeat = store
        .insert_alerts(vec![alert("case:1", "a"), alert("case:1", "b")], &hooks)
        .unwrap();
    assert_eq!(repeat.len(), 1, "the same fingerprint again is not news");
    assert_eq!(repeat[0].fingerprint, "b");
    assert_eq!(store.pending_deliveries(), 6);
    let due = store.due_deliveries(Timestamp::now(), 100).unwrap();
    assert_eq!(due.len(), 6);
    assert!(store.next_delivery_at().unwrap().is_some());
    let first = &due[0];
    store
        .finish_delivery(
            &first.id,
            DeliveryOutcome::Delivered {
                attempts: 1,
                at: Timestamp::now(),
            },
        )
        .unwrap();
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    store
        .finish_delivery(
            &due[1].id,
            DeliveryOutcome::Retry {
                attempts: 1,
                next_at: later,
                error: "HTTP 500".into(),
            },
        )
        .unwrap();
    store
        .finish_delivery(
            &due[2].id,
            DeliveryOutcome::Failed {
                attempts: 5,
                error: "gave up".into(),
            },
        )
        .unwrap();
    assert_eq!(store.pending_deliveries(), 4);
    // A finished delivery stays finished.
    store
        .finish_delivery(
            &first.id,
            DeliveryOutcome::Failed {
                attempts: 9,
                error: "late".into(),
            },
        )
        .unwrap();
    assert_eq!(store.pending_deliveries(), 4);
    assert_eq!(
        store.due_deliveries(Timestamp::now(), 100).unwrap().len(),
        3
    );
    let history = store.alert_history(None, 10).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].alert.fingerprint, "b", "newest first");
    let delivered = history
        .iter()
        .flat_map(|a| &a.deliveries)
        .find(|d| d.id == first.id)
        .unwrap();
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert!(delivered.delivered_at.is_some() && delivered.next_at.is_none());
    let retried = history
        .iter()
        .flat_map(|a| &a.deliveries)
        .find(|d| d.id == due[1].id)
        .unwrap();
    assert_eq!(
        (retried.status, retried.attempts),
        (DeliveryStatus::Pending, 1)
    );
    assert_eq!(retried.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(store.alert_history(None, 1).unwrap().len(), 1);
    assert!(store.alert_history(Some(later), 10).unwrap().is_empty());
    // The three pending deliveries to `ops` (the retried one among them) fail when it leaves
    // the configuration; the one to `wecom` stays.
    assert_eq!(store.fail_unconfigured(&["wecom".to_string()]).unwrap(), 3);
    assert_eq!(store.pending_deliveries(), 1);
    let failed = store.alert_history(None, 10).unwrap();
    let retried = failed
        .iter()
        .flat_map(|a| &a.deliveries)
        .find(|d| d.id == due[1].id)
        .unwrap();
    assert_eq!(retried.status, DeliveryStatus::Failed);
    assert!(
        retried
            .last_error
            .as_deref()
            .unwrap()
            .contains("no longer in the configuration")
    );
    assert!(store.insert_alerts(Vec::new(), &hooks).unwrap().is_empty());
}

/// A bulk load changes nothing a caller can see.
fn bulk_load(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    store.bulk_load(true).unwrap();
    let items = (0..50)
        .map(|i| new_case(&format!("第{i}件"), "2026-11-21T10:00:00Z"))
        .collect();
    let r = store.insert(items, None).unwrap();
    assert!(r.iter().all(Result::is_ok));
    store.bulk_load(false).unwrap();
    assert_eq!(store.count().unwrap(), 50);
    assert_eq!(store.changed_since(0, 100).unwrap().len(), 50);
}
