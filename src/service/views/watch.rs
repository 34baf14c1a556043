//! The watch: trend counts and hot topics kept current with the store, and the alert rules
//! evaluated on every new case (and on a schedule), raising alerts to the alert center.
//!
//! Fed by the index follower with the same batches of changed cases, so it sees every case in
//! commit order and adds nothing to the intake path; rebuilt from the store at start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alerts::{Alert, AlertCenter};
use crate::domain::{Case, Grade, Reason};
use crate::error::Result;
use crate::store::CaseStore;
use crate::trends::{
    Bucket, BurstTest, Dimension, HotTopic, Rising, TopicSettings, TopicTracker, TrendBook,
    TrendTable, WeekTopics, hour_of, timestamp_of_hour,
};

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
    /// Alert on every case with one of these reason codes.
    pub reasons: Vec<Reason>,
    /// Cases received longer ago than this (hours, by receipt time) never alert: imports of
    /// history are not news. Replays judge history on purpose and lift it.
    pub max_age_hours: i64,
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
            max_age_hours: 72,
        }
    }
}

/// The trend book, topics and rules.
pub struct Watch {
    book: Mutex<TrendBook>,
    topics: Mutex<TopicTracker>,
    rules: AlertRules,
    alerts: Option<Arc<AlertCenter>>,
    /// group id → members seen, for the group rule's "changed materially".
    groups: Mutex<HashMap<String, u32>>,
    /// Whether cases are counted at all (see [`Watch::idle`]).
    counting: bool,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("rules", &self.rules).finish()
    }
}

impl Watch {
    /// A watch with nothing counted yet; `alerts` None keeps it quiet (import, export).
    pub fn new(topics: TopicSettings, rules: AlertRules, alerts: Option<Arc<AlertCenter>>) -> Self {
        Watch {
            book: Mutex::new(TrendBook::default()),
            topics: Mutex::new(TopicTracker::new(topics)),
            rules,
            alerts,
            groups: Mutex::new(HashMap::new()),
            counting: true,
        }
    }

    /// A watch that counts nothing: for commands that neither show trends nor raise alerts
    /// (import, export, reindex), which would otherwise read the whole store at start to
    /// rebuild counts nobody looks at.
    pub fn idle() -> Self {
        Watch {
            counting: false,
            ..Watch::new(TopicSettings::default(), AlertRules::default(), None)
        }
    }

    /// Counts every case in the store, in creation order, raising nothing. Returns the
    /// cases counted.
    pub fn rebuild(&self, store: &dyn CaseStore) -> Result<u64> {
        if !self.counting {
            return Ok(0);
        }
        let mut n = 0u64;
        crate::store::for_each_page(store, 1000, |page| {
            n += page.len() as u64;
            self.observe(page, false);
            Ok(())
        })?;
        Ok(n)
    }

    /// Counts a batch of new or changed cases and, with `alerting`, evaluates the rules on
    /// those seen for the first time.
    pub fn observe(&self, cases: &[Case], alerting: bool) {
        if !self.counting {
            return;
        }
        let mut fresh = Vec::new();
        {
            let mut book = self.book.lock().expect("trend book");
            let mut topics = self.topics.lock().expect("topics");
            for c in cases {
                let new = topics.topic_of(c.seq).is_none();
                book.apply(c);
                let topic = topics.observe(c);
                if new {
                    fresh.push((c, topic));
                }
            }
        }
        if !alerting || self.alerts.is_none() {
            return;
        }
        let now = Timestamp::now();
        let mut alerts = Vec::new();
        for (c, topic) in fresh {
            if now.duration_since(c.received_at).as_hours() > self.rules.max_age_hours {
                continue;
            }
            alerts.extend(self.rules_for(c, topic));
        }
        // One transaction for the batch: a burst of safety cases is a burst of alerts, and an
        // fsync each held the index follower up.
        self.raise(alerts);
    }

    fn raise(&self, alerts: Vec<Alert>) {
        let Some(center) = &self.alerts else { return };
        match center.raise_all(alerts) {
            Ok(stored) => {
                for a in stored {
                    tracing::info!(id = %a.id, rule = %a.rule, title = %a.title, "alert raised")
                }
            }
            Err(e) => tracing::error!(error = %e, "alerts could not be recorded"),
        }
    }

