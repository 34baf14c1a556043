//! The store contract as a test suite: any [`CaseStore`] must pass [`run`].
//!
//! `make(dir)` opens the store kept in `dir`: a fresh, empty store for a directory it has not
//! seen, and the same store again when called a second time with the same directory (that is
//! how durability is checked). A backend that keeps nothing in `dir` (a database server) uses
//! it as the name of a scratch schema or database. Each check panics with what broke.

mod access;
mod alerts;
mod events;
mod facts;
mod feed;
mod neighbours;
mod writes;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::Map;

use self::access::{audit_search, reveals};
use self::alerts::alert_queue;
use self::events::event_queue;
use self::facts::facts_follow_writes;
use self::feed::{change_feed_order, durability, lookups};
use self::neighbours::neighbour_reads;
use self::writes::{batches, bulk_load, idempotency, linked_writes, numbering, reads, updates};
use super::{CaseStore, Change, NewCase, Update};
use crate::domain::{Case, CaseId, Channel, Corrections, Grade, Links, Status};

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
        model_grade: None,
        model_major_probability: None,
        dispatch: None,
        tier: None,
        department: None,
        assignee: None,
        status: Status::Triaged,
        resolution: None,
        remedy: None,
        resolved_at: None,
        keywords: vec![],
        links: Links::default(),
        deadlines: Vec::new(),
        handling: Default::default(),
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
        contact: None,
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
    let checks: [(&str, Check); 16] = [
        ("numbering", numbering),
        ("reads", reads),
        ("neighbour reads", neighbour_reads),
        ("batches", batches),
        ("linked writes", linked_writes),
        ("updates", updates),
        ("idempotency", idempotency),
        ("change feed order", change_feed_order),
        ("lookups", lookups),
        ("durability", durability),
        ("alert queue", alert_queue),
        ("event queue", event_queue),
        ("bulk load", bulk_load),
        ("facts follow writes", facts_follow_writes),
        ("reveals", reveals),
        ("audit search", audit_search),
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

pub(super) fn one(store: &dyn CaseStore, new: NewCase) -> Case {
    store
        .insert(vec![new], None)
        .expect("the insert commits")
        .remove(0)
        .expect("the case is stored")
}

pub(super) fn update(
    id: &CaseId,
    f: impl FnOnce(&mut Case) -> crate::Result<Option<&'static str>> + Send + 'static,
) -> Update {
    Update {
        id: id.clone(),
        actor: "alice".into(),
        change: Change::apply(f),
    }
}
