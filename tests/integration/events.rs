//! Case events out, against in-process webhook receivers on 127.0.0.1: a case taken from
//! intake to 办结 through the HTTP steps reaches the receiver as signed events, in order, once
//! each — across a restart of the service (in process, and `tousu serve` stopped and started),
//! and after a receiver that was down comes back.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tousu::alerts::{DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature};
use tousu::domain::{CaseEvent, EventType, Status};
use tousu::events::{EVENT_HEADER, EventHub, EventSettings, EventWebhook};

use crate::api::{BILL, BROADBAND, INTAKE_KEY, NETWORK, SUPERVISOR_KEY, TestApp, app_in};
use crate::receiver::{Received, Receiver, wait_until};
use crate::support::server::{Options, Server};

/// A receiver that is up gets a case's events within this of its steps.
const DEADLINE: Duration = Duration::from_secs(10);
const SECRET: &str = "whsec_events";

/// The steps after 派单 that take a case to 办结, as the supervisor takes them.
fn after_assign() -> [Value; 4] {
    [
        json!({ "action": "accept" }),
        json!({ "action": "reply", "reply": "已核实并修复线路" }),
        json!({ "action": "follow_up", "result": "满意" }),
        json!({ "action": "close", "root_cause": "企业责任" }),
    ]
}

fn assign() -> Value {
    json!({ "action": "assign", "department": NETWORK })
}

/// One event as the story tells it: type, step, from and to.
type Chapter<'a> = (EventType, Option<&'a str>, Option<Status>, Option<Status>);

/// What a case taken from intake to 办结 sends.
fn full_story() -> Vec<Chapter<'static>> {
    use EventType as E;
    use Status as S;
    vec![
        (E::Created, None, None, None),
        (
            E::Assigned,
            Some("assign"),
            Some(S::Triaged),
            Some(S::Assigned),
        ),
        (
            E::Transitioned,
            Some("accept"),
            Some(S::Assigned),
            Some(S::Handling),
        ),
        (
            E::Transitioned,
            Some("reply"),
            Some(S::Handling),
            Some(S::Replied),
        ),
        (
            E::Transitioned,
            Some("follow_up"),
            Some(S::Replied),
            Some(S::FollowedUp),
        ),
        (
            E::Closed,
            Some("close"),
            Some(S::FollowedUp),
            Some(S::Closed),
        ),
    ]
}

fn webhook(name: &str, receiver: &Receiver) -> EventWebhook {
    EventWebhook {
        name: name.into(),
        url: receiver.url(),
        secret: Some(SECRET.into()),
        ..EventWebhook::default()
    }
}

/// Fast retries, so that tests take milliseconds.
fn settings(webhooks: Vec<EventWebhook>) -> EventSettings {
    EventSettings {
        webhooks,
        max_attempts: 10,
        first_backoff_ms: 50,
        max_backoff_ms: 200,
    }
}

/// The service over the store in `dir`, with its case events.
fn start(dir: &Path, settings: EventSettings) -> (TestApp, EventHub) {
    let t = app_in(dir);
    let hub = EventHub::open(t.service.store_handle(), settings).unwrap();
    (t, hub)
}

/// Checks one request is a signed case event whose headers agree with its body; the event.
fn signed_event(r: &Received) -> CaseEvent {
    let ts = r.header(TIMESTAMP_HEADER);
    assert!(
        verify_signature(SECRET, ts, &r.body, r.header(SIGNATURE_HEADER)),
        "bad signature on {}",
        String::from_utf8_lossy(&r.body)
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "actor",
            "at",
            "case_id",
            "category",
            "deadline",
            "department",
            "from_status",
            "grade",
            "id",
            "status",
            "step",
            "to_status",
            "type"
        ],
        "labels and ids only: {body}"
    );
    let event: CaseEvent = serde_json::from_value(body).unwrap();
    assert_eq!(r.header(EVENT_HEADER), event.kind.code());
    assert!(
        r.header(DELIVERY_HEADER)
            .starts_with(&format!("{}.", event.id)),
        "the delivery names its event"
    );
    event
}

