//! Case counts per Beijing hour by category, grade, channel, department and key phrase: what
//! trend charts and spike rules read. Derived from the store (fed with every case version the
//! index sees), held in memory: hourly counts of a million cases are a few tens of MB, and a
//! query sums a few thousand integers per series.

use std::collections::BTreeMap;

// Integer keys (interned values, seqs): FxHash, not SipHash, which was a fifth of the time.
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::bucket::{Bucket, hour_of};
use super::burst::{Burst, BurstTest};
use super::contribution::Contribution;
use crate::domain::Case;

/// What cases are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The predicted (or corrected) category.
    #[default]
    Category,
    /// 一般 / 严重 / 重大.
    Grade,
    /// Where the complaint came in.
    Channel,
    /// The department it is routed to.
    Department,
    /// Key phrases (the case's TF-IDF keywords).
    Phrase,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 5] = [
        Dimension::Category,
        Dimension::Grade,
        Dimension::Channel,
        Dimension::Department,
        Dimension::Phrase,
    ];

    /// The parse of its snake_case name.
    pub fn parse(s: &str) -> Option<Dimension> {
        Self::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Its snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Category => "category",
            Dimension::Grade => "grade",
            Dimension::Channel => "channel",
            Dimension::Department => "department",
            Dimension::Phrase => "phrase",
        }
    }
}

/// Strings seen, numbered, so that counts key on integers.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    // SipHash here: the strings come from complaint text (hash flooding).
    ids: std::collections::HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(s);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        id
    }

    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// One series of a trend query.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    /// The category, grade, … or phrase.
    pub value: String,
    /// Cases in the whole range.
    pub total: u32,
    /// Counts per bucket, every bucket of the range in order (zeros included).
    pub counts: Vec<u32>,
}

/// A trend query's answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendTable {
    /// What was counted by.
    pub dimension: Dimension,
    /// The bucket width.
    pub bucket: Bucket,
    /// The start of every bucket, in order.
    pub starts: Vec<Timestamp>,
    /// The largest series first.
    pub series: Vec<Series>,
}

/// A value rising in a window against its baseline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rising {
    /// The category, phrase, ….
    pub value: String,
    /// Cases in the baseline before the window.
    pub baseline_count: u32,
    /// The test's verdict on the window.
    #[serde(flatten)]
    pub burst: Burst,
}

/// The counts.
#[derive(Debug, Default)]
pub struct TrendBook {
    names: Interner,
    /// (dimension, value) → hour → cases.
    counts: HashMap<(Dimension, u32), BTreeMap<i64, u32>>,
    /// (dimension, value) → cases ever: an upper bound on any range's count, which lets a
    /// top-N query stop early (see [`TrendBook::table`]).
    totals: HashMap<(Dimension, u32), u32>,
    /// seq → what its last version added.
    contributions: HashMap<u64, Contribution>,
    latest_hour: Option<i64>,
}

impl TrendBook {
    /// Counts `case` (a new case, or a new version of one already counted: the old version's
    /// counts are taken back first, so a corrected category moves).
    pub fn apply(&mut self, case: &Case) {
        if let Some(old) = self.contributions.remove(&case.seq) {
            let old_hour = old.hour();
            for key in old.keys() {
                if let Some(hours) = self.counts.get_mut(&key)
                    && let Some(n) = hours.get_mut(&old_hour)
                {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        hours.remove(&old_hour);
                    }
                }
                if let Some(t) = self.totals.get_mut(&key) {
                    *t = t.saturating_sub(1);
                }
            }
        }
        let hour = hour_of(case.received_at);
        let mut keys = Vec::with_capacity(4 + case.keywords.len());
        let values = [
            (Dimension::Category, case.category.as_deref()),
            (Dimension::Grade, Some(case.grade.label())),
            (Dimension::Channel, Some(case.channel.code())),
            (Dimension::Department, case.department.as_deref()),
        ];
        for (dim, value) in values {
            if let Some(v) = value {
                keys.push((dim, self.names.id(v)));
            }
        }
        for k in &case.keywords {
            let key = (Dimension::Phrase, self.names.id(k));
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in &keys {
            *self
                .counts
                .entry(*key)
                .or_default()
                .entry(hour)
                .or_insert(0) += 1;
            *self.totals.entry(*key).or_insert(0) += 1;
        }
        self.contributions
            .insert(case.seq, Contribution::new(hour, &keys));
        self.latest_hour = Some(self.latest_hour.map_or(hour, |h| h.max(hour)));
    }

    /// Cases counted.
    pub fn cases(&self) -> usize {
        self.contributions.len()
    }

