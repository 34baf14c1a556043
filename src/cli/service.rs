//! `tousu serve | import | export | reindex`: open the configured store, index and model, and
//! drive the service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tousu::alerts::AlertCenter;
use tousu::config::Config;
use tousu::http::{AppState, KeyRing};
use tousu::index::CaseIndex;
use tousu::service::{ExportFormat, Service};
use tousu::store::{CaseStore, SqliteStore};
use tousu::triage::Engine;

/// Where the service's data and model are: flags over `TOUSU_*` over the config file.
#[derive(Args, Clone)]
pub struct ServiceArgs {
    /// Configuration file (TOML); values in it are overridden by env and flags.
    #[arg(long, env = "TOUSU_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the store and the index.
    #[arg(long, env = "TOUSU_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Profile to serve (a folder under --models-dir).
    #[arg(long, env = "TOUSU_PROFILE")]
    profile: Option<String>,
    /// Where trained profiles are.
    #[arg(long, env = "TOUSU_MODELS_DIR")]
    models_dir: Option<PathBuf>,
}

impl ServiceArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        if let Some(d) = &self.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(p) = &self.profile {
            c.profile = p.clone();
        }
        if let Some(m) = &self.models_dir {
            c.models_dir = m.clone();
        }
        if let Ok(keys) = std::env::var("TOUSU_API_KEYS") {
            c.add_keys(&keys)?;
        }
        c.validate()?;
        Ok(c)
    }
}

impl ServiceArgs {
    /// Starts the logs, reads the configuration and opens the service it names.
    /// The service, raising no alerts (import, export, reindex, trends).
    pub fn open(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        open(&self.config()?, false, true)
    }

    /// The service keeping no trends: for commands that show none (import, export, reindex),
    /// so that they do not read the whole store at start to count them.
    pub fn open_without_trends(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        open(&self.config()?, false, false)
    }

    /// The service raising alerts on cases of any age: a replay judges history on purpose.
    pub fn open_replaying(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        let mut config = self.config()?;
        config.alert_rules.max_age_hours = i64::MAX / 4;
        open(&config, true, true)
    }
}

/// Opens model, store and index, and brings the index up to date; with `alerting`, also the
/// alert center (`alerts.db` beside the store), so that alert rules raise and deliver; with
/// `trends`, rebuilds trends and topics from the store.
fn open(config: &Config, alerting: bool, trends: bool) -> anyhow::Result<Arc<Service>> {
    let model = config.model_dir();
    let engine = Engine::load(&model, config.profile_file.as_deref()).with_context(|| {
        format!(
            "loading profile {:?} from {}",
            config.profile,
            model.display()
        )
    })?;
    let store = SqliteStore::open(&config.data_dir.join("tousu.db"))?;
    let tokenizer = engine.pipeline().segmenter().search_tokenizer();
    let index = CaseIndex::open(&config.data_dir.join("index"), tokenizer)?;
    if index.was_rebuilt() && store.count()? > 0 {
        tracing::warn!("no usable index: rebuilding it from the store");
    }
    let alerts = if alerting {
        Some(AlertCenter::open(&config.data_dir, config.alerts.clone())?)
    } else {
        None
    };
    let mut settings = config.service();
    settings.without_trends = !trends;
    let service = Service::start_alerting(
        Arc::new(engine),
        Arc::new(store),
        Arc::new(index),
        settings,
        alerts,
    )?;
    Ok(Arc::new(service))
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Without API keys, only a loopback address is used.
    #[arg(long, env = "TOUSU_BIND")]
    bind: Option<SocketAddr>,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let mut config = a.service.config()?;
    if let Some(b) = a.bind {
        config.bind = b;
    }
    if config.api_keys.is_empty() && !config.bind.ip().is_loopback() {
        tracing::warn!(
            requested = %config.bind,
            "no API keys configured: binding to 127.0.0.1 only (set TOUSU_API_KEYS or api_keys in the config to serve other hosts)"
        );
        config.bind.set_ip([127, 0, 0, 1].into());
    }
    let service = open(&config, true, true)?;
    let state = AppState::new(
        Arc::clone(&service),
        KeyRing::new(&config.api_keys),
        config.limits.clone(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let auth = if config.api_keys.is_empty() {
            "no API keys: open to local callers only"
        } else {
            "API keys required"
        };
        tracing::info!(
            addr = %listener.local_addr()?,
            profile = %config.profile,
            data_dir = %config.data_dir.display(),
            cases = service.store().count()?,
            "{auth}; serving"
        );
        tousu::http::serve(listener, state).await?;
        anyhow::Ok(())
    })?;
    drop(runtime);
    // The last index commit happens as the service is dropped.
    drop(service);
    tracing::info!("stopped");
    Ok(())
}

