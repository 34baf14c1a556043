//! The alert queue.

use std::path::Path;

use jiff::Timestamp;
use serde_json::json;

use super::Make;
use crate::domain::{Alert, DeliveryStatus};
use crate::store::{DeliveryOutcome, NewAlert};

pub(super) fn alert(key: &str, fingerprint: &str) -> Alert {
    Alert {
        id: String::new(),
        rule: "safety_case".into(),
        key: key.into(),
        fingerprint: fingerprint.into(),
        title: "安全隐患".into(),
        summary: "燃气泄漏".into(),
        severity: "重大".into(),
        department: None,
        created_at: Timestamp::now(),
        data: json!({"case": key}),
    }
}

/// `alert` to these webhooks.
pub(super) fn routed(alert: Alert, webhooks: &[&str]) -> NewAlert {
    NewAlert {
        alert,
        webhooks: webhooks.iter().map(|w| w.to_string()).collect(),
    }
}

/// Alerts with their deliveries; repeats of a key's state dropped; outcomes recorded.
pub(super) fn alert_queue(make: Make<'_>, dir: &Path) {
    let store = make(dir);
    let hooks = ["wecom", "ops"];
    let both = |key: &str, fingerprint: &str| routed(alert(key, fingerprint), &hooks);
    let stored = store
        .insert_alerts(vec![both("case:1", "a"), both("case:2", "a")])
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0].id.starts_with("AL") && stored[0].id != stored[1].id);
    assert_eq!(store.pending_deliveries(), 4);
    let repeat = store
        .insert_alerts(vec![both("case:1", "a"), both("case:1", "b")])
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
    assert!(store.insert_alerts(Vec::new()).unwrap().is_empty());

    // Each alert goes to its own webhooks only; an alert for none is still recorded.
    let only_ops = store
        .insert_alerts(vec![
            routed(alert("case:3", "a"), &["ops"]),
            routed(alert("case:4", "a"), &[]),
        ])
        .unwrap();
    assert_eq!(only_ops.len(), 2);
    assert_eq!(store.pending_deliveries(), 2);
    let history = store.alert_history(None, 2).unwrap();
    let deliveries = |id: &str| -> Vec<String> {
        history
            .iter()
            .find(|r| r.alert.id == id)
            .unwrap()
            .deliveries
            .iter()
            .map(|d| d.webhook.clone())
            .collect()
    };
    assert_eq!(deliveries(&only_ops[0].id), ["ops"]);
    assert!(deliveries(&only_ops[1].id).is_empty());
    let entries = store.alerts_since(0, 100).unwrap();
    assert_eq!(entries.len(), 5, "every alert recorded, in order");
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(entries[4].alert.id, only_ops[1].id);
    let after = store.alerts_since(entries[2].seq, 1).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].seq, entries[3].seq);
}
