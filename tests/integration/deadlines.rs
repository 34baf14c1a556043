//! Deadlines watched end to end: the sweep raises `sla_due_soon` when a running deadline has
//! used its due-soon share of time and `sla_breached` when it passes, each delivered to a
//! signed JSON webhook once — sweeping again, or after a restart, raises nothing new — and a
//! deadline met in time raises nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tousu::alerts::{
    AlertSettings, SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook, WebhookKind, verify_signature,
};
use tousu::domain::{Action, ActionRequest, Case, Intake, Role, Step};
use tousu::handling::{Actor, due_soon_at};
use tousu::service::{CreateOutcome, Service, ServiceSettings};

use crate::receiver::{Receiver, wait_until};
use crate::support::fixture_service_with;

const SECRET: &str = "whsec_deadlines";

fn service(dir: &Path, receiver: &Receiver) -> Arc<Service> {
    let settings = ServiceSettings {
        people: vec![("lead".into(), Role::Supervisor, vec!["*".into()])],
        ..Default::default()
    };
    Arc::new(fixture_service_with(
        dir,
        settings,
        Some(AlertSettings {
            webhooks: vec![Webhook {
                name: "desk".into(),
                kind: WebhookKind::Json,
                url: receiver.url(),
                secret: Some(SECRET.into()),
                departments: Vec::new(),
                grades: Vec::new(),
                // Only the deadline rules: the desk's channel.
                rules: vec!["sla_due_soon".into(), "sla_breached".into()],
            }],
            first_backoff_ms: 50,
            ..Default::default()
        }),
    ))
}

fn create(service: &Service, text: &str) -> Case {
    let intake = Intake {
        text: text.into(),
        ..Default::default()
    };
    match service.intake().create(&intake, "crm", None).unwrap() {
        CreateOutcome::Created(c) => c.case,
        CreateOutcome::Replayed(_) => panic!("not a replay"),
    }
}

fn confirm(case: &Case) -> tousu::domain::Deadline {
    case.deadlines
        .iter()
        .find(|d| d.step == Step::Confirm)
        .cloned()
        .expect("the telecom profile times 签收")
}

