//! The alert rules: what makes a new case, a topic or a category news (`[alert_rules]` in the
//! config), and the alerts they raise.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::case_alerts::excerpt;
use super::watch::Watch;
use crate::alerts::Alert;
use crate::domain::{Case, Grade, Reason};
use crate::trends::{BurstTest, Dimension, HotTopic, Rising, hour_of, timestamp_of_hour};

/// Alert rules (`[alert_rules]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRules {
    /// A hot topic alerts when it has at least this many cases in the topic window…
    pub topic_min_cases: u32,
    /// …and grew at least this much over its baseline.
    pub topic_min_growth: f64,
    /// A category alerts when its count in the last `category_window_hours`…
    pub category_window_hours: i64,
    /// …against the `category_baseline_days` before…
    pub category_baseline_days: i64,
    /// …is at least this many cases…
    pub category_min_cases: u32,
    /// …and at least this many times the baseline rate, with p ≤ 0.001.
    pub category_min_growth: f64,
    /// Alert on every group complaint (群体投诉, graded 重大).
    pub group_complaints: bool,
    /// Alert on a 重大 case with one of these reason codes (see `case_alerts.rs`).
    pub reasons: Vec<Reason>,
    /// …only when the model's own grade is 重大 too: a phrase alone does not page anyone (the
    /// case goes in the day's digest).
    pub case_alerts_need_model: bool,
    /// …that is, when the model's calibrated probability of 重大 is at least this. 0.5: the
    /// model finds 重大 more likely than not (its top class alone can be 重大 at 0.4, when the
    /// other two share the rest).
    pub case_alert_min_probability: f32,
    /// …and only for the first case of a matter: not a repeat, a duplicate or a group member,
    /// nor a case of a topic that paged in the last 7 days (those go in the digest; a group and
    /// a growing topic have alerts of their own).
    pub case_alerts_first_of_matter: bool,
    /// At most this many such alerts in any 24 hours (by receipt time, all departments; 0: no
    /// limit); the rest go in the day's digest (`case_digest`).
    pub max_case_alerts_per_day: u32,
    /// Cases received longer ago than this (hours, by receipt time) never alert: imports of
    /// history are not news. Replays judge history on purpose and lift it. Deadlines crossed
    /// longer ago than this do not alert either.
    pub max_age_hours: i64,
    /// Alert when a running deadline has used the policy's due-soon share of its time
    /// (`sla_due_soon`) and when it passes (`sla_breached`), once per case, step and due time.
    pub deadlines: bool,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            topic_min_cases: 5,
            topic_min_growth: 3.0,
            category_window_hours: 24,
            category_baseline_days: 14,
            category_min_cases: 20,
            category_min_growth: 2.0,
            group_complaints: true,
            reasons: vec![Reason::External, Reason::Safety],
            case_alerts_need_model: true,
            case_alert_min_probability: 0.5,
            case_alerts_first_of_matter: true,
            max_case_alerts_per_day: 1,
            max_age_hours: 72,
            deadlines: true,
        }
    }
}

impl Watch {
    /// The alerts a new case triggers.
    pub(super) fn rules_for(&self, c: &Case, topic: u32) -> Vec<Alert> {
        let r = &self.rules;
        let mut out = self.case_alerts(c, topic);
        if r.group_complaints
            && c.grade == Grade::Major
            && let Some(group) = &c.links.group_id
        {
            let members = {
                let mut groups = self.groups.lock().expect("groups");
                let n = groups.entry(group.clone()).or_insert(1);
                *n += 1;
                *n
            };
            out.push(Alert {
                id: String::new(),
                rule: "group_complaint".into(),
                key: format!("group:{group}"),
                // Material change: the group doubled.
                fingerprint: format!("x{}", members.ilog2()),
                title: format!(
                    "群体投诉：{group}（至少 {members} 件）{}",
                    excerpt(&c.text, 30)
                ),
                summary: format!(
                    "群体投诉 {group}，最新案件 {}：{}",
                    c.id,
                    excerpt(&c.text, 200)
                ),
                severity: Grade::Major.label().into(),
                // About many cases: the supervisors' channel, not one department's robot.
                department: None,
                created_at: Timestamp::now(),
                data: serde_json::json!({"group_id": group, "case": c.id, "cases_seen": members}),
            });
        }
        let end = timestamp_of_hour(hour_of(c.received_at) + 1);
        if let Some(hot) = self.topics.lock().expect("topics").judge(topic, end)
            && hot.cases >= r.topic_min_cases
            && BurstTest::is_burst(&hot.burst, r.topic_min_cases, r.topic_min_growth, 1e-3)
        {
            out.push(topic_alert(&hot));
        }
        if let Some(spike) = c
            .category
            .as_deref()
            .and_then(|category| self.category_spike(category, c.received_at))
        {
            out.push(spike);
        }
        out
    }

