//! Handling over HTTP: who may see and touch which case (the role × department matrix on every
//! route), work queues, KPIs and the directory.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tousu::config::{ApiKey, Limits, Role};

use crate::api::{
    ADMIN_KEY, ANALYST_KEY, BILL, BROADBAND, HANDLER_KEY, INTAKE_KEY, NETWORK, SUPERVISOR_KEY,
    TestApp, build, id_of, keys,
};

/// `zhao`: a handler of 计费账务中心 only.
const BILLING_HANDLER: &str = "billing-handler-key-0123456789";
/// `boss`: a supervisor of 计费账务中心 only.
const BILLING_SUPERVISOR: &str = "billing-supervisor-key-0123456789";
const BILLING: &str = "计费账务中心";

fn app() -> TestApp {
    let mut k = keys();
    for (name, role, key) in [
        ("zhao", Role::Handler, BILLING_HANDLER),
        ("boss", Role::Supervisor, BILLING_SUPERVISOR),
    ] {
        k.push(ApiKey {
            name: name.into(),
            role,
            key: key.into(),
            departments: vec![BILLING.into()],
        });
    }
    build(k, Limits::default())
}

/// A case created and dispatched to `department`; its id.
async fn dispatched(t: &TestApp, text: &str, department: &str) -> String {
    let id = t.create_text(text).await;
    t.step(
        &id,
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": department }),
    )
    .await;
    id
}

/// What a caller gets from a route: it may (any answer but 403 and 404), it may not (403), or
/// the case does not exist for it (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Sees,
    Forbidden,
    Absent,
}

fn access(status: StatusCode) -> Access {
    match status {
        StatusCode::FORBIDDEN => Access::Forbidden,
        StatusCode::NOT_FOUND => Access::Absent,
        _ => Access::Sees,
    }
}

