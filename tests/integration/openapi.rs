//! The OpenAPI document (`src/http/openapi.json`) against the server: every bound and list the
//! document states for a query parameter is what the handler enforces (taken just inside,
//! refused with 422 naming the parameter just outside), the limits it states for a body are
//! the code's defaults and are enforced, and a batch item that breaks the schema refuses the
//! batch. Schemathesis (`.ci/schemathesis.sh`) fuzzes the rest.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tousu::config::{Limits, Role};
use tousu::http::{AppState, KeyRing};
use tousu::service::{IntakeLimits, Service};
use tower::ServiceExt;

use crate::support::http::enc;

mod answers;
use crate::support::{api_keys, fixture_service_with};

const INTAKE_KEY: &str = "openapi-intake-key-0123456789";
const ANALYST_KEY: &str = "openapi-analyst-key-0123456789";
const ADMIN_KEY: &str = "openapi-admin-key-0123456789";

/// The document, as the server serves it.
fn spec() -> Value {
    serde_json::from_str(include_str!("../../src/http/openapi.json")).expect("the document")
}

/// An app with an intake, an analyst and an admin key, default limits and alerting on (so that
/// `/v1/alerts` answers).
struct App {
    router: Router,
    service: Arc<Service>,
    _dir: TempDir,
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits::default();
    let settings = tousu::service::ServiceSettings {
        limits: limits.intake(),
        ..Default::default()
    };
    let service = Arc::new(fixture_service_with(
        dir.path(),
        settings,
        Some(tousu::alerts::AlertSettings::default()),
    ));
    let keys = api_keys(&[
        ("crm", Role::Intake, INTAKE_KEY),
        ("ana", Role::Analyst, ANALYST_KEY),
        ("root", Role::Admin, ADMIN_KEY),
    ]);
    let state = AppState::new(service.clone(), KeyRing::new(&keys), limits);
    App {
        router: tousu::http::router(state),
        service,
        _dir: dir,
    }
}

impl App {
    /// Status and JSON body.
    async fn call(
        &self,
        method: Method,
        uri: &str,
        key: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"));
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let json = r
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|c| c.as_bytes().starts_with(b"application/json"));
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        // A download (`GET /v1/export`) is not JSON: its status is what is checked.
        if !json && status == StatusCode::OK {
            return (status, Value::Null);
        }
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: {status} not JSON ({e}): {bytes:?}"));
        (status, v)
    }

    /// A read as the analyst; the admins' reads (`/v1/audit`) as the admin.
    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let key = if uri.starts_with("/v1/audit") {
            ADMIN_KEY
        } else {
            ANALYST_KEY
        };
        self.call(Method::GET, uri, key, None).await
    }

    async fn post(&self, uri: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, uri, INTAKE_KEY, Some(body)).await
    }

    /// Creates one case and waits until the index has it; its id.
    async fn one_case(&self) -> String {
        let body = json!({ "text": "家里宽带断网三天了，报修多次没人处理" });
        let (status, case) = self.post("/v1/cases", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        self.service.views().sync().unwrap();
        case["id"].as_str().unwrap().to_string()
    }
}

/// `schema`, with a local `$ref` followed.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r} resolves")),
        None => schema,
    }
}

