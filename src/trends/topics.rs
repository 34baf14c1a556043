//! Hot topics: cases grouped, as they arrive, with the recent topic whose key phrases they
//! share most, then each topic's count in a window tested against its own baseline.
//!
//! A topic is what residents of one compound, buyers of one product or parents at one school
//! write about: it is named by rare words (the compound, the product, the school) more than by
//! common ones (小区, 噪音). So phrases are weighted by inverse document frequency over the
//! cases seen so far, and a case joins a topic only when the weight it shares with the topic's
//! usual phrases is a large enough share of its own. Single pass, in arrival order: a topic
//! never changes behind a manager's back, and the cost per case is a few hash lookups.

use std::collections::BTreeMap;

// Integer keys, no untrusted input: FxHash, not SipHash (hashing was a fifth of the time).
use rustc_hash::FxHashMap as HashMap;

use jiff::Timestamp;

use super::book::Interner;
use super::bucket::{Bucket, beijing_date, compact_hour, hour_of, timestamp_of_hour};
use super::burst::BurstTest;
use super::case_ids::CaseIds;
use super::hot_topic::{HotTopic, TopicSettings, WeekTopics, is_hot};
use crate::domain::{Case, CaseId, Grade};

/// A phrase more frequent than this share of all cases says nothing about a topic.
const COMMON: f64 = 0.05;
/// Topics a new case is compared with, at most.
const MAX_CANDIDATES: usize = 64;
/// Phrases a topic is described by.
const LABEL_PHRASES: usize = 5;
/// Sample case numbers a hot topic shows.
const SAMPLES: usize = 5;

/// A case of a topic: 16 bytes, as a million of them are kept.
#[derive(Debug)]
struct Member {
    /// Beijing hour of receipt.
    hour: i32,
    /// Its number's position in [`TopicTracker::ids`].
    id: u32,
    /// Who wrote it (hashed contact, numbered), or [`NO_ONE`] when unknown: one person writing
    /// five times is not five residents.
    complainant: u32,
    grade: Grade,
}

/// [`Member::complainant`] when the case has no contact.
const NO_ONE: u32 = u32::MAX;

impl Member {
    fn hour(&self) -> i64 {
        i64::from(self.hour)
    }
}

#[derive(Debug)]
struct Topic {
    /// phrase → cases of the topic with it.
    phrases: HashMap<u32, u32>,
    members: Vec<Member>,
}

impl Topic {
    fn last_hour(&self) -> i64 {
        self.members.last().map_or(i64::MIN, Member::hour)
    }

    /// The members received in the hours `[from, to)`: members are kept in time order.
    fn between(&self, from: i64, to: i64) -> &[Member] {
        let a = self.members.partition_point(|m| m.hour() < from);
        let b = self.members.partition_point(|m| m.hour() < to);
        &self.members[a..b.max(a)]
    }
}

/// The topics.
#[derive(Debug, Default)]
pub struct TopicTracker {
    settings: TopicSettings,
    phrases: Interner,
    /// phrase → cases with it (document frequency).
    df: HashMap<u32, u32>,
    cases: u32,
    topics: Vec<Topic>,
    /// phrase → open topics with it (closed ones are dropped lazily).
    open: HashMap<u32, Vec<u32>>,
    /// seq → topic, for cases seen.
    topic_of: HashMap<u64, u32>,
    /// Complainants (hashed contacts), numbered.
    complainants: Interner,
    /// The members' case numbers.
    ids: CaseIds,
    /// Cases per week, for reports.
    weekly: BTreeMap<i64, u32>,
}

impl TopicTracker {
    /// An empty tracker.
    pub fn new(settings: TopicSettings) -> Self {
        TopicTracker {
            settings,
            ..Default::default()
        }
    }

    /// The settings.
    pub fn settings(&self) -> &TopicSettings {
        &self.settings
    }

