//! Durability: `tousu serve` as a child process, killed with SIGKILL mid-stream and restarted.
//! Every acknowledged case must be there, searchable, and counted once; a deleted index is
//! rebuilt from the store.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::http;
use crate::support::server::{Options, Server, free_port};

/// `tousu serve` on `data` at `port` (the same across restarts), logging warnings to
/// `serve-{n}.log` beside `data`.
fn start(data: &Path, port: u16, n: u32) -> Server {
    let log = data.with_file_name(format!("serve-{n}.log"));
    let options = Options {
        port: Some(port),
        log_level: Some("warn"),
        ..Default::default()
    };
    Server::start_with(data, &log, options)
}

/// Every case search finds once it finds at least `at_least`, or what it finds after 30 s:
/// (total, ids).
fn wait_searchable(server: &Server, at_least: usize) -> (u64, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (total, ids) = server.searchable().unwrap_or_else(|e| panic!("{e}"));
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
    let server = start(&data, port, 1);

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
                    match http::send(port, "POST", "/v1/cases", &[], Some(&body)) {
                        Ok(r) if r.status == 201 => acked
                            .lock()
                            .unwrap()
                            .push(r.json()["id"].as_str().unwrap().to_string()),
                        Ok(r) => panic!("unexpected {}: {}", r.status, r.body),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill(); // SIGKILL: no shutdown, no final index commit
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 40, "only {} cases acknowledged", acked.len());

    let server = start(&data, port, 2);
    for id in &acked {
        let r = server.get(&format!("/v1/cases/{id}")).unwrap();
        assert_eq!(r.status, 200, "acknowledged case {id} lost: {}", r.body);
    }
    let ready = server.get("/readyz").unwrap();
    assert_eq!(ready.status, 200);
    let stored = ready.json()["cases"].as_u64().unwrap() as usize;
    // Cases in flight when the server died may or may not have committed; none twice.
    assert!(stored >= acked.len());
    let (total, ids) = wait_searchable(&server, stored);
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
    server.kill();

    // Lose the index entirely: the restart rebuilds it from the store.
    std::fs::remove_dir_all(data.join("index")).unwrap();
    let server = start(&data, port, 3);
    let (total, ids) = wait_searchable(&server, stored);
    assert_eq!(total as usize, stored);
    assert_eq!(ids.len(), stored);
    server.kill();
}
