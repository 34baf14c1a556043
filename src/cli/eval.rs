//! `tousu eval`: a model (grade rules included) on labelled JSONL.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use tousu::classify::{load_jsonl, write_jsonl};
use tousu::triage::{BaselinePrediction, EvalReport, evaluate, evaluate_predictions};

use super::output::{emit, report_skipped};
use super::triage::ModelArgs;

#[derive(Args)]
pub struct EvalArgs {
    /// Labelled JSONL: `text` and `category` and/or `grade` (other fields ignored).
    #[arg(long)]
    data: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Skip malformed lines (and count them) instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
    /// Score these predictions (`id` + `category`/`grade` JSONL) instead of the model.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Also print each grade rule's phrases and patterns that fired: how often, and their
    /// precision (how often the grade the rule implies is the labelled grade).
    #[arg(long, conflicts_with = "predictions")]
    rules: bool,
    /// Write every misjudged row (labels, predictions, fired rules, masked text) to this JSONL.
    #[arg(long, conflicts_with = "predictions")]
    errors: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let loaded = load_jsonl(&a.data, a.skip_bad)?;
    report_skipped(&loaded.skipped);
    if loaded.examples.is_empty() {
        bail!("{}: no rows to evaluate", a.data.display());
    }
    let report = match &a.predictions {
        Some(p) => evaluate_predictions(&loaded.examples, &read_predictions(p)?)?,
        None => evaluate(&a.model.engine()?, &loaded.examples)?,
    };
    if report.category.is_none() && report.grade.is_none() {
        bail!(
            "{}: no row has a `category` or `grade` label",
            a.data.display()
        );
    }
    if let Some(path) = &a.errors {
        write_jsonl(path, &report.errors)?;
    }
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        // The headline figures of the head evaluated (category when both) also stand at the
        // top level, so a script can read `macro_f1` without knowing which head it asked for.
        let primary = v
            .get("category")
            .filter(|c| !c.is_null())
            .or_else(|| v.get("grade"))
            .cloned();
        if let (Some(serde_json::Value::Object(head)), Some(top)) = (primary, v.as_object_mut()) {
            for key in ["macro_f1", "accuracy", "ece", "per_class"] {
                if let Some(x) = head.get(key) {
                    top.insert(key.to_string(), x.clone());
                }
            }
            top.insert("skipped_lines".into(), loaded.skipped.len().into());
        }
        emit(&serde_json::to_string(&v)?)?;
    } else {
        print_report(&report, None);
        if a.rules {
            print_rule_parts(&report.rule_parts);
        }
    }
    Ok(())
}

/// Precision under which a rule's phrase or pattern should be narrowed or dropped (issue 17).
const RULE_PRECISION_FLOOR: f64 = 0.6;

fn print_rule_parts(parts: &[tousu::triage::RulePartScore]) {
    println!(
        "grade rules on the graded rows: each phrase or pattern that fired; precision: the text's \
         grade is the rule's; at least: it is the rule's or higher"
    );
    println!(
        "  {:<10} {:<4} {:>6} {:>9} {:>9}  part",
        "reason", "→", "fired", "precision", "at least"
    );
    for p in parts {
        let flag = if p.precision < RULE_PRECISION_FLOOR {
            "  < 0.6"
        } else {
            ""
        };
        println!(
            "  {:<10} {:<4} {:>6} {:>9.3} {:>9.3}  {}{flag}",
            p.reason.to_string(),
            p.grade.label(),
            p.fired,
            p.precision,
            p.floor_precision,
            p.part
        );
    }
}

pub fn read_predictions(path: &Path) -> anyhow::Result<Vec<BaselinePrediction>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a prediction", path.display(), i + 1))
        })
        .collect()
}

pub fn print_report(r: &EvalReport, baseline: Option<&EvalReport>) {
    let head = |name: &str, m: &tousu::classify::HeadMetrics| {
        println!(
            "{name}: macro-F1 {:.4}  accuracy {:.4}  ECE {:.4}  ({} rows)",
            m.macro_f1, m.accuracy, m.ece, m.count
        );
        println!(
            "  {:<16} {:>9} {:>9} {:>9} {:>8}",
            "class", "precision", "recall", "F1", "support"
        );
        for (label, c) in &m.per_class {
            println!(
                "  {label:<16} {:>9.3} {:>9.3} {:>9.3} {:>8}",
                c.precision, c.recall, c.f1, c.support
            );
        }
        println!(
            "  confusion (rows truth, columns predicted): {:?}",
            m.labels
        );
        for (label, row) in m.labels.iter().zip(&m.confusion) {
            println!("  {label:<16} {row:?}");
        }
    };
    if let Some(m) = &r.category {
        head("category", m);
    }
    if let Some(g) = &r.grade {
        head("grade (rules included)", &g.metrics);
        println!(
            "  重大 recall {:.4}  重大 precision {:.4}  model alone macro-F1 {}  rules alone {}",
            g.major_recall,
            g.major_precision,
            g.model_only_macro_f1
                .map_or("-".into(), |x| format!("{x:.4}")),
            g.rules_only_macro_f1
                .map_or("-".into(), |x| format!("{x:.4}"))
        );
        if !g.major_points.is_empty() {
            println!("  had the model called 重大 at P(重大) ≥ t (rules included):");
            for p in &g.major_points {
                println!(
                    "    t {:.2}  重大 recall {:.3}  precision {:.3}  macro-F1 {:.4}",
                    p.threshold,
                    p.major_recall(),
                    p.major_precision(),
                    p.macro_f1()
                );
            }
        }
    }
    if let Some(b) = baseline.and_then(|b| b.category.as_ref()) {
        println!(
            "baseline category: macro-F1 {:.4}  accuracy {:.4}",
            b.macro_f1, b.accuracy
        );
    }
}