    /// Puts a new case into a topic (an existing one or its own), once: later versions of a
    /// case keep their topic. Returns the topic's index.
    pub fn observe(&mut self, case: &Case) -> u32 {
        if let Some(&t) = self.topic_of.get(&case.seq) {
            return t;
        }
        let hour = hour_of(case.received_at);
        let mut ids: Vec<u32> = case.keywords.iter().map(|k| self.phrases.id(k)).collect();
        ids.sort_unstable();
        ids.dedup();
        self.cases += 1;
        for id in &ids {
            *self.df.entry(*id).or_insert(0) += 1;
        }
        *self.weekly.entry(Bucket::Week.of_hour(hour)).or_insert(0) += 1;
        let weights: Vec<f64> = ids.iter().map(|id| self.weight(*id)).collect();
        let own: f64 = weights.iter().sum();
        let topic = self
            .best_topic(&ids, &weights, own, hour)
            .unwrap_or_else(|| {
                self.topics.push(Topic {
                    phrases: HashMap::default(),
                    members: Vec::new(),
                });
                (self.topics.len() - 1) as u32
            });
        let t = &mut self.topics[topic as usize];
        for id in &ids {
            let n = t.phrases.entry(*id).or_insert(0);
            *n += 1;
            if *n == 1 {
                self.open.entry(*id).or_default().push(topic);
            }
        }
        let complainant = case
            .contact_hash
            .as_deref()
            .map_or(NO_ONE, |c| self.complainants.id(c));
        let id = self.ids.push(&case.id);
        let t = &mut self.topics[topic as usize];
        // In time order (a case received earlier than the last one goes in its place), so
        // that a window is two binary searches, not a scan of a large topic.
        let at = t.members.partition_point(|m| m.hour() <= hour);
        t.members.insert(
            at,
            Member {
                hour: compact_hour(hour),
                id,
                complainant,
                grade: case.grade,
            },
        );
        self.topic_of.insert(case.seq, topic);
        topic
    }

    /// IDF of a phrase over the cases seen (smoothed: the first cases do not make every
    /// phrase look rare).
    fn weight(&self, phrase: u32) -> f64 {
        let df = f64::from(self.df.get(&phrase).copied().unwrap_or(0));
        ((f64::from(self.cases) + 10.0) / (df + 1.0)).ln().max(0.0)
    }

