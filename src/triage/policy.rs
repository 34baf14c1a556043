//! A profile's handling policy: how many working days each grade gets to confirm, reply to and
//! close a case (SLA), and where a case goes (tier by grade, department by category). Written
//! in `data/profiles/<profile>.toml`; deadlines are counted on the [`WorkCalendar`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::calendar::{Deadline, WorkCalendar};
use crate::domain::Grade;
use crate::error::{Error, Result};

/// Working days allowed for each step of handling one grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlaDays {
    /// 受理确认: tell the complainant the case was accepted.
    pub confirm: u32,
    /// 答复: a substantive reply.
    pub reply: u32,
    /// 办结: the case closed.
    pub close: u32,
}

/// The `[policy]` section of a profile, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// SLA per grade (一般, 严重, 重大); every grade must be present.
    sla: BTreeMap<Grade, SlaDays>,
    /// Handling tier per grade (e.g. 一线 / 二线 / 专班); every grade must be present.
    tiers: BTreeMap<Grade, String>,
    /// Department per category; categories not listed go to `default_department`.
    #[serde(default)]
    departments: BTreeMap<String, String>,
    /// Where a category without a listed department goes.
    default_department: String,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    sla: BTreeMap<Grade, SlaDays>,
    tiers: BTreeMap<Grade, String>,
    departments: BTreeMap<String, String>,
    default_department: String,
}

/// Where a case goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routing {
    /// Handling tier, from the grade.
    pub tier: String,
    /// Department, from the category.
    pub department: String,
}

/// The three deadlines of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sla {
    /// When the case was received (the count starts the next day).
    pub received_at: Timestamp,
    /// 受理确认 deadline.
    pub confirm: Deadline,
    /// 答复 deadline.
    pub reply: Deadline,
    /// 办结 deadline.
    pub close: Deadline,
}

impl Policy {
    /// Validates a policy section: every grade has an SLA and a tier, and the steps are in
    /// order (confirm ≤ reply ≤ close) and no laxer for a higher grade.
    pub fn from_spec(spec: PolicySpec) -> Result<Self> {
        let mut previous: Option<(Grade, SlaDays)> = None;
        for g in Grade::ALL {
            let days = *spec
                .sla
                .get(&g)
                .ok_or_else(|| Error::Invalid(format!("policy.sla has no entry for grade {g}")))?;
            if days.close > 365 {
                return Err(Error::Invalid(format!(
                    "policy.sla.{g}.close is {} working days: more than a year is surely a typo",
                    days.close
                )));
            }
            if !(days.confirm <= days.reply && days.reply <= days.close) {
                return Err(Error::Invalid(format!(
                    "policy.sla.{g}: need confirm ≤ reply ≤ close, got {} / {} / {}",
                    days.confirm, days.reply, days.close
                )));
            }
            if let Some((lower, d)) = previous
                && (days.confirm > d.confirm || days.reply > d.reply || days.close > d.close)
            {
                return Err(Error::Invalid(format!(
                    "policy.sla.{g} allows more days than {lower}: a higher grade must not wait longer"
                )));
            }
            if spec.tiers.get(&g).is_none_or(|t| t.trim().is_empty()) {
                return Err(Error::Invalid(format!(
                    "policy.tiers needs a non-empty tier for grade {g}"
                )));
            }
            previous = Some((g, days));
        }
        if let Some((c, _)) = spec.departments.iter().find(|(_, d)| d.trim().is_empty()) {
            return Err(Error::Invalid(format!(
                "policy.departments.{c} must name a department"
            )));
        }
        if spec.default_department.trim().is_empty() {
            return Err(Error::Invalid(
                "policy.default_department must name a department".into(),
            ));
        }
        Ok(Policy {
            sla: spec.sla,
            tiers: spec.tiers,
            departments: spec.departments,
            default_department: spec.default_department,
        })
    }

