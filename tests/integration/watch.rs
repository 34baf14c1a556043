//! The watch end to end: a case created through the service whose grade rules give a reason
//! code the alert rules follow (safety, external) reaches a signed JSON webhook, the alert
//! history and the live stream (`/v1/alerts`, `/v1/alerts/stream`). Old cases stay quiet.
//! The webhook receiver runs in process on 127.0.0.1.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tempfile::TempDir;
use tousu::alerts::{
    Alert, AlertCenter, AlertSettings, DeliveryStatus, SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook,
    WebhookKind, verify_signature,
};
use tousu::config::{Limits, Role};
use tousu::domain::{Case, Intake, Reason};
use tousu::http::{AppState, KeyRing};
use tousu::service::{CreateOutcome, Service, ServiceSettings};
use tower::ServiceExt;

use crate::receiver::{Received, Receiver, wait_until};
use crate::support::{api_keys, fixture_service_with};

/// The promise: an alert reaches a receiver that is up within 5 s of the case's `create`.
const DEADLINE: Duration = Duration::from_secs(5);
const SECRET: &str = "whsec_watch";
const INTAKE_KEY: &str = "intake-key-0123456789abcdef";
const ANALYST_KEY: &str = "analyst-key-0123456789abcdef";

/// 安全隐患 and 起火: the common `safety` rule (重大).
pub(crate) const SAFETY: &str =
    "楼道里的光猫电源线冒烟起火了，存在安全隐患，报修三天装维人员一直不来处理";
/// 曝光, 媒体, 工信部: the common `external` rule (重大).
const EXTERNAL: &str = "话费被多扣了两百元，一直不给退，再不解决我就向媒体曝光，还要投诉到工信部";

/// The receiver's JSON webhook, signed with [`SECRET`].
fn hook(receiver: &Receiver) -> Webhook {
    Webhook {
        name: "ops".into(),
        kind: WebhookKind::Json,
        url: receiver.url(),
        secret: Some(SECRET.into()),
        ..Webhook::default()
    }
}

/// A service over its own store and index in `dir`, raising to `center`.
/// A service whose every safety or external case alerts at once: these tests follow one
/// alert to its receivers (the daily limit and the digest are `replay.rs`'s and
/// `case_alerts_page_once_a_day_and_digest_the_rest`'s).
fn service(dir: &Path, webhooks: Vec<Webhook>) -> Arc<Service> {
    let mut settings = ServiceSettings::default();
    settings.alert_rules.case_alerts_need_model = false;
    settings.alert_rules.case_alerts_first_of_matter = false;
    settings.alert_rules.max_case_alerts_per_day = 0;
    Arc::new(fixture_service_with(
        dir,
        settings,
        Some(AlertSettings {
            webhooks,
            first_backoff_ms: 50,
            ..Default::default()
        }),
    ))
}

/// Creates a case (blocking) and returns it as stored.
pub(crate) fn create(service: &Service, text: &str, received_at: Option<Timestamp>) -> Case {
    let intake = Intake {
        text: text.into(),
        received_at,
        ..Default::default()
    };
    match service.intake().create(&intake, "test", None).unwrap() {
        CreateOutcome::Created(c) => c.case,
        CreateOutcome::Replayed(_) => panic!("not a replay"),
    }
}

/// Checks that the rules gave `case` the `reason` the alert rule follows: without it, no alert
/// is due and a missing alert says nothing about the watch.
pub(crate) fn assert_reason(case: &Case, reason: Reason) {
    assert!(
        case.reasons.contains(&reason),
        "the grade rules did not give {} reason {reason:?}: {:?} (fix the test text)",
        case.id,
        case.reasons
    );
}

/// The service's alert center (alerting is on in these tests).
fn alert_center(service: &Service) -> Arc<AlertCenter> {
    service
        .views()
        .watch()
        .alerts()
        .expect("alerting is on")
        .clone()
}

/// Creates a fresh safety case and waits until its alert has reached `receiver` and no
/// delivery is pending; its alert key. The follower hands the watch cases in commit order and
/// the worker sends due deliveries oldest first, so from then on every alert raised for an
/// earlier case has arrived (or never will): what the receiver and the history hold is final.
fn settle(service: &Service, receiver: &Receiver, center: &AlertCenter) -> String {
    let case = create(service, SAFETY, None);
    assert_reason(&case, Reason::Safety);
    let key = format!("case:{}", case.id);
    assert!(
        wait_until(DEADLINE, || !receiver.for_key(&key).is_empty()
            && center.pending() == 0),
        "the alert for the settling case {key} did not arrive, or deliveries are pending"
    );
    key
}

