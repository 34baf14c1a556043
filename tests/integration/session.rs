//! Workbench sessions: signing in with a password or a key into an HttpOnly, SameSite=Strict
//! cookie; writes with a session need its CSRF token and the same origin; a session sees what
//! its role and departments see; signing out ends it; the alert stream takes it.

use argon2::password_hash::PasswordHasher;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tousu::config::{Role, User};
use tower::ServiceExt;

use crate::api::{
    ADMIN_KEY, BILL, BROADBAND, HANDLER_KEY, NETWORK, Resp, SUPERVISOR_KEY, TestApp,
    build_with_users, read,
};

const PASSWORD: &str = "correct horse battery staple";

/// `zhang`, a handler of 网络运维中心, who signs in with a password.
fn app() -> TestApp {
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    build_with_users(&[User {
        name: "zhang".into(),
        role: Role::Handler,
        password_hash: hash,
        departments: vec![NETWORK.into()],
    }])
}

/// A browser's request: the session cookie, and for writes the CSRF token, as the page sends
/// them (same origin).
fn browser(
    method: Method,
    uri: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin");
    if let Some(t) = csrf {
        b = b.header("x-csrf-token", t);
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// Signs in with `body`; the answer.
async fn sign_in(t: &TestApp, body: Value) -> Resp {
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri("/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// Signs in as `zhang`: the cookie to send back and the CSRF token.
async fn zhang(t: &TestApp) -> (String, String) {
    let r = sign_in(t, json!({ "name": "zhang", "password": PASSWORD })).await;
    let v = r.expect(StatusCode::OK);
    let set = r.header("set-cookie").expect("a cookie").to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    (cookie, v["csrf"].as_str().expect("a token").to_string())
}

#[tokio::test]
async fn a_password_or_a_key_signs_in_with_a_strict_http_only_cookie() {
    let t = app();
    let r = sign_in(&t, json!({ "name": "zhang", "password": PASSWORD })).await;
    let v = r.expect(StatusCode::OK);
    assert_eq!(v["name"], "zhang");
    assert_eq!(v["role"], "handler");
    assert_eq!(v["departments"], json!([NETWORK]));
    let set = r.header("set-cookie").unwrap();
    for part in ["tousu_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");

    let (cookie, csrf) = zhang(&t).await;
    let me = t
        .send(browser(Method::GET, "/v1/session", &cookie, None, None))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (me["name"].as_str(), me["csrf"].as_str()),
        (Some("zhang"), Some(csrf.as_str()))
    );

    let by_key = sign_in(&t, json!({ "key": HANDLER_KEY }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_key["name"], "wang");
}

#[tokio::test]
async fn a_wrong_password_name_or_key_is_one_answer_and_repeated_failures_wait() {
    let t = app();
    let wrong = [
        json!({ "name": "zhang", "password": "wrong password" }),
        json!({ "name": "nobody", "password": PASSWORD }),
        json!({ "key": "not-a-key-0123456789" }),
    ];
    let messages: Vec<String> = {
        let mut m = Vec::new();
        for body in wrong {
            m.push(
                sign_in(&t, body)
                    .await
                    .error(StatusCode::UNAUTHORIZED, "unauthorized"),
            );
        }
        m
    };
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
    sign_in(&t, json!({ "name": "zhang" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    // Nine more wrong passwords for zhang (ten in all): the right one now waits too.
    for _ in 0..9 {
        sign_in(&t, json!({ "name": "zhang", "password": "wrong password" }))
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let r = sign_in(&t, json!({ "name": "zhang", "password": PASSWORD })).await;
    r.error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn a_sign_in_from_another_site_is_refused() {
    let t = app();
    let r = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(json!({ "key": HANDLER_KEY }).to_string()))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::FORBIDDEN, "csrf");
}

#[tokio::test]
async fn a_write_with_a_session_needs_its_token_and_the_same_origin() {
    let t = app();
    let id = t.create_text(BROADBAND).await;
    t.step(
        &id,
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": NETWORK }),
    )
    .await;
    let (cookie, csrf) = zhang(&t).await;
    let uri = format!("/v1/cases/{id}/notes");
    let note = json!({ "text": "已联系装维" });
    t.send(browser(Method::POST, &uri, &cookie, None, Some(&note)))
        .await
        .error(StatusCode::FORBIDDEN, "csrf");
    t.send(browser(
        Method::POST,
        &uri,
        &cookie,
        Some("forged"),
        Some(&note),
    ))
    .await
    .error(StatusCode::FORBIDDEN, "csrf");
    let mut cross = browser(Method::POST, &uri, &cookie, Some(&csrf), Some(&note));
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    t.send(cross).await.error(StatusCode::FORBIDDEN, "csrf");
    let r = t
        .send(browser(
            Method::POST,
            &uri,
            &cookie,
            Some(&csrf),
            Some(&note),
        ))
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.text());
    // The note is zhang's, as the audit trail says.
    let audit = t
        .get(&format!("/v1/cases/{id}/audit"), Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    assert!(audit.to_string().contains("zhang"), "{audit}");
}

#[tokio::test]
async fn a_session_sees_what_its_departments_see() {
    let t = app();
    let mine = t.create_text(BROADBAND).await;
    t.step(
        &mine,
        SUPERVISOR_KEY,
        json!({ "action": "assign", "department": NETWORK }),
    )
    .await;
    let other = t.create_text(BILL).await;
    let dept = t
        .get(&format!("/v1/cases/{other}"), Some(ADMIN_KEY))
        .await
        .expect(StatusCode::OK);
    assert_ne!(
        dept["department"].as_str(),
        Some(NETWORK),
        "precondition: {dept}"
    );
    let (cookie, _) = zhang(&t).await;
    t.send(browser(
        Method::GET,
        &format!("/v1/cases/{mine}"),
        &cookie,
        None,
        None,
    ))
    .await
    .expect(StatusCode::OK);
    t.send(browser(
        Method::GET,
        &format!("/v1/cases/{other}"),
        &cookie,
        None,
        None,
    ))
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
    // A handler does not read trends, with a session as with a key.
    t.send(browser(Method::GET, "/v1/trends", &cookie, None, None))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_removes_the_cookie() {
    let t = app();
    let (cookie, csrf) = zhang(&t).await;
    let r = t
        .send(browser(
            Method::DELETE,
            "/v1/session",
            &cookie,
            Some(&csrf),
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let me = t
        .send(browser(Method::GET, "/v1/session", &cookie, None, None))
        .await
        .expect(StatusCode::OK);
    assert_eq!(me, json!({ "signed_in": false }));
    // The ended session is no caller for anything else either.
    t.send(browser(Method::GET, "/v1/directory", &cookie, None, None))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn the_alert_stream_takes_a_session() {
    let t = build_with_users(&[User {
        name: "chen".into(),
        role: Role::Analyst,
        password_hash: argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes())
            .unwrap()
            .to_string(),
        departments: Vec::new(),
    }]);
    let r = sign_in(&t, json!({ "name": "chen", "password": PASSWORD })).await;
    r.expect(StatusCode::OK);
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // Only the head: the stream does not end.
    let response = t
        .app
        .clone()
        .oneshot(browser(
            Method::GET,
            "/v1/alerts/stream",
            &cookie,
            None,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    // Without the cookie, no stream.
    let r = read(
        t.app
            .clone()
            .oneshot(
                Request::builder()
                    .uri("/v1/alerts/stream")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap(),
    )
    .await;
    r.error(StatusCode::UNAUTHORIZED, "unauthorized");
}
