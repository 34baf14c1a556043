//! A profile's handling policy: where a case goes (tier by grade, department by category) and
//! how long each step may take (per grade, and per category where a category needs its own:
//! refunds, say), counted on the [`WorkCalendar`] within the working hours. Written in
//! `[policy]` of `data/profiles/<profile>.toml`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::calendar::{WorkCalendar, WorkingHours};
use crate::domain::{Deadline, Grade, Limit, Step};
use crate::error::{Error, Result};

/// The time each step may take, for one grade. A bare number is working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepLimits {
    /// 签收 / 受理确认, counted from receipt.
    pub confirm: Limit,
    /// 答复, counted from receipt.
    pub reply: Limit,
    /// 办结, counted from receipt.
    pub close: Limit,
    /// 回访, counted from the reply; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Limit>,
}

/// Limits a category sets for itself; a step it leaves out keeps its grade's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryLimits {
    /// 签收.
    #[serde(default)]
    pub confirm: Option<Limit>,
    /// 答复.
    #[serde(default)]
    pub reply: Option<Limit>,
    /// 办结.
    #[serde(default)]
    pub close: Option<Limit>,
    /// 回访.
    #[serde(default)]
    pub follow_up: Option<Limit>,
}

/// The `[policy]` section of a profile, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Time limits per grade (一般, 严重, 重大); every grade must be present.
    sla: BTreeMap<Grade, StepLimits>,
    /// Time limits a category sets for itself (a refund: 15 working days to close).
    #[serde(default)]
    sla_by_category: BTreeMap<String, CategoryLimits>,
    /// The working hours of a working day, `"HH:MM-HH:MM"` spans in Beijing time (default
    /// 09:00–12:00 and 13:30–17:30).
    #[serde(default)]
    working_hours: Option<Vec<String>>,
    /// A running deadline is "due soon" once this share of its time is used (default 0.8).
    #[serde(default)]
    due_soon_share: Option<f64>,
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
    sla: BTreeMap<Grade, StepLimits>,
    sla_by_category: BTreeMap<String, CategoryLimits>,
    working_hours: WorkingHours,
    due_soon_share: f64,
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

/// Default share of a deadline's time after which it is due soon.
const DUE_SOON_SHARE: f64 = 0.8;

