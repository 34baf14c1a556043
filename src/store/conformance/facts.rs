//! Handling facts follow every write of their case, and survive a reopen.

use std::path::Path;

use super::{Make, new_case, one, update};
use crate::domain::{CaseFacts, Status};

/// The facts of each case are those of its last write, in creation order, paged by seq.
pub(super) fn facts_follow_writes(make: Make<'_>, dir: &Path) {
    let (a, b) = {
        let store = make(dir);
        let a = one(&*store, new_case("路灯坏了三天", "2026-03-02T01:00:00Z"));
        let b = one(&*store, new_case("话费多扣二十元", "2026-03-02T02:00:00Z"));
        assert_eq!(
            store.facts(0, 10).unwrap(),
            [CaseFacts::of(&a), CaseFacts::of(&b)],
            "facts are written with the case"
        );
        let changed = store
            .update(update(&a.id, |c| {
                c.status = Status::Assigned;
                c.department = Some("市政管理处".into());
                Ok(Some("assign"))
            }))
            .unwrap()
            .case;
        let facts = store.facts(0, 10).unwrap();
        assert_eq!(facts[0], CaseFacts::of(&changed), "and rewritten with it");
        assert_eq!(facts[0].status, Status::Assigned);
        assert_eq!(facts[0].version, changed.version);
        (changed, b)
    };
    let store = make(dir);
    let all = store.facts(0, 10).unwrap();
    assert_eq!(all, [CaseFacts::of(&a), CaseFacts::of(&b)], "durable");
    assert_eq!(store.facts(a.seq, 10).unwrap(), [CaseFacts::of(&b)]);
    assert_eq!(store.facts(0, 1).unwrap(), [CaseFacts::of(&a)], "paged");
    assert!(store.facts(b.seq, 10).unwrap().is_empty());
}
