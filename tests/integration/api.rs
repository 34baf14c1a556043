//! The HTTP API in process: the axum router driven with `tower::ServiceExt::oneshot` over the
//! fixture model, a temporary store and index. Every endpoint, role and error code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tousu::config::{ApiKey, Limits, Role, User};
use tousu::http::{AppState, KeyRing};
use tousu::service::Service;
use tower::ServiceExt;

use crate::support::http::enc;
use crate::support::{api_keys, fixture_service_with};

pub(crate) const INTAKE_KEY: &str = "intake-key-0123456789abcdef";
pub(crate) const ANALYST_KEY: &str = "analyst-key-0123456789abcdef";
pub(crate) const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
/// `wang`: a handler of 网络运维中心 only.
pub(crate) const HANDLER_KEY: &str = "handler-key-0123456789abcdef";
/// `lead`: a supervisor of every department.
pub(crate) const SUPERVISOR_KEY: &str = "supervisor-key-0123456789abcdef";
/// The department `wang` works for.
pub(crate) const NETWORK: &str = "网络运维中心";

pub(crate) const BROADBAND: &str = "家里宽带断网三天了，报修多次没人处理";
const BROADBAND_SLOW: &str = "宽带网速特别慢，看视频一直卡顿，装维师傅约好上门却没来";
pub(crate) const BILL: &str = "话费被多扣了二十元，要求退还";
const VALUE_ADDED: &str = "账单里有不认识的增值业务，莫名其妙被扣费，要求返还";
pub(crate) const SIGNAL: &str = "小区手机信号很差，打电话经常掉线";
const COUNTER: &str = "营业厅工作人员态度很差，办理业务很慢，排队等了很久";

/// An app over its own temporary store and index (or one in a directory the test keeps).
pub(crate) struct TestApp {
    pub(crate) app: Router,
    pub(crate) service: Arc<Service>,
    path: std::path::PathBuf,
    _dir: Option<TempDir>,
}

/// One key per role: `crm` (intake), `ana` (analyst), `root` (admin), `wang` (a handler of
/// 网络运维中心), `lead` (a supervisor of every department).
pub(crate) fn keys() -> Vec<ApiKey> {
    let mut keys = api_keys(&[
        ("crm", Role::Intake, INTAKE_KEY),
        ("ana", Role::Analyst, ANALYST_KEY),
        ("root", Role::Admin, ADMIN_KEY),
        ("lead", Role::Supervisor, SUPERVISOR_KEY),
    ]);
    keys.push(ApiKey {
        name: "wang".into(),
        role: Role::Handler,
        key: HANDLER_KEY.into(),
        departments: vec![NETWORK.into()],
    });
    keys
}

pub(crate) fn build(keys: Vec<ApiKey>, limits: Limits) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut t = build_in(dir.path(), keys, limits);
    t._dir = Some(dir);
    t
}

/// The usual app over the store and index in `dir`, which outlives it: dropped and built
/// again on the same `dir`, it is the service restarted.
pub(crate) fn app_in(dir: &std::path::Path) -> TestApp {
    build_in(dir, keys(), Limits::default())
}

fn build_in(dir: &std::path::Path, keys: Vec<ApiKey>, limits: Limits) -> TestApp {
    build_in_with_users(dir, keys, &[], limits, None)
}

/// The usual keys, and `users` who sign in with a password; alerts on (no webhook), so that
/// the alert stream answers.
pub(crate) fn build_with_users(users: &[User]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let alerts = Some(tousu::alerts::AlertSettings::default());
    let mut t = build_in_with_users(dir.path(), keys(), users, Limits::default(), alerts);
    t._dir = Some(dir);
    t
}

fn build_in_with_users(
    dir: &std::path::Path,
    keys: Vec<ApiKey>,
    users: &[User],
    limits: Limits,
    alerts: Option<tousu::alerts::AlertSettings>,
) -> TestApp {
    let settings = tousu::service::ServiceSettings {
        limits: limits.intake(),
        // Cases can be sent to the keys' and users' handlers and supervisors, as `tousu
        // serve` does.
        people: keys
            .iter()
            .map(|k| (k.name.clone(), k.role, k.departments.clone()))
            .chain(
                users
                    .iter()
                    .map(|u| (u.name.clone(), u.role, u.departments.clone())),
            )
            .collect(),
        ..Default::default()
    };
    let service = Arc::new(fixture_service_with(dir, settings, alerts));
    let state = AppState::new(service.clone(), KeyRing::with_users(&keys, users), limits);
    TestApp {
        app: tousu::http::router(state),
        service,
        path: dir.to_path_buf(),
        _dir: None,
    }
}

/// The usual app: the three keys, default limits.
pub(crate) fn app() -> TestApp {
    build(keys(), Limits::default())
}

/// A response, read whole.
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Checks the status and that the body is JSON; returns it.
    pub(crate) fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "content-type {:?}",
            self.header("content-type")
        );
        self.json()
    }

    /// Checks this is the API's error answer: `status`, a JSON body with exactly `code` and
    /// `message`, and this code. Returns the message.
    pub(crate) fn error(&self, status: StatusCode, code: &str) -> String {
        let v = self.expect(status);
        let obj = v.as_object().expect("error body is an object");
        let mut fields: Vec<&str> = obj.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["code", "message"], "{v}");
        assert_eq!(v["code"], code, "{v}");
        let message = v["message"].as_str().expect("message is a string");
        assert!(!message.is_empty());
        message.to_string()
    }
}

impl TestApp {
    pub(crate) async fn send(&self, req: Request<Body>) -> Resp {
        read(self.app.clone().oneshot(req).await.unwrap()).await
    }

    /// A request with the key as `Authorization: Bearer` and the body as JSON.
    pub(crate) async fn call(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        self.send(request(method, uri, key, body)).await
    }

    pub(crate) async fn get(&self, uri: &str, key: Option<&str>) -> Resp {
        self.call(Method::GET, uri, key, None).await
    }

    pub(crate) async fn post(&self, uri: &str, key: Option<&str>, body: &Value) -> Resp {
        self.call(Method::POST, uri, key, Some(body)).await
    }

    pub(crate) async fn patch(&self, id: &str, key: Option<&str>, body: &Value) -> Resp {
        self.call(Method::PATCH, &format!("/v1/cases/{id}"), key, Some(body))
            .await
    }

    /// Takes a step of the process on case `id`.
    pub(crate) async fn act(&self, id: &str, key: Option<&str>, body: &Value) -> Resp {
        self.post(&format!("/v1/cases/{id}/actions"), key, body)
            .await
    }

    /// Takes a step that must succeed; the case as it then is.
    pub(crate) async fn step(&self, id: &str, key: &str, body: Value) -> Value {
        self.act(id, Some(key), &body).await.expect(StatusCode::OK)
    }

    /// Creates a case as the intake key; its JSON.
    pub(crate) async fn create(&self, body: &Value) -> Value {
        let r = self.post("/v1/cases", Some(INTAKE_KEY), body).await;
        let v = r.expect(StatusCode::CREATED);
        assert!(is_case_id(v["id"].as_str().unwrap_or_default()), "{v}");
        v
    }

    /// Creates a case with this text; its id.
    pub(crate) async fn create_text(&self, text: &str) -> String {
        id_of(&self.create(&json!({ "text": text })).await)
    }

    pub(crate) fn count(&self) -> u64 {
        self.service.store().count().unwrap()
    }

    /// The data directory (the store is `tousu.db` in it).
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.path
    }

    pub(crate) fn sync(&self) {
        self.service.views().sync().unwrap();
    }
}

