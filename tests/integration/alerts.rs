//! Alert delivery against an in-process webhook receiver on 127.0.0.1: signatures, retries,
//! restarts, de-duplication, history and the live feed. No network beyond loopback.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use tousu::alerts::{
    Alert, AlertCenter, AlertSettings, DELIVERY_HEADER, DeliveryStatus, SIGNATURE_HEADER,
    TIMESTAMP_HEADER, Webhook, WebhookKind, verify_signature,
};
use tousu::domain::Grade;

use crate::receiver::{OK_BODY, Receiver, wait_until};

/// The promise to a receiver that is up.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(5);
const SECRET: &str = "whsec_integration";

fn json_hook(name: &str, url: &str) -> Webhook {
    Webhook {
        name: name.into(),
        kind: WebhookKind::Json,
        url: url.into(),
        secret: Some(SECRET.into()),
        ..Webhook::default()
    }
}

/// Fast retries so tests take milliseconds.
fn settings(webhooks: Vec<Webhook>) -> AlertSettings {
    AlertSettings {
        webhooks,
        max_attempts: 5,
        first_backoff_ms: 50,
        max_backoff_ms: 200,
    }
}

fn alert(key: &str, fingerprint: &str) -> Alert {
    Alert {
        id: String::new(),
        rule: "topic_surge".into(),
        key: key.into(),
        fingerprint: fingerprint.into(),
        title: "热点话题：魅力之城小区 噪音扰民（7 天 23 件，增长 5.2 倍）".into(),
        summary: "- 关键词：噪音、夜间施工\n- 样例：TS20261122-000001、TS20261122-000007".into(),
        severity: "严重".into(),
        department: None,
        created_at: Timestamp::now(),
        data: json!({"topic": "T123", "count": 23, "growth": 5.2}),
    }
}

/// Raises a marker alert and waits until it has been delivered and nothing is pending. The
/// worker is one thread taking due deliveries oldest first, so after this every attempt raised
/// or scheduled before the marker has been made or is still pending — and nothing is: a count
/// of earlier deliveries read afterwards is final, and a check that something did not happen
/// cannot pass just because it was read too early.
fn drain(center: &AlertCenter, receiver: &Receiver) {
    center
        .raise(alert(MARKER, "m"))
        .unwrap()
        .expect("the marker is new");
    assert!(
        wait_until(DELIVERY_DEADLINE, || {
            receiver.for_key(MARKER).iter().any(|r| r.status == 200) && center.pending() == 0
        }),
        "the marker was not delivered, or deliveries are still pending ({})",
        center.pending()
    );
}

/// The key of [`drain`]'s marker alert.
const MARKER: &str = "marker:drained";

/// An alert center over a store in `dir`.
fn open(dir: &Path, settings: AlertSettings) -> Arc<AlertCenter> {
    AlertCenter::open(store(dir), settings).unwrap()
}

fn store(dir: &Path) -> Arc<dyn tousu::store::CaseStore> {
    Arc::new(tousu::store::SqliteStore::open(&dir.join("tousu.db")).unwrap())
}

#[test]
fn json_webhook_arrives_signed_within_5_seconds() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![json_hook("ops", &receiver.url())]),
    );

    let raised_at = Instant::now();
    let stored = center.raise(alert("topic:T123", "b3")).unwrap().unwrap();
    assert!(stored.id.starts_with("AL"), "{}", stored.id);
    assert!(
        wait_until(DELIVERY_DEADLINE, || receiver.accepted() == 1),
        "not delivered within 5 s"
    );
    eprintln!("delivered in {:?}", raised_at.elapsed());

    let got = &receiver.received()[0];
    assert_eq!(got.uri, "/hook");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header(DELIVERY_HEADER), format!("{}.1", stored.id));
    let ts = got.header(TIMESTAMP_HEADER);
    let age = Timestamp::now().as_second() - ts.parse::<i64>().unwrap();
    assert!((0..300).contains(&age), "timestamp within 5 minutes: {age}");
    let signature = got.header(SIGNATURE_HEADER);
    assert!(signature.starts_with("v1="), "{signature}");
    assert!(verify_signature(SECRET, ts, &got.body, signature));
    assert!(!verify_signature(
        SECRET,
        ts,
        b"{\"forged\":true}",
        signature
    ));
    let body: Alert = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body, stored);
}

