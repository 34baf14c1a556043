//! An in-process webhook receiver on 127.0.0.1 for the alert tests: an axum server on its own
//! runtime that records every request and answers as scripted (200 `{"errcode":0}` unless told
//! otherwise).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use tousu::alerts::Alert;

/// What a chat robot answers when it takes a message.
pub const OK_BODY: &str = r#"{"errcode":0,"errmsg":"ok"}"#;

/// One request as the receiver saw it, and how it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as an alert (the JSON webhook's format).
    pub fn alert(&self) -> Alert {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the webhook body is not an alert ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

#[derive(Default)]
struct Script {
    /// Answers to give first, in order.
    next: VecDeque<(u16, String)>,
    /// The answer once `next` is used up (200 `{"errcode":0}` unless changed).
    otherwise: Option<(u16, String)>,
    received: Vec<Received>,
}

/// A webhook receiver: an axum server on its own runtime, answering as scripted. The runtime
/// is shut down in the background on drop, so that it may also be dropped inside an async test.
pub struct Receiver {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&script));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await
        });
        Receiver {
            addr,
            script,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers `status` and `body` to the next request not yet scripted.
    pub fn answer_next(&self, status: u16, body: &str) {
        self.script
            .lock()
            .unwrap()
            .next
            .push_back((status, body.to_string()));
    }

    /// Answers `status` to the next `n` requests.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut s = self.script.lock().unwrap();
        s.next
            .extend(std::iter::repeat_n((status, "boom".to_string()), n));
    }

    pub fn answer_by_default(&self, status: u16, body: &str) {
        self.script.lock().unwrap().otherwise = Some((status, body.to_string()));
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn accepted(&self) -> usize {
        self.received()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .count()
    }

    /// The requests whose alert is about `key`.
    pub fn for_key(&self, key: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.alert().key == key)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn record(
    State(script): State<Arc<Mutex<Script>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut s = script.lock().unwrap();
    let (status, answer) = s
        .next
        .pop_front()
        .or_else(|| s.otherwise.clone())
        .unwrap_or((200, OK_BODY.to_string()));
    s.received.push(Received {
        uri: uri.to_string(),
        headers,
        body,
        status,
    });
    (StatusCode::from_u16(status).unwrap(), answer)
}

/// Polls `done` every 10 ms until it holds or `limit` passes; its last answer.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}
