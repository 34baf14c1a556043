//! Browser sessions for the workbench: a sign-in (a user's name and password, or an API key)
//! becomes an opaque id in an HttpOnly, SameSite=Strict cookie, and every write made with it
//! carries the session's CSRF token and comes from the same origin. Sessions live in memory:
//! a restart signs everyone out (the page sends them back to sign-in).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::auth::Caller;
use super::error::ApiError;
use crate::config::WebSettings;

/// The cookie's name over plain HTTP; behind TLS the `__Host-` prefix binds it to the host.
const COOKIE: &str = "tousu_session";
const SECURE_COOKIE: &str = "__Host-tousu_session";

/// Most sessions held at once; past it the least recently used goes.
const MAX_SESSIONS: usize = 10_000;

/// Failed sign-ins a name (or, for keys, the whole server) may have in a window before it is
/// refused for the rest of it.
const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The header a write made with a session carries its token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// One signed-in browser.
#[derive(Debug, Clone)]
struct Session {
    caller: Caller,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// What a request's session cookie stands for.
#[derive(Debug, Clone)]
pub struct Found {
    /// Who signed in.
    pub caller: Caller,
    /// The token its writes carry.
    pub csrf: String,
}

/// The sessions, by the hash of their id (the id itself is never kept or logged).
#[derive(Debug)]
pub struct SessionBook {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    idle: Duration,
    lifetime: Duration,
    secure: bool,
}

impl SessionBook {
    /// Sessions as `web` sets them.
    pub fn new(web: &WebSettings) -> Self {
        SessionBook {
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            idle: Duration::from_secs(web.session_idle_minutes.max(1) * 60),
            lifetime: Duration::from_secs(web.session_hours.max(1) * 3600),
            secure: web.secure_cookies(),
        }
    }

    /// Opens a session for `caller`: its id (for the cookie) and CSRF token.
    pub fn open(&self, caller: Caller) -> (String, String) {
        let (id, csrf) = (random_token(), random_token());
        let now = Instant::now();
        let mut book = self.lock();
        book.retain(|_, s| self.alive(s, now));
        if book.len() >= MAX_SESSIONS
            && let Some(oldest) = book
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| *k)
        {
            book.remove(&oldest);
        }
        book.insert(
            hash(&id),
            Session {
                caller,
                csrf: csrf.clone(),
                created: now,
                last_seen: now,
            },
        );
        (id, csrf)
    }

