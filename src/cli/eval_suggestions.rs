//! `tousu eval-suggestions`: resolution suggestions measured on resolved history.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tousu::config::Config;
use tousu::service::Kept;
use tousu::service::tools;

use super::open::open;
use super::output::bar;

#[derive(Args)]
pub struct EvalSuggestionsArgs {
    /// Resolved cases (`text`, `title`, `created_at`, `resolution`), e.g.
    /// ../shared/datasets/tipdm/replies-history.jsonl.
    #[arg(long)]
    data: PathBuf,
    /// Share of the cases, oldest first, indexed as history; the newer rest are the queries.
    #[arg(long, default_value_t = 0.8)]
    history_fraction: f64,
    /// Profile whose model triages the history on import.
    #[arg(long, default_value = "gov")]
    profile: String,
    /// Where trained profiles are.
    #[arg(long, default_value = "models")]
    models_dir: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Imports the older cases into a scratch store and scores suggestions for the newer ones.
pub fn run(a: EvalSuggestionsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.history_fraction > 0.0 && a.history_fraction < 1.0,
        "--history-fraction is a share between 0 and 1"
    );
    let rows = tools::read_history(&a.data)?;
    let cut = ((rows.len() as f64) * a.history_fraction).round() as usize;
    anyhow::ensure!(cut > 0 && cut < rows.len(), "too few rows to split");
    let (history, queries) = rows.split_at(cut);
    let scratch = tempfile_dir()?;
    let history_file = scratch.join("history.jsonl");
    tools::write_history(history, &history_file)?;
    let config = Config {
        data_dir: scratch.join("data"),
        profile: a.profile.clone(),
        models_dir: a.models_dir.clone(),
        ..Config::default()
    };
    let service = open(&config, false, Kept::Bulk)?;
    eprintln!("indexing {} history cases…", history.len());
    let report = service.intake().import(&history_file, false, |_| {})?;
    anyhow::ensure!(
        report.bad_count == 0,
        "history lines failed to import: {:?}",
        report.bad
    );
    let bar = bar(queries.len() as u64, "queries");
    let eval = tools::evaluate_suggestions(&service, history.len(), queries, |n| {
        bar.set_position(n as u64)
    })?;
    bar.finish_and_clear();
    drop(service);
    let _ = std::fs::remove_dir_all(&scratch);
    if a.json {
        println!("{}", serde_json::to_string(&eval)?);
        return Ok(());
    }
    println!(
        "history {} cases (before {}), queries {} ({} name a department in the real reply)",
        eval.history, eval.split_at, eval.queries, eval.queries_with_department
    );
    println!(
        "{:<14} {:>22} {:>14} {:>9}",
        "system", "department accuracy", "char F1", "answered"
    );
    for (name, s) in [("tousu", &eval.tousu), ("BM25 top-1", &eval.bm25_baseline)] {
        println!(
            "{:<14} {:>22.4} {:>14.4} {:>9}",
            name, s.department_accuracy, s.char_f1, s.answered
        );
    }
    println!(
        "{:<14} {:>22.4} {:>14} {:>9}",
        "category table", eval.category_table_department_accuracy, "-", "-"
    );
    println!(
        "{:<14} {:>22.4} {:>14} {:>9}",
        "dispatch", eval.dispatch_department_accuracy, "-", "-"
    );
    println!(
        "  (the dispatch model decided {} of the {}, {:.4} of them right; the table the rest)",
        eval.dispatch_by_model, eval.queries_with_department, eval.dispatch_model_accuracy
    );
    Ok(())
}

/// A fresh scratch directory under the system's temp dir.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "tousu-eval-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
