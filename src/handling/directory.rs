//! Where a case may be sent: the departments and handlers an `assign` step may name.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::Role;
use crate::error::{Error, Result};
use crate::handling::Policy;

/// The departments and handlers a case can be sent to.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    departments: BTreeSet<String>,
    /// Handler name → their departments (`*`: all).
    handlers: BTreeMap<String, Vec<String>>,
}

impl Directory {
    /// The departments of `policy`, and `people`: names with their roles and departments
    /// (handlers and supervisors can be assigned cases; their departments are known too).
    pub fn new<'a>(
        policy: Option<&Policy>,
        people: impl IntoIterator<Item = (&'a str, Role, &'a [String])>,
    ) -> Self {
        let mut d = Directory::default();
        if let Some(p) = policy {
            d.departments
                .extend(p.departments().into_iter().map(str::to_string));
        }
        for (name, role, departments) in people {
            if role.is_scoped() {
                d.departments
                    .extend(departments.iter().filter(|x| *x != "*").cloned());
                d.handlers.insert(name.to_string(), departments.to_vec());
            }
        }
        d
    }

    /// Every known department, sorted.
    pub fn departments(&self) -> impl Iterator<Item = &str> {
        self.departments.iter().map(String::as_str)
    }

    /// Every handler (or supervisor) and their departments.
    pub fn handlers(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.handlers
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
    }

    /// Refuses (naming `field`) a department the service does not know.
    pub fn check_department(&self, field: &str, department: &str) -> Result<()> {
        if self.knows_department(department) {
            return Ok(());
        }
        let known: Vec<&str> = self.departments().collect();
        Err(Error::Invalid(format!(
            "`{field}` {:?} is not a department this service knows; GET /v1/directory lists them: {}",
            crate::error::cut(department),
            known.join(", ")
        )))
    }

    /// Refuses (naming `field`) a handler the service does not know, or who does not work for
    /// `department`.
    pub fn check_handler(&self, field: &str, handler: &str, department: &str) -> Result<()> {
        match self.works_for(handler, department) {
            Some(true) => Ok(()),
            Some(false) => Err(Error::Invalid(format!(
                "`{field}` {:?} does not work for {department}; GET /v1/directory lists who does",
                crate::error::cut(handler)
            ))),
            None => Err(Error::Invalid(format!(
                "`{field}` {:?} is not a handler this service knows; GET /v1/directory lists them",
                crate::error::cut(handler)
            ))),
        }
    }

    /// Whether `d` is a known department.
    pub fn knows_department(&self, d: &str) -> bool {
        self.departments.contains(d)
    }

    /// Whether `handler` works for `department` (`None`: no such handler).
    pub fn works_for(&self, handler: &str, department: &str) -> Option<bool> {
        self.handlers
            .get(handler)
            .map(|ds| ds.iter().any(|d| d == "*" || d == department))
    }
}