impl Policy {
    /// Validates a policy section: every grade has limits and a tier, a step never has longer
    /// than the step after it, and a higher grade never longer than a lower one (where the two
    /// are in the same unit: hours against days needs a calendar, and is not compared).
    pub fn from_spec(spec: PolicySpec) -> Result<Self> {
        let mut previous: Option<(Grade, StepLimits)> = None;
        for g in Grade::ALL {
            let l = *spec
                .sla
                .get(&g)
                .ok_or_else(|| Error::Invalid(format!("policy.sla has no entry for grade {g}")))?;
            if longer(l.confirm, l.reply) || longer(l.reply, l.close) {
                return Err(Error::Invalid(format!(
                    "policy.sla.{g}: need confirm ≤ reply ≤ close, got {} / {} / {}",
                    l.confirm, l.reply, l.close
                )));
            }
            if let Some((lower, p)) = previous
                && (longer(l.confirm, p.confirm)
                    || longer(l.reply, p.reply)
                    || longer(l.close, p.close))
            {
                return Err(Error::Invalid(format!(
                    "policy.sla.{g} allows more time than {lower}: a higher grade must not wait longer"
                )));
            }
            if spec.tiers.get(&g).is_none_or(|t| t.trim().is_empty()) {
                return Err(Error::Invalid(format!(
                    "policy.tiers needs a non-empty tier for grade {g}"
                )));
            }
            previous = Some((g, l));
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
        let working_hours = match &spec.working_hours {
            Some(spans) => WorkingHours::parse(spans)
                .map_err(|e| Error::Invalid(format!("policy.working_hours: {e}")))?,
            None => WorkingHours::default(),
        };
        let due_soon_share = spec.due_soon_share.unwrap_or(DUE_SOON_SHARE);
        if !(due_soon_share > 0.0 && due_soon_share < 1.0) {
            return Err(Error::Invalid(format!(
                "policy.due_soon_share is {due_soon_share}: a share between 0 and 1, e.g. 0.8"
            )));
        }
        Ok(Policy {
            sla: spec.sla,
            sla_by_category: spec.sla_by_category,
            working_hours,
            due_soon_share,
            tiers: spec.tiers,
            departments: spec.departments,
            default_department: spec.default_department,
        })
    }

    /// Catches a misspelt category: fails when the policy routes (or times) a category the
    /// model does not have while one of the model's categories is left to the default
    /// department. (A policy that routes more categories than a model knows, or a model with
    /// categories the policy leaves to the default, is fine on its own.)
    pub fn check_categories(&self, categories: &[String]) -> Result<()> {
        let unknown: Vec<&str> = self
            .routed_categories()
            .chain(self.sla_by_category.keys().map(String::as_str))
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
                "policy.departments (or sla_by_category) names {}, which the model does not \
                 have, while the model's {} would go to the default department: is a category \
                 misspelt?",
                unknown.join(", "),
                unrouted.join(", ")
            )))
        }
    }

    /// The categories the policy routes explicitly.
    pub fn routed_categories(&self) -> impl Iterator<Item = &str> {
        self.departments.keys().map(String::as_str)
    }

    /// Every department the policy routes to (the default last).
    pub fn departments(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.departments.values().map(String::as_str).collect();
        all.sort_unstable();
        all.dedup();
        all.retain(|d| *d != self.default_department);
        all.push(&self.default_department);
        all
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

    /// The working hours of a working day.
    pub fn working_hours(&self) -> &WorkingHours {
        &self.working_hours
    }

    /// The share of a deadline's time after which it is due soon.
    pub fn due_soon_share(&self) -> f64 {
        self.due_soon_share
    }

    /// The time limit of `step` for a case of `grade` and `category`: the category's where it
    /// sets one, else the grade's.
    pub fn limit(&self, step: Step, grade: Grade, category: Option<&str>) -> Option<Limit> {
        let by_grade = &self.sla[&grade];
        let by_category = category.and_then(|c| self.sla_by_category.get(c));
        let pick = |g: Option<Limit>, c: Option<Limit>| c.or(g);
        match step {
            Step::Confirm => pick(Some(by_grade.confirm), by_category.and_then(|c| c.confirm)),
            Step::Reply => pick(Some(by_grade.reply), by_category.and_then(|c| c.reply)),
            Step::Close => pick(Some(by_grade.close), by_category.and_then(|c| c.close)),
            Step::FollowUp => pick(by_grade.follow_up, by_category.and_then(|c| c.follow_up)),
        }
    }

    /// When `limit` counted from `start` runs out, with the working days `extended` added and
    /// `paused` time not counted; and whether the calendar knew every day on the way.
    pub fn due(
        &self,
        calendar: &WorkCalendar,
        limit: Limit,
        start: Timestamp,
        extended: u32,
        paused: &[(Timestamp, Timestamp)],
    ) -> Result<(Timestamp, bool)> {
        let extra_days = extended + calendar.paused_working_days(paused);
        let (due, complete) = match limit {
            Limit::Hours(h) => (calendar.after_hours(start, h, paused)?, true),
            Limit::WorkingHours(h) => {
                calendar.after_working_hours(start, h, &self.working_hours, paused)?
            }
            Limit::WorkingDays(d) => {
                let d = calendar.deadline(start, d + extra_days)?;
                return Ok((d.due, d.calendar_complete));
            }
        };
        // An extension is granted in working days whatever the step's unit.
        if extended > 0 {
            let d = calendar.deadline(due, extended)?;
            return Ok((d.due, complete && d.calendar_complete));
        }
        Ok((due, complete))
    }

    /// The deadlines of a new case of `grade` and `category` received at `received`.
    pub fn deadlines(
        &self,
        calendar: &WorkCalendar,
        grade: Grade,
        category: Option<&str>,
        received: Timestamp,
    ) -> Result<Vec<Deadline>> {
        [Step::Confirm, Step::Reply, Step::Close]
            .into_iter()
            .filter_map(|step| self.limit(step, grade, category).map(|l| (step, l)))
            .map(|(step, limit)| {
                let (due, calendar_complete) = self.due(calendar, limit, received, 0, &[])?;
                Ok(Deadline {
                    step,
                    limit,
                    start: received,
                    extended_days: 0,
                    due,
                    calendar_complete,
                    met_at: None,
                })
            })
            .collect()
    }
}

