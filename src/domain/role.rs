//! Who may do what: the roles of the people and systems that use tousu.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user or an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Intake systems and hotline agents: triage and create cases.
    Intake,
    /// 承办人: works the cases of their department(s).
    Handler,
    /// 督办, 派单: dispatches, approves extensions and remedies, reopens; within their
    /// department(s) (`*`: all).
    Supervisor,
    /// Analysts: read, search, correct predictions, export, reports; every department.
    Analyst,
    /// Administrators: everything, and keys and re-indexing.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Intake,
        Role::Handler,
        Role::Supervisor,
        Role::Analyst,
        Role::Admin,
    ];

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    /// Whether the role works within departments (sees and acts on their cases only).
    pub fn is_scoped(self) -> bool {
        matches!(self, Role::Handler | Role::Supervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
