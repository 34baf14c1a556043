//! Writes: numbering, reads back, batches, linked writes, updates, idempotency, bulk loads.

use std::path::Path;

use jiff::Timestamp;
use serde_json::json;

use super::{Make, new_case, one, update};
use crate::domain::{Case, CaseId, Grade, Status, TriageRecord};
use crate::error::Error;
use crate::store::{CaseRef, Change, ImportCheckpoint, NewIdempotency, Update};

/// Ids are `TS` + the Beijing day of receipt + a per-day number; seq and version grow.
pub(super) fn numbering(make: Make<'_>, dir: &Path) {
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
    // Whatever the caller put in the store's fields is the store's to set.
    let mut forged = new_case("伪造编号", "2026-11-21T10:00:00Z");
    forged.case.id = CaseId("TS20200101-000001".into());
    (forged.case.seq, forged.case.version) = (1, 1);
    forged.case.created_at = "2020-01-01T00:00:00Z".parse().unwrap();
    let f = one(&*store, forged);
    assert_eq!(f.id.as_str(), "TS20261121-000002");
    assert!(f.seq > c.seq && f.version > c.version && f.created_at >= c.created_at);
    assert_eq!(store.count().unwrap(), 4);
    assert_eq!(store.max_version().unwrap(), f.version);
    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "create");
    assert_eq!(trail[0].actor, "test");
    assert_eq!(trail[0].after["category"], "网络问题");
}

/// `get` has the triage record; list reads are light; unknown ids are skipped.
pub(super) fn reads(make: Make<'_>, dir: &Path) {
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
    crate::store::for_each_page(&*store, 1, |p| {
        pages.push(p.len());
        Ok(())
    })
    .unwrap();
    assert_eq!(pages, [1, 1]);
}

/// A batch stores each item on its own terms, with its checkpoint; `complete` sees the ids of
/// the items before it.
pub(super) fn batches(make: Make<'_>, dir: &Path) {
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
    let roots: Vec<_> = store
        .fingerprints_of(&[ok[0].seq, ok[2].seq])
        .unwrap()
        .into_iter()
        .map(|r| r.duplicate_of)
        .collect();
    assert_eq!(
        roots,
        [Some(None), Some(Some(ok[0].id.clone()))],
        "the root recorded beside the fingerprint, as completed"
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
pub(super) fn linked_writes(make: Make<'_>, dir: &Path) {
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
pub(super) fn updates(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
    // Read once, so that a cache of recent reads (if any) holds it when it changes.
    assert_eq!(
        store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
        Status::Triaged
    );
    assert_eq!(
        store.neighbours(&[CaseRef::id(a.id.clone())]).unwrap()[0].status,
        Status::Triaged
    );
    let u = store
        .update(update(&a.id, |c| {
            c.status = Status::Handling;
            Ok(Some("update"))
        }))
        .unwrap();
    assert!(u.changed);
    assert_eq!(u.case.status, Status::Handling);
    assert!(u.case.version > a.version && u.case.updated_at >= a.updated_at);
    assert_eq!(
        store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
        Status::Handling,
        "a read after the update sees it"
    );
    assert_eq!(
        store
            .neighbours(&[CaseRef::at(a.id.clone(), a.seq)])
            .unwrap()[0]
            .status,
        Status::Handling,
        "a neighbour read after the update sees it"
    );
    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(
        (trail[1].actor.as_str(), trail[1].action.as_str()),
        ("alice", "update")
    );
    assert_eq!(trail[1].before, json!({"status": "triaged"}));
    assert_eq!(trail[1].after, json!({"status": "handling"}));
    // Nothing to do, or nothing changed: nothing written.
    let same = store.update(update(&a.id, |_| Ok(None))).unwrap();
    assert!(!same.changed && same.case.version == u.case.version);
    let same = store
        .update(update(&a.id, |c| {
            c.status = Status::Handling;
            Ok(Some("update"))
        }))
        .unwrap();
    assert!(!same.changed && same.case.version == u.case.version);
    assert_eq!(store.audit(&a.id).unwrap().len(), 2);
    // An error writes nothing.
    let err = store
        .update(update(&a.id, |c| {
            c.status = Status::Closed;
            Err(Error::Invalid("no".into()))
        }))
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    assert_eq!(store.get(&a.id).unwrap().unwrap().status, Status::Handling);
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
pub(super) fn idempotency(make: Make<'_>, dir: &Path) {
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

/// A bulk load changes nothing a caller can see.
pub(super) fn bulk_load(make: Make<'_>, dir: &Path) {
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
