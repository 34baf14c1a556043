//! Who may act: API keys and workbench users, each with a role and, for handlers and
//! supervisors, the departments whose cases they work.

use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::{Error, Result};

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

/// Checks the keys and users: long random keys, scopes that suit the role, valid password
/// hashes, and one name for one person.
pub(super) fn validate_people(api_keys: &[ApiKey], users: &[User]) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    let mut keys = std::collections::HashSet::new();
    for k in api_keys {
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
    for u in users {
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
    Ok(())
}
