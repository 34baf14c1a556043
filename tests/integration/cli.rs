//! The command line on the fixture model: triage, eval, and their errors.

use std::io::Write;

use serde_json::Value;

use crate::support::{fixture, fixture_model, stderr, stdout, tousu};

fn model_arg() -> String {
    fixture_model().display().to_string()
}

/// `tousu eval --json` on `data` with the fixture model; the parsed object, after checking success.
fn eval_json(data: &str, extra: &[&str]) -> Value {
    let mut args = vec!["eval", "--json"];
    args.extend_from_slice(extra);
    let model = model_arg();
    args.extend_from_slice(&["--model", &model, "--data", data]);
    let o = tousu(&args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(stdout(&o).trim()).unwrap()
}

#[test]
fn triage_from_argument_masks_pii_and_explains() {
    let o = tousu(
        &[
            "triage",
            "--model",
            &model_arg(),
            "家里宽带断网三天了，电话13812345678，再次反映没人管",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(!stdout(&o).contains("13812345678"), "phone leaked");
    assert_eq!(v["pii"][0]["kind"], "mobile");
    assert_eq!(v["category"]["label"], "网络问题");
    assert!(v["category"]["confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(v["category"]["alternatives"].as_array().unwrap().len(), 2);
    assert!(!v["category"]["drivers"].as_array().unwrap().is_empty());
    // 再次反映 is a `repeat` rule: at least 严重, and the rule is named.
    assert_ne!(v["grade"]["label"], "一般");
    let rules = v["grade"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["reason"] == "repeat" && r["phrase"] == "再次")
    );
}

#[test]
fn triage_reads_stdin_and_traditional_text() {
    let o = tousu(
        &["triage", "--compact", "--model", &model_arg()],
        Some("本月話費多扣了50元，要求退費"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["masked_text"], "本月话费多扣了50元,要求退费");
    assert_eq!(v["category"]["label"], "费用问题");
}

#[test]
fn triage_rejects_empty_text() {
    let o = tousu(&["triage", "--model", &model_arg()], Some("  \n\t "));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn triage_flags_very_long_text() {
    let long = "宽带断网".repeat(6_000);
    let o = tousu(
        &["triage", "--compact", "--model", &model_arg()],
        Some(&long),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["truncated"], true);
}

#[test]
fn triage_handles_non_chinese_text() {
    let o = tousu(
        &[
            "triage",
            "--model",
            &model_arg(),
            "My broadband has been down for 3 days!",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn missing_model_says_how_to_get_one() {
    let o = tousu(
        &["triage", "--model", "/nonexistent/model", "宽带坏了"],
        None,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("tousu train"), "{}", stderr(&o));
}

#[test]
fn eval_json_has_the_documented_fields() {
    let data = fixture("tiny-dev.jsonl");
    let v = eval_json(data.to_str().unwrap(), &[]);
    for head in ["category", "grade"] {
        for key in ["macro_f1", "accuracy", "ece", "per_class"] {
            assert!(!v[head][key].is_null(), "{head}.{key} missing");
        }
    }
    assert!(v["grade"]["major_recall"].is_number());
    assert!(v["category"]["per_class"]["网络问题"]["support"].is_number());
    assert_eq!(
        v["macro_f1"], v["category"]["macro_f1"],
        "top level mirrors the category head"
    );
}

fn temp_jsonl(lines: &[&str]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

#[test]
fn eval_names_the_bad_line_or_skips_it() {
    let f = temp_jsonl(&[
        r#"{"text":"宽带断网","category":"网络问题"}"#,
        r#"{"text": 12}"#,
        r#"{"text":"话费多扣了","category":"费用问题","extra":"ignored"}"#,
    ]);
    let path = f.path().to_str().unwrap();
    let o = tousu(&["eval", "--model", &model_arg(), "--data", path], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains(&format!("{path}:2:")), "{}", stderr(&o));

    let v = eval_json(path, &["--skip-bad"]);
    assert_eq!(v["rows"], 2);
    assert_eq!(v["skipped_lines"], 1);
}

#[test]
fn eval_lists_the_models_labels_for_an_unknown_one() {
    let f = temp_jsonl(&[r#"{"text":"宽带断网","category":"外星问题"}"#]);
    let o = tousu(
        &[
            "eval",
            "--model",
            &model_arg(),
            "--data",
            f.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    for label in ["外星问题", "网络问题", "费用问题", "服务问题"] {
        assert!(err.contains(label), "{label} missing: {err}");
    }
}

#[test]
fn eval_grade_only_file() {
    let f = temp_jsonl(&[
        r#"{"text":"燃气泄漏了，很危险","grade":"重大"}"#,
        r#"{"text":"想问一下套餐怎么改","grade":"一般"}"#,
    ]);
    let v = eval_json(f.path().to_str().unwrap(), &[]);
    assert!(v["category"].is_null());
    assert_eq!(
        v["grade"]["major_recall"], 1.0,
        "the safety rule grades 燃气泄漏 重大"
    );
    assert_eq!(v["macro_f1"], v["grade"]["macro_f1"]);
}

#[test]
fn eval_writes_the_misjudged_rows_with_the_rules_that_fired() {
    // 想问 is a question (一般) but its grade is given as 重大; the gas leak is graded 重大 by
    // the safety rule whatever the tiny model says, so it is not an error.
    let f = temp_jsonl(&[
        r#"{"id":"q1","text":"想问一下套餐怎么改","grade":"重大","reason":"safety"}"#,
        r#"{"id":"g1","text":"家里燃气泄漏了，很危险","grade":"重大","reason":"safety"}"#,
    ]);
    let errors = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    let v = eval_json(
        f.path().to_str().unwrap(),
        &["--errors", errors.path().to_str().unwrap()],
    );
    assert!(v["grade"]["rules_only_macro_f1"].is_number());
    let written = std::fs::read_to_string(errors.path()).unwrap();
    let rows: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{written}");
    assert_eq!(rows[0]["id"], "q1");
    assert_eq!(rows[0]["grade"], "重大");
    assert_eq!(rows[0]["reason"], "safety");
    assert_ne!(rows[0]["predicted_grade"], "重大");
    assert_eq!(rows[0]["line"], 1);
}

#[test]
fn train_grades_rows_teach_the_grade_head_only() {
    let out = tempfile::tempdir().unwrap();
    // Rows of another taxonomy: their categories must not enter this model's labels.
    let other = temp_jsonl(&[
        r#"{"id":"x1","text":"小区停水三天了没人管","category":"城乡建设","grade":"严重"}"#,
        r#"{"id":"x2","text":"工厂排放毒气，多人中毒","category":"环境保护","grade":"重大"}"#,
        // A dev text under another id: dropped, or dev would be trained on.
        r#"{"id":"x3","text":"装维师傅约好上门却没来20","grade":"一般"}"#,
    ]);
    let o = tousu(
        &[
            "train",
            "--profile",
            "telecom",
            "--train",
            fixture("tiny-train.jsonl").to_str().unwrap(),
            "--train-grades",
            other.path().to_str().unwrap(),
            "--dev",
            fixture("tiny-dev.jsonl").to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--dim",
            "8",
            "--min-df",
            "1",
            "--epochs",
            "2",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("labels.json")).unwrap())
            .unwrap();
    let categories: Vec<&str> = labels["category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(!categories.contains(&"城乡建设"), "{categories:?}");
    assert!(categories.contains(&"网络问题"), "{categories:?}");
    assert!(
        stderr(&o).contains("2 grade-only rows added"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn triage_routes_and_sets_working_day_deadlines() {
    // Received Tue 30 Sep 2025, 10:00 Beijing: the National Day week (1–8 Oct) is skipped and
    // Sat 11 Oct is a make-up working day.
    let o = tousu(
        &[
            "triage",
            "--model",
            &model_arg(),
            "--received-at",
            "2025-09-30T10:00:00+08:00",
            "家里宽带断网三天了，多次反映没人管",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["routing"]["department"], "网络运维中心");
    let grade = v["grade"]["label"].as_str().unwrap();
    let tier = v["routing"]["tier"].as_str().unwrap();
    assert!(!tier.is_empty());
    let due = |step: &str| -> String {
        let d = v["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["step"] == step)
            .unwrap_or_else(|| panic!("no {step} deadline: {v}"));
        assert!(
            d.get("calendar_complete").is_none(),
            "2025 has its notice: {d}"
        );
        let due: jiff::Timestamp = d["due"].as_str().unwrap().parse().unwrap();
        due.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    // Working hours 08:30–12:00, 13:00–18:00; working days end at midnight Beijing.
    match grade {
        // 严重: confirm in 4 working hours (10:00–12:00, 13:00–15:00); reply in 3 working days
        // (Thu 9, Fri 10, Sat 11); close in 10 (9, 10, 11, 13–17, 20, 21 Oct).
        "严重" => {
            assert_eq!(due("confirm"), "2025-09-30 15:00");
            assert_eq!(due("reply"), "2025-10-11 23:59");
            assert_eq!(due("close"), "2025-10-21 23:59");
        }
        // 重大: confirm in 2 hours, reply in 24 hours (calendar), close in 5 working days.
        "重大" => {
            assert_eq!(due("confirm"), "2025-09-30 12:00");
            assert_eq!(due("reply"), "2025-10-01 10:00");
            assert_eq!(due("close"), "2025-10-14 23:59");
        }
        other => panic!("多次反映 is at least 严重, got {other}"),
    }
}

#[test]
fn shipped_policies_route_every_category_of_their_model() {
    for profile in ["telecom", "gov"] {
        let p = tousu::triage::Profile::builtin(profile).unwrap();
        let policy = p.policy.expect("shipped profiles have a policy");
        let labels: Value = serde_json::from_str(
            &std::fs::read_to_string(
                crate::support::root()
                    .join("models")
                    .join(profile)
                    .join("labels.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let routed: Vec<&str> = policy.routed_categories().collect();
        for c in labels["category"].as_array().unwrap() {
            assert!(
                routed.contains(&c.as_str().unwrap()),
                "{profile}: {c} unrouted"
            );
        }
    }
}

/// `tousu … | head`: when the reader has gone, a printing command ends as Unix tools do (killed
/// by SIGPIPE, nothing on stderr), not in a panic (`agreement` prints its table with
/// `println!`, which panicked on a closed pipe). The pipe's read end is closed before the
/// command starts, so its first write finds it closed.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_a_printing_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let labels = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/labels/urgency/annotations.jsonl"
    );
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_tousu"))
        .args(["agreement", labels])
        .env("RUST_BACKTRACE", "0")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(
        o.status.signal(),
        Some(13),
        "{:?}: {}",
        o.status,
        stderr(&o)
    );
}