    /// The spike alert for `category` in the window ending with the hour of `at`, if it is one.
    pub(super) fn category_spike(&self, category: &str, at: Timestamp) -> Option<Alert> {
        let r = &self.rules;
        let end = hour_of(at) + 1;
        let start = end - r.category_window_hours;
        let base = start - r.category_baseline_days * 24;
        let (count, baseline_count) = {
            let book = self.book.lock().expect("trend book");
            let count = book.count(Dimension::Category, category, start, end);
            if count < r.category_min_cases {
                return None;
            }
            (
                count,
                book.count(Dimension::Category, category, base, start),
            )
        };
        let test = BurstTest {
            window: r.category_window_hours as f64,
            baseline: (r.category_baseline_days * 24) as f64,
            min_rate: 1.0 / 24.0,
        };
        let burst = test.judge(count, baseline_count);
        if !BurstTest::is_burst(&burst, r.category_min_cases, r.category_min_growth, 1e-3) {
            return None;
        }
        let spike = Rising {
            value: category.to_string(),
            baseline_count,
            burst,
        };
        Some(Alert {
            id: String::new(),
            rule: "category_spike".into(),
            key: format!("category:{category}:{}", crate::trends::beijing_date(at)),
            // Material change: the count doubled.
            fingerprint: format!("x{}", burst.count.ilog2()),
            title: format!(
                "类别激增：{category}（{} 小时 {} 件，基线的 {:.1} 倍）",
                r.category_window_hours, burst.count, burst.growth
            ),
            summary: format!(
                "{category} 最近 {} 小时 {} 件，按前 {} 天的水平应约 {:.1} 件（p = {:.1e}）",
                r.category_window_hours,
                burst.count,
                r.category_baseline_days,
                burst.expected,
                burst.p_value
            ),
            severity: Grade::Serious.label().into(),
            department: None,
            created_at: Timestamp::now(),
            data: serde_json::to_value(&spike).unwrap_or_default(),
        })
    }
}

/// The alert for a hot topic; its fingerprint changes when the window count doubles or the
/// topic gets a 重大 case: "materially changed", not every new case.
pub fn topic_alert(hot: &HotTopic) -> Alert {
    let major = hot.grades.get(Grade::Major.label()).copied().unwrap_or(0);
    let severity = if major > 0 {
        Grade::Major
    } else if hot.grades.get(Grade::Serious.label()).copied().unwrap_or(0) > 0 {
        Grade::Serious
    } else {
        Grade::General
    };
    let phrases = hot.phrases.join(" ");
    let grades: Vec<String> = hot.grades.iter().map(|(g, n)| format!("{g} {n}")).collect();
    let samples: Vec<&str> = hot.samples.iter().map(|s| s.as_str()).collect();
    Alert {
        id: String::new(),
        rule: "topic_surge".into(),
        key: format!("topic:{}", hot.id),
        fingerprint: format!("x{}:{}", hot.cases.ilog2(), major > 0),
        title: format!(
            "热点话题：{phrases}（{} 件，增长 {:.1} 倍）",
            hot.cases, hot.burst.growth
        ),
        summary: format!(
            "关键词：{phrases}\n窗口内 {} 件（累计 {} 件），基线预期 {:.1} 件，p = {:.1e}\n首次 {}，最近 {}\n分级：{}\n样例：{}",
            hot.cases,
            hot.total_cases,
            hot.burst.expected,
            hot.burst.p_value,
            hot.first_seen,
            hot.last_seen,
            grades.join("，"),
            samples.join("、")
        ),
        severity: severity.label().into(),
        department: None,
        created_at: Timestamp::now(),
        data: serde_json::to_value(hot).unwrap_or_default(),
    }
}
