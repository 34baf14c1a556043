//! Opening the service a command works on: flags over `TOUSU_*` over the config file, then
//! model, store, index, alert center and views.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tousu::alerts::AlertCenter;
use tousu::config::Config;
use tousu::handling::Directory;
use tousu::index::CaseIndex;
use tousu::service::{Kept, Service};
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
    pub fn config(&self) -> anyhow::Result<Config> {
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
    /// The service with every view, raising no alerts (trends, kpis, report).
    pub fn open(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        open(&self.config()?, false, Kept::All)
    }

    /// The service keeping no trends and no work queues: for bulk commands (import, export,
    /// reindex, audit), which show neither, so that they do not read the whole store at start
    /// to build them.
    pub fn open_for_bulk(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        open(&self.config()?, false, Kept::Bulk)
    }

    /// The service raising alerts on cases of any age: a replay judges history on purpose.
    pub fn open_replaying(&self) -> anyhow::Result<Arc<Service>> {
        init_logs();
        let mut config = self.config()?;
        config.alert_rules.max_age_hours = i64::MAX / 4;
        open(&config, true, Kept::All)
    }
}

/// Opens model, store and index, and builds the derived views `kept`; with `alerting`, also
/// the alert center over the store's alert queue, so that alert rules raise and deliver.
pub fn open(config: &Config, alerting: bool, kept: Kept) -> anyhow::Result<Arc<Service>> {
    let model = config.model_dir();
    let engine = Engine::load(&model, config.profile_file.as_deref()).with_context(|| {
        format!(
            "loading profile {:?} from {}",
            config.profile,
            model.display()
        )
    })?;
    let store: Arc<dyn CaseStore> = Arc::new(SqliteStore::open_with(
        &config.data_dir.join("tousu.db"),
        config.memory.store(),
    )?);
    let tokenizer = engine.pipeline().segmenter().search_tokenizer();
    let index = CaseIndex::open_with(
        &config.data_dir.join("index"),
        tokenizer,
        config.memory.index_writer_mib,
    )?;
    let alerts = if alerting {
        // A department filter naming no known department would silence that robot for good.
        let people = config.people();
        let people: Vec<_> = people
            .iter()
            .map(|(name, role, departments)| (name.as_str(), *role, departments.as_slice()))
            .collect();
        let directory = Directory::new(engine.profile().policy.as_ref(), people);
        config.alerts.check_departments(directory.departments())?;
        Some(AlertCenter::open(
            Arc::clone(&store),
            config.alerts.clone(),
        )?)
    } else {
        None
    };
    let mut settings = config.service();
    settings.kept = kept;
    let service = Service::start(Arc::new(engine), store, Arc::new(index), settings, alerts)?;
    Ok(Arc::new(service))
}

/// Logs to stderr; `TOUSU_LOG` (e.g. `debug`, `tousu=debug`) picks the level. Logs never carry
/// complaint text, contacts or keys.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOUSU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