#[test]
fn due_soon_and_breached_reach_a_signed_webhook_once_each() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let (late, on_time, d) = {
        let service = service(dir.path(), &receiver);
        let late = create(&service, "话费被多扣了二十元，要求退还");
        let on_time = create(&service, "宽带网速特别慢，看视频一直卡顿");
        // The second is signed for at once: its 签收 deadline is met and never alerts.
        let lead = Actor::new("lead", Role::Supervisor);
        let mut assign = ActionRequest::new(Action::Assign);
        assign.department = on_time.department.clone();
        service.handling().act(&on_time.id, assign, &lead).unwrap();
        service
            .handling()
            .act(&on_time.id, ActionRequest::new(Action::Accept), &lead)
            .unwrap();
        let d = confirm(&late);
        let share = 0.8;
        let soon = due_soon_at(
            &tousu::domain::DeadlineFact {
                step: d.step,
                start: d.start,
                due: d.due,
                met: None,
            },
            share,
        );
        assert!(Timestamp::now() < soon, "the test needs the deadline ahead");

        // Before the share is used: nothing. At it: due soon, once, however often swept.
        assert_eq!(
            service
                .views()
                .sweep_deadlines(soon - SignedDuration::from_secs(60)),
            0
        );
        assert_eq!(service.views().sweep_deadlines(soon), 1);
        assert_eq!(service.views().sweep_deadlines(soon), 0);
        // Past due: breached, once.
        let past = d.due + SignedDuration::from_secs(60);
        assert_eq!(service.views().sweep_deadlines(past), 1);
        assert_eq!(service.views().sweep_deadlines(past), 0);
        (late, on_time, d)
    };
    // A restart forgets what the sweep raised; the alert history does not.
    {
        let service = service(dir.path(), &receiver);
        let past = d.due + SignedDuration::from_secs(120);
        let raised = service.views().sweep_deadlines(past);
        assert_eq!(raised, 1, "handed to the alert center again…");
        let center = service.views().watch().alerts().unwrap().clone();
        assert!(
            wait_until(Duration::from_secs(10), || center.pending() == 0),
            "deliveries pending"
        );
        let history = center.history(None, 50).unwrap();
        let breaches = history
            .iter()
            .filter(|r| r.alert.rule == "sla_breached")
            .count();
        assert_eq!(breaches, 1, "…which keeps one: {history:?}");
        let title = &history
            .iter()
            .find(|r| r.alert.rule == "sla_breached")
            .unwrap()
            .alert
            .title;
        let line = title
            .strip_prefix(&format!("已超时：{} ", late.id))
            .unwrap_or_default();
        assert!(
            !line.is_empty() && late.text.starts_with(line),
            "the title names the case by its line: {title}"
        );

        // Over HTTP, a supervisor of the case's department sees its alerts; one of another
        // department does not, nor trends across all departments.
        let department = late.department.clone().unwrap();
        let other = if department == "网络运维中心" {
            "计费账务中心"
        } else {
            "网络运维中心"
        };
        let keys = tousu::http::KeyRing::new(&[
            scoped("mine", "mine-key-0123456789abcdef", &department),
            scoped("other", "other-key-0123456789abcdef", other),
        ]);
        let app = tousu::http::router(tousu::http::AppState::new(
            Arc::clone(&service),
            keys,
            tousu::config::Limits::default(),
        ));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let get = |uri: &str, key: &str| {
            rt.block_on(async {
                let r = crate::api::read(
                    tower::ServiceExt::oneshot(
                        app.clone(),
                        crate::api::request(axum::http::Method::GET, uri, Some(key), None),
                    )
                    .await
                    .unwrap(),
                )
                .await;
                (r.status, r.json())
            })
        };
        let (status, mine) = get("/v1/alerts", "mine-key-0123456789abcdef");
        assert_eq!(status, 200, "{mine}");
        let rules: Vec<&str> = mine["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"sla_breached") && rules.contains(&"sla_due_soon"),
            "{mine}"
        );
        let (_, theirs) = get("/v1/alerts", "other-key-0123456789abcdef");
        assert_eq!(theirs["alerts"], serde_json::json!([]), "{theirs}");
        let (status, _) = get("/v1/trends", "other-key-0123456789abcdef");
        assert_eq!(status, 403);
        let (status, _) = get("/v1/topics", "mine-key-0123456789abcdef");
        assert_eq!(status, 403);
    }

    let soon_key = format!("sla_due_soon:{}:confirm", late.id);
    let breach_key = format!("sla_breached:{}:confirm", late.id);
    assert!(
        wait_until(Duration::from_secs(10), || {
            receiver.for_key(&soon_key).len() == 1 && receiver.for_key(&breach_key).len() == 1
        }),
        "received {:?}",
        receiver.received()
    );
    for key in [&soon_key, &breach_key] {
        let got = receiver.for_key(key);
        assert_eq!(got.len(), 1, "{key} delivered once");
        let r = &got[0];
        assert!(
            verify_signature(
                SECRET,
                r.header(TIMESTAMP_HEADER),
                &r.body,
                r.header(SIGNATURE_HEADER)
            ),
            "{key}: bad signature"
        );
        let alert = r.alert();
        assert_eq!(alert.severity, late.grade.label());
        assert_eq!(alert.data["case"], late.id.as_str());
        assert_eq!(alert.data["step"], "confirm");
        assert_eq!(
            alert.data["department"],
            late.department.as_deref().unwrap()
        );
        assert_eq!(alert.fingerprint, d.due.to_string());
        assert!(alert.title.contains(late.id.as_str()), "{}", alert.title);
    }
    assert_eq!(receiver.for_key(&soon_key)[0].alert().rule, "sla_due_soon");
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| !r.alert().key.contains(on_time.id.as_str())),
        "a deadline met in time raised an alert"
    );
}

/// A supervisor key of one department.
fn scoped(name: &str, key: &str, department: &str) -> tousu::config::ApiKey {
    tousu::config::ApiKey {
        name: name.into(),
        role: Role::Supervisor,
        key: key.into(),
        departments: vec![department.into()],
    }
}