/// Whether `a` certainly allows more time than `b` (same unit only).
fn longer(a: Limit, b: Limit) -> bool {
    match (a, b) {
        (Limit::Hours(x), Limit::Hours(y))
        | (Limit::WorkingHours(x), Limit::WorkingHours(y))
        | (Limit::WorkingDays(x), Limit::WorkingDays(y)) => x > y,
        _ => false,
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

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn dues(d: &[Deadline]) -> Vec<(Step, Timestamp)> {
        d.iter().map(|d| (d.step, d.due)).collect()
    }

    #[test]
    fn deadlines_follow_the_grade() {
        let p = spec(GOOD).unwrap();
        let cal = WorkCalendar::builtin().unwrap();
        // Mon 2 Mar 2026, 10:00 Beijing.
        let t = at("2026-03-02T02:00:00Z");
        let d = p.deadlines(&cal, Grade::Major, None, t).unwrap();
        assert_eq!(
            dues(&d),
            vec![
                (Step::Confirm, at("2026-03-02T15:59:59Z")),
                (Step::Reply, at("2026-03-03T15:59:59Z")),
                (Step::Close, at("2026-03-09T15:59:59Z")),
            ]
        );
        let d = p.deadlines(&cal, Grade::General, None, t).unwrap();
        assert_eq!(d[2].due, at("2026-03-23T15:59:59Z"));
    }

    #[test]
    fn hours_and_categories_set_their_own_limits() {
        let text = GOOD.replace(
            r#""重大" = { confirm = 0, reply = 1, close = 5 }"#,
            r#""重大" = { confirm = "1 hour", reply = "24 hours", close = 5, follow_up = "8 working hours" }"#,
        ) + "\n[sla_by_category.\"费用问题\"]\nclose = \"15 working days\"\n";
        let p = spec(&text).unwrap();
        let cal = WorkCalendar::builtin().unwrap();
        // Fri 6 Mar 2026, 16:00 Beijing.
        let t = at("2026-03-06T08:00:00Z");
        let d = p
            .deadlines(&cal, Grade::Major, Some("费用问题"), t)
            .unwrap();
        assert_eq!(
            dues(&d),
            vec![
                (Step::Confirm, at("2026-03-06T09:00:00Z")),
                (Step::Reply, at("2026-03-07T08:00:00Z")),
                // 15 working days from Fri 6 Mar: Fri 27 Mar.
                (Step::Close, at("2026-03-27T15:59:59Z")),
            ]
        );
        assert_eq!(
            p.limit(Step::FollowUp, Grade::Major, None),
            Some(Limit::WorkingHours(8))
        );
        assert_eq!(p.limit(Step::FollowUp, Grade::General, None), None);
        // An extension of 2 working days on the 24-hour reply: Sat 7 Mar 16:00 → Tue 10 Mar.
        let (due, _) = p.due(&cal, Limit::Hours(24), t, 2, &[]).unwrap();
        assert_eq!(due, at("2026-03-10T15:59:59Z"));
    }

    #[test]
    fn bad_policies_say_what_is_wrong() {
        let missing = GOOD.replace(r#", "重大" = { confirm = 0, reply = 1, close = 5 }"#, "");
        assert!(spec(&missing).unwrap_err().to_string().contains("重大"));
        let laxer = GOOD.replace("close = 5 }", "close = 30 }");
        assert!(spec(&GOOD.replace("close = 15", "close = \"15 days\"")).is_err());
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
        let share = format!("{GOOD}\ndue_soon_share = 1.5\n");
        assert!(
            spec(&share)
                .unwrap_err()
                .to_string()
                .contains("due_soon_share")
        );
        assert!(
            spec(&unordered)
                .unwrap_err()
                .to_string()
                .contains("confirm ≤ reply")
        );
    }
}
