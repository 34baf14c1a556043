//! The project's own grade labels on the command line: `tousu agreement` recomputes how far
//! two passes agreed, `tousu split --annotations` joins grades onto texts by id, and
//! `tousu eval --rules` measures each rule phrase on graded rows.

use std::io::Write;

use serde_json::Value;

use crate::support::{fixture_model, stderr, stdout, tousu};

fn jsonl(lines: &[&str]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

fn ann(id: &str, a: &str, b: &str, c: Option<&str>) -> String {
    let j = |g: &str| {
        let r = if g == "一般" { "none" } else { "repeat" };
        format!(r#"{{"grade":"{g}","reason":"{r}"}}"#)
    };
    let settled = c.unwrap_or(a);
    let third = c.map_or(String::new(), |c| format!(r#","pass_c":{}"#, j(c)));
    format!(
        r#"{{"id":"{id}","source":"tipdm","grade":"{settled}","reason":"none","pass_a":{},"pass_b":{}{third}}}"#,
        j(a),
        j(b)
    )
}

#[test]
fn agreement_is_recomputed_from_the_passes() {
    // Four items: three agree, one the third pass settles for B.
    let f = jsonl(&[
        &ann("a", "一般", "一般", None),
        &ann("b", "重大", "重大", None),
        &ann("c", "严重", "严重", None),
        &ann("d", "一般", "严重", Some("严重")),
    ]);
    let o = tousu(&["agreement", "--json", f.path().to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["items"], 4);
    assert_eq!(v["grade_agreement"], 0.75);
    // A: 一般 2, 严重 1, 重大 1; B: 一般 1, 严重 2, 重大 1. pe = (2·1 + 1·2 + 1·1)/16 = 5/16.
    let kappa = (0.75 - 5.0 / 16.0) / (1.0 - 5.0 / 16.0);
    assert!(
        (v["grade_kappa"].as_f64().unwrap() - kappa).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(v["third_sided_with"], serde_json::json!([0, 1, 0]));

    // A pass compared with labelled texts on the ids both have.
    let labelled = jsonl(&[
        r#"{"id":"a","text":"甲","grade":"一般"}"#,
        r#"{"id":"b","text":"乙","grade":"严重"}"#,
    ]);
    let o = tousu(
        &[
            "agreement",
            "--json",
            "--against",
            labelled.path().to_str().unwrap(),
            f.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["items"].as_u64(), v["agreement"].as_f64()),
        (Some(2), Some(0.5))
    );

    // A malformed line is named.
    let bad = jsonl(&[
        &ann("a", "一般", "一般", None),
        r#"{"id":"x","grade":"紧急"}"#,
    ]);
    let o = tousu(&["agreement", bad.path().to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains(":2:"), "{}", stderr(&o));
}

#[test]
fn split_joins_annotations_onto_texts_by_id_and_drops_unlabelled_texts() {
    let texts = jsonl(&[
        r#"{"id":"t1","text":"小区电梯坏了","category":"城乡建设","source":"tipdm"}"#,
        r#"{"id":"h1","title":"噪音","text":"工地夜间施工","source":"tipdm-hotspots"}"#,
        r#"{"id":"h2","text":"路灯不亮","source":"tipdm-hotspots"}"#,
    ]);
    let anns = jsonl(&[
        &ann("t1", "严重", "严重", None),
        &ann("h1", "重大", "重大", None),
        &ann("zz", "一般", "一般", None),
    ]);
    let out = tempfile::tempdir().unwrap();
    let o = tousu(
        &[
            "split",
            "--data",
            texts.path().to_str().unwrap(),
            "--annotations",
            anns.path().to_str().unwrap(),
            "--source",
            "tipdm",
            "--source",
            "tipdm-hotspots",
            "--dev-fraction",
            "0.0",
            "--out",
            out.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 annotations joined, 1 naming no text"),
        "{}",
        stderr(&o)
    );
    let train = std::fs::read_to_string(out.path().join("train.jsonl")).unwrap();
    let rows: Vec<Value> = train
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "h2 has no label: {train}");
    assert_eq!(rows[0]["grade"], "严重");
    assert_eq!(rows[0]["category"], "城乡建设");
    assert_eq!(rows[1]["id"], "h1");
    assert_eq!(rows[1]["grade"], "重大");
}

#[test]
fn eval_measures_each_rule_phrase_on_the_graded_rows() {
    let data = jsonl(&[
        r#"{"id":"1","text":"家里燃气泄漏了","grade":"重大"}"#,
        r#"{"id":"2","text":"楼道燃气泄漏，已经处理好了","grade":"一般"}"#,
        r#"{"id":"3","text":"宽带坏了","grade":"一般"}"#,
    ]);
    let model = fixture_model().display().to_string();
    let o = tousu(
        &[
            "eval",
            "--json",
            "--model",
            &model,
            "--data",
            data.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let gas = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["part"] == "燃气泄漏")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(gas["fired"], 2);
    assert_eq!(gas["precision"], 0.5);
    assert_eq!(gas["reason"], "safety");
    let o = tousu(
        &[
            "eval",
            "--rules",
            "--model",
            &model,
            "--data",
            data.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(
        stdout(&o).contains("燃气泄漏") && stdout(&o).contains("< 0.6"),
        "{}",
        stdout(&o)
    );
}
