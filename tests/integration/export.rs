//! `GET /v1/export` and `tousu export --format xlsx`: the cases a search's filters select, as
//! CSV (byte-order mark, header, rows oldest first) or as an xlsx workbook read back with
//! calamine; a supervisor's departments; the roles; the limits and bad parameters.

use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx};
use serde_json::json;
use tousu::config::{ApiKey, Limits, Role};
use tousu::service::tools::CASE_COLUMNS;

use crate::api::{
    ADMIN_KEY, ANALYST_KEY, BILL, BROADBAND, HANDLER_KEY, INTAKE_KEY, NETWORK, Resp, SIGNAL,
    SUPERVISOR_KEY, TestApp, app, build, close_case, id_of, keys,
};
use crate::support::http::enc;
use crate::support::{stderr, tousu_on};

/// `zhao`: a supervisor of 网络运维中心 only.
const NETWORK_LEAD_KEY: &str = "network-lead-key-0123456789abcdef";
const BILLING: &str = "计费账务中心";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Four cases, created out of order, received a day apart from 2026-03-01 (10:00 Beijing
/// time); their ids oldest received first. The first and third are sent to 网络运维中心, the
/// second to 计费账务中心 and closed there; the fourth stays where intake left it.
async fn seed(t: &TestApp) -> Vec<String> {
    let texts = [
        (3, SIGNAL),
        (1, BROADBAND),
        (4, "营业厅工作人员态度很差，排队等了很久"),
        (2, BILL),
    ];
    let mut by_day = Vec::new();
    for (day, text) in texts {
        let case = t
            .create(&json!({
                "text": text,
                "received_at": format!("2026-03-{day:02}T02:00:00Z"),
            }))
            .await;
        by_day.push((day, id_of(&case)));
    }
    by_day.sort();
    let ids: Vec<String> = by_day.into_iter().map(|(_, id)| id).collect();
    for id in [&ids[0], &ids[2]] {
        t.step(
            id,
            SUPERVISOR_KEY,
            json!({ "action": "assign", "department": NETWORK }),
        )
        .await;
    }
    close_case(t, &ids[1], BILLING).await;
    t.sync();
    ids
}

/// The app with a supervisor of 网络运维中心 only beside the usual keys.
fn app_with_network_lead(limits: Limits) -> TestApp {
    let mut keys = keys();
    keys.push(ApiKey {
        name: "zhao".into(),
        role: Role::Supervisor,
        key: NETWORK_LEAD_KEY.into(),
        departments: vec![NETWORK.into()],
    });
    build(keys, limits)
}

/// A CSV export: its rows (header first), after checking the download's headers and mark.
fn csv_rows(r: &Resp) -> Vec<Vec<String>> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_download(r, "csv");
    assert!(
        r.body.starts_with("\u{FEFF}".as_bytes()),
        "a byte-order mark"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&r.body[3..]);
    reader
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// `Content-Disposition: attachment; filename="tousu-cases-YYYYMMDD-HHMMSS.<ext>"`.
fn assert_download(r: &Resp, ext: &str) {
    let d = r.header("content-disposition").unwrap_or_default();
    let name = d
        .strip_prefix("attachment; filename=\"tousu-cases-")
        .and_then(|n| n.strip_suffix(&format!(".{ext}\"")))
        .unwrap_or_else(|| panic!("{d}"));
    let b = name.as_bytes();
    assert!(
        b.len() == 15 && b[8] == b'-' && name.replace('-', "").bytes().all(|c| c.is_ascii_digit()),
        "{d}"
    );
}

fn header() -> Vec<String> {
    CASE_COLUMNS.iter().map(|c| c.name.to_string()).collect()
}

/// The value of column `name` in `row`.
fn cell<'a>(row: &'a [String], name: &str) -> &'a str {
    let i = CASE_COLUMNS
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

/// The ids of a CSV export's rows.
fn csv_ids(rows: &[Vec<String>]) -> Vec<String> {
    assert_eq!(rows[0], header());
    rows[1..].iter().map(|r| r[0].clone()).collect()
}