#[test]
fn server_error_is_retried_then_delivered_once() {
    let receiver = Receiver::start();
    receiver.fail_next(2, 500);
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![json_hook("ops", &receiver.url())]),
    );

    let stored = center.raise(alert("topic:T1", "a")).unwrap().unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || receiver.accepted() == 1));
    // No wrong extra attempt can still come once a later alert is through.
    drain(&center, &receiver);
    let got = receiver.for_key("topic:T1");
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert!(
        got.iter()
            .all(|r| r.header(DELIVERY_HEADER) == format!("{}.1", stored.id))
    );
    assert_eq!(center.pending(), 0);

    let history = center.history(None, 10).unwrap();
    let record = history.iter().find(|r| r.alert.id == stored.id).unwrap();
    let delivery = &record.deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 3);
    assert!(delivery.delivered_at.is_some());
}

#[test]
fn restart_mid_retry_delivers_exactly_once() {
    let receiver = Receiver::start();
    receiver.answer_by_default(500, "down");
    let dir = tempfile::tempdir().unwrap();
    let slow = AlertSettings {
        // Long enough that the first run is certainly asleep in a backoff when dropped.
        first_backoff_ms: 1_000,
        max_backoff_ms: 1_000,
        ..settings(vec![json_hook("ops", &receiver.url())])
    };
    let center = open(dir.path(), slow.clone());
    center
        .raise(alert("case:TS20261122-000001", "重大"))
        .unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || !receiver
        .received()
        .is_empty()));
    assert_eq!(center.pending(), 1);

    let dropping = Instant::now();
    drop(center);
    assert!(
        dropping.elapsed() < Duration::from_millis(500),
        "drop waited out the backoff: {:?}",
        dropping.elapsed()
    );
    let failed_before = receiver.received().len();

    receiver.answer_by_default(200, OK_BODY);
    let center = open(dir.path(), slow);
    assert_eq!(
        center.pending(),
        1,
        "the pending delivery survives the restart"
    );
    assert!(wait_until(DELIVERY_DEADLINE, || receiver.accepted() == 1));
    // A second send of the restarted delivery would come before a later alert's, or be pending.
    drain(&center, &receiver);
    let key = "case:TS20261122-000001";
    let sent = receiver.for_key(key);
    let accepted = sent.iter().filter(|r| r.status == 200).count();
    assert_eq!(accepted, 1, "delivered exactly once");
    assert_eq!(sent.len(), failed_before + 1);
    let history = center.history(None, 10).unwrap();
    let delivery = &history
        .iter()
        .find(|r| r.alert.key == key)
        .unwrap()
        .deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts as usize, failed_before + 1);
}

#[test]
fn drop_does_not_wait_out_a_long_backoff() {
    let receiver = Receiver::start();
    receiver.answer_by_default(503, "busy");
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        AlertSettings {
            first_backoff_ms: 60_000,
            max_backoff_ms: 60_000,
            ..settings(vec![json_hook("ops", &receiver.url())])
        },
    );
    center.raise(alert("topic:T9", "x")).unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || !receiver
        .received()
        .is_empty()));
    // Let the worker record the failure and go to sleep.
    assert!(wait_until(DELIVERY_DEADLINE, || {
        center.history(None, 1).unwrap()[0].deliveries[0].attempts == 1
    }));
    let dropping = Instant::now();
    drop(center);
    assert!(
        dropping.elapsed() < Duration::from_millis(500),
        "{:?}",
        dropping.elapsed()
    );
}

#[test]
fn same_key_and_fingerprint_alerts_once() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![json_hook("ops", &receiver.url())]),
    );

    let first = center.raise(alert("topic:T123", "b3:严重")).unwrap();
    assert!(first.is_some());
    assert!(
        center
            .raise(alert("topic:T123", "b3:严重"))
            .unwrap()
            .is_none(),
        "no storm"
    );
    let other_key = center.raise(alert("topic:T456", "b3:严重")).unwrap();
    assert!(other_key.is_some(), "another key alerts on its own");
    let changed = center.raise(alert("topic:T123", "b4:重大")).unwrap();
    assert!(changed.is_some(), "a material change alerts again");

    assert!(wait_until(DELIVERY_DEADLINE, || receiver.accepted() == 3));
    // Once a later alert is through, no delivery of the dropped repeat can still come.
    drain(&center, &receiver);
    assert_eq!(receiver.for_key("topic:T123").len(), 2, "b3 once, b4 once");
    assert_eq!(receiver.for_key("topic:T456").len(), 1);
    assert_eq!(receiver.received().len(), 4, "three alerts and the marker");
    let history: Vec<_> = center
        .history(None, 10)
        .unwrap()
        .into_iter()
        .filter(|r| r.alert.key != MARKER)
        .collect();
    assert_eq!(history.len(), 3);
    let ids: std::collections::HashSet<_> = history.iter().map(|r| r.alert.id.clone()).collect();
    assert_eq!(ids.len(), 3, "ids are unique");
}

