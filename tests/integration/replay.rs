//! `tousu replay`: history fed through intake in time order, then the hot topics of every week
//! and the alerts each week would have had (counted in the week of the history they are
//! about). A replay lifts the age limit on alerts, which once overflowed a duration.

use crate::support::{fixture_model, stderr, stdout, tousu};

#[test]
fn a_replay_prints_each_weeks_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    let mut lines = Vec::new();
    // A quiet fortnight, then six residents on one outage in two days.
    for d in 1..=14 {
        lines.push(format!(
            r#"{{"text":"话费账单有疑问，想查询一下第{d}项","created_at":"2026-03-{d:02}T10:00:00+08:00","user":"q{d}"}}"#
        ));
    }
    for i in 0..6 {
        lines.push(format!(
            r#"{{"text":"小区宽带全部断网了，整栋楼都上不了网，第{i}户","created_at":"2026-03-16T{:02}:00:00+08:00","user":"u{i}"}}"#,
            9 + i
        ));
    }
    // A week of single safety reports, two a day from different people: each is 重大, but a
    // team is paged at most once a day; the rest go in each day's digest.
    let hazards = [
        "燃气泄漏",
        "电线漏电",
        "楼道起火",
        "煤气泄漏",
        "电梯困人受伤",
        "墙体倒塌",
        "广告牌坠落砸伤",
    ];
    for (d, h) in (23..=29).zip(hazards) {
        for k in 0..2 {
            lines.push(format!(
                r#"{{"text":"我家附近{h}，非常危险，请尽快处理，第{k}次","created_at":"2026-03-{d}T{:02}:00:00+08:00","user":"s{d}{k}"}}"#,
                9 + 4 * k
            ));
        }
    }
    // The next week's first case brings the last day's digest.
    lines.push(
        r#"{"text":"话费账单有疑问","created_at":"2026-03-30T10:00:00+08:00","user":"z"}"#
            .to_string(),
    );
    std::fs::write(&file, lines.join("\n")).unwrap();
    let models = fixture_model().parent().unwrap().display().to_string();
    let data = dir.path().join("data");
    let o = tousu(
        &[
            "replay",
            file.to_str().unwrap(),
            "--contact-field",
            "user",
            "--data-dir",
            data.to_str().unwrap(),
            "--models-dir",
            &models,
            "--profile",
            "model",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(stderr(&o).contains("replayed 35 cases"), "{}", stderr(&o));
    assert!(out.contains("alerts per week"), "{out}");
    let week = |monday: &str| -> std::collections::BTreeMap<String, usize> {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(monday))
            .unwrap_or_default();
        line.split("  ")
            .last()
            .unwrap_or_default()
            .split(", ")
            .filter_map(|p| {
                let (rule, n) = p.trim().rsplit_once(' ')?;
                Some((rule.to_string(), n.parse().ok()?))
            })
            .collect()
    };
    // The burst of one outage from six residents alerts in its week (counted in the week of the
    // history, 2026-03-16, not the week it was replayed).
    assert_eq!(week("2026-03-16").get("topic_surge"), Some(&1), "{out}");
    // The week of hazards: 14 cases, at most one page a day, the rest in digests.
    let hazards = week("2026-03-23");
    let paged = hazards.get("safety_case").copied().unwrap_or(0);
    let digests = hazards.get("case_digest").copied().unwrap_or(0);
    assert!(paged <= 7, "{out}");
    // Every day held back at least one: seven digests (the last brought by the next week's
    // first case, yet counted in the day it is about).
    assert_eq!(digests, 7, "{out}");
    assert!(out.contains("weeks with cases"), "{out}");
}
