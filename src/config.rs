//! One typed configuration: defaults < `tousu.toml` < environment (`TOUSU_*`) < flags, checked
//! at start so that a typo stops the service with a message instead of a surprise later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alerts::AlertSettings;
pub use crate::domain::Role;
use crate::error::{Error, Result};
use crate::events::EventSettings;
use crate::service::tools::MAX_SHEET_ROWS;
use crate::service::{
    AlertRules, DuplicateSettings, ExportLimits, IntakeLimits, ServiceSettings, SuggestionSettings,
};
use crate::trends::TopicSettings;

/// A person who signs in to the workbench with a name and a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Their name: shown in audit trails, and the handler name cases are assigned to.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The password's Argon2 hash as a PHC string (`tousu hash-password` makes one).
    pub password_hash: String,
    /// For a handler or supervisor: the departments whose cases they work (`*`: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"***")
            .finish()
    }
}

/// The workbench's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The address users reach the server at (`https://…` behind TLS: session cookies are
    /// then `Secure` and `__Host-` prefixed).
    pub public_url: Option<String>,
    /// A session unused this long ends.
    pub session_idle_minutes: u64,
    /// A session ends this long after its sign-in, used or not.
    pub session_hours: u64,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            public_url: None,
            session_idle_minutes: 120,
            session_hours: 12,
        }
    }
}

impl WebSettings {
    /// Whether cookies must only travel over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    fn validate(&self) -> Result<()> {
        if let Some(u) = &self.public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(Error::Invalid(format!(
                "web.public_url {u:?} must start with https:// (or http://)"
            )));
        }
        if self.session_idle_minutes == 0 || self.session_hours == 0 {
            return Err(Error::Invalid(
                "web.session_idle_minutes and web.session_hours must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One API key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Who holds it; shown in audit trails and logs (the key never is).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The secret.
    pub key: String,
    /// For a handler or supervisor: the departments whose cases it works (`*`: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("key", &"***")
            .finish()
    }
}

/// Limits on requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, in bytes (the batch endpoint allows `max_batch` times this, up
    /// to 64 MiB).
    pub body_bytes: usize,
    /// Longest complaint text, in characters.
    pub text_chars: usize,
    /// Most cases in one batch.
    pub max_batch: usize,
    /// Seconds before a request is answered 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Requests running the model at once.
    pub inference_concurrency: usize,
    /// Requests that may wait for a model slot; past this, 503 with `Retry-After`.
    pub inference_queue: usize,
    /// Seconds a `received_at` or `occurred_at` may be ahead of this server's clock.
    pub received_at_max_future_secs: u64,
    /// The earliest `received_at` or `occurred_at` accepted (RFC 3339).
    pub received_at_earliest: jiff::Timestamp,
    /// Seconds requests may still run after SIGTERM before the server stops anyway.
    pub shutdown_grace_secs: u64,
    /// Most cases one CSV export over the API selects (it is streamed; past it, 422).
    pub export_rows: u64,
    /// Most cases one xlsx export selects (it is built in memory; past it, 422).
    pub export_xlsx_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 256 * 1024,
            text_chars: 50_000,
            max_batch: 1000,
            request_timeout_secs: 30,
            inference_concurrency: 4,
            inference_queue: 64,
            received_at_max_future_secs: IntakeLimits::default().max_future.as_secs() as u64,
            received_at_earliest: IntakeLimits::default().earliest,
            shutdown_grace_secs: 10,
            export_rows: ExportLimits::default().csv_rows,
            export_xlsx_rows: ExportLimits::default().xlsx_rows,
        }
    }
}

impl Limits {
    /// The intake limits these imply.
    pub fn intake(&self) -> IntakeLimits {
        IntakeLimits {
            max_text_chars: self.text_chars,
            max_future: jiff::SignedDuration::from_secs(
                i64::try_from(self.received_at_max_future_secs).unwrap_or(i64::MAX),
            ),
            earliest: self.received_at_earliest,
            ..IntakeLimits::default()
        }
    }

    /// The export limits these imply.
    pub fn export(&self) -> ExportLimits {
        ExportLimits {
            csv_rows: self.export_rows,
            xlsx_rows: self.export_xlsx_rows,
        }
    }
}

/// Checks a key's or user's departments suit its role.
fn check_scope(what: &str, name: &str, role: Role, departments: &[String]) -> Result<()> {
    if role.is_scoped() && departments.is_empty() {
        return Err(Error::Invalid(format!(
            "{what} {name:?} is a {role}: give the departments whose cases it works (`*` for all)"
        )));
    }
    if !role.is_scoped() && !departments.is_empty() {
        return Err(Error::Invalid(format!(
            "{what} {name:?} is a {role}, which works every department: leave `departments` out"
        )));
    }
    Ok(())
}

/// Most clock skew `limits.received_at_max_future_secs` may allow: a day.
const MAX_FUTURE_SECS_LIMIT: u64 = 86_400;

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
        let mut names = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for k in &self.api_keys {
            if k.key.len() < 16 {
                return Err(Error::Invalid(format!(
                    "API key {:?} is shorter than 16 characters: use a long random key",
                    k.name
                )));
            }
            check_scope("API key", &k.name, k.role, &k.departments)?;
            if !names.insert(&k.name) || !keys.insert(&k.key) {
                return Err(Error::Invalid(format!(
                    "API key {:?} is listed twice (names and keys must be unique)",
                    k.name
                )));
            }
        }
        for u in &self.users {
            check_scope("user", &u.name, u.role, &u.departments)?;
            if u.name.trim().is_empty() || u.name.chars().count() > 64 {
                return Err(Error::Invalid(format!(
                    "user {:?}: a name is 1 to 64 characters",
                    u.name
                )));
            }
            if argon2::password_hash::phc::PasswordHash::new(&u.password_hash).is_err() {
                return Err(Error::Invalid(format!(
                    "user {:?}: password_hash is not an Argon2 PHC string: make one with `tousu hash-password`",
                    u.name
                )));
            }
            // Audit trails, assignees and `mine` know people by name: one name, one person.
            if !names.insert(&u.name) {
                return Err(Error::Invalid(format!(
                    "user {:?} is listed twice, or shares its name with an API key",
                    u.name
                )));
            }
        }
        self.web.validate()?;
        let l = &self.limits;
        if l.received_at_max_future_secs > MAX_FUTURE_SECS_LIMIT {
            return Err(Error::Invalid(format!(
                "limits.received_at_max_future_secs is {}: at most {MAX_FUTURE_SECS_LIMIT} (a day) — a complaint is not received in the future",
                l.received_at_max_future_secs
            )));
        }
        if l.export_rows == 0 || !(1..=MAX_SHEET_ROWS).contains(&l.export_xlsx_rows) {
            return Err(Error::Invalid(format!(
                "limits.export_rows must be positive and limits.export_xlsx_rows from 1 to {MAX_SHEET_ROWS} (a sheet's rows)"
            )));
        }
        if l.inference_concurrency == 0 || l.max_batch == 0 || l.request_timeout_secs == 0 {
            return Err(Error::Invalid(
                "limits.inference_concurrency, max_batch and request_timeout_secs must be positive"
                    .into(),
            ));
        }
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
            without_trends: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
