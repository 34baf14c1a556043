//! One typed configuration: defaults < `tousu.toml` < environment (`TOUSU_*`) < flags, checked
//! at start so that a typo stops the service with a message instead of a surprise later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alerts::AlertSettings;
pub use crate::domain::Role;
use crate::error::{Error, Result};
use crate::events::EventSettings;
use crate::service::{AlertRules, DuplicateSettings, ServiceSettings, SuggestionSettings};
use crate::trends::TopicSettings;

mod limits;
mod memory;
mod people;
mod web;

pub use self::limits::Limits;
pub use self::memory::Memory;
use self::people::validate_people;
pub use self::people::{ApiKey, User};
pub use self::web::WebSettings;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Where the store and the index live.
    pub data_dir: PathBuf,
    /// The profile to serve (a folder under `models_dir`).
    pub profile: String,
    /// Where trained profiles live.
    pub models_dir: PathBuf,
    /// A profile file to use instead of the model's built-in one.
    pub profile_file: Option<PathBuf>,
    /// API keys. With none (and no users), the service binds to 127.0.0.1 only and needs no
    /// key.
    pub api_keys: Vec<ApiKey>,
    /// People who sign in to the workbench with a password.
    pub users: Vec<User>,
    /// The workbench's sessions.
    pub web: WebSettings,
    /// Request limits.
    pub limits: Limits,
    /// Duplicate detection.
    pub duplicates: DuplicateSettings,
    /// Similar cases and suggestions.
    pub suggestions: SuggestionSettings,
    /// How hot topics are formed and judged.
    pub topics: TopicSettings,
    /// When alerts are raised.
    pub alert_rules: AlertRules,
    /// Where alerts are delivered (webhooks, with their routing filters) and how they are
    /// retried.
    pub alerts: AlertSettings,
    /// Where case events are delivered (`tousu serve` only) and how they are retried.
    pub events: EventSettings,
    /// Caches' sizes.
    pub memory: Memory,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("tousu-data"),
            profile: "telecom".into(),
            models_dir: PathBuf::from("models"),
            profile_file: None,
            api_keys: Vec::new(),
            users: Vec::new(),
            web: WebSettings::default(),
            limits: Limits::default(),
            duplicates: DuplicateSettings::default(),
            suggestions: SuggestionSettings::default(),
            topics: TopicSettings::default(),
            alert_rules: AlertRules::default(),
            alerts: AlertSettings::default(),
            events: EventSettings::default(),
            memory: Memory::default(),
        }
    }
}

impl Config {
    /// Reads `path` over the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Adds keys given as `name:role:key` items separated by commas (`TOUSU_API_KEYS`); a
    /// handler's or supervisor's item ends with its departments, `name:role:key:dept|dept`
    /// (`*` for all).
    pub fn add_keys(&mut self, spec: &str) -> Result<()> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mut parts = item.splitn(4, ':');
            let (Some(name), Some(role), Some(key)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::Invalid(
                    "TOUSU_API_KEYS items are name:role:key (handlers and supervisors: \
                     name:role:key:department|department), separated by commas"
                        .into(),
                ));
            };
            let role = Role::parse(role).ok_or_else(|| {
                Error::Invalid(format!(
                    "API key {name:?}: role {role:?} is not one of intake, handler, supervisor, analyst, admin"
                ))
            })?;
            let departments = parts
                .next()
                .map(|d| {
                    d.split('|')
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            self.api_keys.push(ApiKey {
                name: name.into(),
                role,
                key: key.into(),
                departments,
            });
        }
        Ok(())
    }

    /// Checks the whole configuration.
    pub fn validate(&self) -> Result<()> {
        self.duplicates.validate()?;
        self.alerts.validate()?;
        self.events.validate()?;
        validate_people(&self.api_keys, &self.users)?;
        self.web.validate()?;
        self.limits.validate()?;
        self.memory.validate()?;
        Ok(())
    }

    /// Everyone who can act: keys and users, with their roles and departments.
    pub fn people(&self) -> Vec<(String, Role, Vec<String>)> {
        self.api_keys
            .iter()
            .map(|k| (k.name.clone(), k.role, k.departments.clone()))
            .chain(
                self.users
                    .iter()
                    .map(|u| (u.name.clone(), u.role, u.departments.clone())),
            )
            .collect()
    }

    /// Whether anyone must sign in (else the service is open, on loopback only).
    pub fn needs_sign_in(&self) -> bool {
        !self.api_keys.is_empty() || !self.users.is_empty()
    }

    /// The model folder of the configured profile.
    pub fn model_dir(&self) -> PathBuf {
        self.models_dir.join(&self.profile)
    }

    /// The service settings.
    pub fn service(&self) -> ServiceSettings {
        ServiceSettings {
            duplicates: self.duplicates.clone(),
            suggestions: self.suggestions.clone(),
            limits: self.limits.intake(),
            people: self.people(),
            topics: self.topics,
            alert_rules: self.alert_rules.clone(),
            kept: crate::service::Kept::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ExportLimits;
    use crate::service::tools::MAX_SHEET_ROWS;

    #[test]
    fn reads_toml_and_key_specs_and_rejects_typos() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tousu.toml");
        std::fs::write(
            &p,
            "profile = \"gov\"\n[limits]\ntext_chars = 1000\n[duplicates]\ngroup_min_complainants = 3\n",
        )
        .unwrap();
        let mut c = Config::load(&p).unwrap();
        assert_eq!(c.profile, "gov");
        assert_eq!(c.limits.text_chars, 1000);
        assert_eq!(c.duplicates.group_min_complainants, 3);
        c.add_keys("crm:intake:0123456789abcdef0123, ana:analyst:abcdef0123456789abcd")
            .unwrap();
        assert_eq!(c.api_keys[1].role, Role::Analyst);
        c.validate().unwrap();
        assert!(!format!("{:?}", c.api_keys[0]).contains("0123456789"));
        assert!(c.add_keys("x:boss:0123456789abcdef").is_err());

        std::fs::write(&p, "profil = \"gov\"\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("profil"), "{err}");
        let mut short = Config::default();
        short.add_keys("a:admin:short").unwrap();
        assert!(short.validate().is_err());
    }

    #[test]
    fn export_limits_are_positive_and_a_workbook_fits_a_sheet() {
        let mut c = Config::default();
        assert_eq!(c.limits.export(), ExportLimits::default());
        for (rows, xlsx, ok) in [
            (1, 1, true),
            (0, 10, false),
            (10, 0, false),
            (10, MAX_SHEET_ROWS, true),
            (10, MAX_SHEET_ROWS + 1, false),
        ] {
            c.limits.export_rows = rows;
            c.limits.export_xlsx_rows = xlsx;
            assert_eq!(c.validate().is_ok(), ok, "{rows} {xlsx}");
        }
    }
}
