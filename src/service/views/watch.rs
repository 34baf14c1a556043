//! The watch: trend counts and hot topics kept current with the store, and the alert rules
//! (`alert_rules.rs`) evaluated on every new case (and on a schedule), raising alerts to the
//! alert center.
//!
//! Fed by the index follower with the same batches of changed cases, so it sees every case in
//! commit order and adds nothing to the intake path; rebuilt from the store at start.

use super::progress::Progress;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

use super::alert_rules::AlertRules;
use super::case_alerts::CaseDays;
use crate::alerts::{Alert, AlertCenter};
use crate::domain::Case;
use crate::error::Result;
use crate::store::CaseStore;
use crate::trends::{
    Bucket, Dimension, HotTopic, Rising, TopicSettings, TopicTracker, TrendBook, TrendTable,
    WeekTopics,
};

/// Alerts kept to be raised again while the store refuses them; past this the newest are
/// dropped (a store that refuses this long is an outage the operator already sees).
const MAX_UNRAISED: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The trend book, topics and rules.
pub struct Watch {
    pub(super) book: Mutex<TrendBook>,
    pub(super) topics: Mutex<TopicTracker>,
    pub(super) rules: AlertRules,
    pub(super) alerts: Option<Arc<AlertCenter>>,
    /// group id → members seen, for the group rule's "changed materially".
    pub(super) groups: Mutex<HashMap<String, u32>>,
    /// Per-case alerts sent and held, by day, until the day's digest.
    pub(super) case_days: Mutex<CaseDays>,
    /// Alerts the store could not take (a full disk): raised again with the next ones.
    unraised: Mutex<Vec<Alert>>,
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
            case_days: Mutex::new(CaseDays::default()),
            unraised: Mutex::new(Vec::new()),
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
    pub fn rebuild(&self, store: &dyn CaseStore, progress: &Progress) -> Result<u64> {
        if !self.counting {
            return Ok(0);
        }
        let mut n = 0u64;
        // Reading and parsing the cases is a third of the work: a thread of its own does it a
        // few pages ahead of the counting.
        let (pages, read) = std::sync::mpsc::sync_channel::<Vec<Case>>(4);
        std::thread::scope(|s| {
            let reader = s.spawn(move || -> Result<()> {
                let mut after = 0;
                loop {
                    let cases = store.scan(after, 1000)?;
                    let Some(last) = cases.last() else {
                        return Ok(());
                    };
                    after = last.seq;
                    if pages.send(cases).is_err() {
                        // The counting stopped (it panicked): nothing to read for.
                        return Ok(());
                    }
                }
            });
            for page in read {
                n += page.len() as u64;
                self.observe(&page, false);
                progress.advance(page.len() as u64);
            }
            reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })?;
        progress.finish();
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

    /// Hands alerts to the alert center, with any it could not take before. Alerts are raised
    /// when their case is first counted, and a case is counted once: those the store refuses
    /// are kept to be raised again, not dropped.
    pub(super) fn raise(&self, alerts: Vec<Alert>) {
        let Some(center) = &self.alerts else { return };
        let mut all = std::mem::take(&mut *lock(&self.unraised));
        if all.is_empty() && alerts.is_empty() {
            return;
        }
        all.extend(alerts);
        match center.raise_all(all.clone()) {
            Ok(stored) => {
                for a in stored {
                    // The title quotes the complaint: the log has the id and rule only.
                    tracing::info!(id = %a.id, rule = %a.rule, key = %a.key, "alert raised")
                }
            }
            Err(e) => {
                tracing::error!(error = %e, alerts = all.len(), "alerts could not be recorded; they are raised again with the next ones");
                let mut unraised = lock(&self.unraised);
                let keep = MAX_UNRAISED.saturating_sub(unraised.len());
                unraised.extend(all.into_iter().take(keep));
            }
        }
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

    /// The case numbers of topic `id`, newest first, at most `max` (`None`: no such topic).
    pub fn topic_cases(&self, id: &str, max: usize) -> Option<Vec<crate::domain::CaseId>> {
        self.topics.lock().expect("topics").cases_of(id, max)
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