/// Reads a response whole.
pub(crate) async fn read(r: axum::response::Response) -> Resp {
    let (parts, body) = r.into_parts();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

pub(crate) fn request(
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// A POST with a raw body and headers of our choosing.
pub(crate) fn raw_post(
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut b = Request::builder().method(Method::POST).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).unwrap()
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// `TS` + 8 digits + `-` + 6 digits.
pub(crate) fn is_case_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && s.starts_with("TS")
        && b[2..10].iter().all(u8::is_ascii_digit)
        && b[10] == b'-'
        && b[11..].iter().all(u8::is_ascii_digit)
}

pub(crate) fn ids(hits: &Value) -> Vec<String> {
    hits.as_array()
        .expect("an array")
        .iter()
        .map(id_of)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// POST /v1/triage

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_answers_with_the_whole_assessment_and_stores_nothing() {
    let t = app();
    let r = t
        .post(
            "/v1/triage",
            Some(INTAKE_KEY),
            &json!({
                "text": format!("{BROADBAND}，联系电话13812345678"),
                "title": "宽带断网",
                "channel": "hotline_12345",
                "received_at": "2026-03-02T09:00:00Z",
                "metadata": { "ticket": "A-1" }
            }),
        )
        .await;
    let v = r.expect(StatusCode::OK);
    for key in [
        "category",
        "grade",
        "deadlines",
        "signals",
        "similar",
        "suggestions",
    ] {
        assert!(v.get(key).is_some_and(|x| !x.is_null()), "no {key}: {v}");
    }
    let labels = ["服务问题", "网络问题", "费用问题"];
    assert!(
        labels.contains(&v["category"]["label"].as_str().unwrap()),
        "{v}"
    );
    assert!(["一般", "严重", "重大"].contains(&v["grade"]["label"].as_str().unwrap()));
    assert!(
        v["similar"].as_array().unwrap().is_empty(),
        "nothing stored yet"
    );
    assert!(!r.text().contains("13812345678"), "the phone leaked");
    assert_eq!(t.count(), 0, "triage stores nothing");

    // Open to intake and admin; analysts may not triage.
    let body = json!({ "text": BILL });
    t.post("/v1/triage", Some(ADMIN_KEY), &body)
        .await
        .expect(StatusCode::OK);
    t.post("/v1/triage", Some(ANALYST_KEY), &body)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");

    // Once earlier cases are stored and indexed, they are similar and their resolutions suggested.
    let earlier = t.create_text(BROADBAND).await;
    t.patch(
        &earlier,
        Some(ADMIN_KEY),
        &json!({ "resolution": "已安排装维人员上门更换光猫，宽带恢复正常，向用户致歉", "remedy": "维修" }),
    )
    .await
    .expect(StatusCode::OK);
    t.sync();
    let v = t
        .post(
            "/v1/triage",
            Some(INTAKE_KEY),
            &json!({ "text": "家里宽带又断网了，报修没人处理" }),
        )
        .await
        .expect(StatusCode::OK);
    assert!(ids(&v["similar"]).contains(&earlier), "{v}");
    let suggestions = v["suggestions"].as_array().unwrap();
    assert!(
        suggestions.iter().any(|s| s["case_id"] == earlier.as_str()),
        "{v}"
    );
    assert_eq!(t.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_rejects_bad_bodies_with_json_errors() {
    let limits = Limits {
        body_bytes: 1024,
        text_chars: 10,
        max_batch: 2,
        ..Limits::default()
    };
    let t = build(keys(), limits);
    let k = Some(INTAKE_KEY);

    let m = t
        .post("/v1/triage", k, &json!({ "text": "" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "empty_text");
    assert!(m.contains("text"), "{m}");
    t.post("/v1/triage", k, &json!({ "text": " \n\u{3000} " }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "empty_text");

    let m = t
        .post(
            "/v1/triage",
            k,
            &json!({ "text": BILL, "complainant": "张三" }),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    assert!(m.contains("complainant"), "the field is named: {m}");
    t.post("/v1/triage", k, &json!({ "title": "没有正文" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    t.post("/v1/triage", k, &json!({ "text": 42 }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    t.post(
        "/v1/triage",
        k,
        &json!({ "text": "话费", "channel": "pigeon" }),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    let json_ct = [
        ("content-type", "application/json"),
        ("x-api-key", INTAKE_KEY),
    ];
    t.send(raw_post("/v1/triage", &json_ct, "{\"text\": \"话费"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");

    // Longer than limits.text_chars (10): refused, naming the field.
    let m = t
        .post("/v1/triage", k, &json!({ "text": BROADBAND }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("`text`") && m.contains("10"), "{m}");
    t.post("/v1/triage", k, &json!({ "text": "话费多扣了" }))
        .await
        .expect(StatusCode::OK);

    // Over limits.body_bytes (1024).
    let big = json!({ "text": BILL.repeat(40) });
    assert!(big.to_string().len() > 1024);
    t.post("/v1/triage", k, &big)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    t.post("/v1/cases", k, &big)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // A charset parameter is fine; no content type, or another one, is not.
    t.send(raw_post(
        "/v1/triage",
        &[
            ("x-api-key", INTAKE_KEY),
            ("content-type", "application/json; charset=utf-8"),
        ],
        json!({ "text": "话费多扣了" }).to_string(),
    ))
    .await
    .expect(StatusCode::OK);
    let body = json!({ "text": BILL }).to_string();
    t.send(raw_post(
        "/v1/triage",
        &[("x-api-key", INTAKE_KEY)],
        body.clone(),
    ))
    .await
    .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    t.send(raw_post(
        "/v1/triage",
        &[("x-api-key", INTAKE_KEY), ("content-type", "text/plain")],
        body,
    ))
    .await
    .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    // The batch endpoint: at most max_batch (2) items, and max_batch × body_bytes of body.
    let three =
        json!({ "cases": [{ "text": "话费多扣" }, { "text": "宽带断网" }, { "text": "信号差" }] });
    let m = t
        .post("/v1/cases/batch", k, &three)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("1 to 2"), "{m}");
    let huge = json!({ "cases": [{ "text": BILL.repeat(60) }] });
    assert!(huge.to_string().len() > 2 * 1024);
    t.post("/v1/cases/batch", k, &huge)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Over body_bytes but within the batch's allowance: read, and each item judged alone.
    let two = json!({ "cases": [
        { "text": "信号差", "metadata": { "note": "x".repeat(1100) } },
        { "text": "话费多扣了", "received_at": "1999-01-01T00:00:00Z" },
    ] });
    let n = two.to_string().len();
    assert!(n > 1024 && n < 2 * 1024, "{n}");
    let v = t
        .post("/v1/cases/batch", k, &two)
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["results"][0]["status"], 201, "{v}");
    assert_eq!(v["results"][1]["status"], 422, "{v}");
    assert_eq!(v["results"][1]["error"]["code"], "invalid_request");
    assert_eq!(t.count(), 1);
    // An item's text over limits.text_chars breaks the schema: the whole batch is refused,
    // naming the item.
    let m = t
        .post(
            "/v1/cases/batch",
            k,
            &json!({ "cases": [{ "text": "话费多扣了" }, { "text": BROADBAND }] }),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("cases[1]") && m.contains("`text`"), "{m}");
    assert_eq!(t.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_model_answers_503_with_retry_after() {
    // No model slot, and room for one request to wait: the one that waits gives up after its
    // 2 s; those that find the line full are turned away at once.
    let limits = Limits {
        inference_concurrency: 0,
        inference_queue: 1,
        ..Limits::default()
    };
    let t = build(keys(), limits);
    let started = Instant::now();
    let handles: Vec<_> = [
        ("/v1/triage", json!({ "text": BILL })),
        ("/v1/cases", json!({ "text": BILL })),
        ("/v1/cases/batch", json!({ "cases": [{ "text": BILL }] })),
    ]
    .into_iter()
    .map(|(uri, body)| {
        let app = t.app.clone();
        let req = request(Method::POST, uri, Some(INTAKE_KEY), Some(&body));
        tokio::spawn(async move { read(app.oneshot(req).await.unwrap()).await })
    })
    .collect();
    let mut messages = Vec::new();
    for h in handles {
        let r = h.await.unwrap();
        messages.push(r.error(StatusCode::SERVICE_UNAVAILABLE, "overloaded"));
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    messages.sort();
    assert!(
        messages[0].contains("no model slot came free"),
        "{messages:?}"
    );
    assert!(messages[1].contains("wait line is full"), "{messages:?}");
    assert!(messages[2].contains("wait line is full"), "{messages:?}");
    assert!(started.elapsed() >= Duration::from_secs(2));
    // Reads do not need the model.
    t.get("/v1/search", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(t.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_times_out_with_503() {
    // A zero-second timeout: anything that has to wait (here a 60-case batch) times out.
    let limits = Limits {
        request_timeout_secs: 0,
        ..Limits::default()
    };
    let t = build(keys(), limits);
    let texts = [
        BROADBAND,
        BROADBAND_SLOW,
        BILL,
        VALUE_ADDED,
        SIGNAL,
        COUNTER,
    ];
    let cases: Vec<Value> = (0..60)
        .map(|i| json!({ "text": format!("{}（第{i}次）", texts[i % texts.len()]) }))
        .collect();
    let r = t
        .post(
            "/v1/cases/batch",
            Some(INTAKE_KEY),
            &json!({ "cases": cases }),
        )
        .await;
    let m = r.error(StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert!(m.contains("0 s"), "{m}");
    // The batch goes on and may be stored: the answer says how to retry without duplicates.
    assert!(m.contains("Idempotency-Key"), "{m}");
    assert_eq!(r.header("retry-after"), Some("1"));
    // What answers without waiting still works.
    t.get("/healthz", None).await.expect(StatusCode::OK);
    // The batch's work was already under way; let it finish before the store goes away.
    let deadline = Instant::now() + Duration::from_secs(60);
    while t.count() < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// POST /v1/cases, GET /v1/cases/{id}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_complainant_on_the_same_matter_is_a_repeat() {
    let t = app();
    let first = id_of(
        &t.create(&json!({ "text": BROADBAND, "contact": "13812345678" }))
            .await,
    );
    let again = "家里宽带又断网了，三天了报修多次还是没人处理";
    let repeat = t
        .create(&json!({ "text": again, "contact": "138 1234 5678" }))
        .await;
    assert_eq!(repeat["signals"]["repeat_of"], json!([first]), "{repeat}");
    assert!(
        repeat["reasons"].to_string().contains("repeat"),
        "the grade names the repeat: {repeat}"
    );
    // Another matter from the same complainant, and the same matter from someone else: no
    // repeat.
    for (text, contact) in [(BILL, "13812345678"), (again, "13987654321")] {
        let other = t.create(&json!({ "text": text, "contact": contact })).await;
        assert!(other["signals"].get("repeat_of").is_none(), "{other}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_201_and_the_case_reads_back() {
    let t = app();
    let r = t
        .post(
            "/v1/cases",
            Some(INTAKE_KEY),
            &json!({
                "text": format!("{BROADBAND}，电话13812345678"),
                "title": "宽带故障",
                "channel": "phone",
                "contact": "13812345678",
                "received_at": "2026-03-02T09:00:00Z",
                "metadata": { "ticket": "CRM-20260302-1" }
            }),
        )
        .await;
    let created = r.expect(StatusCode::CREATED);
    assert!(r.header("idempotent-replayed").is_none());
    let id = id_of(&created);
    assert!(is_case_id(&id), "{id}");
    for key in [
        "signals",
        "similar",
        "suggestions",
        "category",
        "grade",
        "status",
    ] {
        assert!(created.get(key).is_some(), "no {key}: {created}");
    }
    assert_eq!(created["status"], "triaged");
    assert!(!r.text().contains("13812345678"), "the phone leaked");
    assert_eq!(t.count(), 1);

    let got = t
        .get(&format!("/v1/cases/{id}"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["channel"], "phone");
    assert_eq!(got["metadata"]["ticket"], "CRM-20260302-1");
    assert_eq!(got["received_at"], "2026-03-02T09:00:00Z");
    assert_eq!(got["category"], created["category"]);
    assert_eq!(got["grade"], created["grade"]);
    let text = got["text"].as_str().unwrap();
    assert!(
        text.contains("宽带") && !text.contains("13812345678"),
        "{text}"
    );
    assert!(got.get("contact").is_none());

    // A second case gets the next number of the day.
    let second = t.create_text(BILL).await;
    assert_ne!(second, id);

    // Unknown and malformed numbers: 404, in the error format.
    let m = t
        .get("/v1/cases/TS20200101-999999", Some(ANALYST_KEY))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(m.contains("TS20200101-999999"), "{m}");
    for bad in [
        "12345",
        "TS2026-1",
        "ts20260302-000001",
        "TS20260302x000001",
    ] {
        t.get(&format!("/v1/cases/{bad}"), Some(ANALYST_KEY))
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
    }
    t.get(&format!("/v1/cases/{}", enc("投诉单1")), Some(ANALYST_KEY))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    // A path that is not UTF-8 is still answered in the error format.
    t.get("/v1/cases/%FF", Some(ANALYST_KEY))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_retried_under_its_idempotency_key_creates_nothing_twice() {
    let t = app();
    let send = |cases: Value| {
        raw_post(
            "/v1/cases/batch",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {INTAKE_KEY}")),
                ("idempotency-key", "crm-batch-0001"),
            ],
            json!({ "cases": cases }).to_string(),
        )
    };
    let items = json!([{ "text": BILL }, { "text": SIGNAL }]);
    let first = t.send(send(items.clone())).await.expect(StatusCode::OK);
    let ids: Vec<String> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(first["results"][0].get("replayed").is_none());
    assert_eq!(t.count(), 2);

    // The retry (the client saw a timeout, say) gets the same cases back, marked replayed.
    let again = t.send(send(items)).await.expect(StatusCode::OK);
    for (r, id) in again["results"].as_array().unwrap().iter().zip(&ids) {
        assert_eq!(r["status"], 201);
        assert_eq!(r["replayed"], true);
        assert_eq!(r["case"]["id"], id.as_str());
    }
    assert_eq!(t.count(), 2, "nothing created twice");

    // One item changed, one added: the changed one is refused, the new one created.
    let changed = json!([{ "text": BILL }, { "text": COUNTER }, { "text": BROADBAND }]);
    let r = t.send(send(changed)).await.expect(StatusCode::OK);
    assert_eq!(r["results"][0]["replayed"], true);
    assert_eq!(r["results"][1]["status"], 422);
    assert_eq!(r["results"][1]["error"]["code"], "idempotency_key_reused");
    assert_eq!(r["results"][2]["status"], 201);
    assert!(r["results"][2].get("replayed").is_none());
    assert_eq!(t.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let t = app();
    let send = |body: String, key: &'static str| {
        raw_post(
            "/v1/cases",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {INTAKE_KEY}")),
                ("idempotency-key", key),
            ],
            body,
        )
    };
    let body = json!({ "text": BILL, "channel": "app" }).to_string();
    let first = t.send(send(body.clone(), "crm-7f3a-0001")).await;
    first.expect(StatusCode::CREATED);
    assert!(first.header("idempotent-replayed").is_none());

    let again = t.send(send(body, "crm-7f3a-0001")).await;
    again.expect(StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the first answer, verbatim");

    // The same request spelt differently (key order, spacing) is the same request.
    let respelt = "{ \"channel\" : \"app\",\n  \"text\" : \"话费被多扣了二十元，要求退还\" }";
    let r = t.send(send(respelt.into(), "crm-7f3a-0001")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(r.body, first.body);
    assert_eq!(t.count(), 1, "one case for three tries");

    // Another complaint under the same key.
    let other = json!({ "text": SIGNAL }).to_string();
    let m = t
        .send(send(other.clone(), "crm-7f3a-0001"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
    assert!(
        m.contains(&id_of(&first.json())),
        "names the first case: {m}"
    );
    assert_eq!(t.count(), 1);

    // A new key is a new case.
    let r = t.send(send(other, "crm-7f3a-0002")).await;
    r.expect(StatusCode::CREATED);
    assert!(r.header("idempotent-replayed").is_none());
    assert_eq!(t.count(), 2);

    // Keys that cannot be used.
    for bad in ["k".repeat(201), String::new()] {
        let m = t
            .send(raw_post(
                "/v1/cases",
                &[
                    ("content-type", "application/json"),
                    ("x-api-key", INTAKE_KEY),
                    ("idempotency-key", &bad),
                ],
                json!({ "text": COUNTER }).to_string(),
            ))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(m.contains("1 to 200"), "{m}");
    }
    let mut req = request(
        Method::POST,
        "/v1/cases",
        Some(INTAKE_KEY),
        Some(&json!({ "text": COUNTER })),
    );
    req.headers_mut().insert(
        "idempotency-key",
        HeaderValue::from_bytes("重试键".as_bytes()).unwrap(),
    );
    let m = t
        .send(req)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("Idempotency-Key"), "{m}");
    assert_eq!(t.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_while_the_first_request_runs_is_a_409_conflict() {
    // Requests with one key sent at the same moment: one creates the case; the others either
    // find it in flight (409) or, once it is done, get its answer replayed. Rounds with new keys
    // until a 409 has been seen.
    let t = app();
    let mut conflicts = 0;
    let mut rounds = 0;
    while conflicts == 0 && rounds < 20 {
        rounds += 1;
        let key = format!("storm-{rounds}");
        let body = json!({ "text": format!("{BROADBAND_SLOW}（工单{rounds}）") });
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let mut req = request(Method::POST, "/v1/cases", Some(INTAKE_KEY), Some(&body));
                req.headers_mut()
                    .insert("idempotency-key", HeaderValue::from_str(&key).unwrap());
                let app = t.app.clone();
                tokio::spawn(async move { read(app.oneshot(req).await.unwrap()).await })
            })
            .collect();
        let mut fresh = 0;
        for h in handles {
            let r = h.await.unwrap();
            match r.status {
                StatusCode::CREATED if r.header("idempotent-replayed").is_none() => fresh += 1,
                StatusCode::CREATED => {}
                _ => {
                    let m = r.error(StatusCode::CONFLICT, "conflict");
                    assert!(m.contains("still being processed"), "{m}");
                    assert_eq!(r.header("retry-after"), Some("1"), "{m}");
                    conflicts += 1;
                }
            }
        }
        assert_eq!(
            fresh, 1,
            "round {rounds}: exactly one request creates the case"
        );
        assert_eq!(t.count(), rounds, "one case per key");
    }
    assert!(
        conflicts > 0,
        "no request ever overlapped in {rounds} rounds"
    );
}

// ---------------------------------------------------------------------------------------------
// POST /v1/cases/batch

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_answers_per_item_and_stores_the_good_ones() {
    let t = app();
    let r = t
        .post(
            "/v1/cases/batch",
            Some(INTAKE_KEY),
            &json!({ "cases": [
                { "text": BROADBAND, "channel": "web" },
                { "text": "   " },
                { "text": BILL, "title": "话费争议" },
                { "text": SIGNAL, "occurred_at": "2999-01-01T00:00:00Z" },
            ] }),
        )
        .await;
    let v = r.expect(StatusCode::OK);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let statuses: Vec<u64> = results
        .iter()
        .map(|x| x["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 422, 201, 422]);
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item["index"], i);
    }
    let first = &results[0]["case"];
    assert!(is_case_id(first["id"].as_str().unwrap()), "{v}");
    assert_eq!(first["channel"], "web");
    assert!(results[0].get("error").is_none());
    assert_eq!(results[1]["error"]["code"], "empty_text");
    assert!(results[1].get("case").is_none());
    assert_eq!(results[3]["error"]["code"], "invalid_request");
    assert!(
        results[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("occurred_at")
    );
    assert_eq!(t.count(), 2);
    let id = id_of(&results[2]["case"]);
    let got = t
        .get(&format!("/v1/cases/{id}"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["title"], "话费争议");

    // An item that breaks the schema (a title over 500 characters, an empty text) refuses the
    // whole batch, naming the item: nothing of it is stored.
    for (bad, code, field) in [
        (
            json!({ "text": SIGNAL, "title": "标".repeat(501) }),
            "invalid_request",
            "`title`",
        ),
        (json!({ "text": "" }), "empty_text", "text"),
    ] {
        let m = t
            .post(
                "/v1/cases/batch",
                Some(INTAKE_KEY),
                &json!({ "cases": [{ "text": COUNTER }, bad] }),
            )
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, code);
        assert!(m.starts_with("cases[1]: ") && m.contains(field), "{m}");
    }
    assert_eq!(t.count(), 2);

    // An empty batch, a batch that is not a batch, an item with an unknown field.
    let m = t
        .post("/v1/cases/batch", Some(INTAKE_KEY), &json!({ "cases": [] }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("cases"), "{m}");
    t.post(
        "/v1/cases/batch",
        Some(INTAKE_KEY),
        &json!([{ "text": BILL }]),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    let m = t
        .post(
            "/v1/cases/batch",
            Some(INTAKE_KEY),
            &json!({ "cases": [{ "text": BILL, "priority": "high" }] }),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    assert!(m.contains("priority"), "{m}");
    t.post(
        "/v1/cases/batch",
        Some(ANALYST_KEY),
        &json!({ "cases": [{ "text": BILL }] }),
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(t.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// PATCH /v1/cases/{id}, GET /v1/cases/{id}/audit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_move_the_case_and_patch_keeps_corrections() {
    let t = app();
    let id = t.create_text(BROADBAND).await;
    let (lead, wang, k) = (SUPERVISOR_KEY, HANDLER_KEY, Some(ANALYST_KEY));

    let v = t
        .step(
            &id,
            lead,
            json!({ "action": "assign", "department": NETWORK, "handler": "wang" }),
        )
        .await;
    assert_eq!(v["status"], "assigned");
    assert_eq!(v["department"], NETWORK);
    assert_eq!(v["assignee"], "wang");
    assert!(
        v["next_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("accept")),
        "{v}"
    );
    let v = t.step(&id, wang, json!({ "action": "accept" })).await;
    assert_eq!(v["status"], "handling");
    let v = t
        .step(
            &id,
            wang,
            json!({ "action": "reply", "reply": "已更换光猫，宽带恢复正常", "remedy": "维修" }),
        )
        .await;
    assert_eq!(v["status"], "replied");
    assert_eq!(v["resolution"], "已更换光猫，宽带恢复正常");
    assert_eq!(v["remedy"], "维修");
    assert!(v["resolved_at"].is_string(), "{v}");
    // An unsatisfied 回访 may be reopened (重办) by a supervisor.
    let v = t
        .step(
            &id,
            wang,
            json!({ "action": "follow_up", "result": "不满意", "comment": "还是经常断网" }),
        )
        .await;
    assert_eq!(v["status"], "followed_up");
    assert_eq!(v["handling"]["follow_up"]["result"], "不满意");
    let v = t
        .step(
            &id,
            lead,
            json!({ "action": "reopen", "reason": "用户仍断网，重新上门" }),
        )
        .await;
    assert_eq!(v["status"], "handling");
    assert_eq!(v["handling"]["reopened"], 1);

    // Correct the category (to one the model did not say) and the grade: kept, and the case
    // re-timed (重大 closes in 5 working days, not 15).
    let before = v["category"].as_str().unwrap().to_string();
    let close_before = due(&v, "close");
    let to = ["服务问题", "网络问题", "费用问题"]
        .into_iter()
        .find(|c| *c != before)
        .unwrap();
    let v = t
        .patch(&id, k, &json!({ "category": to, "grade": "重大" }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["category"], to);
    assert_eq!(v["grade"], "重大");
    assert_eq!(
        v["department"], NETWORK,
        "a dispatched case stays where it is"
    );
    assert!(due(&v, "close") < close_before, "{v}");
    let c = &v["corrections"]["category"];
    assert_eq!(c["from"], before.as_str());
    assert_eq!(c["to"], to);
    assert_eq!(c["by"], "ana");
    assert!(c["at"].is_string());
    assert_eq!(v["corrections"]["grade"]["to"], "重大");
    assert_eq!(v["corrections"]["grade"]["by"], "ana");
    let got = t
        .get(&format!("/v1/cases/{id}"), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["corrections"], v["corrections"], "kept");

    // Admins may edit the record; analysts and intake keys may not.
    t.patch(&id, Some(ADMIN_KEY), &json!({ "assignee": "lead" }))
        .await
        .expect(StatusCode::OK);
    t.patch(&id, k, &json!({ "assignee": "wang" }))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    t.patch(&id, Some(INTAKE_KEY), &json!({ "assignee": "wang" }))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");

    // Audit trail: create, then each step and change, with the key's name.
    let r = t.get(&format!("/v1/cases/{id}/audit"), k).await;
    let events = r.expect(StatusCode::OK);
    let events = events.as_array().unwrap();
    let trail: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        trail,
        [
            ("create", "crm"),
            ("assign", "lead"),
            ("accept", "wang"),
            ("reply", "wang"),
            ("follow_up", "wang"),
            ("reopen", "lead"),
            ("correct", "ana"),
            ("update", "root"),
        ],
        "{events:?}"
    );
    for e in events {
        assert_eq!(e["case_id"], id.as_str());
        assert!(e["at"].is_string());
    }
    assert!(events[0]["before"].is_null());
    assert_eq!(events[1]["after"]["status"], "assigned");
    assert_eq!(events[1]["before"]["status"], "triaged");
    // Audit of an unknown case, and by intake.
    t.get("/v1/cases/TS20200101-000001/audit", k)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    t.get(&format!("/v1/cases/{id}/audit"), Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

/// When deadline `step` of a case answer is due.
fn due(case: &Value, step: &str) -> jiff::Timestamp {
    case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["step"] == step)
        .unwrap_or_else(|| panic!("no {step} deadline: {case}"))["due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Takes case `id` from intake to 办结 as the supervisor.
pub(crate) async fn close_case(t: &TestApp, id: &str, department: &str) {
    let lead = SUPERVISOR_KEY;
    for step in [
        json!({ "action": "assign", "department": department }),
        json!({ "action": "accept" }),
        json!({ "action": "reply", "reply": "已核实并退还多扣费用" }),
        json!({ "action": "follow_up", "result": "满意" }),
        json!({ "action": "close", "root_cause": "企业责任" }),
    ] {
        t.step(id, lead, step).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_refuses_what_cannot_be_done() {
    let t = app();
    let id = t.create_text(BILL).await;
    let (k, a) = (Some(ANALYST_KEY), Some(ADMIN_KEY));

    let m = t
        .patch(&id, k, &json!({ "category": "天气问题" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_label");
    assert!(m.contains("天气问题") && m.contains("费用问题"), "{m}");
    let m = t
        .patch(&id, a, &json!({ "status": "handling" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("/actions"), "{m}");
    let m = t
        .patch(&id, k, &json!({}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("empty"), "{m}");
    let m = t
        .patch(&id, k, &json!({ "grade": "严重", "priority": 1 }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    assert!(m.contains("priority"), "{m}");
    t.patch(&id, a, &json!({ "status": "done" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    t.patch(&id, k, &json!({ "grade": "紧急" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    t.patch(&id, a, &json!({ "remedy": "赔钱" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    let m = t
        .patch(&id, k, &json!({ "department": NETWORK }))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert!(m.contains("assign"), "{m}");
    let m = t
        .patch(&id, a, &json!({ "department": "  " }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("department"), "{m}");
    let m = t
        .patch(&id, a, &json!({ "resolution": "退".repeat(20_001) }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("resolution"), "{m}");
    t.patch("TS20200101-000001", k, &json!({ "grade": "严重" }))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    t.patch("not-a-case", k, &json!({ "grade": "严重" }))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    let r = t
        .send(raw_post(
            &format!("/v1/cases/{id}"),
            &[("x-api-key", ANALYST_KEY)],
            "{\"grade\":\"严重\"}",
        ))
        .await;
    // POST is not PATCH.
    r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let mut req = request(
        Method::PATCH,
        &format!("/v1/cases/{id}"),
        k,
        Some(&json!({ "grade": "严重" })),
    );
    req.headers_mut().remove(header::CONTENT_TYPE);
    t.send(req)
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    // A closed case's record is final; its corrections are still training data.
    close_case(&t, &id, "计费账务中心").await;
    let m = t
        .patch(&id, a, &json!({ "assignee": "lead" }))
        .await
        .error(StatusCode::CONFLICT, "conflict");
    assert!(m.contains("已办结"), "{m}");
    let to = if t
        .get(&format!("/v1/cases/{id}"), k)
        .await
        .expect(StatusCode::OK)["grade"]
        == "重大"
    {
        "一般"
    } else {
        "重大"
    };
    t.patch(&id, k, &json!({ "grade": to }))
        .await
        .expect(StatusCode::OK);

    // None of the refused patches left a trace.
    let events = t
        .get(&format!("/v1/cases/{id}/audit"), k)
        .await
        .expect(StatusCode::OK);
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "assign",
            "accept",
            "reply",
            "follow_up",
            "close",
            "correct"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// GET /v1/search, GET /v1/cases/{id}/similar

/// Six cases received a day apart (BROADBAND oldest), indexed; their ids in that order.
async fn seed(t: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (text, channel)) in [
        (BROADBAND, "phone"),
        (BILL, "web"),
        (BROADBAND_SLOW, "app"),
        (VALUE_ADDED, "wechat"),
        (SIGNAL, "phone"),
        (COUNTER, "visit"),
    ]
    .into_iter()
    .enumerate()
    {
        let v = t
            .create(&json!({
                "text": text,
                "channel": channel,
                "received_at": format!("2026-03-{:02}T02:00:00Z", i + 1),
            }))
            .await;
        out.push(id_of(&v));
    }
    t.sync();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_filters_counts_and_highlights() {
    let t = app();
    let ids_ = seed(&t).await;
    let k = Some(ANALYST_KEY);

    let v = t
        .get(&format!("/v1/search?q={}", enc("宽带")), k)
        .await
        .expect(StatusCode::OK);
    let found = ids(&v["hits"]);
    assert_eq!(v["total"], 2, "{v}");
    assert!(found.contains(&ids_[0]) && found.contains(&ids_[2]), "{v}");
    for hit in v["hits"].as_array().unwrap() {
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(snippet.contains("<em>宽带</em>"), "{snippet}");
        assert!(hit["score"].as_f64().unwrap() > 0.0);
        for key in ["grade", "status", "channel", "received_at"] {
            assert!(hit.get(key).is_some(), "{hit}");
        }
    }
    for facet in ["category", "grade", "status", "channel"] {
        let counts = v["facets"][facet]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"));
        let total: u64 = counts.iter().map(|c| c["count"].as_u64().unwrap()).sum();
        assert_eq!(total, 2, "{facet}: {v}");
    }
    assert!(v.get("next_cursor").is_none());

    // An empty query matches everything; facets=false drops the counts.
    let all = t
        .get("/v1/search?facets=false", k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(all["total"], 6);
    assert!(all.get("facets").is_none(), "{all}");

    // Filters: by grade (the one of the first case), by channel (any of several), by status,
    // by category, by time.
    let grade = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == ids_[0].as_str())
        .unwrap()["grade"]
        .as_str()
        .unwrap()
        .to_string();
    let v = t
        .get(&format!("/v1/search?grade={}", enc(&grade)), k)
        .await
        .expect(StatusCode::OK);
    assert!(ids(&v["hits"]).contains(&ids_[0]));
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["grade"] == grade.as_str())
    );
    let v = t
        .get("/v1/search?channel=web,wechat", k)
        .await
        .expect(StatusCode::OK);
    let mut found = ids(&v["hits"]);
    found.sort();
    assert_eq!(found, [ids_[1].clone(), ids_[3].clone()]);
    // The channel facet is counted without its own filter: every channel keeps its count, so
    // another can be picked too.
    assert_eq!(v["facets"]["channel"].as_array().unwrap().len(), 5, "{v}");
    let v = t
        .get(&format!("/v1/search?q={}&channel=phone", enc("宽带")), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v["hits"]), [ids_[0].clone()]);
    t.step(
        &ids_[4],
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": NETWORK }),
    )
    .await;
    t.sync();
    let v = t
        .get("/v1/search?status=assigned", k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v["hits"]), [ids_[4].clone()]);
    let cat = v["hits"][0]["category"].as_str().unwrap().to_string();
    let v = t
        .get(&format!("/v1/search?category={}", enc(&cat)), k)
        .await
        .expect(StatusCode::OK);
    assert!(ids(&v["hits"]).contains(&ids_[4]));
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["category"] == cat.as_str())
    );
    let v = t
        .get(
            &format!(
                "/v1/search?from={}&to={}",
                enc("2026-03-02T00:00:00Z"),
                enc("2026-03-04T00:00:00Z")
            ),
            k,
        )
        .await
        .expect(StatusCode::OK);
    let mut found = ids(&v["hits"]);
    found.sort();
    assert_eq!(found, [ids_[1].clone(), ids_[2].clone()]);
    // A word no case has.
    let v = t
        .get(&format!("/v1/search?q={}", enc("燃气泄漏")), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["total"], 0);
    assert!(v["hits"].as_array().unwrap().is_empty());

    // Search is for analysts and admins.
    t.get("/v1/search", Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    t.get("/v1/search", Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_sorts_pages_and_rejects_bad_parameters() {
    let t = app();
    let ids_ = seed(&t).await;
    let k = Some(ANALYST_KEY);

    let v = t
        .get("/v1/search?sort=newest", k)
        .await
        .expect(StatusCode::OK);
    let newest_first: Vec<String> = ids_.iter().rev().cloned().collect();
    assert_eq!(ids(&v["hits"]), newest_first);
    let v = t
        .get("/v1/search?sort=oldest", k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v["hits"]), ids_);
    t.get("/v1/search?sort=relevance", k)
        .await
        .expect(StatusCode::OK);

    // Pages of two, following next_cursor to the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/v1/search?sort=newest&limit=2&cursor={}", enc(c)),
            None => "/v1/search?sort=newest&limit=2".to_string(),
        };
        let v = t.get(&uri, k).await.expect(StatusCode::OK);
        assert_eq!(v["total"], 6);
        assert_eq!(v["hits"].as_array().unwrap().len(), 2);
        seen.extend(ids(&v["hits"]));
        pages += 1;
        match v.get("next_cursor") {
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
            None => break,
        }
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, newest_first, "every case once, in order");

    // Bad parameters: 422 invalid_query.
    let m = t
        .get("/v1/search?sort=loudest", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    assert!(m.contains("loudest"), "{m}");
    let m = t
        .get("/v1/search?q=x&color=red", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    assert!(m.contains("color"), "{m}");
    for bad in ["cursor=abc", "limit=many", "facets=maybe", "from=yesterday"] {
        t.get(&format!("/v1/search?{bad}"), k)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    }
    t.get(&format!("/v1/search?q={}", "长".repeat(1001)), k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    // Past the deepest page, and a query the parser cannot read: refused by the index.
    t.get("/v1/search?cursor=10001", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let m = t
        .get(&format!("/v1/search?q={}", enc("(宽带 OR")), k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("query"), "{m}");
    // `limit` below 1 is refused, naming it; above 100 it is taken as 100.
    for bad in ["0", "-1"] {
        let m = t
            .get(&format!("/v1/search?limit={bad}"), k)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(m.contains("`limit`") && m.contains(bad), "{m}");
    }
    let v = t
        .get("/v1/search?limit=1000", k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["hits"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_lists_other_cases_like_this_one() {
    let t = app();
    let ids_ = seed(&t).await;
    let k = Some(ANALYST_KEY);

    let v = t
        .get(&format!("/v1/cases/{}/similar", ids_[0]), k)
        .await
        .expect(StatusCode::OK);
    let found = ids(&v);
    assert!(!found.contains(&ids_[0]), "not itself: {v}");
    assert_eq!(
        found.first(),
        Some(&ids_[2]),
        "the other broadband case first: {v}"
    );
    for s in v.as_array().unwrap() {
        let score = s["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{s}");
        assert!(s["excerpt"].is_string() && s["grade"].is_string());
    }
    let v = t
        .get(&format!("/v1/cases/{}/similar?limit=1", ids_[0]), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&v), [ids_[2].clone()]);

    t.get(&format!("/v1/cases/{}/similar?top=3", ids_[0]), k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    t.get(&format!("/v1/cases/{}/similar?limit=-1", ids_[0]), k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    t.get("/v1/cases/TS20200101-000001/similar", k)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    t.get(&format!("/v1/cases/{}/similar", ids_[0]), Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// Health, readiness, metrics, the API description, unknown routes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_answer_without_a_key() {
    let t = app();
    let id = t.create_text(BILL).await;
    t.get(&format!("/v1/cases/{id}"), Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    t.sync();

    let v = t.get("/healthz", None).await.expect(StatusCode::OK);
    assert_eq!(v["status"], "ok");
    let v = t.get("/readyz", None).await.expect(StatusCode::OK);
    assert_eq!(v["status"], "ready");
    assert_eq!(v["cases"], 1);
    assert_eq!(v["index_lag"], 0);

    let r = t.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = r.text();
    for needle in [
        "tousu_http_request_duration_seconds",
        "route=\"/v1/cases/{id}\"",
        "route=\"/v1/cases\"",
        "tousu_cases 1",
        "tousu_index_lag_versions 0",
        "tousu_inference_running",
        "tousu_store_write_queue",
    ] {
        assert!(text.contains(needle), "no {needle} in\n{text}");
    }
    assert!(!text.contains(ANALYST_KEY) && !text.contains(INTAKE_KEY));

    let r = t.get("/v1/openapi.json", None).await;
    let v = r.expect(StatusCode::OK);
    assert!(v["openapi"].is_string(), "{v}");
    assert!(v.get("paths").is_some());

    // Unknown routes, with or without a key (`/` is the workbench: tests/integration/web.rs).
    for uri in ["/v2/cases", "/v1/nothing", "/v1/cases/x/y/z", "/v1"] {
        let m = t
            .get(uri, None)
            .await
            .error(StatusCode::NOT_FOUND, "no_such_route");
        assert!(m.contains("openapi"), "{m}");
    }
    t.post(
        "/v1/cases/TS20200101-000001/close",
        Some(ADMIN_KEY),
        &json!({}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "no_such_route");
    // A known route with a method it does not have.
    for (method, uri) in [
        (Method::DELETE, "/v1/cases/TS20200101-000001"),
        (Method::GET, "/v1/triage"),
        (Method::POST, "/healthz"),
        (Method::GET, "/v1/admin/reindex"),
    ] {
        let r = t.call(method, uri, Some(ADMIN_KEY), None).await;
        r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert!(r.header("allow").is_some_and(|a| !a.is_empty()), "{uri}");
    }
}

// ---------------------------------------------------------------------------------------------
// Administration

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reindexes_and_lists_keys_without_secrets() {
    let t = app();
    for text in [BROADBAND, BILL, SIGNAL] {
        t.create_text(text).await;
    }
    let r = t
        .call(Method::POST, "/v1/admin/reindex", Some(ADMIN_KEY), None)
        .await;
    let v = r.expect(StatusCode::OK);
    assert_eq!(v["reindexed"], 3);
    // Searchable straight after.
    let v = t
        .get("/v1/search", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["total"], 3);

    let r = t.get("/v1/admin/keys", Some(ADMIN_KEY)).await;
    let v = r.expect(StatusCode::OK);
    let mut listed: Vec<(String, String)> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let scoped = ["handler", "supervisor"].contains(&k["role"].as_str().unwrap());
            let fields = if scoped { 3 } else { 2 };
            assert_eq!(
                k.as_object().unwrap().len(),
                fields,
                "name, role, departments: {k}"
            );
            (
                k["name"].as_str().unwrap().to_string(),
                k["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("ana".to_string(), "analyst".to_string()),
            ("crm".to_string(), "intake".to_string()),
            ("lead".to_string(), "supervisor".to_string()),
            ("root".to_string(), "admin".to_string()),
            ("wang".to_string(), "handler".to_string()),
        ]
    );
    let body = r.text();
    for secret in [
        INTAKE_KEY,
        ANALYST_KEY,
        ADMIN_KEY,
        HANDLER_KEY,
        SUPERVISOR_KEY,
        "0123456789abcdef",
    ] {
        assert!(!body.contains(secret), "a key leaked: {body}");
    }

    for key in [INTAKE_KEY, ANALYST_KEY] {
        let m = t
            .call(Method::POST, "/v1/admin/reindex", Some(key), None)
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        assert!(m.contains("admin"), "{m}");
        t.get("/v1/admin/keys", Some(key))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }
    t.get("/v1/admin/keys", None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

// ---------------------------------------------------------------------------------------------
// Keys and roles

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_key_are_401() {
    let t = app();
    let body = json!({ "text": BILL });
    for (method, uri, body) in [
        (Method::POST, "/v1/triage", Some(&body)),
        (Method::POST, "/v1/cases", Some(&body)),
        (Method::POST, "/v1/cases/batch", Some(&body)),
        (Method::GET, "/v1/cases/TS20260302-000001", None),
        (Method::PATCH, "/v1/cases/TS20260302-000001", Some(&body)),
        (Method::GET, "/v1/cases/TS20260302-000001/audit", None),
        (Method::GET, "/v1/cases/TS20260302-000001/similar", None),
        (Method::GET, "/v1/search?q=x", None),
        (Method::POST, "/v1/admin/reindex", None),
        (Method::GET, "/v1/admin/keys", None),
    ] {
        let m = t
            .call(method.clone(), uri, None, body)
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(m.contains("X-API-Key"), "{m}");
        t.call(
            method.clone(),
            uri,
            Some("wrong-key-0123456789abcdef"),
            body,
        )
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
        // The key is checked before the body: even a bad body is 401 first.
        if method == Method::POST {
            t.send(raw_post(uri, &[("x-api-key", "nope")], "not json"))
                .await
                .error(StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
    // Near misses of a real key.
    let near = [
        ("authorization", format!("Basic {ADMIN_KEY}")),
        ("authorization", format!("bearer {ADMIN_KEY}")),
        ("authorization", ADMIN_KEY.to_string()),
        ("x-api-key", format!("Bearer {ADMIN_KEY}")),
        ("x-api-key", ADMIN_KEY.to_uppercase()),
        ("x-api-key", ADMIN_KEY[..20].to_string()),
        ("x-api-key", String::new()),
    ];
    for (name, value) in near {
        let req = Request::builder()
            .uri("/v1/admin/keys")
            .header(name, value.as_str())
            .body(Body::empty())
            .unwrap();
        t.send(req)
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_eq!(t.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_key_headers_work() {
    let t = app();
    for (name, value) in [
        ("authorization", format!("Bearer {ADMIN_KEY}")),
        ("x-api-key", ADMIN_KEY.to_string()),
        ("x-api-key", format!("  {ADMIN_KEY} ")),
    ] {
        let req = Request::builder()
            .uri("/v1/admin/keys")
            .header(name, value.as_str())
            .body(Body::empty())
            .unwrap();
        t.send(req).await.expect(StatusCode::OK);
    }
    // Both on one request: an unusable Authorization falls back to X-API-Key.
    let req = Request::builder()
        .uri("/v1/admin/keys")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .header("x-api-key", ADMIN_KEY)
        .body(Body::empty())
        .unwrap();
    t.send(req).await.expect(StatusCode::OK);
    // Creating with X-API-Key records the key's name.
    let r = t
        .send(raw_post(
            "/v1/cases",
            &[
                ("x-api-key", INTAKE_KEY),
                ("content-type", "application/json"),
            ],
            json!({ "text": SIGNAL }).to_string(),
        ))
        .await;
    let id = id_of(&r.expect(StatusCode::CREATED));
    let events = t
        .get(&format!("/v1/cases/{id}/audit"), Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(events[0]["actor"], "crm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_may_do_its_own_work_only() {
    let t = app();
    let body = json!({ "text": BROADBAND });
    let batch = json!({ "cases": [{ "text": BILL }] });

    // Intake: triage and create, nothing else.
    t.post("/v1/triage", Some(INTAKE_KEY), &body)
        .await
        .expect(StatusCode::OK);
    let id = id_of(&t.create(&body).await);
    t.post("/v1/cases/batch", Some(INTAKE_KEY), &batch)
        .await
        .expect(StatusCode::OK);
    t.sync();
    let case = format!("/v1/cases/{id}");
    let m = t
        .get(&case, Some(INTAKE_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert!(m.contains("intake") && m.contains("analyst"), "{m}");
    for uri in [
        format!("{case}/audit"),
        format!("{case}/similar"),
        "/v1/search".into(),
        "/v1/admin/keys".into(),
    ] {
        t.get(&uri, Some(INTAKE_KEY))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }
    t.call(Method::POST, "/v1/admin/reindex", Some(INTAKE_KEY), None)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");

    // Analyst: read, search, patch; not create, not administer.
    for uri in [
        case.clone(),
        format!("{case}/audit"),
        format!("{case}/similar"),
        "/v1/search".into(),
    ] {
        t.get(&uri, Some(ANALYST_KEY)).await.expect(StatusCode::OK);
    }
    t.patch(&id, Some(ANALYST_KEY), &json!({ "grade": "重大" }))
        .await
        .expect(StatusCode::OK);
    t.act(
        &id,
        Some(ANALYST_KEY),
        &json!({ "action": "assign", "department": NETWORK }),
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
    let m = t
        .post("/v1/cases", Some(ANALYST_KEY), &body)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert!(m.contains("analyst") && m.contains("intake"), "{m}");
    t.post("/v1/triage", Some(ANALYST_KEY), &body)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    t.post("/v1/cases/batch", Some(ANALYST_KEY), &batch)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    t.get("/v1/admin/keys", Some(ANALYST_KEY))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    t.call(Method::POST, "/v1/admin/reindex", Some(ANALYST_KEY), None)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(t.count(), 2, "the analyst created nothing");

    // Admin: everything.
    let a = Some(ADMIN_KEY);
    t.post("/v1/triage", a, &body).await.expect(StatusCode::OK);
    let admin_case = id_of(
        &t.post("/v1/cases", a, &json!({ "text": COUNTER }))
            .await
            .expect(StatusCode::CREATED),
    );
    t.post("/v1/cases/batch", a, &batch)
        .await
        .expect(StatusCode::OK);
    t.sync();
    for uri in [
        case.clone(),
        format!("{case}/audit"),
        format!("{case}/similar"),
        "/v1/search".into(),
        "/v1/admin/keys".into(),
    ] {
        t.get(&uri, a).await.expect(StatusCode::OK);
    }
    t.step(
        &id,
        ADMIN_KEY,
        json!({ "action": "assign", "department": NETWORK }),
    )
    .await;
    t.call(Method::POST, "/v1/admin/reindex", a, None)
        .await
        .expect(StatusCode::OK);
    let events = t
        .get(&format!("/v1/cases/{admin_case}/audit"), a)
        .await
        .expect(StatusCode::OK);
    assert_eq!(events[0]["actor"], "root");
    assert_eq!(t.count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_keys_configured_everything_is_open() {
    let t = build(Vec::new(), Limits::default());
    let body = json!({ "text": VALUE_ADDED });
    t.post("/v1/triage", None, &body)
        .await
        .expect(StatusCode::OK);
    let id = id_of(
        &t.post("/v1/cases", None, &body)
            .await
            .expect(StatusCode::CREATED),
    );
    t.post(
        "/v1/cases/batch",
        None,
        &json!({ "cases": [{ "text": BILL }] }),
    )
    .await
    .expect(StatusCode::OK);
    t.sync();
    t.get(&format!("/v1/cases/{id}"), None)
        .await
        .expect(StatusCode::OK);
    t.act(
        &id,
        None,
        &json!({ "action": "assign", "department": NETWORK }),
    )
    .await
    .expect(StatusCode::OK);
    t.get(&format!("/v1/cases/{id}/similar"), None)
        .await
        .expect(StatusCode::OK);
    let v = t.get("/v1/search", None).await.expect(StatusCode::OK);
    assert_eq!(v["total"], 2);
    t.call(Method::POST, "/v1/admin/reindex", None, None)
        .await
        .expect(StatusCode::OK);
    let v = t.get("/v1/admin/keys", None).await.expect(StatusCode::OK);
    assert_eq!(v["keys"], json!([]));
    // Any key presented is ignored, and the actor is `local`.
    t.get(&format!("/v1/cases/{id}"), Some("whatever-key-0123456789"))
        .await
        .expect(StatusCode::OK);
    let events = t
        .get(&format!("/v1/cases/{id}/audit"), None)
        .await
        .expect(StatusCode::OK);
    let actors: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["local", "local"]);
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document and the docs page

/// Every (method, path) `tousu::http::router` serves, as the OpenAPI document writes it
/// (axum's `{id}` is OpenAPI's `{id}`). Keep in step with `router()` in `src/http/mod.rs`.
const ROUTES: [(&str, &str); 37] = [
    ("POST", "/v1/triage"),
    ("POST", "/v1/cases"),
    ("POST", "/v1/cases/batch"),
    ("GET", "/v1/cases/{id}"),
    ("PATCH", "/v1/cases/{id}"),
    ("GET", "/v1/cases/{id}/similar"),
    ("GET", "/v1/cases/{id}/links"),
    ("GET", "/v1/cases/{id}/suggestions"),
    ("GET", "/v1/cases/{id}/explanation"),
    ("GET", "/v1/cases/{id}/audit"),
    ("POST", "/v1/cases/{id}/actions"),
    ("POST", "/v1/cases/{id}/notes"),
    ("POST", "/v1/cases/{id}/contacts"),
    ("POST", "/v1/cases/{id}/contact"),
    ("GET", "/v1/directory"),
    ("GET", "/v1/queues/{queue}"),
    ("GET", "/v1/kpis"),
    ("GET", "/v1/reports/daily"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/search"),
    ("GET", "/v1/export"),
    ("GET", "/v1/trends"),
    ("GET", "/v1/trends/rising"),
    ("GET", "/v1/topics"),
    ("GET", "/v1/alerts"),
    ("GET", "/v1/alerts/stream"),
    ("POST", "/v1/admin/reindex"),
    ("GET", "/v1/admin/keys"),
    ("POST", "/v1/session"),
    ("GET", "/v1/session"),
    ("DELETE", "/v1/session"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
    ("GET", "/v1/docs/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// The (method, path) pairs of the document's operations, and whether each names a security
/// requirement.
fn operations(spec: &Value) -> Vec<(String, String, bool)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str())
            {
                let secured = op
                    .get("security")
                    .and_then(Value::as_array)
                    .is_some_and(|s| !s.is_empty());
                ops.push((method.to_uppercase(), path.clone(), secured));
            }
        }
    }
    ops
}

/// Every `$ref` in `v`, with where it was found.
fn refs<'a>(v: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push((at.to_string(), x.as_str().expect("a $ref is a string")));
                } else {
                    refs(x, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_openapi_3_1_and_matches_the_file() {
    let t = app();
    let served = t.get("/v1/openapi.json", None).await.expect(StatusCode::OK);
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["title"], "tousu");
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(served["servers"], json!([{ "url": "/" }]));
    // Served as written, byte for byte.
    let file = include_str!("../../src/http/openapi.json");
    assert_eq!(
        t.get("/v1/openapi.json", None).await.text(),
        file,
        "the served document differs from the file"
    );
    let file: Value = serde_json::from_str(file).expect("src/http/openapi.json is JSON");
    assert_eq!(served, file);

    let schemes = &served["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["apiKeyAuth"]["in"], "header");
    assert_eq!(schemes["apiKeyAuth"]["name"], "X-API-Key");

    // Every reference resolves.
    let mut found = Vec::new();
    refs(&served, "", &mut found);
    assert!(found.len() > 50, "{} refs", found.len());
    for (at, r) in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {r} is not local"));
        assert!(
            served.pointer(pointer).is_some(),
            "{at}: {r} does not resolve"
        );
    }

    // Every error answer is the shared `Error` (`/readyz`'s 503 may also be `NotReady`, the
    // same with the counts), and every 503 and 507 says when to retry.
    let responses = &served["components"]["responses"];
    for (method, path, _) in operations(&served) {
        let op = &served["paths"][&path][method.to_lowercase()];
        for (status, r) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let r = match r["$ref"].as_str() {
                    Some(name) => &responses[name.rsplit('/').next().unwrap()],
                    None => r,
                };
                let schema = &r["content"]["application/json"]["schema"];
                let error = json!({ "$ref": "#/components/schemas/Error" });
                if path == "/readyz" && status == "503" {
                    assert_eq!(
                        schema["oneOf"],
                        json!([{ "$ref": "#/components/schemas/NotReady" }, error]),
                    );
                } else {
                    assert_eq!(schema, &error, "{method} {path} {status}");
                }
                if status == "503" || status == "507" {
                    assert_eq!(
                        r["headers"]["Retry-After"]["required"], true,
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }

    // The error codes and the enums are the code's.
    let schemas = &served["components"]["schemas"];
    let codes = schemas["Error"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "empty_text",
        "insufficient_storage",
        "invalid_json",
        "unsupported_media_type",
        "no_such_route",
        "method_not_allowed",
        "not_ready",
    ] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
    assert_eq!(schemas["Grade"]["enum"], json!(["一般", "严重", "重大"]));
    assert_eq!(schemas["Channel"]["enum"].as_array().unwrap().len(), 10);
    assert_eq!(schemas["Intake"]["additionalProperties"], false);
    assert_eq!(schemas["CasePatch"]["additionalProperties"], false);
    assert_eq!(schemas["Batch"]["additionalProperties"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    use std::collections::BTreeSet;

    let t = app();
    let spec = t.get("/v1/openapi.json", None).await.expect(StatusCode::OK);
    let documented: BTreeSet<(String, String)> = operations(&spec)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not served: {unrouted:?}"
    );

    // Every documented operation is served: never 404 `no_such_route` nor 405. Without a key,
    // an operation the document secures is 401 and the others are not.
    let id = t.create_text(BILL).await;
    for (method, path, secured) in operations(&spec) {
        let uri = path.replace("{id}", &id).replace("{queue}", "mine");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for key in [Some(ADMIN_KEY), None] {
            let r = t.call(method.clone(), &uri, key, None).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            if r.status == StatusCode::NOT_FOUND {
                assert_ne!(r.json()["code"], "no_such_route", "{method} {uri}");
            }
            if key.is_none() {
                assert_eq!(
                    r.status == StatusCode::UNAUTHORIZED,
                    secured,
                    "{method} {uri} without a key: {}",
                    r.status
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_served_from_the_binary_without_a_key() {
    let t = app();
    // Keys are configured: the API itself wants one.
    t.get("/v1/search", None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");

    let r = t.get("/v1/docs", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/v1/docs/"));

    let r = t.get("/v1/docs/", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        r.header("content-type")
    );
    let html = r.text();
    assert!(html.contains("swagger-ui"), "{html}");

    // Its scripts and styles come from the binary, and its configuration points at the
    // document.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            assert!(
                !target.contains("://") && !target.starts_with("//"),
                "the page loads {target} from elsewhere"
            );
            assets.push(target.trim_start_matches("./").to_string());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    let mut config = String::new();
    for asset in &assets {
        let r = t.get(&format!("/v1/docs/{asset}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "/v1/docs/{asset}");
        config.push_str(&r.text());
    }
    assert!(
        config.contains("/v1/openapi.json"),
        "no link to the document"
    );
    // Swagger UI's default would send the document's address to an online validator.
    assert!(config.contains(r#""validatorUrl": "none""#), "{config}");
}

// ---------------------------------------------------------------------------------------------
// GET /v1/trends, /v1/trends/rising, /v1/topics, /v1/alerts (alerting off here)

/// Waits until the watch (trends and topics) has counted `n` cases: `sync_index` brings the
/// index up to date, and the follower may still be counting the batch it just indexed.
pub(crate) fn settle(t: &TestApp, n: usize) {
    t.sync();
    let start = Instant::now();
    while t.service.views().watch().cases() < n {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the watch counted {} cases of {n}",
            t.service.views().watch().cases()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Checks a `TrendTable`: its dimension and bucket, bucket starts in order and `hours` apart,
/// one count per bucket in every series, and totals that are the sums of the counts. Returns
/// the series as (value, total, counts).
fn trend_table(v: &Value, dimension: &str, bucket: &str) -> Vec<(String, u64, Vec<u64>)> {
    assert_eq!(v["dimension"], dimension, "{v}");
    assert_eq!(v["bucket"], bucket, "{v}");
    let hours = match bucket {
        "hour" => 1,
        "day" => 24,
        _ => 24 * 7,
    };
    let starts: Vec<jiff::Timestamp> = v["starts"]
        .as_array()
        .expect("starts")
        .iter()
        .map(|s| s.as_str().expect("a start").parse().expect("RFC 3339"))
        .collect();
    assert!(!starts.is_empty(), "{v}");
    for w in starts.windows(2) {
        assert_eq!(
            w[1].duration_since(w[0]).as_hours(),
            hours,
            "bucket starts {} and {}",
            w[0],
            w[1]
        );
    }
    let series: Vec<(String, u64, Vec<u64>)> = v["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|s| {
            let counts: Vec<u64> = s["counts"]
                .as_array()
                .expect("counts")
                .iter()
                .map(|c| c.as_u64().expect("a count"))
                .collect();
            assert_eq!(counts.len(), starts.len(), "{s}");
            let total = s["total"].as_u64().expect("a total");
            assert_eq!(total, counts.iter().sum::<u64>(), "{s}");
            assert!(total > 0, "an empty series: {s}");
            (
                s["value"].as_str().expect("a value").to_string(),
                total,
                counts,
            )
        })
        .collect();
    let totals: Vec<u64> = series.iter().map(|s| s.1).collect();
    assert!(totals.is_sorted_by(|a, b| a >= b), "largest first: {v}");
    series
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trends_count_the_cases_created() {
    let t = app();
    let ids_ = seed(&t).await;
    settle(&t, ids_.len());
    let k = Some(ANALYST_KEY);

    // The default window ends just after the latest case: every case is counted once.
    let v = t
        .get("/v1/trends?dimension=category&bucket=day", k)
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "category", "day");
    assert_eq!(series.iter().map(|s| s.1).sum::<u64>(), 6, "{v}");
    // Defaults: category by day.
    let plain = t.get("/v1/trends", k).await.expect(StatusCode::OK);
    assert_eq!(plain, v);

    // One case a day, 10:00 Beijing time, 1–6 March.
    let range = format!(
        "from={}&to={}",
        enc("2026-03-01T00:00:00+08:00"),
        enc("2026-03-07T00:00:00+08:00")
    );
    let v = t
        .get(&format!("/v1/trends?dimension=category&{range}"), k)
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "category", "day");
    assert_eq!(v["starts"][0], "2026-02-28T16:00:00Z", "Beijing midnight");
    let per_day: Vec<u64> = (0..6)
        .map(|i| series.iter().map(|s| s.2[i]).sum())
        .collect();
    assert_eq!(per_day, [1; 6], "{v}");
    // A range holding some of them: only those.
    let v = t
        .get(
            &format!(
                "/v1/trends?bucket=hour&from={}&to={}",
                enc("2026-03-02T00:00:00+08:00"),
                enc("2026-03-04T00:00:00+08:00")
            ),
            k,
        )
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "category", "hour");
    assert_eq!(series[0].2.len(), 48);
    assert_eq!(series.iter().map(|s| s.1).sum::<u64>(), 2, "{v}");

    // By channel: two by phone, one each by the others.
    let v = t
        .get(&format!("/v1/trends?dimension=channel&{range}"), k)
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "channel", "day");
    let by_channel: Vec<(&str, u64)> = series.iter().map(|s| (s.0.as_str(), s.1)).collect();
    assert_eq!(
        by_channel,
        [
            ("phone", 2),
            ("app", 1),
            ("visit", 1),
            ("web", 1),
            ("wechat", 1)
        ],
        "largest first, then by value"
    );
    // By grade, a week at a time; `top` limits the series.
    let v = t
        .get(
            &format!("/v1/trends?dimension=grade&bucket=week&{range}"),
            k,
        )
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "grade", "week");
    assert_eq!(series.iter().map(|s| s.1).sum::<u64>(), 6, "{v}");
    for (grade, _, _) in &series {
        assert!(["一般", "严重", "重大"].contains(&grade.as_str()), "{v}");
    }
    let v = t
        .get(&format!("/v1/trends?dimension=channel&top=1&{range}"), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(trend_table(&v, "channel", "day").len(), 1);

    // Key phrases: each case counts once under each of its phrases.
    let v = t
        .get(&format!("/v1/trends?dimension=phrase&top=200&{range}"), k)
        .await
        .expect(StatusCode::OK);
    let series = trend_table(&v, "phrase", "day");
    assert!(!series.is_empty(), "{v}");
    assert!(series.iter().all(|s| s.1 <= 6), "{v}");
    let per_day: Vec<u64> = (0..6)
        .map(|i| series.iter().map(|s| s.2[i]).sum())
        .collect();
    assert!(
        per_day.iter().all(|&n| n >= 1),
        "a case with no phrase: {v}"
    );

    // Admins may read trends too.
    t.get("/v1/trends?dimension=phrase", Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trends_reject_bad_parameters() {
    let t = app();
    let k = Some(ANALYST_KEY);
    let at = |s: &str| enc(s);
    let from_after_to = format!(
        "from={}&to={}",
        at("2026-03-05T00:00:00Z"),
        at("2026-03-01T00:00:00Z")
    );
    let from_is_to = format!(
        "from={}&to={}",
        at("2026-03-05T00:00:00Z"),
        at("2026-03-05T00:00:00Z")
    );
    let years_by_hour = format!(
        "bucket=hour&from={}&to={}",
        at("2020-01-01T00:00:00Z"),
        at("2026-01-01T00:00:00Z")
    );
    for (query, mentions) in [
        ("dimension=nope", "nope"),
        ("bucket=month", "month"),
        ("dimension=category&colour=red", "colour"),
        (from_after_to.as_str(), "before"),
        (from_is_to.as_str(), "before"),
        ("from=yesterday", ""),
        ("top=many", ""),
        (years_by_hour.as_str(), "too many"),
    ] {
        let m = t
            .get(&format!("/v1/trends?{query}"), k)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(m.contains(mentions), "{query}: {m}");
    }
    for uri in [
        "/v1/trends/rising?dimension=nope",
        "/v1/trends/rising?window_hours=0",
        "/v1/trends/rising?baseline_hours=100000",
        "/v1/trends/rising?colour=red",
        "/v1/topics?colour=red",
        "/v1/topics?end=tomorrow",
    ] {
        t.get(uri, k)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    }
    // `top` below 1 is refused, naming it; above 200 it is taken as 200.
    let m = t
        .get("/v1/trends?top=0", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    assert!(m.contains("`top`"), "{m}");
    t.get("/v1/trends?top=100000", k)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rising_and_topics_answer_in_the_documented_shape() {
    let t = app();
    // With nothing counted yet: empty lists, not errors.
    let v = t
        .get("/v1/trends/rising", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["rising"], json!([]), "{v}");
    let v = t
        .get("/v1/topics", Some(ANALYST_KEY))
        .await
        .expect(StatusCode::OK);
    assert_eq!(v["topics"], json!([]), "{v}");

    let ids_ = seed(&t).await;
    settle(&t, ids_.len());
    let k = Some(ANALYST_KEY);

    let v = t.get("/v1/trends/rising", k).await.expect(StatusCode::OK);
    for field in ["end", "window_hours", "baseline_hours", "rising"] {
        assert!(v.get(field).is_some(), "{field}: {v}");
    }
    assert_eq!(v["window_hours"], 168);
    assert_eq!(v["baseline_hours"], 672);
    v["end"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .expect("end is RFC 3339");
    assert!(v["rising"].is_array(), "{v}");

    // The two days before 7 March (Beijing): SIGNAL by phone and COUNTER in person, against a
    // baseline with one earlier phone case.
    let end = "2026-03-07T00:00:00+08:00";
    let v = t
        .get(
            &format!(
                "/v1/trends/rising?dimension=channel&window_hours=48&min_count=1&end={}",
                enc(end)
            ),
            k,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        v["end"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        end.parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(v["window_hours"], 48);
    let rising = v["rising"].as_array().unwrap();
    let mut values: Vec<&str> = rising
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    values.sort_unstable();
    assert_eq!(values, ["phone", "visit"], "{v}");
    for r in rising {
        for field in [
            "count",
            "expected",
            "growth",
            "p_value",
            "score",
            "baseline_count",
        ] {
            assert!(r[field].is_number(), "{field}: {r}");
        }
        assert_eq!(r["count"], 1, "{r}");
        let baseline = if r["value"] == "phone" { 1 } else { 0 };
        assert_eq!(r["baseline_count"], baseline, "{r}");
    }
    let scores: Vec<f64> = rising
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.is_sorted_by(|a, b| a >= b),
        "most surprising first: {v}"
    );

    // A hot topic: residents of one compound writing about one barbecue stall within three
    // days, each their own complainant (no contact). A topic needs `min_cases` (3) different
    // complainants in its 7-day window with growth over its baseline (a new topic's rate is
    // floored at one case a month); these come after 7 March so the rising checks above are
    // untouched.
    let letters = [
        "魅力之城小区楼下烧烤店每天营业到凌晨，噪音扰民，油烟熏人，业主无法休息",
        "魅力之城小区楼下烧烤店深夜噪音扰民，油烟太大，业主多次投诉无果",
        "魅力之城小区楼下烧烤店油烟和噪音扰民严重，影响业主夜间休息",
        "魅力之城小区楼下烧烤店凌晨还在营业，噪音油烟扰民，业主请求处理",
    ];
    let mut topic_ids = Vec::new();
    for (i, text) in letters.into_iter().enumerate() {
        let v = t
            .create(&json!({
                "text": text,
                "received_at": format!("2026-03-{:02}T12:00:00Z", 10 + i.min(2)),
            }))
            .await;
        topic_ids.push(id_of(&v));
    }
    settle(&t, ids_.len() + topic_ids.len());
    let end = "2026-03-13T00:00:00+08:00";
    let by_default = t.get("/v1/topics", k).await.expect(StatusCode::OK);
    assert_rfc3339_end(&by_default);
    let v = t
        .get(&format!("/v1/topics?top=5&end={}", enc(end)), k)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        v["end"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        end.parse::<jiff::Timestamp>().unwrap()
    );
    let topics = v["topics"].as_array().unwrap();
    assert!(!topics.is_empty(), "no hot topic formed: {v}");
    assert!(topics.len() <= 5, "{v}");
    // The window ends after the latest case, so the default answer has the topic too.
    assert_eq!(
        by_default["topics"][0]["id"], topics[0]["id"],
        "{by_default}"
    );
    for topic in topics {
        for field in [
            "id",
            "phrases",
            "cases",
            "complainants",
            "total_cases",
            "burst",
            "first_seen",
            "last_seen",
            "samples",
            "grades",
        ] {
            assert!(topic.get(field).is_some(), "{field}: {topic}");
        }
    }
    // The hottest is the compound's: its cases, named by its phrases, with a burst verdict.
    let hot = &topics[0];
    assert!(hot["id"].as_str().unwrap().starts_with('T'), "{hot}");
    let samples: Vec<String> = hot["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(!samples.is_empty(), "{hot}");
    assert!(samples.iter().all(|s| topic_ids.contains(s)), "{hot}");
    let cases = hot["cases"].as_u64().unwrap();
    assert!(cases >= 3, "{hot}");
    assert!(hot["complainants"].as_u64().unwrap() >= 3, "{hot}");
    assert!(hot["total_cases"].as_u64().unwrap() >= cases, "{hot}");
    let phrases = hot["phrases"].as_array().unwrap();
    assert!(
        !phrases.is_empty() && phrases.iter().all(Value::is_string),
        "{hot}"
    );
    for field in ["count", "expected", "growth", "p_value", "score"] {
        assert!(hot["burst"][field].is_number(), "{field}: {hot}");
    }
    assert_eq!(hot["burst"]["count"], hot["complainants"], "{hot}");
    let seen = |f: &str| hot[f].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(seen("first_seen") <= seen("last_seen"), "{hot}");
    let graded: u64 = hot["grades"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(graded, cases, "every case in the window has a grade: {hot}");
}

/// Checks an answer's `end` is RFC 3339.
fn assert_rfc3339_end(v: &Value) {
    v["end"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .expect("end is RFC 3339");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trends_topics_and_alerts_are_for_analysts_and_admins() {
    let t = app();
    let routes = [
        "/v1/trends",
        "/v1/trends/rising",
        "/v1/topics",
        "/v1/alerts",
        "/v1/alerts/stream",
    ];
    for uri in routes {
        let m = t
            .get(uri, Some(INTAKE_KEY))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        assert!(m.contains("intake") && m.contains("analyst"), "{uri}: {m}");
        let m = t
            .get(uri, None)
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(m.contains("X-API-Key"), "{uri}: {m}");
        t.get(uri, Some("wrong-key-0123456789abcdef"))
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
        // The key is checked before the parameters.
        t.get(&format!("{uri}?colour=red"), None)
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    for key in [ANALYST_KEY, ADMIN_KEY] {
        for uri in &routes[..3] {
            t.get(uri, Some(key)).await.expect(StatusCode::OK);
        }
    }

    // With no keys configured they are open, like the rest of the API.
    let open = build(Vec::new(), Limits::default());
    for uri in &routes[..3] {
        open.get(uri, None).await.expect(StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_not_found_when_alerting_is_off() {
    let t = app();
    assert!(t.service.views().watch().alerts().is_none());
    for key in [ANALYST_KEY, ADMIN_KEY] {
        for uri in ["/v1/alerts", "/v1/alerts?limit=5", "/v1/alerts/stream"] {
            let m = t
                .get(uri, Some(key))
                .await
                .error(StatusCode::NOT_FOUND, "not_found");
            assert!(m.contains("alerting is off"), "{uri}: {m}");
        }
    }
    // A case that would alert changes nothing: nothing is raised, the answer stays 404.
    t.create_text("家里光猫电源线起火，存在安全隐患").await;
    settle(&t, 1);
    t.get("/v1/alerts", Some(ANALYST_KEY))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}
