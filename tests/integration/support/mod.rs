//! Paths and helpers shared by the tests: the fixture model and data, the `tousu` binary run
//! as a command, a service on the fixture model, API keys, polling. The tests that talk to a
//! running `tousu serve` find it in [`server`] and their HTTP client in [`http`]; the check
//! digits of the personal numbers they plant are in [`checksums`]; answers are held to the
//! OpenAPI document's schemas by [`schema`].

pub mod checksums;
pub mod http;
pub mod schema;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tousu::config::{ApiKey, Role};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tiny fixture model.
pub fn fixture_model() -> PathBuf {
    root().join("tests/fixtures/model")
}

/// A fixture file.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// `../shared/datasets`, or `None` (and a message) when it is absent.
pub fn datasets() -> Option<PathBuf> {
    let dir = std::env::var_os("TOUSU_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/datasets"));
    if dir.join("cocc/dev.jsonl").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found (set TOUSU_DATASETS)", dir.display());
        None
    }
}

/// Runs the `tousu` binary with `args` and optional stdin.
pub fn tousu(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tousu"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env_remove("MIMALLOC_PURGE_DELAY")
        .env_remove("MIMALLOC_ALLOW_THP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tousu binary runs");
    {
        let mut input = child.stdin.take().expect("stdin piped");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("stdin written");
        }
    }
    child.wait_with_output().expect("tousu finishes")
}

/// The flags that point a `tousu` command at the store and index in `data` and at the fixture
/// model: `--data-dir DATA --models-dir tests/fixtures --profile model`.
pub fn fixture_args(data: &Path) -> Vec<String> {
    vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--models-dir".into(),
        root().join("tests/fixtures").display().to_string(),
        "--profile".into(),
        "model".into(),
    ]
}

/// Runs `tousu ARGS` on the store in `data` with the fixture model (see [`fixture_args`]).
pub fn tousu_on(data: &Path, args: &[&str]) -> Output {
    let fixed = fixture_args(data);
    let all: Vec<&str> = args
        .iter()
        .copied()
        .chain(fixed.iter().map(String::as_str))
        .collect();
    tousu(&all, None)
}

/// stdout as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A service on the fixture model over its own store and index in `dir`, with an alert center
/// delivering as `alerts` says when given (its raised alerts are in
/// `service.views().watch().alerts()`).
pub fn fixture_service(
    dir: &Path,
    alerts: Option<tousu::alerts::AlertSettings>,
) -> tousu::service::Service {
    fixture_service_with(dir, Default::default(), alerts)
}

/// [`fixture_service`] with these settings.
pub fn fixture_service_with(
    dir: &Path,
    settings: tousu::service::ServiceSettings,
    alerts: Option<tousu::alerts::AlertSettings>,
) -> tousu::service::Service {
    use std::sync::Arc;
    let engine = tousu::triage::Engine::load(&fixture_model(), None).unwrap();
    let store: Arc<dyn tousu::store::CaseStore> =
        Arc::new(tousu::store::SqliteStore::open(&dir.join("tousu.db")).unwrap());
    let index = tousu::index::CaseIndex::open(
        &dir.join("index"),
        engine.pipeline().segmenter().search_tokenizer(),
    )
    .unwrap();
    let center = alerts.map(|a| tousu::alerts::AlertCenter::open(Arc::clone(&store), a).unwrap());
    tousu::service::Service::start(Arc::new(engine), store, Arc::new(index), settings, center)
        .unwrap()
}

/// API keys from `(name, role, secret)`, as a deployment lists them in `TOUSU_API_KEYS`
/// (a handler or supervisor works every department: `*`).
pub fn api_keys(keys: &[(&str, Role, &str)]) -> Vec<ApiKey> {
    keys.iter()
        .map(|&(name, role, key)| ApiKey {
            name: name.into(),
            role,
            key: key.into(),
            departments: if role.is_scoped() {
                vec!["*".into()]
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// Polls `check` every 100 ms until it answers `Ok`, and gives that value; panics after
/// `within` with `what` and the last `Err`. Recovery and readiness are proved this way, never
/// by sleeping and hoping.
pub fn poll<T>(within: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + within;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("{what}: not within {within:?}; last seen: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