    /// Catches a misspelt category: fails when the policy routes a category the model does not
    /// have while one of the model's categories is left to the default department. (A policy
    /// that routes more categories than a model knows, or a model with categories the policy
    /// leaves to the default, is fine on its own.)
    pub fn check_categories(&self, categories: &[String]) -> Result<()> {
        let unknown: Vec<&str> = self
            .routed_categories()
            .filter(|c| !categories.iter().any(|k| k == c))
            .collect();
        let unrouted: Vec<&str> = categories
            .iter()
            .map(String::as_str)
            .filter(|c| !self.departments.contains_key(*c))
            .collect();
        if unknown.is_empty() || unrouted.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "policy.departments routes {}, which the model does not have, while the model's \
                 {} would go to the default department: is a category misspelt?",
                unknown.join(", "),
                unrouted.join(", ")
            )))
        }
    }

    /// The categories the policy routes explicitly.
    pub fn routed_categories(&self) -> impl Iterator<Item = &str> {
        self.departments.keys().map(String::as_str)
    }

    /// Tier and department for a case of `grade` and `category` (if known).
    pub fn route(&self, grade: Grade, category: Option<&str>) -> Routing {
        Routing {
            tier: self.tiers[&grade].clone(),
            department: category
                .and_then(|c| self.departments.get(c))
                .unwrap_or(&self.default_department)
                .clone(),
        }
    }

    /// The deadlines of a case of `grade` received at `received_at`.
    pub fn sla(
        &self,
        calendar: &WorkCalendar,
        grade: Grade,
        received_at: Timestamp,
    ) -> Result<Sla> {
        let days = self.sla[&grade];
        Ok(Sla {
            received_at,
            confirm: calendar.deadline(received_at, days.confirm)?,
            reply: calendar.deadline(received_at, days.reply)?,
            close: calendar.deadline(received_at, days.close)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<Policy> {
        Policy::from_spec(toml::from_str(text).map_err(|e| Error::Invalid(e.to_string()))?)
    }

    const GOOD: &str = r#"
        default_department = "客服中心"
        sla = { "一般" = { confirm = 1, reply = 5, close = 15 }, "严重" = { confirm = 1, reply = 3, close = 10 }, "重大" = { confirm = 0, reply = 1, close = 5 } }
        tiers = { "一般" = "一线", "严重" = "二线", "重大" = "专班" }
        departments = { "网络问题" = "网络运维中心" }
    "#;

    #[test]
    fn routes_by_grade_and_category() {
        let p = spec(GOOD).unwrap();
        let r = p.route(Grade::Major, Some("网络问题"));
        assert_eq!(
            (r.tier.as_str(), r.department.as_str()),
            ("专班", "网络运维中心")
        );
        let r = p.route(Grade::General, Some("未列出"));
        assert_eq!(
            (r.tier.as_str(), r.department.as_str()),
            ("一线", "客服中心")
        );
    }

    #[test]
    fn deadlines_follow_the_grade() {
        let p = spec(GOOD).unwrap();
        let cal = WorkCalendar::builtin().unwrap();
        // Mon 2 Mar 2026, 10:00 Beijing.
        let t: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let s = p.sla(&cal, Grade::Major, t).unwrap();
        assert_eq!(s.confirm.due_date.to_string(), "2026-03-02");
        assert_eq!(s.reply.due_date.to_string(), "2026-03-03");
        assert_eq!(s.close.due_date.to_string(), "2026-03-09");
        let s = p.sla(&cal, Grade::General, t).unwrap();
        assert_eq!(s.close.due_date.to_string(), "2026-03-23");
    }

    #[test]
    fn bad_policies_say_what_is_wrong() {
        let missing = GOOD.replace(r#", "重大" = { confirm = 0, reply = 1, close = 5 }"#, "");
        assert!(spec(&missing).unwrap_err().to_string().contains("重大"));
        let laxer = GOOD.replace("close = 5 }", "close = 30 }");
        let e = spec(&laxer).unwrap_err().to_string();
        assert!(e.contains("higher grade"), "{e}");
        let p = spec(GOOD).unwrap();
        let typo = p
            .check_categories(&["网络".into()])
            .unwrap_err()
            .to_string();
        assert!(
            typo.contains("网络问题") && typo.contains("misspelt"),
            "{typo}"
        );
        p.check_categories(&["网络问题".into(), "费用问题".into()])
            .unwrap();
        let empty_tier = GOOD.replace(r#""二线""#, r#""""#);
        assert!(spec(&empty_tier).unwrap_err().to_string().contains("严重"));
        let unordered = GOOD.replace(
            "confirm = 1, reply = 5, close = 15",
            "confirm = 6, reply = 5, close = 15",
        );
        assert!(
            spec(&unordered)
                .unwrap_err()
                .to_string()
                .contains("confirm ≤ reply")
        );
    }
}
