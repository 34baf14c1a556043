//! Faults the service must get over by itself: a damaged search index (rebuilt from the store
//! at open, or by `tousu reindex`), a full disk (creates refused with 507, /readyz not ready
//! while the index cannot write, everything searchable once space is freed), and SIGTERM
//! while an alert stream is open (the stream ends and the process exits).
//!
//! Recovery is proved by polling with a deadline, never by sleeping and hoping.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tousu::domain::{CaseId, Intake};
use tousu::index::SearchRequest;
use tousu::service::{CreateOutcome, Service};

use crate::support::http::Reply;
use crate::support::server::Server;
use crate::support::{self, poll, stderr, tousu_on};

/// Cases in the store whose index is damaged.
const CASES: usize = 30;
/// How long a rebuild or a recovery may take before the test calls it a failure.
const RECOVERY: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// A damaged index

/// Complaints varied enough that intake does not take them for one another.
fn complaint(n: usize) -> String {
    const WHAT: [&str; 5] = [
        "家里宽带断网三天，报修后一直没人上门处理",
        "本月话费被多扣了五十元，要求退费",
        "营业厅工作人员态度恶劣，办理业务推诿",
        "手机信号很差，在家里经常打不通电话",
        "套餐到期后被自动续费，没有任何提醒",
    ];
    format!("第{n}号用户来电：{}", WHAT[n % WHAT.len()])
}

fn create(service: &Service, text: &str) -> CaseId {
    let intake = Intake {
        text: text.into(),
        ..Default::default()
    };
    match service.intake().create(&intake, "faults", None).unwrap() {
        CreateOutcome::Created(c) => c.case.id.clone(),
        CreateOutcome::Replayed(_) => panic!("not a replay"),
    }
}

/// Stores [`CASES`] cases in `dir` through the library, all indexed and committed when it
/// returns (the service is dropped, which closes store and index). Their ids, sorted.
fn stored_cases(dir: &Path) -> Vec<CaseId> {
    let service = support::fixture_service(dir, None);
    let mut ids: Vec<CaseId> = (0..CASES)
        .map(|n| create(&service, &complaint(n)))
        .collect();
    service.views().sync().unwrap();
    ids.sort();
    ids
}

