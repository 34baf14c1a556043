//! `tousu import` and `tousu export` on the fixture model: bad lines reported by number while
//! the good lines go in, resuming without duplicates, CSV for Excel, corrections for training.

use std::path::Path;

use crate::support::{self, stderr, stdout, tousu_on};

/// Runs `tousu ARGS` on a store in `dir` with the fixture model.
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    tousu_on(&dir.join("data"), args)
}

/// `tousu export` (JSONL) of the store in `dir`, one value per case.
pub(crate) fn exported(dir: &Path) -> Vec<serde_json::Value> {
    let out = run_in(dir, &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(crate) fn write_lines(path: &Path, lines: &[&str]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn import_reports_bad_lines_by_number_resumes_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.jsonl");
    write_lines(
        &file,
        &[
            r#"{"text":"家里宽带断网三天了，报修没人管","channel":"phone","created_at":"2019-04-25 09:32:09"}"#,
            r#"{"text":"话费被多扣了二十元","resolution":"已为您办理退款。","likes":3}"#,
            r#"{"text": 42}"#,
            r#"not json"#,
            r#"{"text":"营业厅态度恶劣","received_at":"yesterday"}"#,
            r#"{"text":"   "}"#,
            r#"{"text":"小区停水三天无人处理","channel":"hotline_12345"}"#,
        ],
    );
    let args = ["import", file.to_str().unwrap()];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["imported"], 3);
    assert_eq!(report["bad_count"], 4);
    let lines: Vec<u64> = report["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[0].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    let err = stderr(&out);
    assert!(err.contains("cases.jsonl:5: `received_at`"), "{err}");
    assert!(
        err.contains("cases.jsonl:6: complaint text is empty"),
        "{err}"
    );

    // The same file again: everything was committed, nothing is imported twice.
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let again: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(again["resumed_after"], 7);
    assert_eq!(again["imported"], 0);

    // Export: JSONL has the three cases with masked text and kept source fields; CSV has a BOM.
    let cases = exported(dir.path());
    assert_eq!(cases.len(), 3);
    assert_eq!(
        cases[0]["received_at"], "2019-04-25T01:32:09Z",
        "local times are Beijing time"
    );
    assert_eq!(cases[1]["status"], "replied");
    assert_eq!(cases[1]["metadata"]["likes"], 3);
    assert!(cases[0]["id"].as_str().unwrap().starts_with("TS20190425-"));

    let csv = dir.path().join("cases.csv");
    let out = run_in(
        dir.path(),
        &["export", "--format", "csv", "--out", csv.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with("\u{FEFF}id,received_at".as_bytes()));
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 4);
}

#[test]
fn corrections_export_as_training_rows() {
    let dir = tempfile::tempdir().unwrap();
    let service = support::fixture_service(dir.path(), None);
    let labels = service.engine().classifier().labels().category.clone();
    let mut ids = Vec::new();
    for text in ["家里宽带断网三天了", "话费被多扣了二十元"] {
        let intake = tousu::domain::Intake {
            text: text.into(),
            ..Default::default()
        };
        match service.intake().create(&intake, "crm", None).unwrap() {
            tousu::service::CreateOutcome::Created(c) => ids.push(c.case.id.clone()),
            other => panic!("{other:?}"),
        }
    }
    let analyst = tousu::handling::Actor::new("ana", tousu::domain::Role::Analyst);
    let case = service.handling().get(&ids[0], &analyst).unwrap();
    let other = labels
        .iter()
        .find(|l| Some(l.as_str()) != case.category.as_deref())
        .unwrap()
        .clone();
    let patch = tousu::domain::CasePatch {
        category: Some(other.clone()),
        grade: Some(tousu::domain::Grade::Major),
        ..Default::default()
    };
    service.handling().patch(&ids[0], patch, &analyst).unwrap();
    let mut out = Vec::new();
    let rows = tousu::service::tools::export(
        service.store(),
        &mut out,
        tousu::service::tools::ExportFormat::Corrections,
    )
    .unwrap();
    assert_eq!(rows, 1, "only the corrected case is a training row");
    let row: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(row["category"], other.as_str());
    assert_eq!(row["grade"], "重大");
    assert_eq!(row["corrected_by"], "ana");
    assert_eq!(row["text"], "家里宽带断网三天了");
    // `tousu train` reads it: the dataset loader accepts the row as a labelled example.
    let file = dir.path().join("corrections.jsonl");
    std::fs::write(&file, &out).unwrap();
    let loaded = tousu::classify::load_jsonl(&file, false).unwrap();
    assert_eq!(loaded.examples.len(), 1);
}

#[test]
fn a_line_not_in_utf8_is_a_bad_line_and_crlf_lines_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gbk.jsonl");
    let mut body = Vec::new();
    body.extend_from_slice("{\"text\":\"家里宽带断网三天了\"}\r\n".as_bytes());
    // {"text":"宽带"} written in GBK, as a spreadsheet export on Windows would.
    body.extend_from_slice(b"{\"text\":\"\xbf\xed\xb4\xf8\"}\r\n");
    body.extend_from_slice("{\"text\":\"小区停水三天无人处理\"}\r\n".as_bytes());
    std::fs::write(&file, body).unwrap();
    let out = run_in(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["imported"], 2);
    assert_eq!(report["bad_count"], 1);
    assert_eq!(report["bad"][0][0], 2);
    assert!(
        stderr(&out).contains("gbk.jsonl:2: not UTF-8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn near_duplicate_lines_of_one_file_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dups.jsonl");
    let text = "小区门口的垃圾站三个月没有清运，夏天臭味很大，蚊蝇滋生，多次向物业反映无人处理，要求尽快清运并整改";
    write_lines(
        &file,
        &[
            &format!(r#"{{"text":"{text}","channel":"phone"}}"#),
            r#"{"text":"话费被多扣了二十元，要求退还"}"#,
            // The same complaint again through another channel, two lines later: both lines
            // are in flight together, so the store alone cannot see the first.
            &format!(r#"{{"text":"{text}。","channel":"web"}}"#),
        ],
    );
    let out = run_in(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cases = exported(dir.path());
    assert_eq!(cases.len(), 3);
    assert_eq!(
        cases[2]["links"]["duplicate_of"], cases[0]["id"],
        "{cases:#?}"
    );
    assert!(cases[1].get("links").is_none(), "{cases:#?}");
}

/// `tousu memory` builds each in-memory view of the store and prints its cost per case, and
/// refuses a `[memory]` setting the store cannot run with, naming it.
#[test]
fn memory_reports_each_view_per_case() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.jsonl");
    let lines: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"text":"第{i}号小区宽带断网{i}天，报修多次没人处理"}}"#))
        .collect();
    write_lines(&file, &lines.iter().map(String::as_str).collect::<Vec<_>>());
    let out = run_in(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_in(dir.path(), &["memory"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.starts_with("200 cases in "), "{table}");
    for part in [
        "near-duplicate bands",
        "work queues",
        "trends and topics",
        "recent cases (neighbour cache)",
        "recent cases (light-case cache)",
    ] {
        let line = table.lines().find(|l| l.starts_with(part)).expect(part);
        let per_case: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(per_case.is_finite(), "{line}");
    }
    // Freed memory goes back to the system at once by default; the allocator's own switch
    // wins (and proves the option set is the one it names).
    assert!(table.contains("allocator purge delay: 0 ms"), "{table}");
    // Huge pages are off for the process by default; the allocator's switch wins there too.
    assert!(table.contains("transparent huge pages: off"), "{table}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tousu"))
        .arg("memory")
        .args(crate::support::fixture_args(&dir.path().join("data")))
        .env("MIMALLOC_PURGE_DELAY", "7")
        .env("MIMALLOC_ALLOW_THP", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("allocator purge delay: 7 ms"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("transparent huge pages: allowed"),
        "{}",
        stdout(&out)
    );
    let config = dir.path().join("tousu.toml");
    std::fs::write(&config, "[memory]\nindex_writer_mib = 4\n").unwrap();
    let out = run_in(
        dir.path(),
        &["memory", "--config", config.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("memory.index_writer_mib"),
        "{}",
        stderr(&out)
    );
}
