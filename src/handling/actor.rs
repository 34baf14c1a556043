//! Who acts on a case: a user's or key's name, role and departments.

use crate::domain::Role;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's or key's name (recorded).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// For a handler or supervisor: the departments whose cases they work (`*`: all).
    pub departments: Vec<String>,
}

impl Actor {
    /// An actor of a role that works every department.
    pub fn new(name: impl Into<String>, role: Role) -> Self {
        Actor {
            name: name.into(),
            role,
            departments: if role.is_scoped() {
                vec!["*".into()]
            } else {
                Vec::new()
            },
        }
    }

    /// Whether the actor may see and act on cases of `department`: every role that is not
    /// scoped to departments may; a handler or supervisor only within theirs.
    pub fn works_on(&self, department: Option<&str>) -> bool {
        !self.role.is_scoped()
            || self
                .departments
                .iter()
                .any(|d| d == "*" || Some(d.as_str()) == department)
    }

    /// The departments the actor is held to, or `None` for all.
    pub fn scope(&self) -> Option<&[String]> {
        (self.role.is_scoped() && !self.departments.iter().any(|d| d == "*"))
            .then_some(self.departments.as_slice())
    }
}