/// Checks a delivery is the signed JSON alert it should be, and returns the alert.
fn signed_alert(r: &Received) -> Alert {
    assert!(
        r.header("content-type").starts_with("application/json"),
        "{:?}",
        r.headers
    );
    let ts = r.header(TIMESTAMP_HEADER);
    let signature = r.header(SIGNATURE_HEADER);
    assert!(
        verify_signature(SECRET, ts, &r.body, signature),
        "bad signature {signature:?} at {ts:?}"
    );
    r.alert()
}

#[test]
fn a_safety_case_reaches_the_webhook_signed_and_only_once() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), vec![hook(&receiver)]);

    let first = create(&service, SAFETY, None);
    let created = Instant::now();
    assert_reason(&first, Reason::Safety);
    let key = format!("case:{}", first.id);
    assert!(
        wait_until(DEADLINE.saturating_sub(created.elapsed()), || !receiver
            .for_key(&key)
            .is_empty()),
        "no alert for {key} within 5 s of create; received {:?}",
        receiver.received()
    );
    eprintln!("alerted in {:?}", created.elapsed());
    let alert = signed_alert(&receiver.for_key(&key)[0]);
    assert_eq!(alert.rule, "safety_case");
    assert_eq!(alert.key, key);
    assert_eq!(alert.fingerprint, "safety");
    assert_eq!(alert.severity, first.grade.label());
    assert_eq!(alert.data["case"], first.id.as_str());
    assert_eq!(alert.data["reason"], "safety");
    assert!(first.department.is_some(), "intake routed the case");
    assert_eq!(
        alert.department, first.department,
        "a case's alert carries its department, for routing"
    );
    assert!(alert.title.contains(first.id.as_str()), "{}", alert.title);
    assert!(alert.id.starts_with("AL"), "{}", alert.id);

    // The same words again: a new case, so a new alert for it, and none again for the first.
    let second = create(&service, SAFETY, None);
    let created = Instant::now();
    assert_ne!(second.id, first.id);
    assert_reason(&second, Reason::Safety);
    let key2 = format!("case:{}", second.id);
    assert!(
        wait_until(DEADLINE.saturating_sub(created.elapsed()), || !receiver
            .for_key(&key2)
            .is_empty()),
        "no alert for {key2} within 5 s of create"
    );
    let alert2 = signed_alert(&receiver.for_key(&key2)[0]);
    assert_eq!(alert2.rule, "safety_case");
    assert_ne!(alert2.id, alert.id);

    // Settled by a third case: a second alert for either case above (raised again by the
    // watch, or sent again by the worker) would have arrived before the third's or still be
    // pending, so the counts below are final, not read too early.
    let center = alert_center(&service);
    let key3 = settle(&service, &receiver, &center);
    assert_eq!(receiver.for_key(&key).len(), 1, "{key} alerted twice");
    assert_eq!(receiver.for_key(&key2).len(), 1, "{key2} alerted twice");
    let history = center.history(None, 10).unwrap();
    let case_alerts: Vec<_> = history
        .iter()
        .filter(|r| r.alert.rule == "safety_case")
        .collect();
    let keys: Vec<&str> = case_alerts.iter().map(|r| r.alert.key.as_str()).collect();
    assert_eq!(
        keys,
        [key3.as_str(), key2.as_str(), key.as_str()],
        "newest first"
    );
    for record in case_alerts {
        assert_eq!(record.deliveries.len(), 1, "{record:?}");
        let d = &record.deliveries[0];
        assert_eq!(d.webhook, "ops");
        assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
        assert_eq!(d.attempts, 1, "{d:?}");
        assert!(d.delivered_at.is_some());
    }
    // What the webhook got is what the history holds.
    assert_eq!(
        history
            .iter()
            .find(|r| r.alert.key == key)
            .map(|r| &r.alert),
        Some(&alert)
    );
}