    /// The alerts a new case triggers.
    fn rules_for(&self, c: &Case, topic: u32) -> Vec<Alert> {
        let r = &self.rules;
        let mut out = Vec::new();
        let severity = c.grade.label().to_string();
        if let Some(reason) = c.reasons.iter().find(|x| r.reasons.contains(x)) {
            out.push(Alert {
                id: String::new(),
                rule: format!("{}_case", reason.code()),
                key: format!("case:{}", c.id),
                fingerprint: reason.code().to_string(),
                title: format!("{}：{} {}", reason_title(*reason), c.id, excerpt(&c.text, 40)),
                summary: format!(
                    "案件 {}（{}，{}）\n{}",
                    c.id,
                    c.category.as_deref().unwrap_or("未分类"),
                    c.grade.label(),
                    excerpt(&c.text, 200)
                ),
                severity: severity.clone(),
                created_at: Timestamp::now(),
                data: serde_json::json!({"case": c.id, "reason": reason.code(), "category": c.category}),
            });
        }
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
    fn category_spike(&self, category: &str, at: Timestamp) -> Option<Alert> {
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
            created_at: Timestamp::now(),
            data: serde_json::to_value(&spike).unwrap_or_default(),
        })
    }

    /// Counts per bucket (see [`TrendBook::table`]).
    pub fn table(
        &self,
        dimension: Dimension,
        bucket: Bucket,
        from: Timestamp,
        to: Timestamp,
        top: usize,
    ) -> TrendTable {
        self.book
            .lock()
            .expect("trend book")
            .table(dimension, bucket, from, to, top)
    }

    /// Values rising in the window ending at `end` (see [`TrendBook::rising`]).
    pub fn rising(
        &self,
        dimension: Dimension,
        end: Timestamp,
        window_hours: i64,
        baseline_hours: i64,
        min_count: u32,
        top: usize,
    ) -> Vec<Rising> {
        self.book.lock().expect("trend book").rising(
            dimension,
            end,
            window_hours,
            baseline_hours,
            min_count,
            top,
        )
    }

    /// Hot topics in the window ending at `end`.
    pub fn hot_topics(&self, end: Timestamp, top: usize) -> Vec<HotTopic> {
        self.topics.lock().expect("topics").hot(end, top)
    }

    /// Hot topics week by week.
    pub fn weekly_topics(&self, top: usize) -> Vec<WeekTopics> {
        self.topics.lock().expect("topics").weekly(top)
    }

    /// The receipt time of the newest case counted.
    pub fn latest(&self) -> Option<Timestamp> {
        self.book.lock().expect("trend book").latest()
    }

    /// The default end of a window: just after the latest case's hour (the book counts whole
    /// hours), or now when there is none. Not the wall clock: replays run in the past.
    pub fn default_end(&self) -> Timestamp {
        self.latest().map_or_else(Timestamp::now, |latest| {
            latest + SignedDuration::from_hours(1)
        })
    }

    /// Cases counted.
    pub fn cases(&self) -> usize {
        self.book.lock().expect("trend book").cases()
    }

    /// The alert center, when alerting.
    pub fn alerts(&self) -> Option<&Arc<AlertCenter>> {
        self.alerts.as_ref()
    }

    /// Re-evaluates the category rule for every category at `now` (the scheduled sweep: a
    /// spike is also news when the case that caused it came in while alerting was off).
    pub fn sweep(&self, now: Timestamp) {
        if self.alerts.is_none() {
            return;
        }
        let categories: Vec<String> = self
            .table(
                Dimension::Category,
                Bucket::Hour,
                now - SignedDuration::from_hours(self.rules.category_window_hours),
                now,
                usize::MAX,
            )
            .series
            .into_iter()
            .map(|s| s.value)
            .collect();
        let alerts = categories
            .iter()
            .filter_map(|category| self.category_spike(category, now))
            .collect();
        self.raise(alerts);
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
        created_at: Timestamp::now(),
        data: serde_json::to_value(hot).unwrap_or_default(),
    }
}

fn reason_title(reason: Reason) -> &'static str {
    match reason {
        Reason::Safety => "安全隐患",
        Reason::External => "扬言外部投诉/曝光",
        _ => "需关注案件",
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    let mut s: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertSettings;
    use crate::domain::CaseId;

    fn letter(seq: u64, minutes_ago: i64) -> Case {
        let at = Timestamp::now() - SignedDuration::from_mins(minutes_ago);
        let mut c =
            crate::store::conformance::sample_case("魅力之城门面夜宵噪音扰民", &at.to_string());
        c.seq = seq;
        c.id = CaseId(format!("TS20261123-{seq:06}"));
        c.contact_hash = Some(format!("resident-{seq}"));
        c.keywords = vec![
            "魅力之城".into(),
            "噪音".into(),
            "扰民".into(),
            format!("细节{seq}"),
        ];
        c
    }

    fn topic_alerts(center: &AlertCenter) -> usize {
        center
            .history(None, 100)
            .unwrap()
            .iter()
            .filter(|a| a.alert.rule == "topic_surge")
            .count()
    }

    /// Residents write one after another: the topic alerts when it becomes a burst, stays
    /// quiet while it grows a little, and alerts again only when it has doubled.
    #[test]
    fn a_steady_topic_does_not_alert_twice() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(crate::store::SqliteStore::open(&dir.path().join("tousu.db")).unwrap());
        let center = AlertCenter::open(store, AlertSettings::default()).unwrap();
        let watch = Watch::new(
            TopicSettings::default(),
            AlertRules::default(),
            Some(Arc::clone(&center)),
        );
        for seq in 1..=4 {
            watch.observe(&[letter(seq, 100 - seq as i64)], true);
        }
        assert_eq!(topic_alerts(&center), 0, "four letters are below the gate");
        watch.observe(&[letter(5, 90)], true);
        assert_eq!(topic_alerts(&center), 1, "the fifth makes a burst");
        for seq in 6..=7 {
            watch.observe(&[letter(seq, 90 - seq as i64)], true);
        }
        assert_eq!(
            topic_alerts(&center),
            1,
            "six and seven letters: the same alert"
        );
        // A later version of a case already counted (a patch) alerts nothing either.
        watch.observe(&[letter(7, 83)], true);
        assert_eq!(topic_alerts(&center), 1);
        watch.observe(&[letter(8, 80)], true);
        assert_eq!(topic_alerts(&center), 2, "eight letters: it doubled");
    }
}