/// Every route that names a case, with a request that is harmless (or refused for a reason
/// other than access) for a caller who may use it.
fn case_routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    let case = format!("/v1/cases/{id}");
    vec![
        (Method::GET, case.clone(), None),
        (
            Method::PATCH,
            case.clone(),
            Some(json!({ "grade": "重大" })),
        ),
        (Method::GET, format!("{case}/similar"), None),
        (Method::GET, format!("{case}/audit"), None),
        (
            Method::POST,
            format!("{case}/actions"),
            // Not allowed from `assigned`: 409 for whoever may act on the case.
            Some(json!({ "action": "reopen", "reason": "x" })),
        ),
        (
            Method::POST,
            format!("{case}/notes"),
            Some(json!({ "text": "已电话联系" })),
        ),
        (
            Method::POST,
            format!("{case}/contacts"),
            Some(json!({ "reached": false })),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_holds_each_role_to_its_departments() {
    use Access::*;
    let t = app();
    let network = dispatched(&t, BROADBAND, NETWORK).await;
    let billing = dispatched(&t, BILL, BILLING).await;
    // (key, what it gets on each route for the 网络 case, and for the 计费 case), routes in
    // the order of `case_routes`: get, patch, similar, audit, actions, notes, contacts.
    let all = [Sees; 7];
    let handler = [Sees, Forbidden, Sees, Sees, Sees, Sees, Sees];
    let absent_handler = [Absent, Forbidden, Absent, Absent, Absent, Absent, Absent];
    let matrix: [(&str, &str, [Access; 7], [Access; 7]); 7] = [
        (
            "intake",
            INTAKE_KEY,
            [Forbidden, Forbidden, Forbidden, Forbidden, Sees, Sees, Sees],
            [Forbidden, Forbidden, Forbidden, Forbidden, Sees, Sees, Sees],
        ),
        (
            "analyst",
            ANALYST_KEY,
            [Sees, Sees, Sees, Sees, Forbidden, Forbidden, Forbidden],
            [Sees, Sees, Sees, Sees, Forbidden, Forbidden, Forbidden],
        ),
        ("admin", ADMIN_KEY, all, all),
        ("supervisor of all", SUPERVISOR_KEY, all, all),
        ("handler of 网络", HANDLER_KEY, handler, absent_handler),
        ("handler of 计费", BILLING_HANDLER, absent_handler, handler),
        ("supervisor of 计费", BILLING_SUPERVISOR, [Absent; 7], all),
    ];
    for (who, key, on_network, on_billing) in matrix {
        for (id, expected) in [(&network, on_network), (&billing, on_billing)] {
            for ((method, uri, body), want) in case_routes(id).into_iter().zip(expected) {
                let r = t.call(method.clone(), &uri, Some(key), body.as_ref()).await;
                assert_eq!(
                    access(r.status),
                    want,
                    "{who}: {method} {uri}: {} {}",
                    r.status,
                    r.text()
                );
                if r.status == StatusCode::NOT_FOUND {
                    // As if absent: the same answer as a case that does not exist.
                    let m = r.error(StatusCode::NOT_FOUND, "not_found");
                    assert!(!m.contains(NETWORK) && !m.contains(BILLING), "{m}");
                }
            }
        }
    }

    // Lists are held to the departments too.
    t.sync();
    let found = |v: &Value, key: &str| -> Vec<String> {
        v[key].as_array().unwrap().iter().map(id_of).collect()
    };
    for (key, sees) in [
        (HANDLER_KEY, vec![network.clone()]),
        (BILLING_HANDLER, vec![billing.clone()]),
        (BILLING_SUPERVISOR, vec![billing.clone()]),
    ] {
        let v = t.get("/v1/search", Some(key)).await.expect(StatusCode::OK);
        assert_eq!(found(&v, "hits"), sees, "search");
        let v = t
            .get("/v1/queues/department", Some(key))
            .await
            .expect(StatusCode::OK);
        assert_eq!(found(&v, "cases"), sees, "queue");
        assert_eq!(v["counts"]["department"], 1);
        // The line comes from the case (the facts in memory keep none).
        let line = v["cases"][0]["summary"].as_str().unwrap();
        let case = t
            .get(&format!("/v1/cases/{}", sees[0]), Some(key))
            .await
            .expect(StatusCode::OK);
        let text = case["text"].as_str().unwrap();
        assert!(
            !line.is_empty() && text.starts_with(line),
            "{line:?} of {text:?}"
        );
    }
    let v = t
        .get("/v1/kpis?group_by=department", Some(BILLING_SUPERVISOR))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["total"]["volume"], 1, "{v}");
    assert_eq!(v["groups"][0]["group"], BILLING);
    let v = t
        .get("/v1/kpis", Some(SUPERVISOR_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["total"]["volume"], 2);
    for key in [HANDLER_KEY, INTAKE_KEY] {
        t.get("/v1/kpis", Some(key))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }
    t.get("/v1/queues/mine", Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_follow_the_steps_at_once() {
    let t = app();
    let a = dispatched(&t, BROADBAND, NETWORK).await;
    let b = t.create_text(BILL).await;
    let lead = SUPERVISOR_KEY;
    let queue = |name: &'static str, key: &'static str| {
        let t = &t;
        async move {
            t.get(&format!("/v1/queues/{name}"), Some(key))
                .await
                .expect(StatusCode::OK)
        }
    };
    let v = queue("dispatch", lead).await;
    assert_eq!(v["queue"], "dispatch");
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["cases"][0]["id"], b.as_str());
    assert!(v["cases"][0]["next_deadline"]["due"].is_string(), "{v}");
    assert_eq!(v["counts"]["department"], 2);

    // Signed for by wang: his, at once (no wait for the follower).
    t.step(&a, HANDLER_KEY, json!({ "action": "accept" })).await;
    let v = queue("mine", HANDLER_KEY).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["cases"][0]["id"], a.as_str());
    assert_eq!(v["cases"][0]["status"], "handling");
    t.step(
        &a,
        HANDLER_KEY,
        json!({ "action": "reply", "reply": "已更换光猫" }),
    )
    .await;
    let v = queue("follow_up", lead).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["cases"][0]["id"], a.as_str());
    assert_eq!(v["cases"][0]["next_deadline"]["step"], "follow_up");
    assert_eq!(v["counts"]["mine"], 0, "lead has none of his own");

    // Bad queries name what to fix.
    let m = t
        .get("/v1/queues/everything", Some(lead))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(m.contains("mine") && m.contains("overdue"), "{m}");
    let m = t
        .get("/v1/queues/mine?limit=0", Some(lead))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    assert!(m.contains("limit"), "{m}");
    let m = t
        .get("/v1/queues/department?department=天气部", Some(lead))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("/v1/directory"), "{m}");
    t.get("/v1/queues/mine?page=2", Some(lead))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    // A name that is not UTF-8 is no queue, answered as JSON (once axum's plain-text 400).
    t.get("/v1/queues/%FF", Some(lead))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_count_the_steps_taken() {
    let t = app();
    let closed = t.create_text(BILL).await;
    crate::api::close_case(&t, &closed, BILLING).await;
    let open = dispatched(&t, BROADBAND, NETWORK).await;
    let withdrawn = t.create_text("营业厅工作人员态度很差，办理业务很慢").await;
    t.step(
        &withdrawn,
        INTAKE_KEY,
        json!({ "action": "withdraw", "reason": "用户来电撤诉" }),
    )
    .await;
    let v = t
        .get("/v1/kpis?group_by=grade", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    let total = &v["total"];
    assert_eq!(total["volume"], 3, "{v}");
    assert_eq!(total["open"], 1);
    // The closed one was answered, followed up (满意) and closed at once: in time everywhere.
    assert_eq!(total["satisfied"]["numerator"], 1);
    assert_eq!(total["satisfied"]["denominator"], 1);
    assert_eq!(total["closed_first_time"]["rate"], 1.0);
    assert_eq!(
        total["closed_abnormally"]["denominator"], 2,
        "closed + withdrawn"
    );
    assert_eq!(total["closed_abnormally"]["numerator"], 0);
    assert_eq!(total["closed_on_time"]["numerator"], 2);
    assert_eq!(total["time_to_close"]["cases"], 2);
    assert_eq!(total["overdue"], 0);
    assert_eq!(v["group_by"], "grade");
    let grouped: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["volume"].as_u64().unwrap())
        .sum();
    assert_eq!(grouped, 3);
    let _ = open;

    // The period: dates are whole Beijing days; bad ones name the field.
    let v = t
        .get("/v1/kpis?from=2020-01-01&to=2020-12-31", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["total"]["volume"], 0);
    assert_eq!(v["from"], "2019-12-31T16:00:00Z");
    assert_eq!(v["to"], "2020-12-31T16:00:00Z");
    // A time is that time (one with an offset was once read as its whole day).
    let v = t
        .get(
            "/v1/kpis?from=2020-01-01T12:34:00%2B08:00&to=2020-01-02T00:00:00Z",
            Some(ANALYST_KEY),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["from"], "2020-01-01T04:34:00Z");
    for (query, field) in [
        ("from=yesterday", "from"),
        ("from=2020-01-01T12:34:00", "from"),
        ("group_by=weather", "group_by"),
        ("group_by=", "group_by"),
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "days"),
    ] {
        let r = t.get(&format!("/v1/kpis?{query}"), Some(ANALYST_KEY)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text()
        );
        assert!(r.text().contains(field), "{query}: {}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_lists_departments_and_handlers() {
    let t = app();
    let v = t
        .get("/v1/directory", Some(SUPERVISOR_KEY))
        .await
        .expect(StatusCode::OK);
    let departments: Vec<&str> = v["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        departments.contains(&NETWORK) && departments.contains(&BILLING),
        "{v}"
    );
    let wang = v["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "wang")
        .unwrap();
    assert_eq!(wang["departments"], json!([NETWORK]));
    t.get("/v1/directory", Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

/// The day's sheets of a daily report workbook, by name.
fn sheets(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<Vec<String>>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let rows = book
                .worksheet_range(&name)
                .unwrap()
                .rows()
                .map(|r| r.iter().map(ToString::to_string).collect())
                .collect();
            (name, rows)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_report_counts_the_day_and_its_workbook_reads_back() {
    let t = app();
    let answered = dispatched(&t, BROADBAND, NETWORK).await;
    t.step(&answered, HANDLER_KEY, json!({ "action": "accept" }))
        .await;
    t.step(
        &answered,
        HANDLER_KEY,
        json!({ "action": "reply", "reply": "已更换光猫" }),
    )
    .await;
    let waiting = t.create_text(BILL).await;
    // The Beijing day the cases were received on (not "now": a run across midnight).
    let received: jiff::Timestamp = t
        .get(&format!("/v1/cases/{waiting}"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK)["received_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let today = received
        .to_zoned(tousu::domain::beijing())
        .date()
        .to_string();

    let v = t
        .get(&format!("/v1/reports/daily?day={today}"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["day"], today.as_str());
    assert_eq!(v["received"]["volume"], 2, "{v}");
    let listed: Vec<&str> = v["received_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [answered.as_str(), waiting.as_str()]);
    let network = v["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"] == NETWORK)
        .unwrap();
    assert_eq!(
        (
            &network["received"],
            &network["accepted"],
            &network["replied"],
            &network["open"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1)),
        "{v}"
    );

    let r = t
        .get(
            &format!("/v1/reports/daily?day={today}&format=xlsx"),
            Some(ANALYST_KEY),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.header("content-disposition").unwrap().contains(".xlsx"));
    let book = sheets(r.body.to_vec());
    assert_eq!(
        book.keys().collect::<Vec<_>>(),
        ["当日受理", "概况", "超期案件", "部门"]
    );
    let cases = &book["当日受理"];
    assert_eq!(cases[0][0], "案件编号");
    let ids: Vec<&str> = cases[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, [answered.as_str(), waiting.as_str()]);
    let summary = &book["概况"];
    let volume = summary.iter().find(|r| r[0] == "受理量").unwrap();
    assert_eq!(volume[1], "2");
    let departments = &book["部门"];
    assert!(
        departments
            .iter()
            .any(|r| r[0] == NETWORK && r[1] == "1" && r[3] == "1")
    );
    assert_eq!(
        book["超期案件"].len(),
        1,
        "the header only: nothing overdue yet"
    );

    // A supervisor of 计费 sees only its department's day; bad parameters name themselves.
    let v = t
        .get(
            &format!("/v1/reports/daily?day={today}"),
            Some(BILLING_SUPERVISOR),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["received"]["volume"], 1);
    for (query, field) in [
        ("day=today", "day"),
        ("day=", "day"),
        ("day=2026-03-04T10:00:00%2B08:00", "day"),
        ("format=pdf", "format"),
    ] {
        let m = t
            .get(&format!("/v1/reports/daily?{query}"), Some(ANALYST_KEY))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(m.contains(field), "{m}");
    }
    t.get("/v1/reports/daily", Some(HANDLER_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    // The last day there is: up to the last instant kept (its end was once refused).
    let v = t
        .get("/v1/reports/daily?day=9999-12-31", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["received"]["volume"], 0, "{v}");
}