#[derive(Args)]
pub struct ImportArgs {
    /// JSONL file: one case per line (`text` required; `title`, `channel`, `contact`,
    /// `received_at`/`created_at`, `resolution`, `resolved_at`, `department`, `status`, …).
    file: PathBuf,
    /// Import from the first line even if an earlier run of this file was interrupted.
    #[arg(long)]
    restart: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn import(a: ImportArgs) -> anyhow::Result<()> {
    let service = a.service.open_without_trends()?;
    let total = count_lines(&a.file)?;
    let bar = bar(total, "lines");
    let started = std::time::Instant::now();
    let report = service.import(&a.file, !a.restart, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if report.resumed_after > 0 {
        eprintln!(
            "resumed after line {} (done by an earlier run)",
            report.resumed_after
        );
    }
    for (line, message) in &report.bad {
        eprintln!("{}:{line}: {message}", a.file.display());
    }
    if report.bad_count as usize > report.bad.len() {
        eprintln!(
            "… and {} more bad lines",
            report.bad_count as usize - report.bad.len()
        );
    }
    eprintln!(
        "imported {} cases from {} lines in {secs:.1} s ({:.0} cases/s); {} bad lines",
        report.imported,
        report.lines,
        report.imported as f64 / secs.max(1e-9),
        report.bad_count
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Csv,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Output file; stdout when absent.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// jsonl or csv (UTF-8 with BOM for Excel).
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Only analysts' corrections, as training JSONL for `tousu train --train`.
    #[arg(long, conflicts_with = "format")]
    corrections: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn export(a: ExportArgs) -> anyhow::Result<()> {
    let service = a.service.open_without_trends()?;
    let format = match (a.corrections, a.format) {
        (true, _) => ExportFormat::Corrections,
        (false, Format::Jsonl) => ExportFormat::Jsonl,
        (false, Format::Csv) => ExportFormat::Csv,
    };
    let rows = match &a.out {
        Some(p) => {
            let f =
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            service.export(f, format)?
        }
        None => service.export(std::io::stdout().lock(), format)?,
    };
    eprintln!("exported {rows} rows");
    Ok(())
}

#[derive(Args)]
pub struct ReindexArgs {
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn reindex(a: ReindexArgs) -> anyhow::Result<()> {
    let service = a.service.open_without_trends()?;
    let bar = bar(service.store().count()?, "cases");
    let n = service.reindex(|n| bar.set_position(n))?;
    bar.finish_and_clear();
    eprintln!("re-indexed {n} cases");
    Ok(())
}

fn bar(total: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {unit} {{per_sec}} eta {{eta}}"
        ))
        .expect("valid template"),
    );
    bar
}

fn count_lines(path: &std::path::Path) -> anyhow::Result<u64> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(std::io::BufReader::new(f).lines().count() as u64)
}

/// Logs to stderr; `TOUSU_LOG` (e.g. `debug`, `tousu=debug`) picks the level. Logs never carry
/// complaint text, contacts or keys.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOUSU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[derive(Args)]
pub struct EvalSuggestionsArgs {
    /// Resolved cases (`text`, `title`, `created_at`, `resolution`), e.g.
    /// ../shared/datasets/tipdm/replies-history.jsonl.
    #[arg(long)]
    data: PathBuf,
    /// Share of the cases, oldest first, indexed as history; the newer rest are the queries.
    #[arg(long, default_value_t = 0.8)]
    history_fraction: f64,
    /// Profile whose model triages the history on import.
    #[arg(long, default_value = "gov")]
    profile: String,
    /// Where trained profiles are.
    #[arg(long, default_value = "models")]
    models_dir: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Imports the older cases into a scratch store and scores suggestions for the newer ones.
pub fn eval_suggestions(a: EvalSuggestionsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.history_fraction > 0.0 && a.history_fraction < 1.0,
        "--history-fraction is a share between 0 and 1"
    );
    let rows = tousu::service::read_history(&a.data)?;
    let cut = ((rows.len() as f64) * a.history_fraction).round() as usize;
    anyhow::ensure!(cut > 0 && cut < rows.len(), "too few rows to split");
    let (history, queries) = rows.split_at(cut);
    let scratch = tempfile_dir()?;
    let history_file = scratch.join("history.jsonl");
    tousu::service::write_history(history, &history_file)?;
    let config = Config {
        data_dir: scratch.join("data"),
        profile: a.profile.clone(),
        models_dir: a.models_dir.clone(),
        ..Config::default()
    };
    let service = open(&config, false, false)?;
    eprintln!("indexing {} history cases…", history.len());
    let report = service.import(&history_file, false, |_| {})?;
    anyhow::ensure!(
        report.bad_count == 0,
        "history lines failed to import: {:?}",
        report.bad
    );
    let bar = bar(queries.len() as u64, "queries");
    let eval =
        service.evaluate_suggestions(history.len(), queries, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    drop(service);
    let _ = std::fs::remove_dir_all(&scratch);
    if a.json {
        println!("{}", serde_json::to_string(&eval)?);
        return Ok(());
    }
    println!(
        "history {} cases (before {}), queries {} ({} name a department in the real reply)",
        eval.history, eval.split_at, eval.queries, eval.queries_with_department
    );
    println!(
        "{:<14} {:>22} {:>14} {:>9}",
        "system", "department accuracy", "char F1", "answered"
    );
    for (name, s) in [("tousu", &eval.tousu), ("BM25 top-1", &eval.bm25_baseline)] {
        println!(
            "{:<14} {:>22.4} {:>14.4} {:>9}",
            name, s.department_accuracy, s.char_f1, s.answered
        );
    }
    Ok(())
}

/// A fresh scratch directory under the system's temp dir.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "tousu-eval-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