/// The events `receiver` accepted for `case`, in the order they arrived.
fn accepted(receiver: &Receiver, case: &str) -> Vec<CaseEvent> {
    receiver
        .received()
        .iter()
        .filter(|r| r.status == 200)
        .map(signed_event)
        .filter(|e| e.case_id.as_str() == case)
        .collect()
}

/// Waits until `receiver` has accepted `n` events for `case` and nothing is pending; they.
/// Once the last of a case's events has arrived and nothing is pending, the list is final:
/// the dispatcher's cursor is past every earlier audit event, and an event is queued once.
fn settled(receiver: &Receiver, hub: &EventHub, case: &str, n: usize) -> Vec<CaseEvent> {
    let done = wait_until(DEADLINE, || {
        accepted(receiver, case).len() >= n && hub.pending().unwrap() == 0
    });
    let got = accepted(receiver, case);
    assert!(
        done,
        "{} of {n} events for {case} arrived (pending {}): {got:?}",
        got.len(),
        hub.pending().unwrap()
    );
    got
}

/// The story the events tell: type, step, from and to.
fn story(events: &[CaseEvent]) -> Vec<Chapter<'_>> {
    events
        .iter()
        .map(|e| (e.kind, e.step.as_deref(), e.from_status, e.to_status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_s_events_arrive_signed_in_order_once_each_across_a_restart() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let (t, hub) = start(dir.path(), settings(vec![webhook("crm", &receiver)]));
    let id = t.create_text(BROADBAND).await;
    t.step(&id, SUPERVISOR_KEY, assign()).await;
    let before = settled(&receiver, &hub, &id, 2);
    assert_eq!(story(&before), full_story()[..2]);

    // Stopped; the case goes on while nothing follows the trail (the service runs without
    // its events), then everything is started again: the dispatcher resumes at its durable
    // cursor, so the steps taken meanwhile are sent too, and nothing before them again.
    drop(hub);
    drop(t);
    let t = app_in(dir.path());
    let [accept, reply, follow_up, close] = after_assign();
    t.step(&id, SUPERVISOR_KEY, accept).await;
    t.step(&id, SUPERVISOR_KEY, reply).await;
    drop(t);
    let (t, hub) = start(dir.path(), settings(vec![webhook("crm", &receiver)]));
    t.step(&id, SUPERVISOR_KEY, follow_up).await;
    t.step(&id, SUPERVISOR_KEY, close).await;
    let events = settled(&receiver, &hub, &id, 6);
    assert_eq!(story(&events), full_story(), "in order, once each");
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "ids are unique");
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(events[0].actor, "crm");
    assert!(events[1..].iter().all(|e| e.actor == "lead"));
    assert_eq!(events[0].status, Status::Triaged);
    assert_eq!(events[5].status, Status::Closed);
    assert!(
        events[1..]
            .iter()
            .all(|e| e.department.as_deref() == Some(NETWORK)),
        "the department as of each event: {events:?}"
    );
    let case = t
        .get(&format!("/v1/cases/{id}"), Some(SUPERVISOR_KEY))
        .await;
    let case = case.json();
    assert_eq!(events[5].grade.label(), case["grade"]);
    assert_eq!(events[5].category.as_deref(), case["category"].as_str());
    for r in receiver.received() {
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("修复线路"), "no free text: {body}");
    }
    assert_eq!(receiver.received().len(), 6, "nothing sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_a_while_gets_the_events_after_retries_in_order() {
    let crm = Receiver::start();
    crm.fail_next(4, 503);
    let bi = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let (t, hub) = start(
        dir.path(),
        settings(vec![
            webhook("crm", &crm),
            EventWebhook {
                types: vec![EventType::Created, EventType::Closed],
                ..webhook("bi", &bi)
            },
        ]),
    );
    let id = t.create_text(BROADBAND).await;
    t.step(&id, SUPERVISOR_KEY, assign()).await;
    for step in after_assign() {
        t.step(&id, SUPERVISOR_KEY, step).await;
    }
    let events = settled(&crm, &hub, &id, 6);
    assert_eq!(story(&events), full_story(), "the later events waited");
    let got = crm.received();
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 503, 503, 200, 200, 200, 200, 200, 200]);
    assert!(
        got[..5]
            .iter()
            .all(|r| r.header(DELIVERY_HEADER) == format!("{}.1", events[0].id)),
        "the first event was retried until taken, the others behind it"
    );
    let bi_events = settled(&bi, &hub, &id, 2);
    let kinds: Vec<EventType> = bi_events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventType::Created, EventType::Closed],
        "its types only"
    );
    assert_eq!(bi.received().len(), 2);
    // Another case's events are not held up by this one's.
    let other = t.create_text(BILL).await;
    assert_eq!(settled(&crm, &hub, &other, 1)[0].kind, EventType::Created);
}