/// The ids `GET /v1/search` finds with `filters`, oldest first.
async fn searched(t: &TestApp, filters: &str, key: &str) -> Vec<String> {
    let v = t
        .get(
            &format!("/v1/search?{filters}&sort=oldest&limit=100&facets=false"),
            Some(key),
        )
        .await
        .expect(StatusCode::OK);
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_has_the_mark_the_header_and_exactly_the_filtered_cases_oldest_first() {
    let t = app();
    let ids = seed(&t).await;
    let k = ANALYST_KEY;

    let rows = csv_rows(&t.get("/v1/export?format=csv", Some(k)).await);
    assert_eq!(csv_ids(&rows), ids, "every case, oldest received first");
    assert_eq!(cell(&rows[1], "received_at"), "2026-03-01T02:00:00Z");
    // The closed case carries its handling record.
    let closed = &rows[2];
    assert_eq!(cell(closed, "department"), BILLING);
    assert_eq!(cell(closed, "status"), "closed");
    assert_eq!(cell(closed, "follow_up_result"), "满意");
    assert_eq!(cell(closed, "root_cause"), "企业责任");
    assert_eq!(cell(closed, "resolution"), "已核实并退还多扣费用");
    for met in [
        "confirm_met_at",
        "reply_met_at",
        "close_met_at",
        "close_due",
    ] {
        assert!(cell(closed, met).starts_with("2026-"), "{met}: {closed:?}");
    }
    assert_eq!(
        (cell(closed, "returns"), cell(closed, "reopened")),
        ("0", "0")
    );
    assert_eq!(cell(&rows[4], "close_met_at"), "", "an open case");
    // Without a format, CSV.
    let again = csv_rows(&t.get("/v1/export", Some(k)).await);
    assert_eq!(csv_ids(&again), ids);

    // The search's filters select exactly what the search finds.
    for filters in [
        format!("department={}", enc(NETWORK)),
        format!("q={}", enc("宽带")),
        "status=closed".to_string(),
        "from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z".to_string(),
        format!("department={},{}", enc(NETWORK), enc(BILLING)),
    ] {
        let rows = csv_rows(&t.get(&format!("/v1/export?{filters}"), Some(k)).await);
        let found = csv_ids(&rows);
        assert_eq!(found, searched(&t, &filters, k).await, "{filters}");
        assert!(!found.is_empty(), "{filters}");
    }
    let network = csv_ids(&csv_rows(
        &t.get(&format!("/v1/export?department={}", enc(NETWORK)), Some(k))
            .await,
    ));
    assert_eq!(network, [ids[0].clone(), ids[2].clone()]);
    let window = csv_ids(&csv_rows(
        &t.get(
            "/v1/export?from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z",
            Some(k),
        )
        .await,
    ));
    assert_eq!(window, ids[1..3]);
    // Nothing selected: the header alone.
    let none = csv_rows(&t.get("/v1/export?department=nowhere", Some(k)).await);
    assert_eq!(none, [header()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_exports_the_cases_of_its_departments_only() {
    let t = app_with_network_lead(Limits::default());
    let ids = seed(&t).await;
    let zhao = NETWORK_LEAD_KEY;

    let rows = csv_rows(&t.get("/v1/export", Some(zhao)).await);
    assert_eq!(csv_ids(&rows), [ids[0].clone(), ids[2].clone()]);
    assert_eq!(csv_ids(&rows), searched(&t, "q=", zhao).await);
    // Another department asked for: nothing, as in search.
    let other = format!("/v1/export?department={}", enc(BILLING));
    assert_eq!(csv_rows(&t.get(&other, Some(zhao)).await), [header()]);
    let both = format!("/v1/export?department={},{}", enc(NETWORK), enc(BILLING));
    assert_eq!(
        csv_ids(&csv_rows(&t.get(&both, Some(zhao)).await)),
        [ids[0].clone(), ids[2].clone()]
    );
    // In xlsx too.
    let r = t.get("/v1/export?format=xlsx", Some(zhao)).await;
    assert_eq!(sheet_ids(&sheet(&r)), [ids[0].clone(), ids[2].clone()]);
    // A supervisor of every department sees every case.
    let all = csv_rows(&t.get("/v1/export", Some(SUPERVISOR_KEY)).await);
    assert_eq!(csv_ids(&all), ids);
}

/// An xlsx export's one sheet, `cases`, after checking the download's headers.
fn sheet(r: &Resp) -> Vec<Vec<Data>> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(XLSX));
    assert_download(r, "xlsx");
    read_sheet(r.body.to_vec())
}

fn read_sheet(bytes: Vec<u8>) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["cases"]);
    let range = book.worksheet_range("cases").unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

fn sheet_ids(rows: &[Vec<Data>]) -> Vec<String> {
    let head: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(head, header());
    rows[1..].iter().map(|r| r[0].to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_export_holds_the_header_and_the_rows_of_the_csv() {
    let t = app();
    let ids = seed(&t).await;

    let rows = sheet(&t.get("/v1/export?format=xlsx", Some(ADMIN_KEY)).await);
    assert_eq!(sheet_ids(&rows), ids);
    let csv = csv_rows(&t.get("/v1/export", Some(ADMIN_KEY)).await);
    let time_columns: Vec<usize> = (0..CASE_COLUMNS.len())
        .filter(|&i| {
            CASE_COLUMNS[i].name.ends_with("_at") || CASE_COLUMNS[i].name.ends_with("_due")
        })
        .collect();
    for (sheet_row, csv_row) in rows[1..].iter().zip(&csv[1..]) {
        for (i, (x, c)) in sheet_row.iter().zip(csv_row).enumerate() {
            if time_columns.contains(&i) {
                // An Excel date-time in Beijing time where the CSV has a UTC time.
                assert_eq!(
                    matches!(x, Data::DateTime(_)),
                    !c.is_empty(),
                    "{i}: {x:?} {c}"
                );
            } else {
                assert_eq!(&x.to_string(), c, "column {}", CASE_COLUMNS[i].name);
            }
        }
    }
    // 2026-03-01T02:00:00Z is 10:00 in Beijing.
    let Data::DateTime(first) = &rows[1][1] else {
        panic!("{:?}", rows[1][1]);
    };
    assert_eq!(first.to_ymd_hms_milli(), (2026, 3, 1, 10, 0, 0, 0));
    // Counts are numbers.
    let returns = CASE_COLUMNS
        .iter()
        .position(|c| c.name == "returns")
        .unwrap();
    assert_eq!(rows[2][returns], Data::Float(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_is_for_analysts_and_supervisors_and_says_what_it_takes() {
    let t = app();
    t.create_text(BILL).await;
    t.sync();
    for key in [INTAKE_KEY, HANDLER_KEY] {
        for format in ["csv", "xlsx"] {
            t.get(&format!("/v1/export?format={format}"), Some(key))
                .await
                .error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    t.get("/v1/export", None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    for format in ["pdf", "", "CSV", "json"] {
        let m = t
            .get(&format!("/v1/export?format={format}"), Some(ANALYST_KEY))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(
            m.contains("format") && m.contains("csv") && m.contains("xlsx"),
            "{m}"
        );
    }
    // The search's paging is not the export's; an unknown parameter is named with what is
    // taken.
    for bad in ["limit=5", "cursor=20", "color=red"] {
        let name = bad.split('=').next().unwrap();
        let m = t
            .get(&format!("/v1/export?{bad}"), Some(ANALYST_KEY))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
        assert!(m.contains(name) && m.contains("`format`"), "{m}");
    }
    // The filters are checked as the search checks them.
    for bad in ["grade=huge", "status=", "from=yesterday", "q=a&q=b"] {
        t.get(&format!("/v1/export?{bad}"), Some(ANALYST_KEY))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    }
    t.get(
        &format!("/v1/export?q={}", "长".repeat(1001)),
        Some(ANALYST_KEY),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    let m = t
        .get(
            &format!("/v1/export?q={}", enc("(宽带 OR")),
            Some(ANALYST_KEY),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("query"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_past_its_limit_is_refused_naming_it() {
    let limits = Limits {
        export_xlsx_rows: 2,
        export_rows: 3,
        ..Limits::default()
    };
    let t = app_with_network_lead(limits);
    let ids = seed(&t).await;
    let k = Some(ANALYST_KEY);

    let m = t
        .get("/v1/export?format=xlsx", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(
        m.contains("4 cases") && m.contains("(2)") && m.contains("format=csv"),
        "{m}"
    );
    let m = t
        .get("/v1/export?format=csv", k)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(m.contains("4 cases") && m.contains("(3)"), "{m}");
    // Narrowed to within the limits: served. A supervisor's scope counts, not the store's.
    let network = format!("/v1/export?format=xlsx&department={}", enc(NETWORK));
    assert_eq!(sheet_ids(&sheet(&t.get(&network, k).await)).len(), 2);
    let r = t
        .get("/v1/export?format=xlsx", Some(NETWORK_LEAD_KEY))
        .await;
    assert_eq!(sheet_ids(&sheet(&r)), [ids[0].clone(), ids[2].clone()]);
}

#[test]
fn cli_writes_a_workbook_to_a_file_and_only_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("cases.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"text":"家里宽带断网三天了，报修没人管","received_at":"2026-03-01T02:00:00Z"}"#,
            r#"{"text":"=HYPERLINK(\"http://x\") 话费被多扣了二十元","resolution":"已退款"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = tousu_on(&data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = tousu_on(&data, &["export", "--format", "xlsx"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));

    let xlsx = dir.path().join("cases.xlsx");
    let out = tousu_on(
        &data,
        &[
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_sheet(std::fs::read(&xlsx).unwrap());
    assert_eq!(rows.len(), 3, "{rows:?}");
    let text = CASE_COLUMNS.iter().position(|c| c.name == "text").unwrap();
    assert!(
        rows[2][text].to_string().starts_with("=HYPERLINK"),
        "text stays text in a workbook: {:?}",
        rows[2][text]
    );

    // The same columns in CSV, where a cell that would run as a formula is quoted as text.
    let csv = dir.path().join("cases.csv");
    let out = tousu_on(
        &data,
        &["export", "--format", "csv", "--out", csv.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body = std::fs::read_to_string(&csv).unwrap();
    let first = body.lines().next().unwrap().trim_start_matches('\u{FEFF}');
    assert_eq!(first, header().join(","));
    assert!(body.contains("'=HYPERLINK"), "{body}");
}
