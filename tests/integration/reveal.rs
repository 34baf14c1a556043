//! The complainant's contact, read to call back (`POST /v1/cases/{id}/contact`): handlers and
//! supervisors of the case's department only, recorded in the audit trail before it is shown,
//! and shown nowhere else; and the audit trail searched across cases (`GET /v1/audit`) by
//! administrators.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{
    ADMIN_KEY, ANALYST_KEY, BROADBAND, HANDLER_KEY, INTAKE_KEY, NETWORK, SUPERVISOR_KEY, TestApp,
    app, id_of,
};
use crate::support::http::enc;

/// The contact the intake system sends.
const CONTACT: &str = "139 0000 1111";
/// The number the complainant typed in the text.
const IN_TEXT: &str = "13812345678";

/// A case in `department` (sent there by the supervisor), with a contact and a number in its
/// text; its id.
async fn case_in(t: &TestApp, department: &str, contact: Option<&str>) -> String {
    let mut body =
        json!({ "text": format!("{BROADBAND}，我的电话{IN_TEXT}，邮箱 li.si@example.com") });
    if let Some(c) = contact {
        body["contact"] = json!(c);
    }
    let id = id_of(&t.create(&body).await);
    t.step(
        &id,
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": department }),
    )
    .await;
    id
}

/// A department other than 网络运维中心.
async fn another_department(t: &TestApp) -> String {
    let d = t
        .get("/v1/directory", Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    d["departments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|d| *d != NETWORK)
        .expect("another department")
        .to_string()
}

async fn reveal(t: &TestApp, id: &str, key: &str, body: &Value) -> crate::api::Resp {
    t.post(&format!("/v1/cases/{id}/contact"), Some(key), body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_of_the_department_reads_the_contact_once_the_reveal_is_audited() {
    let t = app();
    let id = case_in(&t, NETWORK, Some(CONTACT)).await;
    let why = json!({ "reason": "回访 13700001234" });

    let r = reveal(&t, &id, HANDLER_KEY, &why).await;
    let v = r.expect(StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(v["case_id"], id.as_str());
    assert_eq!(v["contact"], CONTACT, "as the intake system sent it");
    assert_eq!(
        v["in_text"],
        json!([
            { "kind": "mobile", "value": IN_TEXT },
            { "kind": "email", "value": "li.si@example.com" },
        ])
    );
    // A supervisor of every department may too; a case with no contact field still has the
    // numbers of its text.
    let bare = case_in(&t, NETWORK, None).await;
    let v = reveal(&t, &bare, SUPERVISOR_KEY, &json!({ "reason": "核实诉求" }))
        .await
        .expect(StatusCode::OK);
    assert!(v["contact"].is_null(), "{v}");
    assert_eq!(v["in_text"][0]["value"], IN_TEXT);

    // The reveal is in the case's audit trail: who, when, why (masked), and no value.
    let trail = t
        .get(&format!("/v1/cases/{id}/audit"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    let read = trail.as_array().unwrap().last().unwrap();
    assert_eq!(read["action"], "reveal_contact");
    assert_eq!(read["actor"], "wang");
    assert!(read["at"].is_string());
    assert_eq!(read["note"], "回访 〔手机号〕", "the reason is masked");
    assert!(
        read["before"].is_null() && read["after"] == json!({}),
        "{read}"
    );

    // Nothing else shows the contact (nor the number typed in the text).
    t.sync();
    for (key, uri) in [
        (ANALYST_KEY, format!("/v1/cases/{id}")),
        (HANDLER_KEY, format!("/v1/cases/{id}")),
        (ANALYST_KEY, format!("/v1/cases/{id}/audit")),
        (ANALYST_KEY, format!("/v1/cases/{bare}/similar")),
        (ANALYST_KEY, "/v1/search?limit=100".to_string()),
        (ANALYST_KEY, format!("/v1/search?q={}", enc("宽带"))),
        (ADMIN_KEY, "/v1/audit?full=true&limit=500".to_string()),
    ] {
        let body = t
            .get(&uri, Some(key))
            .await
            .expect(StatusCode::OK)
            .to_string();
        for value in [CONTACT, "13900001111", IN_TEXT, "li.si@example.com"] {
            assert!(!body.contains(value), "{uri} shows {value}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_handlers_and_supervisors_of_the_department_may_reveal_and_only_with_a_reason() {
    let t = app();
    let id = case_in(&t, NETWORK, Some(CONTACT)).await;
    let elsewhere = case_in(&t, &another_department(&t).await, Some(CONTACT)).await;
    let why = json!({ "reason": "回访" });

    // Another department's case is not found, as if absent; so is an unknown case.
    let m = reveal(&t, &elsewhere, HANDLER_KEY, &why)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(!m.contains("1111"), "{m}");
    reveal(&t, "TS20200101-000001", HANDLER_KEY, &why)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    // Every other role is refused, admins too.
    for key in [ANALYST_KEY, ADMIN_KEY, INTAKE_KEY] {
        let m = reveal(&t, &id, key, &why)
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        assert!(m.contains("handler or supervisor"), "{m}");
    }
    // A reason is required, and short.
    for body in [
        json!({}),
        json!({ "reason": "  " }),
        json!({ "reason": "因".repeat(201) }),
    ] {
        let m = reveal(&t, &id, HANDLER_KEY, &body)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(m.contains("`reason`"), "{m}");
    }
    reveal(&t, &id, HANDLER_KEY, &json!({ "reason": "因".repeat(200) }))
        .await
        .expect(StatusCode::OK);
    reveal(&t, &id, HANDLER_KEY, &json!({ "reason": "回访", "why": 1 }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");

    // Only the one allowed reveal is recorded.
    let reveals = t
        .get("/v1/audit?action=reveal_contact", Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    let events = reveals["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{reveals}");
    assert_eq!(events[0]["case_id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_whose_audit_event_cannot_be_written_shows_nothing() {
    let t = app();
    let id = case_in(&t, NETWORK, Some(CONTACT)).await;
    // The audit table refuses every new event from now on (the store stays open).
    let db = rusqlite::Connection::open(t.dir().join("tousu.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .unwrap();
    let r = reveal(&t, &id, HANDLER_KEY, &json!({ "reason": "回访" })).await;
    assert!(r.status.is_server_error(), "{}: {}", r.status, r.text());
    for value in ["1111", IN_TEXT] {
        assert!(!r.text().contains(value), "{}", r.text());
    }
    db.execute_batch("DROP TRIGGER refuse").unwrap();
    let trail = t
        .get(&format!("/v1/cases/{id}/audit"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "reveal_contact"),
        "{trail}"
    );
    reveal(&t, &id, HANDLER_KEY, &json!({ "reason": "回访" }))
        .await
        .expect(StatusCode::OK);
}

/// The `seq`s of a page of `GET /v1/audit?{query}` and its `next_before`.
async fn page(t: &TestApp, query: &str) -> (Vec<u64>, Value) {
    let v = t
        .get(&format!("/v1/audit?{query}"), Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    let seqs = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    (seqs, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_search_the_audit_trail_by_actor_action_case_and_time() {
    let t = app();
    let a = case_in(&t, NETWORK, Some(CONTACT)).await;
    let b = case_in(&t, NETWORK, None).await;
    t.step(&a, HANDLER_KEY, json!({ "action": "accept" })).await;
    reveal(&t, &b, HANDLER_KEY, &json!({ "reason": "回访" }))
        .await
        .expect(StatusCode::OK);

    // Everything, newest first: create, assign ×2, accept, reveal.
    let (all, v) = page(&t, "").await;
    assert_eq!(all.len(), 6, "{v}");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "{all:?}");
    assert!(v.get("next_before").is_none(), "{v}");
    let events = v["events"].as_array().unwrap().clone();
    let newest = &events[0];
    assert_eq!(
        (&newest["action"], &newest["actor"], &newest["case_id"]),
        (&json!("reveal_contact"), &json!("wang"), &json!(b))
    );
    assert_eq!(newest["note"], "回访");
    // Without `full`, the names of the fields an event set, not their values.
    let assign = events.iter().find(|e| e["action"] == "assign").unwrap();
    assert!(assign.get("before").is_none() && assign.get("after").is_none());
    assert!(
        assign["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("status")),
        "{assign}"
    );
    let (_, full) = page(&t, "full=true").await;
    let assign = &full["events"].as_array().unwrap()
        [events.iter().position(|e| e["action"] == "assign").unwrap()];
    assert_eq!(assign["after"]["status"], "assigned", "{assign}");
    assert_eq!(assign["before"]["status"], "triaged");

    // Filters.
    let keep = |f: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        events
            .iter()
            .filter(|e| f(e))
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        page(&t, "actor=wang").await.0,
        keep(&|e| e["actor"] == "wang")
    );
    assert_eq!(
        page(&t, "action=assign").await.0,
        keep(&|e| e["action"] == "assign")
    );
    assert_eq!(
        page(&t, "actor=wang&action=accept").await.0,
        keep(&|e| e["actor"] == "wang" && e["action"] == "accept")
    );
    assert_eq!(
        page(&t, &format!("case_id={a}")).await.0,
        keep(&|e| e["case_id"] == a.as_str())
    );
    assert!(page(&t, "actor=nobody").await.0.is_empty());
    let at = |e: &Value| {
        e["at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let (from, to) = (at(&events[3]), at(&events[1]));
    assert_eq!(
        page(
            &t,
            &format!(
                "from={}&to={}",
                enc(&from.to_string()),
                enc(&to.to_string())
            )
        )
        .await
        .0,
        keep(&|e| at(e) >= from && at(e) < to)
    );

    // Pages of two: `next_before` until the last.
    let (mut seen, mut before) = (Vec::new(), String::new());
    loop {
        let (seqs, v) = page(&t, &format!("limit=2{before}")).await;
        seen.extend(seqs);
        match v["next_before"].as_u64() {
            Some(n) => before = format!("&before={n}"),
            None => break,
        }
    }
    assert_eq!(seen, all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_search_is_for_admins_and_says_which_parameter_is_wrong() {
    let t = app();
    case_in(&t, NETWORK, None).await;
    for key in [ANALYST_KEY, HANDLER_KEY, SUPERVISOR_KEY, INTAKE_KEY] {
        let m = t
            .get("/v1/audit", Some(key))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        assert!(m.contains("admin"), "{m}");
    }
    for (query, name) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("action=Reveal%20Contact", "`action`"),
        ("actor=", "`actor`"),
        ("case_id=42", "`case_id`"),
        ("limit=0", "`limit`"),
        ("limit=many", "limit"),
        ("before=0", "`before`"),
        ("full=yes", "full"),
        ("who=wang", "who"),
    ] {
        let m = t
            .get(&format!("/v1/audit?{query}"), Some(ADMIN_KEY))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(m.contains(name), "{query}: {m}");
    }
    // A count above the largest page is taken as the largest page; a window that ends before
    // it starts is empty.
    let (seqs, _) = page(&t, "limit=100000").await;
    assert_eq!(seqs.len(), 2);
    let (seqs, _) = page(&t, "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z").await;
    assert!(seqs.is_empty());
}

#[test]
fn tousu_audit_prints_the_events_asked_for_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    {
        let service = crate::support::fixture_service(dir.path(), None);
        for (who, text) in [
            ("crm", BROADBAND),
            ("web", "话费被多扣了二十元，要求退还"),
            ("crm", "小区手机信号很差，打电话经常掉线"),
        ] {
            let intake = tousu::domain::Intake {
                text: text.into(),
                ..Default::default()
            };
            service.intake().create(&intake, who, None).unwrap();
        }
    }
    let lines = |args: &[&str]| -> Vec<Value> {
        let out = crate::support::tousu_on(dir.path(), args);
        assert!(out.status.success(), "{}", crate::support::stderr(&out));
        crate::support::stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let crm = lines(&["audit", "--actor", "crm", "--action", "create"]);
    assert_eq!(crm.len(), 2, "{crm:?}");
    assert!(
        crm.iter()
            .all(|e| e["actor"] == "crm" && e["action"] == "create")
    );
    assert!(
        crm[0]["seq"].as_u64() > crm[1]["seq"].as_u64(),
        "newest first"
    );
    assert!(crm[0].get("after").is_none() && crm[0]["fields"].is_array());
    let newest = lines(&["audit", "--limit", "1", "--full"]);
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0]["after"]["status"], "triaged", "{newest:?}");
    assert!(lines(&["audit", "--from", "2099-01-01 00:00:00"]).is_empty());

    let out = crate::support::tousu_on(dir.path(), &["audit", "--from", "yesterday"]);
    assert!(!out.status.success());
    assert!(
        crate::support::stderr(&out).contains("--from"),
        "{}",
        crate::support::stderr(&out)
    );
    let out = crate::support::tousu_on(dir.path(), &["audit", "--action", "Create"]);
    assert!(!out.status.success());
    assert!(
        crate::support::stderr(&out).contains("`action`"),
        "{}",
        crate::support::stderr(&out)
    );
}