    fn best_topic(&mut self, ids: &[u32], weights: &[f64], own: f64, hour: i64) -> Option<u32> {
        if own <= 0.0 {
            return None;
        }
        let oldest_open = hour - self.settings.open_days * 24;
        let common = (f64::from(self.cases) * COMMON).max(20.0);
        // Rarest phrases first, and only so many candidates: the topic a case belongs to
        // shares its rarest words, and a mid-frequency word shared by thousands of open
        // topics would otherwise make every case compare with all of them.
        let mut by_rarity: Vec<(u32, u32)> = ids
            .iter()
            .map(|id| (self.df.get(id).copied().unwrap_or(0), *id))
            .filter(|(df, _)| f64::from(*df) <= common)
            .collect();
        by_rarity.sort_unstable();
        let mut candidates: Vec<u32> = Vec::new();
        for (_, id) in by_rarity {
            if candidates.len() >= MAX_CANDIDATES {
                break;
            }
            if let Some(list) = self.open.get_mut(&id) {
                let topics = &self.topics;
                list.retain(|&t| topics[t as usize].last_hour() >= oldest_open);
                // The most recently active topics of a long list are the likeliest.
                let take = (MAX_CANDIDATES - candidates.len()).min(list.len());
                candidates.extend(list[list.len() - take..].iter().copied());
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(u32, f64)> = None;
        for t in candidates {
            let topic = &self.topics[t as usize];
            let size = topic.members.len() as f64;
            let shared: f64 = ids
                .iter()
                .zip(weights)
                .filter_map(|(id, w)| {
                    let n = f64::from(*topic.phrases.get(id)?);
                    // A phrase half the topic's cases carry counts fully.
                    Some(w * (2.0 * n / size).min(1.0))
                })
                .sum();
            let similarity = shared / own;
            if similarity >= self.settings.join_similarity
                && best.is_none_or(|(_, s)| similarity > s)
            {
                best = Some((t, similarity));
            }
        }
        best.map(|(t, _)| t)
    }

    /// The topic of case `seq`, if seen.
    pub fn topic_of(&self, seq: u64) -> Option<u32> {
        self.topic_of.get(&seq).copied()
    }

    /// The case numbers of topic `id` (`T12`), newest first, at most `max`; `None` for a topic
    /// that does not exist.
    pub fn cases_of(&self, id: &str, max: usize) -> Option<Vec<CaseId>> {
        let n: usize = id.strip_prefix('T')?.parse().ok()?;
        let t = self.topics.get(n)?;
        Some(
            t.members
                .iter()
                .rev()
                .take(max)
                .map(|m| self.ids.get(m.id))
                .collect(),
        )
    }

    /// Topic `topic` judged in the window ending at `end`.
    pub fn judge(&self, topic: u32, end: Timestamp) -> Option<HotTopic> {
        self.judge_with(&self.settings, topic, end)
    }

    fn judge_with(&self, s: &TopicSettings, topic: u32, end: Timestamp) -> Option<HotTopic> {
        let end = hour_of(end);
        let start = end - s.window_days * 24;
        let base = start - s.baseline_days * 24;
        let test = BurstTest {
            window: s.window_days as f64,
            baseline: s.baseline_days as f64,
            // A topic never seen before is assumed to come up about once a month.
            min_rate: 1.0 / 30.0,
        };
        let t = self.topics.get(topic as usize)?;
        let in_window = t.between(start, end);
        if in_window.is_empty() {
            return None;
        }
        let baseline_count = complainants(t.between(base, start));
        let complainants = complainants(in_window);
        let burst = test.judge(complainants, baseline_count);
        let mut grades: BTreeMap<String, u32> = BTreeMap::new();
        for m in in_window {
            *grades.entry(m.grade.label().to_string()).or_insert(0) += 1;
        }
        Some(HotTopic {
            id: format!("T{topic}"),
            phrases: self.label(t),
            cases: in_window.len() as u32,
            complainants,
            total_cases: t.members.len() as u32,
            burst,
            first_seen: timestamp_of_hour(t.members.first().map_or(0, Member::hour)),
            last_seen: timestamp_of_hour(t.last_hour()),
            samples: in_window
                .iter()
                .rev()
                .take(SAMPLES)
                .map(|m| self.ids.get(m.id))
                .collect(),
            grades,
        })
    }

    /// Whether a judged topic passes the hot gates.
    pub fn is_hot(&self, t: &HotTopic) -> bool {
        is_hot(&self.settings, t)
    }

    /// The hot topics of the window ending at `end`, hottest first.
    pub fn hot(&self, end: Timestamp, top: usize) -> Vec<HotTopic> {
        self.hot_with(&self.settings, end, top)
    }

    fn hot_with(&self, s: &TopicSettings, end: Timestamp, top: usize) -> Vec<HotTopic> {
        let start = hour_of(end) - s.window_days * 24;
        let mut hot: Vec<HotTopic> = (0..self.topics.len() as u32)
            .filter(|&t| self.topics[t as usize].last_hour() >= start)
            .filter_map(|t| self.judge_with(s, t, end))
            .filter(|h| is_hot(s, h))
            .collect();
        hot.sort_by(|a, b| {
            b.burst
                .score
                .total_cmp(&a.burst.score)
                .then_with(|| b.cases.cmp(&a.cases))
        });
        hot.truncate(top);
        hot
    }

    /// For every week with cases: its hot topics (window = that week, whatever the window
    /// setting), for replays and reports.
    pub fn weekly(&self, top: usize) -> Vec<WeekTopics> {
        let weekly = TopicSettings {
            window_days: 7,
            ..self.settings
        };
        self.weekly
            .iter()
            .map(|(&week, &cases)| {
                let end = Bucket::Week.start(week + 1);
                let hot = self.hot_with(&weekly, end, top);
                WeekTopics {
                    week: beijing_date(Bucket::Week.start(week)),
                    cases,
                    topics: hot,
                }
            })
            .collect()
    }

    /// The topic's most telling phrases: how many of its cases carry each, times its weight.
    fn label(&self, t: &Topic) -> Vec<String> {
        let mut ranked: Vec<(f64, u32)> = t
            .phrases
            .iter()
            .map(|(&id, &n)| (f64::from(n) * self.weight(id), id))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(LABEL_PHRASES)
            .map(|(_, id)| self.phrases.name(id).to_string())
            .collect()
    }

    /// Topics formed.
    pub fn topics(&self) -> usize {
        self.topics.len()
    }
}

/// Different complainants among `members`.
fn complainants(members: &[Member]) -> u32 {
    let mut seen = rustc_hash::FxHashSet::default();
    members
        .iter()
        .filter(|m| m.complainant == NO_ONE || seen.insert(m.complainant))
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(seq: u64, at: &str, keywords: &[&str]) -> Case {
        let mut c = crate::store::conformance::sample_case("x", at);
        c.seq = seq;
        c.id = CaseId(format!("TS20190301-{seq:06}"));
        c.keywords = keywords.iter().map(|s| s.to_string()).collect();
        // Every letter from someone else.
        c.contact_hash = Some(format!("writer-{seq}"));
        c
    }

    /// Background: a month of varied complaints; then, in one week, residents of one compound
    /// write about the same noise in their own words.
    fn tracker() -> (TopicTracker, u64) {
        let mut t = TopicTracker::new(TopicSettings::default());
        let background = [
            ["公交", "线路", "调整", "站点"],
            ["医保", "报销", "手续", "窗口"],
            ["路灯", "损坏", "夜间", "照明"],
            ["学位", "入学", "户籍", "政策"],
            ["垃圾", "清运", "异味", "堆放"],
            ["供暖", "温度", "费用", "物业"],
        ];
        let mut seq = 0;
        for day in 1..=28 {
            for (i, words) in background.iter().enumerate() {
                if (day + i) % 2 == 0 {
                    seq += 1;
                    let at = format!("2019-02-{day:02}T{:02}:00:00+08:00", 8 + i);
                    let mut w: Vec<&str> = words.to_vec();
                    w.push(["投诉", "反映", "希望", "解决"][day % 4]);
                    t.observe(&case(seq, &at, &w));
                }
            }
        }
        (t, seq)
    }

    #[test]
    fn a_compound_writing_within_days_becomes_the_hot_topic() {
        let (mut t, mut seq) = tracker();
        let letters = [
            ["魅力之城", "噪音", "扰民", "门面"],
            ["魅力之城", "油烟", "噪音", "业主"],
            ["魅力之城", "小区", "扰民", "烧烤"],
            ["魅力之城", "噪音", "夜宵", "休息"],
            ["魅力之城", "油烟", "扰民", "门面"],
            ["魅力之城", "门面", "噪音", "投诉"],
        ];
        for (i, w) in letters.iter().enumerate() {
            seq += 1;
            let at = format!("2019-03-0{}T20:00:00+08:00", 1 + i);
            t.observe(&case(seq, &at, w));
        }
        let end: Timestamp = "2019-03-08T00:00:00+08:00".parse().unwrap();
        let hot = t.hot(end, 5);
        assert!(!hot.is_empty(), "no hot topic");
        let top = &hot[0];
        assert_eq!(top.cases, 6, "{top:?}");
        assert_eq!(top.phrases[0], "魅力之城");
        assert_eq!(top.samples.len(), SAMPLES);
        assert_eq!(top.grades.get("一般"), Some(&6));
        // The steady background is never hot.
        assert!(hot.iter().all(|h| h.phrases[0] == "魅力之城"), "{hot:?}");
        let weeks = t.weekly(3);
        let week = weeks.iter().find(|w| w.week == "2019-02-25").unwrap();
        assert_eq!(week.topics[0].phrases[0], "魅力之城");
    }

    #[test]
    fn one_person_writing_many_times_is_not_a_hot_topic() {
        let (mut t, mut seq) = tracker();
        for i in 0..6 {
            seq += 1;
            let mut c = case(
                seq,
                &format!("2019-03-0{}T20:00:00+08:00", 1 + i),
                &["魅力之城", "噪音"],
            );
            c.contact_hash = Some("same-person".into());
            t.observe(&c);
        }
        let end: Timestamp = "2019-03-08T00:00:00+08:00".parse().unwrap();
        assert!(t.hot(end, 5).is_empty(), "{:?}", t.hot(end, 5));
    }

    #[test]
    fn a_steady_topic_is_not_hot() {
        let (t, _) = tracker();
        let end: Timestamp = "2019-03-01T00:00:00+08:00".parse().unwrap();
        assert!(t.hot(end, 5).is_empty(), "{:?}", t.hot(end, 5));
    }

    #[test]
    fn a_case_keeps_its_topic_when_it_changes() {
        let (mut t, _) = tracker();
        let c = case(999, "2019-03-01T09:00:00+08:00", &["停水", "通知"]);
        let first = t.observe(&c);
        let again = t.observe(&c);
        assert_eq!(first, again);
        assert_eq!(t.topic_of(999), Some(first));
    }
}
