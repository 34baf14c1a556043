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

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Triage and create cases.
    Intake,
    /// Read, search, patch, export.
    Analyse,
    /// Keys, re-indexing.
    Administer,
}

impl Permission {
    fn allowed(self, role: Role) -> bool {
        match self {
            Permission::Intake => matches!(role, Role::Intake | Role::Admin),
            Permission::Analyse => matches!(role, Role::Analyst | Role::Admin),
            Permission::Administer => role == Role::Admin,
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Permission::Intake => "intake",
            Permission::Analyse => "analyst",
            Permission::Administer => "admin",
        }
    }
}

/// The configured keys, by hash.
#[derive(Debug, Default)]
pub struct KeyRing {
    by_hash: HashMap<[u8; 32], (String, Role)>,
}

impl KeyRing {
    /// The ring of `keys`.
    pub fn new(keys: &[ApiKey]) -> Self {
        KeyRing {
            by_hash: keys
                .iter()
                .map(|k| (hash(&k.key), (k.name.clone(), k.role)))
                .collect(),
        }
    }

    /// Whether no key is configured (then the service is open, on loopback only).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The names and roles of the keys (for admins; never the keys).
    pub fn list(&self) -> Vec<(String, Role)> {
        let mut v: Vec<_> = self.by_hash.values().cloned().collect();
        v.sort();
        v
    }

    fn identify(&self, headers: &HeaderMap) -> Option<(String, Role)> {
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
}

impl Caller {
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
            });
        }
        let (name, role) = state
            .keys
            .identify(&parts.headers)
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Caller { name, role })
    }
}