    /// The receipt time of the latest case counted (the "now" of replays).
    pub fn latest(&self) -> Option<Timestamp> {
        self.latest_hour.map(super::bucket::timestamp_of_hour)
    }

    /// Counts per `bucket` from `from` (inclusive) to `to` (exclusive) for the `top` largest
    /// values of `dimension` in that range.
    pub fn table(
        &self,
        dimension: Dimension,
        bucket: Bucket,
        from: Timestamp,
        to: Timestamp,
        top: usize,
    ) -> TrendTable {
        let (first, last) = (
            bucket.of_hour(hour_of(from)),
            bucket.of_hour(hour_of(to) - 1),
        );
        let (lo, hi) = (bucket.first_hour(first), bucket.first_hour(last + 1));
        let n = usize::try_from(last - first + 1).unwrap_or(0);
        // Values in order of their all-time count, an upper bound on their count in any
        // range: once the N-th best range count beats the next value's all-time count, no
        // later value can enter the top N. Phrases have tens of thousands of values over a
        // year; this reads a few hundred of them instead of all.
        let mut candidates: Vec<(u32, u32)> = self
            .totals
            .iter()
            .filter(|((dim, _), n)| *dim == dimension && **n > 0)
            .map(|(&(_, id), &n)| (n, id))
            .collect();
        candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
        let mut totals: Vec<(u32, &str, &BTreeMap<i64, u32>)> = Vec::new();
        for (bound, id) in candidates {
            if top > 0 && totals.len() == top && totals.last().is_some_and(|(n, _, _)| *n > bound) {
                break;
            }
            let Some(hours) = self.counts.get(&(dimension, id)) else {
                continue;
            };
            let total: u32 = hours.range(lo..hi).map(|(_, c)| c).sum();
            if total == 0 {
                continue;
            }
            let name = self.names.name(id);
            let at = totals.partition_point(|(n, v, _)| *n > total || (*n == total && *v < name));
            if at < top {
                totals.insert(at, (total, name, hours));
                totals.truncate(top);
            }
        }
        let series = totals
            .into_iter()
            .map(|(total, value, hours)| {
                let mut counts = vec![0u32; n];
                for (&hour, &c) in hours.range(lo..hi) {
                    counts[(bucket.of_hour(hour) - first) as usize] += c;
                }
                Series {
                    value: value.to_string(),
                    total,
                    counts,
                }
            })
            .collect();
        TrendTable {
            dimension,
            bucket,
            starts: (first..=last).map(|i| bucket.start(i)).collect(),
            series,
        }
    }