#[test]
fn an_external_complaint_alerts_as_external_case() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), vec![hook(&receiver)]);

    let case = create(&service, EXTERNAL, None);
    let created = Instant::now();
    assert_reason(&case, Reason::External);
    assert!(
        !case.reasons.contains(&Reason::Safety),
        "{:?}: the text should give external alone",
        case.reasons
    );
    let key = format!("case:{}", case.id);
    assert!(
        wait_until(DEADLINE.saturating_sub(created.elapsed()), || !receiver
            .for_key(&key)
            .is_empty()),
        "no alert for {key} within 5 s of create"
    );
    let alert = signed_alert(&receiver.for_key(&key)[0]);
    assert_eq!(alert.rule, "external_case");
    assert_eq!(alert.data["reason"], "external");
}

#[test]
fn a_case_received_long_ago_raises_no_alert() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), vec![hook(&receiver)]);
    let center = alert_center(&service);

    let ten_days_ago = Timestamp::now() - SignedDuration::from_hours(24 * 10);
    let old = create(&service, SAFETY, Some(ten_days_ago));
    assert_reason(&old, Reason::Safety);
    assert_eq!(old.received_at, ten_days_ago);
    service.views().sync().unwrap();
    assert!(
        wait_until(DEADLINE, || service.views().watch().cases() == 1),
        "the watch never counted the case"
    );

    // A fresh case after it does alert: the watch is alive, so the silence above is the rule.
    // An alert for the old case would have been raised no later than the fresh one's and
    // delivered before it or still be pending: once settled, the absence below is final, not
    // read too early.
    let fresh_key = settle(&service, &receiver, &center);

    let old_key = format!("case:{}", old.id);
    assert!(
        receiver.for_key(&old_key).is_empty(),
        "a case 10 days old alerted"
    );
    let history = center.history(None, 10).unwrap();
    assert!(
        history.iter().all(|r| r.alert.key != old_key),
        "{history:?}"
    );
    assert!(history.iter().any(|r| r.alert.key == fresh_key));
    // The old case is still counted in the trends: quiet is not forgotten.
    assert_eq!(service.views().watch().cases(), 2);
}

// ---------------------------------------------------------------------------------------------
// The API over an alerting service

fn keys() -> KeyRing {
    KeyRing::new(&api_keys(&[
        ("crm", Role::Intake, INTAKE_KEY),
        ("ana", Role::Analyst, ANALYST_KEY),
    ]))
}