#[test]
fn tousu_serve_sends_case_events_and_resumes_at_its_cursor_after_restarts() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("tousu.toml");
    std::fs::write(
        &config,
        format!(
            "[events]\nfirst_backoff_ms = 50\nmax_backoff_ms = 200\n\n[[events.webhooks]]\n\
             name = \"crm\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
            receiver.url()
        ),
    )
    .unwrap();
    let options = |events: bool| Options {
        api_keys: Some(format!(
            "crm:intake:{INTAKE_KEY},lead:supervisor:{SUPERVISOR_KEY}:*"
        )),
        config: events.then(|| config.clone()),
        ..Options::default()
    };
    let log = dir.path().join("serve.log");
    let server = Server::start_with(&data, &log, options(true));
    let post = |server: &Server, key: &str, path: &str, body: &Value| {
        let bearer = format!("Bearer {key}");
        let r = server
            .send(
                "POST",
                path,
                &[("Authorization", bearer.as_str())],
                Some(&body.to_string()),
            )
            .unwrap();
        assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
        r.json()
    };
    let case = post(
        &server,
        INTAKE_KEY,
        "/v1/cases",
        &json!({ "text": BROADBAND }),
    );
    let id = case["id"].as_str().unwrap().to_string();
    let actions = format!("/v1/cases/{id}/actions");
    post(&server, SUPERVISOR_KEY, &actions, &assign());
    assert!(
        wait_until(DEADLINE, || accepted(&receiver, &id).len() == 2),
        "created and assigned: {:?}; log:\n{}",
        accepted(&receiver, &id),
        server.log_tail()
    );
    server.stop();

    // Served a while without `[events]`: nothing follows the trail, the cursor stays.
    let [accept, reply, follow_up, close] = after_assign();
    let server = Server::start_with(&data, &log, options(false));
    post(&server, SUPERVISOR_KEY, &actions, &accept);
    post(&server, SUPERVISOR_KEY, &actions, &reply);
    server.stop();
    assert_eq!(accepted(&receiver, &id).len(), 2);

    let server = Server::start_with(&data, &log, options(true));
    post(&server, SUPERVISOR_KEY, &actions, &follow_up);
    post(&server, SUPERVISOR_KEY, &actions, &close);
    // A later case's creation settles the count: the dispatcher reads the audit trail in
    // order, so once its event is in, every event of the first case has been queued, and
    // each is sent after the one before it.
    let marker = post(&server, INTAKE_KEY, "/v1/cases", &json!({ "text": BILL }));
    let marker = marker["id"].as_str().unwrap().to_string();
    assert!(
        wait_until(DEADLINE, || accepted(&receiver, &id).len() >= 6
            && accepted(&receiver, &marker).len() == 1),
        "{:?}; log:\n{}",
        accepted(&receiver, &id),
        server.log_tail()
    );
    server.stop();
    let events = accepted(&receiver, &id);
    assert_eq!(story(&events), full_story(), "in order, once each");
    assert_eq!(receiver.received().len(), 7, "nothing sent twice");
}
