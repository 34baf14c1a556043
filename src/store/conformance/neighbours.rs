//! Neighbours: the dozen fields intake reads of earlier cases, by number or by row.

use std::path::Path;

use super::{Make, new_case, one};
use crate::domain::{Case, CaseId, Neighbour};
use crate::store::CaseRef;

/// The same cases as written, in the order asked, unknown ones skipped; by row where given,
/// and by number when the row given holds another case or none.
pub(super) fn neighbour_reads(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let a = one(&*store, new_case("小区停水三天", "2026-11-21T10:00:00Z"));
    let b = one(&*store, new_case("路灯坏了", "2026-11-21T11:00:00Z"));
    let unknown = || CaseId("TS20200101-000009".into());
    let as_read = |near: Vec<std::sync::Arc<Neighbour>>| {
        near.iter().map(|n| n.as_ref().clone()).collect::<Vec<_>>()
    };
    let near = store
        .neighbours(&[
            CaseRef::id(b.id.clone()),
            CaseRef::id(unknown()),
            CaseRef::id(a.id.clone()),
        ])
        .unwrap();
    assert_eq!(
        as_read(near),
        vec![Neighbour::from(&b), Neighbour::from(&a)],
        "neighbours: the same cases, in the order asked, unknown ids skipped"
    );
    // Reopened, so that neighbours come from the store's rows, not from what a cache kept
    // of the writes.
    drop(store);
    let store = make(dir);
    let at = |c: &Case, seq: u64| CaseRef::at(c.id.clone(), seq);
    let near = store
        .neighbours(&[
            at(&b, b.seq),
            at(&a, b.seq),
            CaseRef::at(unknown(), a.seq),
            at(&a, a.seq + 1_000),
        ])
        .unwrap();
    assert_eq!(
        as_read(near),
        vec![
            Neighbour::from(&b),
            Neighbour::from(&a),
            Neighbour::from(&a)
        ],
        "neighbours by row: the case of the number asked, whatever the row given"
    );
}