/// Checks one query value: 422 `invalid_query` naming the parameter when `refused`, else 200.
async fn expect_query(t: &App, path: &str, name: &str, value: &str, refused: bool) {
    let uri = format!("{path}?{name}={}", enc(value));
    let (status, v) = t.get(&uri).await;
    if refused {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {v}");
        assert_eq!(v["code"], "invalid_query", "{uri}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains(name),
            "{uri}: the message names {name}: {message}"
        );
    } else {
        assert_eq!(status, StatusCode::OK, "{uri}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bound_and_list_the_document_states_for_a_query_parameter_is_enforced() {
    let spec = spec();
    let t = app();
    let id = t.one_case().await;

    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let path = path.replace("{id}", &id).replace("{queue}", "mine");
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(&spec, p);
            if p["in"] != "query" {
                continue;
            }
            let name = p["name"].as_str().unwrap();
            let schema = resolve(&spec, &p["schema"]);
            match schema["type"].as_str() {
                Some("integer") => {
                    let min = schema["minimum"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("{path} {name}: an integer has a minimum"));
                    let max = schema["maximum"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("{path} {name}: an integer has a maximum"));
                    expect_query(&t, &path, name, &min.to_string(), false).await;
                    expect_query(&t, &path, name, &(min - 1).to_string(), true).await;
                    expect_query(&t, &path, name, &max.to_string(), false).await;
                    if let Some(above) = max.checked_add(1) {
                        expect_query(&t, &path, name, &above.to_string(), true).await;
                    }
                    expect_query(&t, &path, name, "1.5", true).await;
                    checked += 1;
                }
                Some("string") if schema.get("enum").is_some() => {
                    for v in schema["enum"].as_array().unwrap() {
                        expect_query(&t, &path, name, v.as_str().unwrap(), false).await;
                    }
                    for bad in ["", "nope"] {
                        expect_query(&t, &path, name, bad, true).await;
                    }
                    checked += 1;
                }
                Some("array") => {
                    assert_eq!(p["explode"], false, "{path} {name}: comma-separated");
                    let items = resolve(&spec, &schema["items"]);
                    if let Some(values) = items["enum"].as_array() {
                        let all: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
                        assert_eq!(schema["minItems"], 1, "{path} {name}");
                        expect_query(&t, &path, name, &all.join(","), false).await;
                        for bad in ["", &format!("{},nope", all[0]), &format!("{},", all[0])] {
                            expect_query(&t, &path, name, bad, true).await;
                        }
                        checked += 1;
                    }
                }
                _ => {}
            }
        }
    }
    // limit ×6, offset, top ×3, window_hours, baseline_hours, min_count, before; dimension ×2,
    // bucket, sort, format ×2, group_by; grade, status, channel, linked ×2 (search and export).
    assert_eq!(checked, 29, "every bounded parameter was tried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limits_in_the_document_are_the_code_s_and_are_enforced() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let intake = &schemas["Intake"]["properties"];
    let limits = IntakeLimits::default();
    assert_eq!(intake["text"]["minLength"], 1);
    assert_eq!(intake["text"]["maxLength"], limits.max_text_chars);
    assert_eq!(intake["text"]["maxLength"], Limits::default().text_chars);
    assert_eq!(intake["title"]["maxLength"], limits.max_title_chars);
    assert_eq!(intake["contact"]["maxLength"], limits.max_contact_chars);
    assert_eq!(
        schemas["Batch"]["properties"]["cases"]["maxItems"],
        Limits::default().max_batch
    );
    assert_eq!(schemas["Intake"]["additionalProperties"], false);

    // At each limit: taken; one character more: refused, naming the field.
    let t = app();
    for (field, max) in [
        ("title", limits.max_title_chars),
        ("contact", limits.max_contact_chars),
    ] {
        let at = json!({ "text": "话费多扣了", field: "1".repeat(max) });
        let (status, v) = t.post("/v1/triage", &at).await;
        assert_eq!(status, StatusCode::OK, "{field}: {v}");
        let over = json!({ "text": "话费多扣了", field: "1".repeat(max + 1) });
        let (status, v) = t.post("/v1/triage", &over).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
        assert!(v["message"].as_str().unwrap().contains(field), "{v}");
    }
    let (status, v) = t.post("/v1/triage", &json!({ "text": "" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "empty_text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_item_that_breaks_the_schema_refuses_the_batch_naming_it() {
    let t = app();
    let ok = json!({ "text": "话费被多扣了二十元" });
    for (bad, code, field) in [
        (
            json!({ "text": "信号差", "contact": "1".repeat(101) }),
            "invalid_request",
            "`contact`",
        ),
        (
            json!({ "text": "信号差", "title": "标".repeat(501) }),
            "invalid_request",
            "`title`",
        ),
        (json!({ "text": "" }), "empty_text", "text"),
    ] {
        let (status, v) = t
            .post("/v1/cases/batch", &json!({ "cases": [ok, bad] }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["code"], code, "{v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.starts_with("cases[1]: ") && message.contains(field),
            "{message}"
        );
    }
    assert_eq!(t.service.store().count().unwrap(), 0, "nothing stored");

    // What the schema cannot state fails the item alone.
    let (status, v) = t
        .post(
            "/v1/cases/batch",
            &json!({ "cases": [ok, { "text": " \u{200b} " }, { "text": "信号差", "received_at": "1999-12-31T15:59:59Z" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let statuses: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, [&json!(201), &json!(422), &json!(422)], "{v}");
    assert_eq!(v["results"][1]["error"]["code"], "empty_text");
    assert_eq!(t.service.store().count().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_times_outside_the_index_s_range_are_taken_as_its_ends() {
    // The index keeps times as i64 nanoseconds (years 1677 to 2262): a bound outside that once
    // overflowed, which panicked and had the index rebuilt for one query.
    let t = app();
    t.one_case().await;
    for (query, total) in [
        ("from=9999-01-01T00:00:00Z", 0),
        ("to=0001-01-01T00:00:00Z", 0),
        ("from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", 1),
    ] {
        let (status, v) = t.get(&format!("/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {v}");
        assert_eq!(v["total"], total, "{query}: {v}");
    }
    let (status, v) = t.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rfc_3339_time_is_read_also_past_the_last_instant_the_server_keeps() {
    // RFC 3339 (the document's `date-time`) goes on to 9999-12-31T23:59:59-23:59; the server
    // keeps times up to 9999-12-30T22:00Z and takes a later one as that.
    let t = app();
    let last = "9999-12-31T23:59:59Z";
    for uri in [
        format!("/v1/trends/rising?end={last}"),
        format!("/v1/topics?end={last}"),
        format!("/v1/alerts?since={last}"),
        format!("/v1/trends?to={last}"),
        format!(
            "/v1/search?to={}",
            enc("2026-01-01T00:00:00.1234567891+08:00")
        ),
    ] {
        let (status, v) = t.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {v}");
    }
    // In a body too: such a time is in the future, which fails the item alone.
    let (status, v) = t
        .post(
            "/v1/cases/batch",
            &json!({ "cases": [{ "text": "信号差", "received_at": last }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["status"], 422, "{v}");
    assert!(
        v["results"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("received_at"),
        "{v}"
    );
}
