//! What the topic tracker is set by and what it answers: a hot topic, judged in its window,
//! and the hot topics of a week.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::burst::{Burst, BurstTest};
use crate::domain::CaseId;

/// How topics are formed and judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicSettings {
    /// A case joins a topic when the IDF weight of its phrases the topic shares is at least
    /// this share of its own.
    pub join_similarity: f64,
    /// Days a topic stays open to new cases after its last one.
    pub open_days: i64,
    /// The window a topic's count is tested in, in days.
    pub window_days: i64,
    /// The baseline before the window, in days.
    pub baseline_days: i64,
    /// Cases a topic needs in the window to be hot.
    pub min_cases: u32,
    /// Growth over the baseline a topic needs to be hot.
    pub min_growth: f64,
    /// The p-value a topic's window count must reach to be hot.
    pub max_p: f64,
}

impl Default for TopicSettings {
    fn default() -> Self {
        TopicSettings {
            join_similarity: 0.3,
            open_days: 14,
            window_days: 7,
            baseline_days: 28,
            min_cases: 3,
            min_growth: 2.0,
            max_p: 0.01,
        }
    }
}

/// A topic and how hot it is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HotTopic {
    /// The topic's id (`T` and a number; stable while the service runs).
    pub id: String,
    /// Its most telling phrases.
    pub phrases: Vec<String>,
    /// Cases in the window.
    pub cases: u32,
    /// Different complainants in the window (a case without a contact counts as its own):
    /// what the burst test counts.
    pub complainants: u32,
    /// Cases ever.
    pub total_cases: u32,
    /// The test of the window against the baseline.
    pub burst: Burst,
    /// The first case's receipt time.
    pub first_seen: Timestamp,
    /// The latest case's receipt time.
    pub last_seen: Timestamp,
    /// Latest case numbers in the window.
    pub samples: Vec<CaseId>,
    /// Cases in the window per grade (一般, 严重, 重大).
    pub grades: BTreeMap<String, u32>,
}

/// Hot topics of one week.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeekTopics {
    /// Monday of the week (Beijing date).
    pub week: String,
    /// Cases received that week.
    pub cases: u32,
    /// The hot topics, hottest first.
    pub topics: Vec<HotTopic>,
}

/// Whether a judged topic passes the settings' gates.
pub(super) fn is_hot(s: &TopicSettings, t: &HotTopic) -> bool {
    BurstTest::is_burst(&t.burst, s.min_cases, s.min_growth, s.max_p)
}