/// Every case the index finds for an empty query (total, sorted ids), or why not.
fn searchable(service: &Service) -> Result<(usize, Vec<CaseId>), String> {
    let page = service
        .views()
        .search(&SearchRequest {
            limit: 1000,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    let mut ids: Vec<CaseId> = page.hits.into_iter().map(|h| h.id).collect();
    ids.sort();
    Ok((page.total, ids))
}

/// Waits until the service says it is ready, then checks that search finds exactly `ids`.
fn assert_ready_and_whole(service: &Service, ids: &[CaseId], what: &str) {
    poll(RECOVERY, &format!("{what}: ready"), || {
        let r = service.views().readiness().map_err(|e| e.to_string())?;
        if r.ready {
            Ok(())
        } else {
            Err(format!("{r:?}"))
        }
    });
    let (total, found) = searchable(service).unwrap_or_else(|e| panic!("{what}: search: {e}"));
    assert_eq!(total, ids.len(), "{what}: search total");
    assert_eq!(
        found, ids,
        "{what}: search finds other cases than those stored"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// The live segment's document store cut to half its length.
    StoreTruncatedToHalf,
    /// The live segment's positions deleted (tantivy opens a segment without them; only a
    /// query or the checksums notice).
    PositionsDeleted,
    /// The middle third of the live segment's term index overwritten (same length, footer
    /// intact: only the checksum can tell).
    TermIndexScrambled,
}

/// The live segment with the most documents, as the commit in `meta.json` lists it: the
/// stem of its files.
fn biggest_segment(index: &Path) -> String {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(index.join("meta.json")).unwrap()).unwrap();
    let segment = meta["segments"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|s| s["max_doc"].as_u64().unwrap())
        .expect("the index has a segment");
    segment["segment_id"].as_str().unwrap().replace('-', "")
}

fn damage(index: &Path, how: Damage) {
    let segment = biggest_segment(index);
    let file = |ext: &str| index.join(format!("{segment}.{ext}"));
    match how {
        Damage::StoreTruncatedToHalf => {
            let path = file("store");
            let len = std::fs::metadata(&path).unwrap().len();
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(len / 2).unwrap();
        }
        Damage::PositionsDeleted => std::fs::remove_file(file("pos")).unwrap(),
        Damage::TermIndexScrambled => {
            let path = file("idx");
            let mut bytes = std::fs::read(&path).unwrap();
            let len = bytes.len();
            assert!(len >= 30, "{} is too small to scramble", path.display());
            // Xorshift, each byte XORed with a non-zero value: every byte changes.
            let mut x: u32 = 0x9E37_79B9;
            for b in &mut bytes[len / 3..2 * len / 3] {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b ^= (x as u8) | 1;
            }
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, len);
        }
    }
}

const DAMAGES: [Damage; 3] = [
    Damage::StoreTruncatedToHalf,
    Damage::PositionsDeleted,
    Damage::TermIndexScrambled,
];

#[test]
fn a_damaged_index_is_rebuilt_from_the_store_at_open() {
    let pristine = tempfile::tempdir().unwrap();
    let ids = stored_cases(pristine.path());

    // The control: a copy of a whole index opens as it is (so `was_rebuilt` below is the
    // damage's doing, not the copy's).
    let whole = tempfile::tempdir().unwrap();
    copy_dir(pristine.path(), whole.path());
    let service = support::fixture_service(whole.path(), None);
    assert!(
        !service.views().index().was_rebuilt(),
        "a whole index was rebuilt"
    );
    assert_ready_and_whole(&service, &ids, "whole index");
    drop(service);

    for how in DAMAGES {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        damage(&dir.path().join("index"), how);
        // Opening must succeed (fixture_service unwraps it) and see the damage.
        let service = support::fixture_service(dir.path(), None);
        assert!(
            service.views().index().was_rebuilt(),
            "{how:?}: the damage went unnoticed at open"
        );
        assert_ready_and_whole(&service, &ids, &format!("{how:?}"));
    }
}

#[test]
fn tousu_reindex_repairs_a_damaged_index() {
    let pristine = tempfile::tempdir().unwrap();
    let ids = stored_cases(pristine.path());
    for how in DAMAGES {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        damage(&dir.path().join("index"), how);
        let out = tousu_on(dir.path(), &["reindex"]);
        assert!(out.status.success(), "{how:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("re-indexed {CASES} cases")),
            "{how:?}: {}",
            stderr(&out)
        );
        // The index reindex left is whole: it opens as it is and is current at once.
        let service = support::fixture_service(dir.path(), None);
        assert!(
            !service.views().index().was_rebuilt(),
            "{how:?}: the index reindex left is still damaged"
        );
        let r = service.views().readiness().unwrap();
        assert!(r.ready && r.index_lag == 0, "{how:?}: {r:?}");
        assert_ready_and_whole(&service, &ids, &format!("{how:?} after reindex"));
    }
}

// ---------------------------------------------------------------------------------------------
// `tousu serve` as a child process

/// Creates a case through the server: `Ok(id)` on 201, the answer otherwise.
fn post_case(server: &Server, text: &str) -> Result<CaseId, Reply> {
    let body = serde_json::json!({ "text": text, "channel": "phone" }).to_string();
    let r = server
        .post("/v1/cases", &body)
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", server.log_tail()));
    if r.status == 201 {
        Ok(CaseId(r.json()["id"].as_str().unwrap().to_string()))
    } else {
        Err(r)
    }
}

/// Every case search finds through the server (total, sorted ids), or why not.
fn searchable_over_http(server: &Server) -> Result<(u64, Vec<CaseId>), String> {
    let (total, ids) = server.searchable()?;
    Ok((total, ids.into_iter().map(CaseId).collect()))
}

// ---------------------------------------------------------------------------------------------
// A full disk

/// A size-limited tmpfs, unmounted when dropped (before its directory is removed).
struct SmallDisk {
    dir: PathBuf,
    _holder: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts `mib` MiB, or says why not (needs root) and gives `None`.
    fn mount(mib: u64) -> Option<SmallDisk> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("skipped: needs root to mount a size-limited tmpfs");
            return None;
        }
        let holder = tempfile::tempdir().unwrap();
        let dir = holder.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("mount runs");
        if !out.status.success() {
            eprintln!(
                "skipped: needs root to mount a size-limited tmpfs (mount failed: {})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        eprintln!("running on a {mib} MiB tmpfs at {}", dir.display());
        Some(SmallDisk {
            dir,
            _holder: holder,
        })
    }

    /// (size, available) in bytes, as `df` sees them.
    fn space(&self) -> (u64, u64) {
        let out = Command::new("df")
            .args(["-B1", "--output=size,avail"])
            .arg(&self.dir)
            .output()
            .expect("df runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let numbers: Vec<u64> = text
            .lines()
            .nth(1)
            .expect("df prints a row")
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        (numbers[0], numbers[1])
    }

    /// Writes `path` until the disk has no room left.
    fn fill(&self, path: &Path) {
        let mut f = std::fs::File::create(path).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0u8; chunk];
            while f.write_all(&block).is_ok() {}
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Something still holds a file open: detach it now, it goes when released.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

#[test]
fn a_full_disk_refuses_creates_with_507_and_everything_is_searchable_once_space_is_freed() {
    const MIB: u64 = 24;
    let Some(disk) = SmallDisk::mount(MIB) else {
        return;
    };
    let (size, avail) = disk.space();
    assert!(
        size <= (MIB + 1) << 20 && avail > (MIB - 2) << 20,
        "the tmpfs is not the size asked for: size {size}, available {avail}"
    );
    let logs = tempfile::tempdir().unwrap();
    // Dropped before the disk (declared after it): nothing holds the tmpfs at unmount.
    let server = Server::start(&disk.dir.join("data"), &logs.path().join("serve.log"));

    // Cases stored and searchable before the disk fills: nothing is pending in the index.
    let mut stored: Vec<CaseId> = (0..10)
        .map(|n| {
            post_case(
                &server,
                &format!("满盘前{n}：家里宽带断网三天，报修后一直没人上门处理"),
            )
            .unwrap_or_else(|r| panic!("{} {}", r.status, r.body))
        })
        .collect();
    stored.sort();
    poll(RECOVERY, "the first cases searchable", || {
        let found = searchable_over_http(&server)?;
        if found.1 == stored {
            Ok(())
        } else {
            Err(format!("{found:?}"))
        }
    });
    let (_, avail) = disk.space();
    assert!(
        avail > (MIB - 4) << 20,
        "the store and index of 10 cases should take far less than {MIB} MiB; {avail} bytes left"
    );

    let filler = disk.dir.join("filler");
    disk.fill(&filler);
    assert_eq!(disk.space().1, 0, "the filler left room");

    // SQLite writes into the room its log already has until a checkpoint must grow the
    // database: some creates may still go in. The index has no room for a segment at all.
    let mut on_full_disk = Vec::new();
    let refused = loop {
        match post_case(
            &server,
            &format!(
                "满盘时{}：本月话费被多扣了五十元，要求退费",
                on_full_disk.len()
            ),
        ) {
            Ok(id) => on_full_disk.push(id),
            Err(r) => break r,
        }
        assert!(
            on_full_disk.len() < 500,
            "500 creates went in on a full disk"
        );
    };
    assert_eq!(
        (refused.status, refused.json()["code"].as_str()),
        (507, Some("insufficient_storage")),
        "a create on a full disk: {} {}",
        refused.status,
        refused.body
    );
    let retry: u64 = refused
        .header("retry-after")
        .unwrap_or_else(|| panic!("507 without Retry-After: {}", refused.head))
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry > 0);
    eprintln!(
        "{} creates went in on the full disk, then {}",
        on_full_disk.len(),
        refused.status
    );
    stored.extend(on_full_disk.iter().cloned());
    for id in &stored {
        let r = server.get(&format!("/v1/cases/{id}")).unwrap();
        assert_eq!(r.status, 200, "acknowledged case {id} lost: {}", r.body);
    }

    // Cases stored on the full disk wait for the index, which cannot write them.
    assert!(
        !on_full_disk.is_empty(),
        "no create went in on the full disk, so the index has nothing it cannot write and \
         /readyz cannot be judged (SQLite did not reuse its log?)"
    );
    poll(
        Duration::from_secs(15),
        "/readyz not ready while the index cannot write",
        || match server.get("/readyz") {
            Ok(r) if r.status == 503 && r.json_or_null()["code"] == "not_ready" => Ok(()),
            Ok(r) => Err(format!("{} {}", r.status, r.body)),
            Err(e) => Err(e),
        },
    );

    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    for n in 0..5 {
        let id = post_case(
            &server,
            &format!("腾空后{n}：营业厅工作人员态度恶劣，办理业务推诿"),
        )
        .unwrap_or_else(|r| panic!("create after freeing space: {} {}", r.status, r.body));
        stored.push(id);
    }
    stored.sort();

    // Without a restart or a reindex: the index takes again what it could not write.
    let ready = poll(
        RECOVERY,
        "every acknowledged case searchable and /readyz ready",
        || {
            let (total, found) = searchable_over_http(&server)?;
            if found != stored || total != stored.len() as u64 {
                return Err(format!(
                    "search finds {total}: {found:?}; stored {stored:?}"
                ));
            }
            match server.get("/readyz") {
                Ok(r) if r.status == 200 => Ok(r),
                Ok(r) => Err(format!("{} {}", r.status, r.body)),
                Err(e) => Err(e),
            }
        },
    );
    eprintln!("recovered {:?} after space was freed", freed.elapsed());
    assert_eq!(
        ready.json()["cases"].as_u64(),
        Some(stored.len() as u64),
        "the store holds other cases than those acknowledged (a refused create stored one?)"
    );
    drop(server);
}

// ---------------------------------------------------------------------------------------------
// SIGTERM with an alert stream open

/// How a stream client's connection ended.
#[derive(Debug)]
enum StreamEnd {
    /// The server closed it; the bytes received (head and body).
    Closed(Vec<u8>),
    /// A read failed.
    Failed(std::io::ErrorKind),
}

#[test]
fn sigterm_ends_an_open_alert_stream_and_the_server_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("data"), &dir.path().join("serve.log"));

    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /v1/alerts/stream HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    // The stream is open once its head has come.
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("the stream's head");
        assert!(n > 0, "closed before the head");
        received.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&received).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");

    // The client keeps reading until the server ends the connection.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let end = loop {
            match stream.read(&mut buf) {
                Ok(0) => break StreamEnd::Closed(received),
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) => break StreamEnd::Failed(e.kind()),
            }
        };
        let _ = tx.send(end);
    });

    let sent = Instant::now();
    server.terminate();
    // The grace period is 10 s; an open stream must not hold the shutdown that long.
    let status = server.wait_exit(Duration::from_secs(8));
    let took = sent.elapsed();
    assert!(
        status.success(),
        "exit {status} after SIGTERM; log:\n{}",
        server.log_tail()
    );
    eprintln!("the server exited {took:?} after SIGTERM");

    match rx.recv_timeout(Duration::from_secs(5)) {
        // The server ended the body (the last chunk), not just the process the socket.
        Ok(StreamEnd::Closed(bytes)) => assert!(
            bytes.ends_with(b"0\r\n\r\n"),
            "the stream was cut, not ended: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        Ok(StreamEnd::Failed(kind)) => panic!("the stream client's read failed: {kind:?}"),
        Err(_) => panic!("the stream client still sees an open connection"),
    }
}
