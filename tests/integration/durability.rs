//! Durability: `tousu serve` as a child process, killed with SIGKILL mid-stream and restarted.
//! Every acknowledged case must be there, searchable, and counted once; a deleted index is
//! rebuilt from the store.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;

/// A minimal HTTP/1.1 client over one connection per request (the test must not depend on
/// the server's own stack to judge it).
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    // Bodies are small; a chunked one is de-chunked crudely.
    let json = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut r = rest;
        while let Some((size, tail)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.push_str(tail.get(..n)?);
            r = tail.get(n + 2..)?;
        }
        out
    } else {
        rest.to_string()
    };
    Some((status, serde_json::from_str(&json).unwrap_or(Value::Null)))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tousu"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .arg("--models-dir")
        .arg(support::root().join("tests/fixtures"))
        .args(["--profile", "model"])
        .env("TOUSU_LOG", "warn")
        .env_remove("TOUSU_API_KEYS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tousu serve starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _)) = http(port, "GET", "/readyz", None) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("tousu serve did not become ready on port {port}");
}

fn all_ids(port: u16) -> (u64, Vec<String>) {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    let total = loop {
        let path = format!("/v1/search?limit=100&sort=oldest&facets=false&cursor={cursor}");
        let (status, page) = http(port, "GET", &path, None).expect("search answers");
        assert_eq!(status, 200, "{page}");
        for h in page["hits"].as_array().unwrap() {
            ids.push(h["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break page["total"].as_u64().unwrap(),
        }
    };
    (total, ids)
}

fn wait_searchable(port: u16, at_least: usize) -> (u64, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (total, ids) = all_ids(port);
        if ids.len() >= at_least || Instant::now() > deadline {
            return (total, ids);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn acknowledged_cases_survive_kill_9_and_a_lost_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = start(&data, port);

    // Four clients send cases until the server dies under them.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let acked = Arc::clone(&acked);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = format!(
                        r#"{{"text":"第{c}路第{n}次来电：家里宽带断网，报修后一直没人上门处理","channel":"phone"}}"#
                    );
                    match http(port, "POST", "/v1/cases", Some(&body)) {
                        Some((201, v)) => acked
                            .lock()
                            .unwrap()
                            .push(v["id"].as_str().unwrap().to_string()),
                        Some((status, v)) => panic!("unexpected {status}: {v}"),
                        None => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill().unwrap(); // SIGKILL: no shutdown, no final index commit
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 40, "only {} cases acknowledged", acked.len());

    let mut server = start(&data, port);
    for id in &acked {
        let (status, case) = http(port, "GET", &format!("/v1/cases/{id}"), None).unwrap();
        assert_eq!(status, 200, "acknowledged case {id} lost: {case}");
    }
    let (status, ready) = http(port, "GET", "/readyz", None).unwrap();
    assert_eq!(status, 200);
    let stored = ready["cases"].as_u64().unwrap() as usize;
    // Cases in flight when the server died may or may not have committed; none twice.
    assert!(stored >= acked.len());
    let (total, ids) = wait_searchable(port, stored);
    assert_eq!(
        total as usize, stored,
        "index and store disagree after restart"
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "a case is indexed twice");
    for id in &acked {
        assert!(ids.contains(id), "acknowledged case {id} is not searchable");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Lose the index entirely: the restart rebuilds it from the store.
    std::fs::remove_dir_all(data.join("index")).unwrap();
    let mut server = start(&data, port);
    let (total, ids) = wait_searchable(port, stored);
    assert_eq!(total as usize, stored);
    assert_eq!(ids.len(), stored);
    server.kill().unwrap();
    server.wait().unwrap();
}
