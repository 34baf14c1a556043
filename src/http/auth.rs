//! API keys with roles. Keys are compared by their SHA-256 (no key is kept in a form a timing
//! difference could leak) and never logged: callers are known by the key's name.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use super::session::check_write;
use crate::config::{ApiKey, Role, User};
use crate::handling::Actor;

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Triage and create cases.
    Intake,
    /// Read and search cases (handlers and supervisors within their departments).
    Read,
    /// Take the steps of the process, record notes and call-backs (which steps, the
    /// profile's process says).
    Handle,
    /// Read a complainant's contact to call back (an audited reveal): handlers and supervisors
    /// only, never the other roles.
    Reveal,
    /// Trends, topics, alerts, corrections: the analysts' work.
    Analyse,
    /// Keys, re-indexing.
    Administer,
}

impl Permission {
    fn allowed(self, role: Role) -> bool {
        match self {
            Permission::Intake => matches!(role, Role::Intake | Role::Admin),
            Permission::Read => matches!(
                role,
                Role::Handler | Role::Supervisor | Role::Analyst | Role::Admin
            ),
            Permission::Handle => matches!(
                role,
                Role::Intake | Role::Handler | Role::Supervisor | Role::Admin
            ),
            Permission::Reveal => matches!(role, Role::Handler | Role::Supervisor),
            Permission::Analyse => {
                matches!(role, Role::Analyst | Role::Supervisor | Role::Admin)
            }
            Permission::Administer => role == Role::Admin,
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Permission::Intake => "intake",
            Permission::Read => "handler, supervisor or analyst",
            Permission::Handle | Permission::Reveal => "handler or supervisor",
            Permission::Analyse => "analyst or supervisor",
            Permission::Administer => "admin",
        }
    }
}

/// The configured keys, by hash, and the users who sign in with a password.
#[derive(Debug, Default)]
pub struct KeyRing {
    by_hash: HashMap<[u8; 32], Caller>,
    users: HashMap<String, (Caller, String)>,
    /// A hash checked when the name is unknown, so that a wrong name takes as long as a
    /// wrong password.
    decoy: Option<String>,
}

impl KeyRing {
    /// The ring of `keys` and `users`.
    pub fn with_users(keys: &[ApiKey], users: &[User]) -> Self {
        let mut ring = Self::new(keys);
        ring.users = users
            .iter()
            .map(|u| {
                let caller = Caller {
                    name: u.name.clone(),
                    role: u.role,
                    departments: u.departments.clone(),
                };
                (u.name.clone(), (caller, u.password_hash.clone()))
            })
            .collect();
        ring.decoy = users.first().map(|u| u.password_hash.clone());
        ring
    }

    /// The caller `key` stands for.
    pub fn caller_of_key(&self, key: &str) -> Option<Caller> {
        self.by_hash.get(&hash(key.trim())).cloned()
    }

    /// The user `name` if `password` is theirs (blocking: an Argon2 verification, tens of
    /// milliseconds).
    pub fn check_password(&self, name: &str, password: &str) -> Option<Caller> {
        use argon2::password_hash::PasswordVerifier;
        use argon2::password_hash::phc::PasswordHash;
        let (caller, stored) = match self.users.get(name) {
            Some((caller, stored)) => (Some(caller), stored),
            None => (None, self.decoy.as_ref()?),
        };
        let parsed = PasswordHash::new(stored).ok()?;
        let ok = argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        caller.filter(|_| ok).cloned()
    }

    /// Whether anyone signs in with a password.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// The ring of `keys`.
    pub fn new(keys: &[ApiKey]) -> Self {
        KeyRing {
            by_hash: keys
                .iter()
                .map(|k| {
                    (
                        hash(&k.key),
                        Caller {
                            name: k.name.clone(),
                            role: k.role,
                            departments: k.departments.clone(),
                        },
                    )
                })
                .collect(),
            users: HashMap::new(),
            decoy: None,
        }
    }

    /// Whether no key and no user is configured (then the service is open, on loopback
    /// only).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty() && self.users.is_empty()
    }

    /// The names and roles of the keys (for admins; never the keys; users are not keys).
    pub fn list(&self) -> Vec<(String, Role, Vec<String>)> {
        let mut v: Vec<_> = self
            .by_hash
            .values()
            .map(|c| (c.name.clone(), c.role, c.departments.clone()))
            .collect();
        v.sort();
        v
    }

    fn identify(&self, headers: &HeaderMap) -> Option<Caller> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))?;
        self.by_hash.get(&hash(presented.trim())).cloned()
    }
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name (`local` when no keys are configured).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For a handler or supervisor: its departments.
    pub departments: Vec<String>,
}

impl Caller {
    /// The caller as the service knows an actor.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role,
            departments: self.departments.clone(),
        }
    }

    /// Checks the caller is held to no departments: for views across all of them (trends,
    /// topics), which a supervisor of some departments may not read.
    pub fn require_every_department(&self) -> Result<(), ApiError> {
        if self.actor().scope().is_none() {
            Ok(())
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "trends and topics cover every department: they need an analyst key, or a \
                 supervisor of all departments (`*`)",
            ))
        }
    }

    /// Checks the caller may do what `p` covers.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if p.allowed(self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role.name(), p.needs()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.keys.is_empty() {
            return Ok(Caller {
                name: "local".into(),
                role: Role::Admin,
                departments: Vec::new(),
            });
        }
        // A key in the header first: other programs, and the tests, send one.
        if let Some(caller) = state.keys.identify(&parts.headers) {
            return Ok(caller);
        }
        // Then a browser's session, whose writes must carry its CSRF token.
        if let Some(found) = state.sessions.find(&parts.headers) {
            check_write(&parts.method, &parts.headers, &found)?;
            return Ok(found.caller);
        }
        Err(ApiError::unauthorized())
    }
}
