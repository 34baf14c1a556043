//! What a case keeps apart and its audited reveal; the audit search across cases.

use std::path::Path;

use super::{Make, new_case, one, update};
use crate::domain::{AuditEvent, CaseId};
use crate::error::Error;
use crate::store::{Access, AuditQuery, AuditRow, CaseStore};

fn access(id: &CaseId, actor: &str, note: &str) -> Access {
    Access {
        id: id.clone(),
        actor: actor.into(),
        action: "reveal_contact",
        note: note.into(),
        check: Box::new(|_| Ok(())),
    }
}

/// The original text and the contact come back only through `reveal`, which records the read
/// (with its note, changing no version) before it answers; a failed check records nothing.
pub(super) fn reveals(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let mut n = new_case("宽带断网三天", "2026-11-21T10:00:00Z");
    n.contact = Some("138 1234 5678".into());
    let a = one(&*store, n);
    let b = one(&*store, new_case("路灯坏了", "2026-11-21T11:00:00Z"));
    let version = store.max_version().unwrap();

    let kept = store.reveal(access(&a.id, "wang", "回访")).unwrap();
    assert_eq!(kept.original_text, "原文：宽带断网三天");
    assert_eq!(
        kept.contact.as_deref(),
        Some("138 1234 5678"),
        "kept as given"
    );
    let kept = store.reveal(access(&b.id, "lead", "核实")).unwrap();
    assert_eq!(
        (kept.original_text.as_str(), kept.contact),
        ("原文：路灯坏了", None)
    );
    assert_eq!(
        store.max_version().unwrap(),
        version,
        "a read writes no case"
    );
    assert_eq!(store.get(&a.id).unwrap().unwrap(), a);

    let trail = store.audit(&a.id).unwrap();
    assert_eq!(trail.len(), 2, "{trail:?}");
    let read = &trail[1];
    assert_eq!(
        (
            read.action.as_str(),
            read.actor.as_str(),
            read.note.as_deref()
        ),
        ("reveal_contact", "wang", Some("回访"))
    );
    assert!(read.before.is_null() && read.after == serde_json::json!({}));
    assert!(trail[0].note.is_none(), "writes carry no note");

    // A check that fails (the case left the reader's departments) records and shows nothing.
    let refused = store.reveal(Access {
        check: Box::new(|c| Err(Error::NotFound(format!("case {}", c.id)))),
        ..access(&a.id, "zhao", "回访")
    });
    assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    let unknown = store.reveal(access(&CaseId("TS20200101-000001".into()), "wang", "回访"));
    assert!(matches!(unknown, Err(Error::NotFound(_))), "{unknown:?}");
    assert_eq!(store.audit(&a.id).unwrap().len(), 2);

    // Durable, like every write.
    drop(store);
    let store = make(dir);
    assert_eq!(store.audit(&a.id).unwrap()[1].note.as_deref(), Some("回访"));
}

fn search(store: &dyn CaseStore, q: AuditQuery) -> Vec<AuditRow> {
    store.audit_search(&q).unwrap()
}

fn all(limit: usize) -> AuditQuery {
    AuditQuery {
        limit,
        ..Default::default()
    }
}

