//! `tousu serve` as a child process on the fixture model, for the tests that must see the real
//! binary: killed with SIGKILL and restarted, stopped with SIGTERM, run out of disk, or its
//! logs and files read afterwards.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::http::{self, Reply};
use super::{fixture_args, poll};

/// How long the server may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a clean stop may take after SIGTERM.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// A port on 127.0.0.1 that nothing listens on (the OS's pick, released at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to start the server; [`Default`] is what [`Server::start`] does.
#[derive(Debug, Default)]
pub struct Options {
    /// The port to bind on 127.0.0.1; a [`free_port`] when `None` (a restart passes the last
    /// one).
    pub port: Option<u16>,
    /// `TOUSU_LOG`; `info` when `None`.
    pub log_level: Option<&'static str>,
    /// `TOUSU_API_KEYS`; without keys when `None` (open, which it allows on loopback).
    pub api_keys: Option<String>,
    /// A configuration file (`--config`); none when `None`.
    pub config: Option<PathBuf>,
}

/// `tousu serve` running on the fixture model; killed (SIGKILL) and reaped when dropped, so
/// that a failing test leaves no server behind.
pub struct Server {
    child: Child,
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
}

impl Server {
    /// [`Server::start_with`] the default [`Options`].
    pub fn start(data: &Path, log: &Path) -> Server {
        Server::start_with(data, log, Options::default())
    }

    /// Starts it on the store and index in `data`, with its log (stderr) written to `log` and
    /// its stdout next to it (`log` with the extension `out`), `TOUSU_CONFIG` unset (the
    /// options' file, if any, given as `--config`) and no backtraces; waits until `/readyz` answers 200. Panics, with the log, if it exits first
    /// or is not ready within a minute.
    pub fn start_with(data: &Path, log: &Path, options: Options) -> Server {
        let port = options.port.unwrap_or_else(free_port);
        let file = |path: &Path| {
            std::fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_tousu"));
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(fixture_args(data))
            .env("TOUSU_LOG", options.log_level.unwrap_or("info"))
            .env("RUST_BACKTRACE", "0")
            .env_remove("TOUSU_CONFIG")
            .stdin(Stdio::null())
            .stdout(file(&log.with_extension("out")))
            .stderr(file(log));
        if let Some(config) = &options.config {
            command.arg("--config").arg(config);
        }
        match &options.api_keys {
            Some(keys) => command.env("TOUSU_API_KEYS", keys),
            None => command.env_remove("TOUSU_API_KEYS"),
        };
        let child = command.spawn().expect("tousu serve starts");
        let mut server = Server {
            child,
            port,
            log: log.to_path_buf(),
        };
        poll(
            READY_WITHIN,
            &format!("tousu serve ready on port {port}"),
            || {
                if let Some(status) = server.child.try_wait().expect("try_wait") {
                    panic!(
                        "tousu serve exited with {status} before it was ready; log:\n{}",
                        std::fs::read_to_string(&server.log).unwrap_or_default()
                    );
                }
                match server.get("/readyz") {
                    Ok(r) if r.status == 200 => Ok(()),
                    Ok(r) => Err(format!("{} {}", r.status, r.body)),
                    Err(e) => Err(format!("{e}; log:\n{}", server.log_tail())),
                }
            },
        );
        server
    }

    /// One request (see [`http::send`]).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Reply, String> {
        http::send(self.port, method, path, headers, body)
    }

    /// [`http::send_binary`] to this server.
    pub fn send_binary(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Reply, Vec<u8>), String> {
        http::send_binary(self.port, method, path, headers, None)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Reply, String> {
        self.send("GET", path, &[], None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &str) -> Result<Reply, String> {
        self.send("POST", path, &[], Some(body))
    }

    /// Every case search finds, following the cursor from the oldest: (total, ids sorted).
    /// `Err` if a page is not a 200 search answer.
    pub fn searchable(&self) -> Result<(u64, Vec<String>), String> {
        let mut ids = Vec::new();
        let mut cursor = String::new();
        let total = loop {
            let path = format!("/v1/search?limit=100&sort=oldest&facets=false&cursor={cursor}");
            let r = self.get(&path).map_err(|e| format!("search: {e}"))?;
            if r.status != 200 {
                return Err(format!("search: {} {}", r.status, r.body));
            }
            let page = r.json_or_null();
            for h in page["hits"].as_array().ok_or("search: no hits")? {
                ids.push(h["id"].as_str().expect("a hit has an id").to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = http::enc(c),
                None => break page["total"].as_u64().ok_or("search: no total")?,
            }
        };
        ids.sort();
        Ok((total, ids))
    }

    /// The last lines of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL (no shutdown, no final commit) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed server reaped");
    }

    /// Sends it SIGTERM, as an operator or an orchestrator stops it.
    pub fn terminate(&self) {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// Waits until it has exited (after [`Server::terminate`]) and gives its exit status;
    /// panics, with the log's tail, if it still runs after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        poll(within, "tousu serve exits", || {
            match self.child.try_wait().expect("try_wait") {
                Some(status) => Ok(status),
                None => Err(format!("still running; log:\n{}", self.log_tail())),
            }
        })
    }

    /// Stops it cleanly: SIGTERM, and a successful exit within 30 s.
    pub fn stop(mut self) {
        self.terminate();
        let status = self.wait_exit(STOP_WITHIN);
        assert!(
            status.success(),
            "tousu serve stopped with {status}; log:\n{}",
            self.log_tail()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
