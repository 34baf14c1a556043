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
    lines.push(
        r#"{"text":"家里燃气泄漏，闻到很大的煤气味","created_at":"2026-03-17T09:00:00+08:00","user":"s1"}"#
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
    assert!(stderr(&o).contains("replayed 21 cases"), "{}", stderr(&o));
    assert!(out.contains("alerts per week"), "{out}");
    // The gas leak alerts, in the week of 2026-03-16 (a Monday), not in the week it was replayed.
    let week = out
        .lines()
        .find(|l| l.trim_start().starts_with("2026-03-16"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(week.contains("safety_case"), "{week}");
    assert!(out.contains("weeks with cases"), "{out}");
}