fn request(method: Method, uri: &str, key: &str, body: Option<&Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"));
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// Sends `req` and reads the whole answer as JSON, checking the status.
async fn call(app: &Router, req: Request<Body>, status: StatusCode) -> Value {
    let r = app.clone().oneshot(req).await.unwrap();
    let got = r.status();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(got, status, "{text}");
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The fields of the first complete `event: alert` in `stream`, if there is one.
fn alert_event(stream: &str) -> Option<(String, Value)> {
    stream.split("\n\n").find_map(|event| {
        let lines: Vec<&str> = event.lines().collect();
        if !lines.contains(&"event: alert") || !stream.contains(&format!("{event}\n\n")) {
            return None;
        }
        let id = lines.iter().find_map(|l| l.strip_prefix("id: "))?;
        let data: String = lines
            .iter()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect::<Vec<_>>()
            .join("\n");
        Some((id.to_string(), serde_json::from_str(&data).ok()?))
    })
}

struct AlertingApp {
    app: Router,
    service: Arc<Service>,
    receiver: Receiver,
    _dir: TempDir,
}

fn alerting_app() -> AlertingApp {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), vec![hook(&receiver)]);
    let state = AppState::new(Arc::clone(&service), keys(), Limits::default());
    AlertingApp {
        app: tousu::http::router(state),
        service,
        receiver,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_an_alert_event_when_a_case_alerts() {
    let t = alerting_app();

    let r = t
        .app
        .clone()
        .oneshot(request(Method::GET, "/v1/alerts/stream", ANALYST_KEY, None))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut body = r.into_body();

    // Subscribed when the answer came: the alert for this case is on the stream.
    let v = call(
        &t.app,
        request(
            Method::POST,
            "/v1/cases",
            INTAKE_KEY,
            Some(&json!({ "text": SAFETY })),
        ),
        StatusCode::CREATED,
    )
    .await;
    let created = Instant::now();
    let id = v["id"].as_str().expect("an id").to_string();
    let reasons = v["grade"]["reasons"]
        .as_array()
        .or_else(|| v["reasons"].as_array())
        .cloned()
        .unwrap_or_default();
    assert!(reasons.contains(&json!("safety")), "no safety reason: {v}");

    let mut stream = String::new();
    let event = loop {
        if let Some(event) = alert_event(&stream) {
            break event;
        }
        let left = DEADLINE.saturating_sub(created.elapsed());
        let frame = tokio::time::timeout(left, body.frame())
            .await
            .unwrap_or_else(|_| panic!("no alert event within 5 s; the stream so far: {stream:?}"))
            .expect("the stream ended")
            .expect("the stream failed");
        if let Ok(data) = frame.into_data() {
            stream.push_str(&String::from_utf8_lossy(&data));
        }
    };
    drop(body);
    let (event_id, alert) = event;
    assert_eq!(alert["rule"], "safety_case", "{alert}");
    assert_eq!(alert["key"], format!("case:{id}"), "{alert}");
    assert_eq!(
        alert["id"],
        event_id.as_str(),
        "the event id is the alert's"
    );

    // The history has it, with its delivery to the webhook.
    let center = alert_center(&t.service);
    assert!(wait_until(DEADLINE, || center.pending() == 0));
    let v = call(
        &t.app,
        request(Method::GET, "/v1/alerts", ANALYST_KEY, None),
        StatusCode::OK,
    )
    .await;
    let alerts = v["alerts"].as_array().expect("an alerts array");
    let record = alerts
        .iter()
        .find(|a| a["id"] == event_id.as_str())
        .unwrap_or_else(|| panic!("the streamed alert is not in the history: {v}"));
    assert_eq!(record["key"], format!("case:{id}"));
    assert_eq!(record["rule"], "safety_case");
    assert_eq!(record["deliveries"][0]["webhook"], "ops", "{record}");
    assert_eq!(record["deliveries"][0]["status"], "delivered", "{record}");
    assert_eq!(t.receiver.for_key(&format!("case:{id}")).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_history_answers_with_filters_and_roles() {
    let t = alerting_app();
    let service = Arc::clone(&t.service);
    let case = tokio::task::spawn_blocking(move || create(&service, SAFETY, None))
        .await
        .unwrap();
    assert_reason(&case, Reason::Safety);
    let key = format!("case:{}", case.id);
    let center = alert_center(&t.service);
    assert!(
        wait_until(DEADLINE, || center
            .history(None, 10)
            .unwrap()
            .iter()
            .any(|r| r.alert.key == key)),
        "no alert recorded for {key}"
    );

    let get =
        |uri: &str, status| call(&t.app, request(Method::GET, uri, ANALYST_KEY, None), status);
    let v = get("/v1/alerts", StatusCode::OK).await;
    let alerts = v["alerts"].as_array().unwrap();
    let record = alerts
        .iter()
        .find(|a| a["key"] == key.as_str())
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(record["rule"], "safety_case");
    assert_eq!(record["severity"], case.grade.label());
    for field in [
        "id",
        "fingerprint",
        "title",
        "summary",
        "created_at",
        "deliveries",
    ] {
        assert!(record.get(field).is_some(), "{field}: {record}");
    }
    // `since` in the future: nothing; `limit` below 1 is refused, above 1000 taken as 1000.
    let future = (Timestamp::now() + SignedDuration::from_hours(1)).to_string();
    let v = get(
        &format!("/v1/alerts?since={}", future.replace('+', "%2B")),
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["alerts"], json!([]), "{v}");
    let v = get("/v1/alerts?limit=0", StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(v["code"], "invalid_query", "{v}");
    let v = get("/v1/alerts?limit=5000", StatusCode::OK).await;
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1, "{v}");
    // Unknown parameters and unreadable values are refused.
    for bad in ["/v1/alerts?colour=red", "/v1/alerts?since=yesterday"] {
        let v = get(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["code"], "invalid_query", "{bad}: {v}");
    }
    // Intake keys may not read alerts.
    for uri in ["/v1/alerts", "/v1/alerts/stream"] {
        let v = call(
            &t.app,
            request(Method::GET, uri, INTAKE_KEY, None),
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(v["code"], "forbidden", "{uri}: {v}");
    }
}