    /// The live session of the request's cookie, if any (and it counts as seen now).
    pub fn find(&self, headers: &HeaderMap) -> Option<Found> {
        let id = self.cookie_value(headers)?;
        let now = Instant::now();
        let mut book = self.lock();
        let key = hash(&id);
        let session = book.get_mut(&key)?;
        if !self.alive(session, now) {
            book.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(Found {
            caller: session.caller.clone(),
            csrf: session.csrf.clone(),
        })
    }

    /// Ends the request's session, if it has one.
    pub fn close(&self, headers: &HeaderMap) {
        if let Some(id) = self.cookie_value(headers) {
            self.lock().remove(&hash(&id));
        }
    }

    /// The `Set-Cookie` value that carries session `id`.
    pub fn cookie(&self, id: &str) -> String {
        format!(
            "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.cookie_name(),
            self.lifetime.as_secs(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn removal(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            self.cookie_name(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// Refuses a sign-in for `who` (a user's name, or `key`) while it has failed too often.
    pub fn check_throttle(&self, who: &str) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(who) {
            Some((n, since)) if *n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW => {
                let wait = FAILURE_WINDOW.saturating_sub(since.elapsed()).as_secs() as u32 + 1;
                Err(ApiError::too_many_sign_ins(wait))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in for `who`.
    pub fn failed(&self, who: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        failures.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        // A flood of made-up names must not grow this without bound.
        if failures.len() >= MAX_SESSIONS && !failures.contains_key(who) {
            return;
        }
        let entry = failures.entry(who.to_string()).or_insert((0, now));
        entry.0 += 1;
    }

    /// Forgets the failures of `who` (it signed in).
    pub fn succeeded(&self, who: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(who);
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) < self.idle && now.duration_since(s.created) < self.lifetime
    }

    fn cookie_name(&self) -> &'static str {
        if self.secure { SECURE_COOKIE } else { COOKIE }
    }

    fn cookie_value(&self, headers: &HeaderMap) -> Option<String> {
        let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
        jar.get(self.cookie_name())
            .map(|c| c.value().to_string())
            .filter(|v| !v.is_empty() && v.len() <= 64)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Checks a request made with a session may do what it asks: reads always; a write only with
/// the session's CSRF token and from the same origin (a page of another site can make the
/// browser send the cookie, not read the token).
pub fn check_write(method: &Method, headers: &HeaderMap, found: &Found) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let token_ok = token.is_some_and(|t| hash(t) == hash(&found.csrf));
    if !token_ok || !same_origin(headers) {
        return Err(ApiError::csrf());
    }
    Ok(())
}

/// Whether the browser says the request comes from a page of this server: `Sec-Fetch-Site`
/// when it sends it, else `Origin` against `Host`. A request with neither (not a browser's
/// cross-site request) passes: the CSRF token still has to match.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host.is_some() && origin_host == host
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Role;
    use axum::http::HeaderValue;

    fn book() -> SessionBook {
        SessionBook::new(&WebSettings::default())
    }

    fn caller() -> Caller {
        Caller {
            name: "wang".into(),
            role: Role::Handler,
            departments: vec!["网络运维中心".into()],
        }
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; tousu_session={value}")).unwrap(),
        );
        h
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_ends_at_sign_out() {
        let b = book();
        let (id, csrf) = b.open(caller());
        let found = b.find(&with_cookie(&id)).expect("the session");
        assert_eq!(found.caller.name, "wang");
        assert_eq!(found.csrf, csrf);
        assert!(b.find(&with_cookie("made-up")).is_none());
        b.close(&with_cookie(&id));
        assert!(b.find(&with_cookie(&id)).is_none());
        assert!(b.cookie(&id).contains("HttpOnly; SameSite=Strict"));
    }

    #[test]
    fn writes_need_the_token_and_the_same_origin() {
        let b = book();
        let (id, csrf) = b.open(caller());
        let found = b.find(&with_cookie(&id)).unwrap();
        let mut h = with_cookie(&id);
        assert!(
            check_write(&Method::GET, &h, &found).is_ok(),
            "reads need no token"
        );
        assert!(check_write(&Method::POST, &h, &found).is_err(), "no token");
        h.insert(CSRF_HEADER, HeaderValue::from_str(&csrf).unwrap());
        assert!(check_write(&Method::POST, &h, &found).is_ok());
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(
            check_write(&Method::POST, &h, &found).is_err(),
            "another site"
        );
        h.remove("sec-fetch-site");
        h.insert(header::HOST, HeaderValue::from_static("tousu.example:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(
            check_write(&Method::POST, &h, &found).is_err(),
            "another origin"
        );
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://tousu.example:8080"),
        );
        assert!(check_write(&Method::PATCH, &h, &found).is_ok());
        h.insert(CSRF_HEADER, HeaderValue::from_static("wrong"));
        assert!(
            check_write(&Method::PATCH, &h, &found).is_err(),
            "wrong token"
        );
    }

    #[test]
    fn too_many_failures_are_refused_for_a_while() {
        let b = book();
        for _ in 0..MAX_FAILURES {
            assert!(b.check_throttle("wang").is_ok());
            b.failed("wang");
        }
        assert!(b.check_throttle("wang").is_err());
        assert!(b.check_throttle("li").is_ok(), "per name");
        b.succeeded("wang");
        assert!(b.check_throttle("wang").is_ok());
    }
}
