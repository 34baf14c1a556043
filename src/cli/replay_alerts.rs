//! The alerts of a replay, week by week: each counted in the week of the history it is about
//! (a case's receipt, a topic's latest case, a category's day), not when the replay raised it.
//! What a team on the receiving end would have got each week.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use jiff::Timestamp;
use tousu::domain::{AlertRecord, CaseId};
use tousu::service::Service;
use tousu::trends::{Bucket, beijing_date, hour_of};

/// Alerts per week (Monday, Beijing date) and rule.
pub type WeeklyAlerts = BTreeMap<String, BTreeMap<String, usize>>;

/// Counts `records` by week and rule.
pub fn weekly(service: &Service, records: &[AlertRecord]) -> anyhow::Result<WeeklyAlerts> {
    let ids: Vec<CaseId> = records
        .iter()
        .filter_map(|r| {
            r.alert
                .data
                .get("case")?
                .as_str()
                .map(|s| CaseId(s.to_string()))
        })
        .collect();
    let received: BTreeMap<CaseId, Timestamp> = service
        .store()
        .get_many(&ids)?
        .iter()
        .map(|c| (c.id.clone(), c.received_at))
        .collect();
    let mut out = WeeklyAlerts::new();
    for r in records {
        let a = &r.alert;
        let case = a.data.get("case").and_then(|v| v.as_str());
        let at = case
            .and_then(|c| received.get(&CaseId(c.to_string())).copied())
            .or_else(|| a.data.get("last_seen")?.as_str()?.parse().ok())
            .or_else(|| category_day(&a.key))
            .or_else(|| noon(a.data.get("day")?.as_str()?))
            .unwrap_or(a.created_at);
        let week = beijing_date(Bucket::Week.start(Bucket::Week.of_hour(hour_of(at))));
        *out.entry(week)
            .or_default()
            .entry(a.rule.clone())
            .or_default() += 1;
    }
    Ok(out)
}

/// Noon (Beijing) of the day in a category spike's key (`category:<name>:<yyyy-mm-dd>`).
fn category_day(key: &str) -> Option<Timestamp> {
    noon(key.strip_prefix("category:")?.rsplit(':').next()?)
}

/// Noon (Beijing) of a `yyyy-mm-dd` day.
fn noon(day: &str) -> Option<Timestamp> {
    format!("{day}T12:00:00+08:00").parse().ok()
}

/// Prints each week's alerts by rule, and the mean over `weeks` (the weeks with cases).
pub fn print(weekly: &WeeklyAlerts, weeks: &BTreeSet<String>) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    writeln!(
        out,
        "alerts per week (by the week of the history they are about)"
    )?;
    let mut total = 0usize;
    for (week, rules) in weekly {
        let n: usize = rules.values().sum();
        total += n;
        let by_rule: Vec<String> = rules.iter().map(|(r, c)| format!("{r} {c}")).collect();
        writeln!(out, "  {week}  {n:>3}  {}", by_rule.join(", "))?;
    }
    let mean = if weeks.is_empty() {
        0.0
    } else {
        total as f64 / weeks.len() as f64
    };
    let digests: usize = weekly
        .values()
        .filter_map(|rules| rules.get("case_digest"))
        .sum();
    let per_week = |n: usize| {
        if weeks.is_empty() {
            0.0
        } else {
            n as f64 / weeks.len() as f64
        }
    };
    writeln!(
        out,
        "{total} alerts over {} weeks with cases: {mean:.1} a week ({} a week without the daily digests)",
        weeks.len(),
        format_args!("{:.1}", per_week(total - digests)),
    )?;
    Ok(())
}
