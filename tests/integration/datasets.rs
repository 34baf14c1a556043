//! Checks on the real data sets with the shipped models. Slow-ish and data-dependent, so
//! `#[ignore]`d: `cargo test -- --ignored`. They skip with a message when the data is absent.
//!
//! The shipped models are trained on every labelled row, these dev rows included (issue 17), so
//! the thresholds sit under the cross-validated figures in the model cards: they catch a model
//! that reads the data differently from how it was trained (a broken tokenizer, pipeline or
//! profile falls far below them), not a change in held-out quality, which only the folds
//! measure.

use std::path::Path;

use tousu::classify::{Example, load_jsonl};
use tousu::triage::{Engine, evaluate};

use crate::support::{datasets, root};

fn engine(profile: &str) -> Engine {
    Engine::load(&root().join("models").join(profile), None).expect("shipped model loads")
}

fn rows(path: &Path) -> Vec<Example> {
    load_jsonl(path, false).unwrap().examples
}

#[test]
#[ignore = "needs ../shared/datasets; run with --ignored"]
fn telecom_model_on_cocc_dev() {
    let Some(d) = datasets() else { return };
    let report = evaluate(&engine("telecom"), &rows(&d.join("cocc/dev.jsonl"))).unwrap();
    let m = report.category.unwrap();
    assert!(m.macro_f1 > 0.78, "category macro-F1 {}", m.macro_f1);
}

#[test]
#[ignore = "needs ../shared/datasets; run with --ignored"]
fn telecom_grades_on_urgency_dev_rows() {
    let Some(d) = datasets() else { return };
    let dev_ids: std::collections::HashSet<String> = rows(&d.join("cocc/dev.jsonl"))
        .iter()
        .map(Example::key)
        .collect();
    let graded: Vec<Example> = rows(&d.join("urgency/labels.jsonl"))
        .into_iter()
        .filter(|e| dev_ids.contains(&e.key()))
        .collect();
    assert!(graded.len() > 50);
    let g = evaluate(&engine("telecom"), &graded)
        .unwrap()
        .grade
        .unwrap();
    assert!(g.major_recall >= 0.85, "重大 recall {}", g.major_recall);
    assert!(
        g.metrics.macro_f1 > 0.7,
        "grade macro-F1 {}",
        g.metrics.macro_f1
    );
}

#[test]
#[ignore = "needs ../shared/datasets; run with --ignored"]
fn gov_model_reads_tipdm_with_titles() {
    let Some(d) = datasets() else { return };
    let all = rows(&d.join("tipdm/train.jsonl"));
    let (_, dev) = tousu::classify::split(all, &tousu::classify::DevRule::Fraction(0.2));
    let m = evaluate(&engine("gov"), &dev).unwrap().category.unwrap();
    assert!(m.macro_f1 > 0.78, "category macro-F1 {}", m.macro_f1);
}
