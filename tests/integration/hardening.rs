//! The API's hardening, each behaviour checked so that a regression fails: bodies that are
//! not JSON objects, a busy idempotency key, error messages that do not echo long input,
//! idempotency keys per caller, receipt times checked on every way in, readiness at start.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tousu::config::{Limits, Role};
use tower::ServiceExt;

use crate::api::{
    ANALYST_KEY, BILL, BROADBAND, INTAKE_KEY, Resp, SIGNAL, SUPERVISOR_KEY, TestApp, app, build,
    id_of, is_case_id, raw_post, read,
};
use crate::bulk::{exported, run_in, write_lines};
use crate::support::{api_keys, stderr, stdout};

/// Longest error message these tests accept for a request carrying 5,000 characters (a cut
/// echo of at most 64 characters, and the list of what is accepted instead: the 14 actions).
const SHORT: usize = 400;

/// `body` sent raw as JSON to `uri` with `method` and the key.
fn json_request(method: Method, uri: &str, key: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Checks an error answer's message is short, and returns it.
fn short(r: &Resp, status: StatusCode, code: &str) -> String {
    let m = r.error(status, code);
    assert!(
        m.chars().count() < SHORT,
        "a {}-character message: {m}",
        m.chars().count()
    );
    m
}

// ---------------------------------------------------------------------------------------------
// Bodies must be JSON objects

/// Arrays whose items, read in field order, would make a valid request (a derived
/// `Deserialize` takes a sequence for a struct), and bare values.
const NOT_OBJECTS: [&str; 4] = [
    r#"["宽带断网","标题","wechat"]"#,
    r#"["家里宽带断网三天了，报修多次没人处理"]"#,
    r#""家里宽带断网三天了""#,
    "42",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_objects_are_refused_and_create_nothing() {
    let t = app();
    for body in NOT_OBJECTS {
        for uri in ["/v1/triage", "/v1/cases"] {
            let m = t
                .send(json_request(Method::POST, uri, INTAKE_KEY, body))
                .await
                .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
            assert!(m.contains("object"), "{uri} {body}: {m}");
        }
    }
    assert_eq!(t.count(), 0, "an array body created a case");

    // A batch whose items are arrays, mixed with a good item, or the whole batch as an array
    // (`[[…]]` would fill `cases` in field order): nothing is stored, not even the good item.
    for body in [
        json!({ "cases": [["宽带断网", "标题", "wechat"]] }),
        json!({ "cases": [{ "text": BILL }, ["宽带断网", "标题", "wechat"]] }),
        json!({ "cases": [{ "text": BILL }, "宽带断网"] }),
        json!([[{ "text": BILL }]]),
        json!([{ "text": BILL }]),
        json!("宽带断网"),
    ] {
        let r = t.post("/v1/cases/batch", Some(INTAKE_KEY), &body).await;
        if r.status == StatusCode::OK {
            // Per-item refusal would also do, as long as the array item stores nothing.
            let v = r.json();
            for item in v["results"].as_array().unwrap() {
                if item.get("case").is_none() {
                    assert_eq!(item["status"], 422, "{body}: {v}");
                }
            }
        } else {
            r.error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
        }
    }
    assert_eq!(t.count(), 0, "an array batch item created a case");

    // PATCH: an array that, read in field order, would set status, department and assignee.
    let id = t.create_text(BROADBAND).await;
    let uri = format!("/v1/cases/{id}");
    let before = t.get(&uri, Some(ANALYST_KEY)).await.expect(StatusCode::OK);
    for body in [
        r#"["investigating","网络维护中心","王工"]"#,
        r#""investigating""#,
        "1",
    ] {
        t.send(json_request(Method::PATCH, &uri, ANALYST_KEY, body))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    }
    let after = t.get(&uri, Some(ANALYST_KEY)).await.expect(StatusCode::OK);
    assert_eq!(after, before, "a refused patch changed the case");
    assert_eq!(after["status"], "triaged");
    let audit = t
        .get(&format!("{uri}/audit"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        audit.as_array().unwrap().len(),
        1,
        "only the create: {audit}"
    );
    assert_eq!(t.count(), 1);
}

// ---------------------------------------------------------------------------------------------
// A busy idempotency key

/// Sends four copies of a request at the same moment; their answers.
async fn at_once(t: &TestApp, req: impl Fn() -> Request<Body>) -> Vec<Resp> {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (app, req) = (t.app.clone(), req());
            tokio::spawn(async move { read(app.oneshot(req).await.unwrap()).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Checks a busy-key answer: 409 `conflict`, saying so, with `Retry-After`.
fn busy(r: &Resp) {
    let m = r.error(StatusCode::CONFLICT, "conflict");
    assert!(m.contains("still being processed"), "{m}");
    assert_eq!(
        r.header("retry-after"),
        Some("1"),
        "a 409 without Retry-After"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_while_the_first_runs_is_a_409_with_retry_after() {
    // As `api::a_retry_while_the_first_request_runs_is_a_409_conflict`, for a single create and
    // for a batch: rounds with new keys until a request has found its key in flight.
    let t = app();
    let with_key = |uri: &str, body: &Value, key: &str| {
        raw_post(
            uri,
            &[
                ("content-type", "application/json"),
                ("x-api-key", INTAKE_KEY),
                ("idempotency-key", key),
            ],
            body.to_string(),
        )
    };
    let mut stored = 0;
    for batch in [false, true] {
        let mut conflicts = 0;
        let mut rounds = 0;
        while conflicts == 0 && rounds < 20 {
            rounds += 1;
            let key = format!("busy-{batch}-{rounds}");
            let text = json!({ "text": format!("{SIGNAL}（工单{batch}{rounds}）") });
            let (uri, body) = if batch {
                ("/v1/cases/batch", json!({ "cases": [text] }))
            } else {
                ("/v1/cases", text)
            };
            let mut fresh = 0;
            for r in at_once(&t, || with_key(uri, &body, &key)).await {
                match r.status {
                    StatusCode::CONFLICT => {
                        busy(&r);
                        conflicts += 1;
                    }
                    StatusCode::CREATED if r.header("idempotent-replayed").is_none() => fresh += 1,
                    StatusCode::CREATED => {}
                    StatusCode::OK if batch => {
                        let v = r.json();
                        assert_eq!(v["results"][0]["status"], 201, "{v}");
                        if v["results"][0].get("replayed").is_none() {
                            fresh += 1;
                        }
                    }
                    _ => panic!("{uri}: {} {}", r.status, r.text()),
                }
            }
            assert_eq!(
                fresh, 1,
                "{uri} round {rounds}: one request creates the case"
            );
            stored += 1;
            assert_eq!(t.count(), stored, "one case per key");
        }
        assert!(
            conflicts > 0,
            "batch {batch}: no request overlapped in {rounds} rounds"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Error messages do not echo long input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_messages_do_not_echo_long_input() {
    let t = app();
    let long = "x".repeat(5000);
    let id = t.create_text(BILL).await;

    // A 5,000-character case number, on every route that takes one.
    for uri in [
        format!("/v1/cases/{long}"),
        format!("/v1/cases/{long}/similar"),
        format!("/v1/cases/{long}/audit"),
    ] {
        let m = short(
            &t.get(&uri, Some(ANALYST_KEY)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert!(
            m.contains("xxxx"),
            "the start of the id is still named: {m}"
        );
    }
    short(
        &t.patch(&long, Some(ANALYST_KEY), &json!({ "grade": "严重" }))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // A 5,000-character unknown field name, in a create, a triage, a batch item and a patch.
    let mut body = json!({ "text": BILL });
    body[&long] = json!(1);
    for uri in ["/v1/cases", "/v1/triage"] {
        let m = short(
            &t.post(uri, Some(INTAKE_KEY), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        );
        assert!(m.contains("unknown field"), "{m}");
    }
    short(
        &t.post(
            "/v1/cases/batch",
            Some(INTAKE_KEY),
            &json!({ "cases": [body] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );
    let mut patch = json!({ "grade": "严重" });
    patch[&long] = json!("x");
    short(
        &t.patch(&id, Some(ANALYST_KEY), &patch).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );

    // 5,000-character values where a name from a list is expected.
    let m = short(
        &t.patch(&id, Some(ANALYST_KEY), &json!({ "category": long }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_label",
    );
    assert!(m.contains("category"), "{m}");
    short(
        &t.patch(&id, Some(ANALYST_KEY), &json!({ "grade": long }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );
    // …and in a step: an unknown action, a department, a handler, a root cause.
    short(
        &t.act(&id, Some(SUPERVISOR_KEY), &json!({ "action": long }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );
    for step in [
        json!({ "action": "assign", "department": long }),
        json!({ "action": "assign", "department": "网络运维中心", "handler": long }),
    ] {
        short(
            &t.act(&id, Some(SUPERVISOR_KEY), &step).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        );
    }
    for field in ["channel", "received_at"] {
        short(
            &t.post(
                "/v1/cases",
                Some(INTAKE_KEY),
                &json!({ "text": BILL, field: long }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        );
    }

    // 5,000-character query values, named or parsed.
    for query in [
        "/v1/trends?dimension=",
        "/v1/trends?bucket=",
        "/v1/trends?from=",
        "/v1/trends/rising?dimension=",
        "/v1/topics?end=",
        "/v1/search?sort=",
        "/v1/search?cursor=",
        "/v1/search?from=",
        "/v1/cases/TS20200101-000001/similar?limit=",
        "/v1/alerts?since=",
    ] {
        short(
            &t.get(&format!("{query}{long}"), Some(ANALYST_KEY)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        );
    }

    // An Idempotency-Key of 300 characters is refused, on a create and on a batch.
    let key = "k".repeat(300);
    for (uri, body) in [
        ("/v1/cases", json!({ "text": SIGNAL })),
        ("/v1/cases/batch", json!({ "cases": [{ "text": SIGNAL }] })),
    ] {
        let r = t
            .send(raw_post(
                uri,
                &[
                    ("content-type", "application/json"),
                    ("x-api-key", INTAKE_KEY),
                    ("idempotency-key", &key),
                ],
                body.to_string(),
            ))
            .await;
        let m = short(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(m.contains("Idempotency-Key"), "{m}");
    }
    assert_eq!(t.count(), 1, "nothing refused was stored");
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys per caller

const CRM_A: &str = "intake-a-key-0123456789abcdef";
const CRM_B: &str = "intake-b-key-0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_belong_to_their_caller() {
    let keys = api_keys(&[
        ("crm-a", Role::Intake, CRM_A),
        ("crm-b", Role::Intake, CRM_B),
        ("ana", Role::Analyst, ANALYST_KEY),
    ]);
    let t = build(keys, Limits::default());
    let body = json!({ "text": BROADBAND, "channel": "app" }).to_string();
    let send_as = |caller: &str, key: &str, body: &str| {
        raw_post(
            "/v1/cases",
            &[
                ("content-type", "application/json"),
                ("x-api-key", caller),
                ("idempotency-key", key),
            ],
            body.to_string(),
        )
    };
    let send = |caller: &str, body: &str| send_as(caller, "crm-0001", body);

    let a = t.send(send(CRM_A, &body)).await;
    let a_id = id_of(&a.expect(StatusCode::CREATED));
    // The same key and body from another caller is that caller's first request, not a replay
    // of the other's answer.
    let b = t.send(send(CRM_B, &body)).await;
    let b_id = id_of(&b.expect(StatusCode::CREATED));
    assert!(
        b.header("idempotent-replayed").is_none(),
        "B got A's answer"
    );
    assert_ne!(a_id, b_id, "B got A's case");
    assert_eq!(t.count(), 2);

    // Each caller's retry replays its own first answer.
    for (caller, first, id) in [(CRM_A, &a, &a_id), (CRM_B, &b, &b_id)] {
        let again = t.send(send(caller, &body)).await;
        again.expect(StatusCode::CREATED);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(&id_of(&again.json()), id);
        assert_eq!(
            again.body, first.body,
            "the caller's own first answer, verbatim"
        );
    }
    assert_eq!(t.count(), 2);

    // Each case was made by its own caller.
    for (id, actor) in [(&a_id, "crm-a"), (&b_id, "crm-b")] {
        let audit = t
            .get(&format!("/v1/cases/{id}/audit"), Some(ANALYST_KEY))
            .await
            .expect(StatusCode::OK);
        assert_eq!(audit[0]["actor"], actor, "{audit}");
    }

    // Another body under a key only the other caller used is a new request, not a reused key.
    t.send(send_as(CRM_A, "crm-a-only", &body))
        .await
        .expect(StatusCode::CREATED);
    let r = t
        .send(send_as(
            CRM_B,
            "crm-a-only",
            &json!({ "text": BILL }).to_string(),
        ))
        .await;
    r.expect(StatusCode::CREATED);
    assert!(r.header("idempotent-replayed").is_none());
    assert_eq!(t.count(), 4);
}

// ---------------------------------------------------------------------------------------------
// Receipt and occurrence times

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_out_of_range_are_refused_naming_the_field() {
    let t = app();
    for field in ["received_at", "occurred_at"] {
        for at in ["0001-01-01T00:00:00Z", "3000-01-01T00:00:00Z"] {
            let body = json!({ "text": BILL, field: at });
            for uri in ["/v1/cases", "/v1/triage"] {
                let m = t
                    .post(uri, Some(INTAKE_KEY), &body)
                    .await
                    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
                assert!(m.contains(&format!("`{field}`")), "{uri} {field} {at}: {m}");
            }
        }
    }
    assert_eq!(t.count(), 0, "a refused time created a case");

    // A clock a minute ahead of the server's is accepted (intake clocks drift).
    let soon = (Timestamp::now() + SignedDuration::from_mins(1)).to_string();
    let v = t
        .create(&json!({ "text": BILL, "received_at": soon, "occurred_at": soon }))
        .await;
    assert_eq!(
        v["received_at"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        soon.parse::<Timestamp>().unwrap()
    );
    // An old but plausible time is accepted, and numbers the case by that (Beijing) day.
    let v = t
        .create(&json!({
            "text": SIGNAL,
            "received_at": "2019-06-15T02:00:00Z",
            "occurred_at": "2019-06-14T12:00:00Z",
        }))
        .await;
    let old = id_of(&v);
    assert!(old.starts_with("TS20190615-"), "{old}");
    assert_eq!(t.count(), 2);

    // A batch judges each item's times alone: the bad ones refused naming the field, the
    // good ones stored.
    let v = t
        .post(
            "/v1/cases/batch",
            Some(INTAKE_KEY),
            &json!({ "cases": [
                { "text": BROADBAND, "received_at": "0001-01-01T00:00:00Z" },
                { "text": BILL, "received_at": "2019-06-16T02:00:00Z" },
                { "text": SIGNAL, "occurred_at": "3000-01-01T00:00:00Z" },
            ] }),
        )
        .await
        .expect(StatusCode::OK);
    let results = v["results"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [422, 201, 422], "{v}");
    for (i, field) in [(0, "`received_at`"), (2, "`occurred_at`")] {
        assert_eq!(results[i]["error"]["code"], "invalid_request", "{v}");
        let m = results[i]["error"]["message"].as_str().unwrap();
        assert!(m.contains(field), "{m}");
    }
    let stored = results[1]["case"]["id"].as_str().unwrap();
    assert!(
        stored.starts_with("TS20190616-") && is_case_id(stored),
        "{v}"
    );
    assert_eq!(t.count(), 3);
}

#[test]
fn an_import_reports_lines_with_times_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("times.jsonl");
    write_lines(
        &file,
        &[
            r#"{"text":"家里宽带断网三天了，报修没人管","received_at":"2019-06-15 10:00:00"}"#,
            r#"{"text":"话费被多扣了二十元","received_at":"0001-01-01T00:00:00Z"}"#,
            r#"{"text":"小区手机信号很差","occurred_at":"3000-01-01T00:00:00Z"}"#,
            r#"{"text":"营业厅态度恶劣","received_at":"3000-01-01 00:00:00"}"#,
            r#"{"text":"小区停水三天无人处理","occurred_at":"2019-06-14T08:00:00+08:00"}"#,
        ],
    );
    let out = run_in(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["bad_count"], 3, "{report}");
    let bad: Vec<(u64, String)> = report["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b[0].as_u64().unwrap(), b[1].as_str().unwrap().to_string()))
        .collect();
    let lines: Vec<u64> = bad.iter().map(|b| b.0).collect();
    assert_eq!(lines, [2, 3, 4], "{report}");
    for ((_, message), field) in bad
        .iter()
        .zip(["received_at", "occurred_at", "received_at"])
    {
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    let err = stderr(&out);
    assert!(err.contains("times.jsonl:2: `received_at`"), "{err}");

    let cases = exported(dir.path());
    assert_eq!(cases.len(), 2);
    assert!(
        cases[0]["id"].as_str().unwrap().starts_with("TS20190615-"),
        "{}",
        cases[0]
    );
    assert_eq!(cases[1]["occurred_at"], "2019-06-14T00:00:00Z");
}

// ---------------------------------------------------------------------------------------------
// Readiness

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_service_is_ready() {
    let t = app();
    let r = t.get("/readyz", None).await;
    let v = r.expect(StatusCode::OK);
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["cases"], 0, "{v}");
    assert_eq!(v["index_lag"], 0, "{v}");
    assert!(r.header("retry-after").is_none());
}
