//! The handling process as a profile writes it (`[process]`): which actions exist, from which
//! statuses, for which roles; the root causes a closed case is given; the amount above which a
//! remedy needs a supervisor; when a case may be closed abnormally.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::domain::{Action, Role, Status};
use crate::error::{Error, Result};

/// One action as written: the statuses it is taken from, and the roles that take it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    from: Vec<Status>,
    roles: Vec<Role>,
}

/// When a case may be closed abnormally for want of reaching the complainant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unreachable {
    /// Failed call-backs needed…
    pub failed_contacts: u32,
    /// …within this many days.
    pub within_days: u32,
}

/// The `[process]` section of a profile, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    actions: BTreeMap<Action, ActionSpec>,
    #[serde(default)]
    root_causes: Vec<String>,
    #[serde(default)]
    remedy_approval_amount: Option<f64>,
    #[serde(default)]
    unreachable: Option<Unreachable>,
}

/// A validated process.
#[derive(Debug, Clone)]
pub struct Process {
    actions: BTreeMap<Action, (BTreeSet<Status>, BTreeSet<Role>)>,
    root_causes: Vec<String>,
    remedy_approval_amount: Option<f64>,
    unreachable: Unreachable,
}

/// By default a case may be closed abnormally after three failed call-backs within a month
/// (as grading policies write it).
const UNREACHABLE: Unreachable = Unreachable {
    failed_contacts: 3,
    within_days: 30,
};

impl Process {
    /// Validates a process section: an action is never taken from a status it could not be in
    /// (a closed case, or the status the action itself leads to where that makes no sense).
    pub fn from_spec(spec: ProcessSpec) -> Result<Self> {
        let mut actions = BTreeMap::new();
        for (action, a) in spec.actions {
            if a.from.is_empty() || a.roles.is_empty() {
                return Err(Error::Invalid(format!(
                    "process.actions.{action}: give the statuses it is taken from and the roles that take it"
                )));
            }
            if let Some(s) = a.from.iter().find(|s| !s.is_open()) {
                return Err(Error::Invalid(format!(
                    "process.actions.{action}: a {s} case is done; no action is taken from it"
                )));
            }
            if action == Action::Resume && a.from != [Status::Suspended] {
                return Err(Error::Invalid(
                    "process.actions.resume is taken from suspended only".into(),
                ));
            }
            if action == Action::Suspend && a.from.contains(&Status::Suspended) {
                return Err(Error::Invalid(
                    "process.actions.suspend: a suspended case is suspended already".into(),
                ));
            }
            actions.insert(
                action,
                (a.from.into_iter().collect(), a.roles.into_iter().collect()),
            );
        }
        if actions.contains_key(&Action::Suspend) != actions.contains_key(&Action::Resume) {
            return Err(Error::Invalid(
                "process.actions: suspend and resume come together".into(),
            ));
        }
        let extension = [
            Action::RequestExtension,
            Action::GrantExtension,
            Action::RefuseExtension,
        ];
        let n = extension.iter().filter(|a| actions.contains_key(a)).count();
        if n != 0 && n != extension.len() {
            return Err(Error::Invalid(
                "process.actions: request_extension, grant_extension and refuse_extension come together"
                    .into(),
            ));
        }
        if let Some(c) = spec.root_causes.iter().find(|c| c.trim().is_empty()) {
            return Err(Error::Invalid(format!(
                "process.root_causes has an empty entry ({c:?})"
            )));
        }
        if spec
            .remedy_approval_amount
            .is_some_and(|a| !(a.is_finite() && a >= 0.0))
        {
            return Err(Error::Invalid(
                "process.remedy_approval_amount is an amount in yuan, 0 or more".into(),
            ));
        }
        let unreachable = spec.unreachable.unwrap_or(UNREACHABLE);
        if unreachable.failed_contacts == 0 || unreachable.within_days == 0 {
            return Err(Error::Invalid(
                "process.unreachable needs at least one failed call-back within at least a day"
                    .into(),
            ));
        }
        Ok(Process {
            actions,
            root_causes: spec.root_causes,
            remedy_approval_amount: spec.remedy_approval_amount,
            unreachable,
        })
    }