#[test]
fn history_shows_delivery_status_newest_first() {
    let receiver = Receiver::start();
    // A port nothing listens on: connection refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        AlertSettings {
            max_attempts: 2,
            ..settings(vec![
                json_hook("ops", &receiver.url()),
                json_hook("gone", &format!("http://{closed}/hook")),
            ])
        },
    );

    let mut old = alert("topic:old", "1");
    old.created_at = Timestamp::now() - SignedDuration::from_hours(2);
    let old = center.raise(old).unwrap().unwrap();
    let new = center.raise(alert("topic:new", "1")).unwrap().unwrap();
    assert!(center.pending() <= 4, "two alerts, two webhooks");
    assert!(wait_until(DELIVERY_DEADLINE, || center.pending() == 0));

    let history = center.history(None, 10).unwrap();
    let order: Vec<&str> = history.iter().map(|r| r.alert.id.as_str()).collect();
    assert_eq!(order, [new.id.as_str(), old.id.as_str()]);
    for record in &history {
        let by_name = |name: &str| {
            record
                .deliveries
                .iter()
                .find(|d| d.webhook == name)
                .unwrap()
                .clone()
        };
        let ops = by_name("ops");
        assert_eq!(ops.status, DeliveryStatus::Delivered);
        assert!(ops.last_error.is_none());
        let gone = by_name("gone");
        assert_eq!(gone.status, DeliveryStatus::Failed);
        assert_eq!(gone.attempts, 2);
        let error = gone.last_error.unwrap();
        assert!(error.starts_with("gave up after 2 attempts"), "{error}");
    }

    let recent = center
        .history(Some(Timestamp::now() - SignedDuration::from_hours(1)), 10)
        .unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].alert.id, new.id);
    assert_eq!(center.history(None, 1).unwrap().len(), 1);

    // The record serialises flat, as the API will show it.
    let shown = serde_json::to_value(&history[0]).unwrap();
    assert_eq!(shown["key"], "topic:new");
    assert_eq!(shown["deliveries"][0]["status"], "delivered");
}

#[test]
fn webhook_removed_from_config_fails_its_pending_deliveries() {
    let receiver = Receiver::start();
    receiver.answer_by_default(500, "down");
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![json_hook("old", &receiver.url())]),
    );
    center.raise(alert("topic:T1", "a")).unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || !receiver
        .received()
        .is_empty()));
    drop(center);

    let center = open(dir.path(), settings(Vec::new()));
    assert_eq!(center.pending(), 0);
    let delivery = &center.history(None, 1).unwrap()[0].deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    let error = delivery.last_error.as_deref().unwrap();
    assert!(error.contains("no longer in the configuration"), "{error}");
}

#[test]
fn chat_robot_refusal_with_200_is_retried() {
    let receiver = Receiver::start();
    receiver.answer_next(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#);
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![Webhook {
            name: "dingtalk".into(),
            kind: WebhookKind::Dingtalk,
            url: format!("{}?access_token=t", receiver.url()),
            secret: Some("SECtest".into()),
            ..Webhook::default()
        }]),
    );
    center.raise(alert("topic:T1", "a")).unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || receiver.received().len() == 2));
    assert!(wait_until(DELIVERY_DEADLINE, || center.pending() == 0));
    let got = receiver.received();
    assert!(
        got[1].uri.starts_with("/hook?access_token=t&timestamp="),
        "{}",
        got[1].uri
    );
    assert!(got[1].uri.contains("&sign="));
    let body: serde_json::Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    let delivery = &center.history(None, 1).unwrap()[0].deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 2);
}

#[test]
fn subscribers_see_raised_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let center = open(dir.path(), settings(Vec::new()));
    let mut feed = center.subscribe();

    let stored = center.raise(alert("topic:T1", "a")).unwrap().unwrap();
    assert_eq!(feed.try_recv().unwrap(), stored);
    assert!(center.raise(alert("topic:T1", "a")).unwrap().is_none());
    assert!(
        feed.try_recv().is_err(),
        "a dropped repeat is not published"
    );
    assert_eq!(center.history(None, 10).unwrap()[0].deliveries.len(), 0);
}

