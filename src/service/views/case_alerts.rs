//! Per-case alerts by policy, not by phrase. A 重大 case whose reason is one the rules name
//! (safety, external by default) pages someone at once only when the model itself also finds
//! it 重大 (a phrase alone does not), when it is the first of its matter (not a repeat, a
//! duplicate, a group member, or of a topic that paged in the last week), and at most
//! `max_case_alerts_per_day` in any 24 hours (by receipt, every department together). Every
//! other such case waits for its day's digest: one alert listing them, raised when the first
//! case of a later day arrives. Kept in memory: a restart forgets the recent pages and the
//! cases held for a digest.

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashMap as HashMap;

use super::watch::Watch;
use crate::alerts::Alert;
use crate::domain::{Case, CaseId, Grade, Reason};
use crate::trends::beijing_date;

/// Cases a digest lists by number; it counts them all.
const DIGEST_LISTED: usize = 20;

/// Per-case alerts of each day not yet digested.
#[derive(Debug, Default)]
pub(super) struct CaseDays {
    /// Beijing day → the cases held for its digest.
    days: BTreeMap<String, Vec<Held>>,
    /// The latest day a case was seen for. Days before it are digested and gone: a case that
    /// arrives late for one of them counts under this day (never a second page, or a second
    /// digest, for a day).
    latest: String,
    /// The topics that paged, with the receipt time of their last page: another case of the
    /// same matter within [`TOPIC_QUIET`] goes in the digest (its growth is the topic alert's
    /// business).
    paged_topics: HashMap<u32, Timestamp>,
    /// Receipt times of the pages of the last 24 hours: the rate limit is a sliding window, so
    /// that 23:59 and 00:01 are not two days' quota.
    recent_pages: VecDeque<Timestamp>,
}

/// How long a topic that paged stays quiet for per-case pages.
const TOPIC_QUIET: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The rate limit's window.
const PAGE_WINDOW: SignedDuration = SignedDuration::from_hours(24);

#[derive(Debug)]
struct Held {
    id: CaseId,
    reason: Reason,
    excerpt: String,
}

impl Watch {
    /// The per-case alert `c` raises now (if any), and the digests of earlier days now due.
    pub(super) fn case_alerts(&self, c: &Case, topic: u32) -> Vec<Alert> {
        let r = &self.rules;
        let mut days = self.case_days.lock().unwrap_or_else(|p| p.into_inner());
        let day = beijing_date(c.received_at).max(days.latest.clone());
        days.latest.clone_from(&day);
        let mut out = digests_before(&mut days, &day);
        let Some(reason) = c.reasons.iter().find(|x| r.reasons.contains(x)).copied() else {
            return out;
        };
        if c.grade != Grade::Major {
            return out;
        }
        // Cases stored before the model's grade (or its probability) was kept are taken as
        // agreeing.
        let agrees = !r.case_alerts_need_model
            || match c.model_major_probability {
                Some(p) => p >= r.case_alert_min_probability,
                None => c.model_grade.is_none_or(|g| g == Grade::Major),
            };
        let at = c.received_at;
        days.paged_topics
            .retain(|_, last| at.duration_since(*last) < TOPIC_QUIET);
        // A repeat, a duplicate, a group member or a topic that paged this week is a matter
        // already known (groups and growing topics have alerts of their own): news for the
        // digest, not a page.
        let first = !r.case_alerts_first_of_matter
            || (c.links.repeat_of.is_empty()
                && c.links.duplicate_of.is_none()
                && c.links.group_id.is_none()
                && !days.paged_topics.contains_key(&topic));
        while days
            .recent_pages
            .front()
            .is_some_and(|t| at.duration_since(*t) >= PAGE_WINDOW)
        {
            days.recent_pages.pop_front();
        }
        let under_limit = r.max_case_alerts_per_day == 0
            || days.recent_pages.len() < r.max_case_alerts_per_day as usize;
        if agrees && first && under_limit {
            days.recent_pages.push_back(at);
            days.paged_topics.insert(topic, at);
            out.push(case_alert(c, reason));
        } else {
            days.days.entry(day).or_default().push(Held {
                id: c.id.clone(),
                reason,
                excerpt: excerpt(&c.text, 40),
            });
        }
        out
    }
}

/// The digests of the days before `day` that held cases; those days are forgotten.
fn digests_before(days: &mut CaseDays, day: &str) -> Vec<Alert> {
    let later = days.days.split_off(day);
    let earlier = std::mem::replace(&mut days.days, later);
    earlier
        .into_iter()
        .filter(|(_, held)| !held.is_empty())
        .map(|(day, held)| digest(&day, &held))
        .collect()
}

fn case_alert(c: &Case, reason: Reason) -> Alert {
    Alert {
        id: String::new(),
        rule: format!("{}_case", reason.code()),
        key: format!("case:{}", c.id),
        fingerprint: reason.code().to_string(),
        title: format!(
            "{}：{} {}",
            reason_title(reason),
            c.id,
            excerpt(&c.text, 40)
        ),
        summary: format!(
            "案件 {}（{}，{}）\n{}",
            c.id,
            c.category.as_deref().unwrap_or("未分类"),
            c.grade.label(),
            excerpt(&c.text, 200)
        ),
        severity: c.grade.label().to_string(),
        department: c.department.clone(),
        created_at: Timestamp::now(),
        data: serde_json::json!({"case": c.id, "reason": reason.code(), "category": c.category}),
    }
}

/// One alert for a day's held cases: how many, by reason, and the first of them.
fn digest(day: &str, held: &[Held]) -> Alert {
    let mut by_reason: BTreeMap<Reason, usize> = BTreeMap::new();
    for h in held {
        *by_reason.entry(h.reason).or_default() += 1;
    }
    let counts: Vec<String> = by_reason
        .iter()
        .map(|(r, n)| format!("{} {n} 件", reason_title(*r)))
        .collect();
    let lines: Vec<String> = held
        .iter()
        .take(DIGEST_LISTED)
        .map(|h| format!("{} {}", h.id, h.excerpt))
        .collect();
    let more = held.len().saturating_sub(DIGEST_LISTED);
    Alert {
        id: String::new(),
        rule: "case_digest".into(),
        key: format!("digest:{day}"),
        fingerprint: held.len().to_string(),
        title: format!(
            "每日汇总：{day} 另有 {} 件重大案件（{}）",
            held.len(),
            counts.join("，")
        ),
        summary: format!(
            "{}{}",
            lines.join("\n"),
            if more > 0 {
                format!("\n……另 {more} 件")
            } else {
                String::new()
            }
        ),
        severity: Grade::Major.label().into(),
        // About many cases: the supervisors' channel.
        department: None,
        created_at: Timestamp::now(),
        data: serde_json::json!({
            "day": day,
            "count": held.len(),
            "cases": held.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        }),
    }
}

pub(super) fn reason_title(reason: Reason) -> &'static str {
    match reason {
        Reason::Safety => "安全隐患",
        Reason::External => "扬言外部投诉/曝光",
        _ => "需关注案件",
    }
}

pub(super) fn excerpt(text: &str, chars: usize) -> String {
    let mut s: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        s.push('…');
    }
    s
}