    /// The process of a profile that writes none: intake only; every case stays triaged.
    pub fn none() -> Self {
        Process {
            actions: BTreeMap::new(),
            root_causes: Vec::new(),
            remedy_approval_amount: None,
            unreachable: UNREACHABLE,
        }
    }

    /// Whether the process has `action` at all.
    pub fn has(&self, action: Action) -> bool {
        self.actions.contains_key(&action)
    }

    /// Whether `role` may take `action` on a case in `status` (an admin may take any action
    /// the process has).
    pub fn allows(&self, action: Action, status: Status, role: Role) -> bool {
        self.actions.get(&action).is_some_and(|(from, roles)| {
            from.contains(&status) && (role == Role::Admin || roles.contains(&role))
        })
    }

    /// The actions `role` may take on a case in `status`, in process order.
    pub fn next(&self, status: Status, role: Role) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.allows(*a, status, role))
            .collect()
    }

    /// The root causes a closed case may be given (none: any text).
    pub fn root_causes(&self) -> &[String] {
        &self.root_causes
    }

    /// The amount (yuan) above which a remedy needs a supervisor's approval.
    pub fn remedy_approval_amount(&self) -> Option<f64> {
        self.remedy_approval_amount
    }

    /// When a case may be closed abnormally for want of reaching the complainant.
    pub fn unreachable(&self) -> Unreachable {
        self.unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const PROCESS: &str = r#"
        root_causes = ["企业责任", "用户原因"]
        remedy_approval_amount = 500
        [actions]
        assign = { from = ["triaged", "returned"], roles = ["supervisor"] }
        accept = { from = ["assigned"], roles = ["handler", "supervisor"] }
        return = { from = ["assigned", "handling"], roles = ["handler", "supervisor"] }
        reply = { from = ["handling"], roles = ["handler", "supervisor"] }
        follow_up = { from = ["replied"], roles = ["handler", "supervisor"] }
        close = { from = ["followed_up"], roles = ["handler", "supervisor"] }
        reopen = { from = ["followed_up"], roles = ["supervisor"] }
        suspend = { from = ["assigned", "handling"], roles = ["handler", "supervisor"] }
        resume = { from = ["suspended"], roles = ["handler", "supervisor"] }
    "#;

    fn process(text: &str) -> Result<Process> {
        Process::from_spec(toml::from_str(text).map_err(|e| Error::Invalid(e.to_string()))?)
    }

    #[test]
    fn says_what_each_role_may_do_next() {
        let p = process(PROCESS).unwrap();
        assert_eq!(
            p.next(Status::Triaged, Role::Supervisor),
            vec![Action::Assign]
        );
        assert!(p.next(Status::Triaged, Role::Handler).is_empty());
        assert_eq!(
            p.next(Status::Handling, Role::Handler),
            vec![Action::Return, Action::Reply, Action::Suspend]
        );
        assert_eq!(
            p.next(Status::FollowedUp, Role::Supervisor),
            vec![Action::Close, Action::Reopen]
        );
        assert!(p.allows(Action::Reopen, Status::FollowedUp, Role::Admin));
        assert!(!p.allows(Action::Reopen, Status::FollowedUp, Role::Analyst));
        assert!(p.next(Status::Closed, Role::Admin).is_empty());
    }

    #[test]
    fn bad_processes_say_what_is_wrong() {
        let from_closed = "[actions]\nassign = { from = [\"closed\"], roles = [\"supervisor\"] }";
        assert!(
            process(from_closed)
                .unwrap_err()
                .to_string()
                .contains("done")
        );
        let half = "[actions]\nsuspend = { from = [\"handling\"], roles = [\"handler\"] }";
        assert!(process(half).unwrap_err().to_string().contains("together"));
        let typo = "[actions]\nassing = { from = [\"triaged\"], roles = [\"handler\"] }";
        assert!(process(typo).is_err());
        let nobody = "[actions]\nassign = { from = [\"triaged\"], roles = [] }";
        assert!(process(nobody).is_err());
    }
}