#[test]
fn bad_alerts_and_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let center = open(dir.path(), settings(Vec::new()));
    let mut bad = alert("topic:T1", "a");
    bad.severity = "critical".into();
    assert!(center.raise(bad).is_err());
    assert!(center.raise(alert(" ", "a")).is_err());

    let twice = settings(vec![
        json_hook("a", "http://x/"),
        json_hook("a", "http://y/"),
    ]);
    // One process owns a store: the first center's goes first.
    drop(center);
    assert!(AlertCenter::open(store(dir.path()), twice).is_err());
}

#[test]
fn https_webhooks_speak_tls() {
    // A plain-HTTP receiver behind an https:// URL: the client must try a TLS handshake (and
    // fail it), which shows TLS is compiled in rather than refused as unsupported.
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        AlertSettings {
            max_attempts: 1,
            ..settings(vec![json_hook(
                "tls",
                &format!("https://{}/hook", receiver.addr()),
            )])
        },
    );
    center.raise(alert("topic:T1", "a")).unwrap();
    assert!(wait_until(DELIVERY_DEADLINE, || center.pending() == 0));
    let delivery = &center.history(None, 1).unwrap()[0].deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    let error = delivery.last_error.as_deref().unwrap();
    // rustls' verdict on a plain-HTTP answer to its ClientHello.
    assert!(error.contains("corrupt message"), "{error}");
    assert_eq!(receiver.accepted(), 0);
}

/// A case alert of `department` and `severity` (`None`: an alert about no one case).
fn routed(key: &str, severity: &str, department: Option<&str>) -> Alert {
    Alert {
        rule: if department.is_some() {
            "safety_case".into()
        } else {
            "topic_surge".into()
        },
        severity: severity.into(),
        department: department.map(str::to_string),
        ..alert(key, "1")
    }
}

#[test]
fn a_department_robot_gets_its_cases_and_the_supervisors_channel_gets_major_ones() {
    let robot = Receiver::start();
    let supervisors = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let center = open(
        dir.path(),
        settings(vec![
            Webhook {
                departments: vec!["网络运维中心".into()],
                ..json_hook("network", &robot.url())
            },
            Webhook {
                grades: vec![Grade::Major],
                ..json_hook("supervisors", &supervisors.url())
            },
        ]),
    );

    let ours = center
        .raise(routed(
            "case:TS20261122-000001",
            "严重",
            Some("网络运维中心"),
        ))
        .unwrap()
        .unwrap();
    let ours_major = center
        .raise(routed(
            "case:TS20261122-000002",
            "重大",
            Some("网络运维中心"),
        ))
        .unwrap()
        .unwrap();
    let theirs = center
        .raise(routed("case:TS20261122-000003", "重大", Some("计费中心")))
        .unwrap()
        .unwrap();
    let theirs_minor = center
        .raise(routed("case:TS20261122-000004", "一般", Some("计费中心")))
        .unwrap()
        .unwrap();
    let topic = center
        .raise(routed("topic:T1", "重大", None))
        .unwrap()
        .unwrap();
    // Every delivery there is has been made once nothing is pending: a non-matching webhook has
    // no delivery at all, so these counts are final.
    assert!(wait_until(DELIVERY_DEADLINE, || center.pending() == 0));
    let ids = |r: &Receiver| -> Vec<String> {
        let mut ids: Vec<String> = r.received().iter().map(|x| x.alert().id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(&robot),
        sorted(vec![ours.id.clone(), ours_major.id.clone()]),
        "the department's robot gets its own cases only"
    );
    assert_eq!(
        ids(&supervisors),
        sorted(vec![
            ours_major.id.clone(),
            theirs.id.clone(),
            topic.id.clone()
        ]),
        "the supervisors' channel gets 重大 only"
    );
    assert!(robot.received().iter().all(|r| r.status == 200));
    let history = center.history(None, 10).unwrap();
    let webhooks = |id: &str| -> Vec<String> {
        history
            .iter()
            .find(|r| r.alert.id == id)
            .unwrap()
            .deliveries
            .iter()
            .map(|d| d.webhook.clone())
            .collect()
    };
    assert_eq!(webhooks(&ours_major.id), ["network", "supervisors"]);
    assert!(
        webhooks(&theirs_minor.id).is_empty(),
        "an alert no webhook takes is kept in the history, delivered nowhere"
    );
    assert_eq!(
        robot.received()[0].alert().department.as_deref(),
        Some("网络运维中心")
    );
}