/// Events of every case by actor, action, case and time, newest first, paged by `seq`.
pub(super) fn audit_search(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    assert!(search(&*store, all(10)).is_empty());
    let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
    let b = one(&*store, new_case("话费多扣", "2026-11-21T11:00:00Z"));
    // Events a few milliseconds apart, so that a time window splits them.
    let pause = || std::thread::sleep(std::time::Duration::from_millis(3));
    pause();
    store
        .update(update(&a.id, |c| {
            c.department = Some("网络".into());
            Ok(Some("assign"))
        }))
        .unwrap();
    pause();
    store.reveal(access(&a.id, "wang", "回访")).unwrap();
    pause();
    store.reveal(access(&b.id, "lead", "核实")).unwrap();
    pause();
    store
        .update(update(&b.id, |c| {
            c.assignee = Some("wang".into());
            Ok(Some("assign"))
        }))
        .unwrap();

    let everything = search(&*store, all(100));
    let actions: Vec<(&str, &str)> = everything
        .iter()
        .map(|r| (r.event.action.as_str(), r.event.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("assign", "alice"),
            ("reveal_contact", "lead"),
            ("reveal_contact", "wang"),
            ("assign", "alice"),
            ("create", "test"),
            ("create", "test"),
        ],
        "newest first"
    );
    assert!(everything.windows(2).all(|w| w[0].seq > w[1].seq));
    assert!(
        everything
            .windows(2)
            .all(|w| w[0].event.at >= w[1].event.at),
        "times never go back"
    );
    let assign = &everything[0].event;
    assert_eq!(assign.after["assignee"], "wang");
    assert!(assign.before["assignee"].is_null());
    assert_eq!(everything[1].event.note.as_deref(), Some("核实"));
    let trail: Vec<AuditEvent> = store.audit(&b.id).unwrap();
    assert_eq!(
        trail.last(),
        Some(assign),
        "the same event as the case's trail"
    );

    // Filters, alone and together.
    let find = |q: AuditQuery| -> Vec<u64> { search(&*store, q).iter().map(|r| r.seq).collect() };
    let like = |keep: &dyn Fn(&AuditRow) -> bool| -> Vec<u64> {
        everything
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.seq)
            .collect()
    };
    let by = |actor: &str| AuditQuery {
        actor: Some(actor.into()),
        ..all(100)
    };
    assert_eq!(find(by("alice")), like(&|r| r.event.actor == "alice"));
    assert_eq!(find(by("nobody")), Vec::<u64>::new());
    let reveals = AuditQuery {
        action: Some("reveal_contact".into()),
        ..all(100)
    };
    assert_eq!(find(reveals.clone()).len(), 2);
    assert_eq!(
        find(AuditQuery {
            actor: Some("wang".into()),
            ..reveals.clone()
        }),
        like(&|r| r.event.actor == "wang")
    );
    assert_eq!(
        find(AuditQuery {
            case_id: Some(b.id.clone()),
            ..all(100)
        }),
        like(&|r| r.event.case_id == b.id)
    );

    // Pages: `before` the last number seen, until a page comes back short.
    let mut pages: Vec<u64> = Vec::new();
    let mut before = None;
    loop {
        let page = find(AuditQuery { before, ..all(4) });
        pages.extend(&page);
        if page.len() < 4 {
            break;
        }
        before = page.last().copied();
    }
    assert_eq!(pages, like(&|_| true));
    assert_eq!(find(all(0)), Vec::<u64>::new());
    assert_eq!(
        find(AuditQuery {
            before: Some(u64::MAX),
            ..all(2)
        }),
        like(&|_| true)[..2]
    );

    // A time window: at or after `from`, before `to`.
    let at = |i: usize| everything[i].event.at;
    let (from, to) = (at(3), at(1));
    assert_eq!(
        find(AuditQuery {
            from: Some(from),
            to: Some(to),
            ..all(100)
        }),
        like(&|r| r.event.at >= from && r.event.at < to)
    );
    assert_eq!(
        find(AuditQuery {
            from: Some(at(2)),
            ..by("wang")
        }),
        like(&|r| r.event.at >= at(2) && r.event.actor == "wang")
    );
    let later = at(0)
        .checked_add(jiff::SignedDuration::from_secs(1))
        .unwrap();
    let earlier = at(5)
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap();
    for (from, to) in [
        (Some(later), None),
        (None, Some(earlier)),
        (Some(to), Some(from)),
    ] {
        assert_eq!(
            find(AuditQuery {
                from,
                to,
                ..all(100)
            }),
            Vec::<u64>::new()
        );
    }
}
