//! Real answers held to the document: a case taken through the handling process by each role,
//! its queues, KPIs, daily report, directory and audit, and the refusals on the way (409
//! `invalid_transition`, 404 for another department's case, 422), each checked against the
//! operation's documented status, headers, media type and schema. Schemathesis
//! (`.ci/schemathesis.sh`) fuzzes the same document with random requests in CI.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::spec;
use crate::api::{
    ADMIN_KEY, ANALYST_KEY, BILL, BROADBAND, HANDLER_KEY, INTAKE_KEY, NETWORK, Resp,
    SUPERVISOR_KEY, TestApp, app, close_case, id_of,
};
use crate::support::schema::errors;

/// Checks `r`, the answer to `method` on the document's path `template`: its status is one the
/// operation documents, every header documented as required is there, its media type is
/// documented, and a JSON body fits that media type's schema. Returns the JSON (null for a
/// download).
fn conforms(spec: &Value, method: &Method, template: &str, r: &Resp) -> Value {
    let op = &spec["paths"][template][method.as_str().to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not documented");
    let status = r.status.as_u16().to_string();
    let mut answer = &op["responses"][&status];
    if let Some(name) = answer["$ref"].as_str() {
        answer = spec
            .pointer(name.trim_start_matches('#'))
            .expect("the response resolves");
    }
    assert!(
        answer.is_object(),
        "{method} {template}: {status} is not documented: {}",
        r.text()
    );
    for (name, h) in answer["headers"].as_object().into_iter().flatten() {
        if h["required"] == true {
            assert!(r.header(name).is_some(), "{method} {template}: no {name}");
        }
    }
    let media = r
        .header("content-type")
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_string();
    let content = &answer["content"][&media];
    assert!(
        content.is_object(),
        "{method} {template} {status}: {media} is not documented"
    );
    if media != "application/json" {
        return Value::Null;
    }
    let body = r.json();
    let wrong = errors(spec, &content["schema"], &body);
    assert!(
        wrong.is_empty(),
        "{method} {template} {status} does not fit its schema: {wrong:#?}\n{body}"
    );
    body
}

/// Calls the API as `key` and checks the answer against the document (`template` is the
/// document's path of `uri`).
async fn call(
    t: &TestApp,
    method: Method,
    template: &str,
    uri: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = t.call(method.clone(), uri, Some(key), body.as_ref()).await;
    let v = conforms(&spec(), &method, template, &r);
    (r.status, v)
}

async fn act(t: &TestApp, id: &str, key: &str, step: Value) -> (StatusCode, Value) {
    let uri = format!("/v1/cases/{id}/actions");
    call(
        t,
        Method::POST,
        "/v1/cases/{id}/actions",
        &uri,
        key,
        Some(step),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answers_of_the_handling_process_fit_the_document() {
    let t = app();
    let (get, post, patch) = (Method::GET, Method::POST, Method::PATCH);
    let intake = json!({ "text": format!("{BROADBAND}，电话13812345678"), "channel": "phone" });
    let (s, v) = call(
        &t,
        post.clone(),
        "/v1/triage",
        "/v1/triage",
        INTAKE_KEY,
        Some(intake.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["deadlines"].is_array() && v.get("sla").is_none(), "{v}");
    let (s, v) = call(
        &t,
        post.clone(),
        "/v1/cases",
        "/v1/cases",
        INTAKE_KEY,
        Some(intake),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = id_of(&v);
    let bill = t.create_text(BILL).await;
    let case = |id: &str| format!("/v1/cases/{id}");

    // A step the status does not allow: 409 naming what may be done.
    let (s, v) = act(&t, &id, HANDLER_KEY, json!({ "action": "accept" })).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );
    assert!(v["message"].as_str().unwrap().contains("you may"), "{v}");

    // Through the process: each answer is the case in hand.
    let dispatch = json!({ "action": "assign", "department": NETWORK, "handler": "wang", "note": "请尽快处理" });
    for (key, step) in [
        (SUPERVISOR_KEY, dispatch),
        (HANDLER_KEY, json!({ "action": "accept" })),
        (
            HANDLER_KEY,
            json!({ "action": "request_extension", "reason": "需协调上门", "days": 2 }),
        ),
        (
            SUPERVISOR_KEY,
            json!({ "action": "grant_extension", "reason": "同意" }),
        ),
        (
            HANDLER_KEY,
            json!({ "action": "suspend", "reason": "等用户在家" }),
        ),
    ] {
        let (s, v) = act(&t, &id, key, step).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = call(
        &t,
        get.clone(),
        "/v1/cases/{id}",
        &case(&id),
        HANDLER_KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "suspended");
    assert_eq!(v["deadline_status"][1]["paused"], true, "{v}");
    for (key, step) in [
        (HANDLER_KEY, json!({ "action": "resume" })),
        (
            SUPERVISOR_KEY,
            json!({ "action": "reply", "reply": "已上门更换光猫", "remedy": "补偿", "amount": 800 }),
        ),
    ] {
        let (s, v) = act(&t, &id, key, step).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let uri = format!("{}/contacts", case(&id));
    let (s, _) = call(
        &t,
        post.clone(),
        "/v1/cases/{id}/contacts",
        &uri,
        HANDLER_KEY,
        Some(json!({ "reached": false, "outcome": "无人接听" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let uri = format!("{}/notes", case(&id));
    let (s, _) = call(
        &t,
        post.clone(),
        "/v1/cases/{id}/notes",
        &uri,
        INTAKE_KEY,
        Some(json!({ "text": "用户来电催办" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act(&t, &id, HANDLER_KEY, json!({ "action": "follow_up", "result": "不满意", "solved": false, "comment": "还是断网" })).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["next_actions"],
        json!(["close"]),
        "a handler may not reopen"
    );
    let (s, v) = act(
        &t,
        &id,
        SUPERVISOR_KEY,
        json!({ "action": "reopen", "reason": "回访不满意" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["handling"]["reopened"], 1, "{v}");

    // Refusals: a step without what it needs, another department's case, an analyst's step.
    let (s, v) = act(&t, &id, HANDLER_KEY, json!({ "action": "return" })).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request"))
    );
    let (s, v) = call(
        &t,
        get.clone(),
        "/v1/cases/{id}",
        &case(&bill),
        HANDLER_KEY,
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = act(&t, &bill, HANDLER_KEY, json!({ "action": "accept" })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = act(
        &t,
        &bill,
        ANALYST_KEY,
        json!({ "action": "withdraw", "reason": "撤" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Closed: no more call-backs; corrections still taken, the status never patched.
    close_case(&t, &bill, "计费账务中心").await;
    let uri = format!("{}/contacts", case(&bill));
    let (s, v) = call(
        &t,
        post.clone(),
        "/v1/cases/{id}/contacts",
        &uri,
        SUPERVISOR_KEY,
        Some(json!({ "reached": true })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (s, v) = call(
        &t,
        patch.clone(),
        "/v1/cases/{id}",
        &case(&bill),
        ANALYST_KEY,
        Some(json!({ "grade": "重大" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["next_actions"], json!([]));
    let (s, _) = call(
        &t,
        patch,
        "/v1/cases/{id}",
        &case(&id),
        ADMIN_KEY,
        Some(json!({ "status": "closed" })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The work views and the records.
    t.sync();
    let q = "/v1/queues/{queue}";
    for (uri, key) in [
        ("/v1/queues/mine", HANDLER_KEY),
        ("/v1/queues/department?limit=1&offset=0", SUPERVISOR_KEY),
        ("/v1/queues/overdue", ANALYST_KEY),
    ] {
        let (s, v) = call(&t, get.clone(), q, uri, key, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(
            v["counts"]["department"].as_u64().unwrap() >= 1,
            "{uri}: {v}"
        );
    }
    let (s, _) = call(
        &t,
        get.clone(),
        q,
        "/v1/queues/everything",
        HANDLER_KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = call(
        &t,
        get.clone(),
        "/v1/kpis",
        "/v1/kpis?group_by=department",
        ANALYST_KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"]["volume"], 2, "{v}");
    let (s, _) = call(
        &t,
        get.clone(),
        "/v1/kpis",
        "/v1/kpis?from=2026-03-02&to=2026-03-01",
        SUPERVISOR_KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let daily = "/v1/reports/daily";
    let (s, v) = call(&t, get.clone(), daily, daily, SUPERVISOR_KEY, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["departments"].is_array(), "{v}");
    let (s, v) = call(
        &t,
        get.clone(),
        daily,
        "/v1/reports/daily?format=xlsx",
        ANALYST_KEY,
        None,
    )
    .await;
    assert_eq!((s, v), (StatusCode::OK, Value::Null));
    for (template, uri, key) in [
        ("/v1/directory", "/v1/directory", HANDLER_KEY),
        ("/v1/admin/keys", "/v1/admin/keys", ADMIN_KEY),
        ("/v1/audit", "/v1/audit?full=true", ADMIN_KEY),
        (
            "/v1/cases/{id}/audit",
            &format!("{}/audit", case(&id)),
            HANDLER_KEY,
        ),
        (
            "/v1/cases/{id}/similar",
            &format!("{}/similar", case(&id)),
            SUPERVISOR_KEY,
        ),
        (
            "/v1/search",
            "/v1/search?status=handling,closed",
            HANDLER_KEY,
        ),
    ] {
        let (s, _) = call(&t, get.clone(), template, uri, key, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
}