    /// Values of `dimension` whose count in the `window_hours` before `end` is surprising
    /// against the `baseline_hours` before the window; the most surprising first, only those
    /// with at least `min_count` cases in the window.
    pub fn rising(
        &self,
        dimension: Dimension,
        end: Timestamp,
        window_hours: i64,
        baseline_hours: i64,
        min_count: u32,
        top: usize,
    ) -> Vec<Rising> {
        let end = hour_of(end);
        let start = end - window_hours;
        let base = start - baseline_hours;
        let test = BurstTest {
            window: window_hours as f64,
            baseline: baseline_hours as f64,
            // A value unseen in the baseline is assumed to come about once a week.
            min_rate: 1.0 / (24.0 * 7.0),
        };
        let mut out: Vec<Rising> = self
            .counts
            .iter()
            .filter(|((dim, _), _)| *dim == dimension)
            .filter_map(|(&(_, id), hours)| {
                let count: u32 = hours.range(start..end).map(|(_, c)| c).sum();
                if count < min_count {
                    return None;
                }
                let baseline_count: u32 = hours.range(base..start).map(|(_, c)| c).sum();
                Some(Rising {
                    value: self.names.name(id).to_string(),
                    baseline_count,
                    burst: test.judge(count, baseline_count),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.burst
                .score
                .total_cmp(&a.burst.score)
                .then_with(|| a.value.cmp(&b.value))
        });
        out.truncate(top);
        out
    }

    /// Cases of `dimension = value` in the hours `[from, to)`.
    pub fn count(&self, dimension: Dimension, value: &str, from: i64, to: i64) -> u32 {
        self.names
            .get(value)
            .and_then(|id| self.counts.get(&(dimension, id)))
            .map_or(0, |hours| hours.range(from..to).map(|(_, c)| c).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Grade;

    fn case(seq: u64, at: &str, category: &str, keywords: &[&str]) -> Case {
        let mut c = crate::store::conformance::sample_case("x", at);
        c.seq = seq;
        c.category = Some(category.into());
        c.keywords = keywords.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn counts_by_day_and_moves_a_corrected_case() {
        let mut book = TrendBook::default();
        book.apply(&case(
            1,
            "2026-11-01T10:00:00+08:00",
            "网络问题",
            &["宽带", "断网"],
        ));
        book.apply(&case(2, "2026-11-01T23:00:00+08:00", "网络问题", &["宽带"]));
        book.apply(&case(3, "2026-11-02T09:00:00+08:00", "资费问题", &["扣费"]));
        let from: Timestamp = "2026-11-01T00:00:00+08:00".parse().unwrap();
        let to: Timestamp = "2026-11-03T00:00:00+08:00".parse().unwrap();
        let t = book.table(Dimension::Category, Bucket::Day, from, to, 10);
        assert_eq!(t.starts.len(), 2);
        assert_eq!(t.series[0].value, "网络问题");
        assert_eq!(t.series[0].counts, vec![2, 0]);
        assert_eq!(t.series[1].counts, vec![0, 1]);
        let p = book.table(Dimension::Phrase, Bucket::Day, from, to, 1);
        assert_eq!(p.series[0].value, "宽带");
        assert_eq!(p.series[0].total, 2);

        // An analyst corrects case 2: it moves, it is not counted twice.
        let mut corrected = case(2, "2026-11-01T23:00:00+08:00", "资费问题", &["宽带"]);
        corrected.grade = Grade::Serious;
        book.apply(&corrected);
        let t = book.table(Dimension::Category, Bucket::Day, from, to, 10);
        let total: u32 = t.series.iter().map(|s| s.total).sum();
        assert_eq!(total, 3);
        assert_eq!(book.cases(), 3);
        let fee = t.series.iter().find(|s| s.value == "资费问题").unwrap();
        assert_eq!(fee.counts, vec![1, 1]);
    }

    /// The early stop of `table` gives what summing every value would: phrases common in
    /// October and rare in November, and the other way round.
    #[test]
    fn the_top_of_a_range_is_exact_despite_stopping_early() {
        let mut book = TrendBook::default();
        let mut seq = 0;
        let mut brute: HashMap<String, u32> = HashMap::default();
        for p in 0..60u32 {
            let (october, november) = ((60 - p) % 17 * 3, p % 13 * 2);
            for (month, n) in [(10, october), (11, november)] {
                for i in 0..n {
                    seq += 1;
                    let at = format!("2026-{month}-{:02}T10:00:00+08:00", 1 + i % 28);
                    book.apply(&case(seq, &at, "网络问题", &[&format!("词{p}")]));
                    if month == 11 {
                        *brute.entry(format!("词{p}")).or_insert(0) += 1;
                    }
                }
            }
        }
        let from: Timestamp = "2026-11-01T00:00:00+08:00".parse().unwrap();
        let to: Timestamp = "2026-12-01T00:00:00+08:00".parse().unwrap();
        let mut expected: Vec<(u32, String)> = brute.into_iter().map(|(k, v)| (v, k)).collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for top in [1, 5, 12] {
            let got: Vec<(u32, String)> = book
                .table(Dimension::Phrase, Bucket::Day, from, to, top)
                .series
                .into_iter()
                .map(|s| (s.total, s.value))
                .collect();
            assert_eq!(got, expected[..top].to_vec(), "top {top}");
        }
    }

    #[test]
    fn a_phrase_that_jumps_is_rising_and_a_steady_one_is_not() {
        let mut book = TrendBook::default();
        let mut seq = 0;
        // Four weeks of two 宽带 cases a day; then in the last day 12 cases about 停水.
        for day in 1..=28 {
            for h in [9, 15] {
                seq += 1;
                let at = format!("2026-10-{day:02}T{h:02}:00:00+08:00");
                book.apply(&case(seq, &at, "网络问题", &["宽带"]));
            }
        }
        for h in 0..12 {
            seq += 1;
            let at = format!("2026-10-29T{:02}:30:00+08:00", 8 + h);
            book.apply(&case(seq, &at, "供水", &["停水"]));
            seq += 1;
            let at = format!("2026-10-29T{:02}:45:00+08:00", 8 + h / 6);
            if h < 2 {
                book.apply(&case(seq, &at, "网络问题", &["宽带"]));
            }
        }
        let end: Timestamp = "2026-10-30T00:00:00+08:00".parse().unwrap();
        let rising = book.rising(Dimension::Phrase, end, 24, 24 * 28, 3, 10);
        assert_eq!(rising[0].value, "停水");
        assert!(rising[0].burst.p_value < 1e-6);
        let steady = rising.iter().find(|r| r.value == "宽带");
        assert!(steady.is_none_or(|r| r.burst.p_value > 0.05), "{steady:?}");
    }
}
