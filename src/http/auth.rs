//! API keys with roles. Keys are compared by their SHA-256 (no key is kept in a form a timing
//! difference could leak) and never logged: callers are known by the key's name.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::config::{ApiKey, Role};
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

/// The configured keys, by hash.
#[derive(Debug, Default)]
pub struct KeyRing {
    by_hash: HashMap<[u8; 32], Caller>,
}

impl KeyRing {
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
        }
    }

    /// Whether no key is configured (then the service is open, on loopback only).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The names and roles of the keys (for admins; never the keys).
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
        state
            .keys
            .identify(&parts.headers)
            .ok_or_else(ApiError::unauthorized)
    }
}
