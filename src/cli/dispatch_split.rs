//! `tousu dispatch-split`: resolved history into dispatch training data, split by time. Each
//! complaint whose official reply names the department that answered it becomes a row labelled
//! with that department's kind (`A2区住建局` → `住建局`: which office of the kind is set by the
//! address), the older share for training, the newer for measuring. Kinds seen fewer than
//! `--min-count` times in the older share are labelled `其他单位`. The newest labelled older rows
//! are the dev split (`train.jsonl`, `dev.jsonl`, `queries.jsonl`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tousu::classify::{Example, write_jsonl};
use tousu::service::tools;
use tousu::triage::{office_kind, reply};

use tousu::triage::office_kind::OTHER_OFFICE as OTHER;

#[derive(Args)]
pub struct DispatchSplitArgs {
    /// Resolved cases (`text`, `title`, `created_at`, `resolution`), e.g.
    /// ../shared/datasets/tipdm/replies-history.jsonl.
    #[arg(long)]
    data: PathBuf,
    /// Share of the cases, oldest first, for training; the newer rest are for measuring.
    #[arg(long, default_value_t = 0.8)]
    history_fraction: f64,
    /// Kinds with fewer training rows than this are labelled 其他单位.
    #[arg(long, default_value_t = 5)]
    min_count: usize,
    /// Share of the labelled older rows, newest first, kept as dev (early stopping and
    /// calibration) rather than trained on.
    #[arg(long, default_value_t = 0.15)]
    dev_fraction: f64,
    /// Output directory for history.jsonl and queries.jsonl (keep it outside the repository).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: DispatchSplitArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.history_fraction > 0.0 && a.history_fraction < 1.0,
        "--history-fraction is a share between 0 and 1"
    );
    let rows = tools::read_history(&a.data)?;
    let cut = ((rows.len() as f64) * a.history_fraction).round() as usize;
    let labelled = |part: &[(jiff::Timestamp, tools::ResolvedRow)]| -> Vec<Example> {
        part.iter()
            .filter_map(|(_, r)| {
                let name = reply::department(&r.resolution)?;
                Some(Example {
                    id: r.id.clone(),
                    text: r.text.clone(),
                    title: r.title.clone(),
                    category: Some(office_kind::canonical_department(&name)),
                    grade: None,
                    reason: None,
                    source: None,
                    line: 0,
                })
            })
            .collect()
    };
    let (mut history, mut queries) = (labelled(&rows[..cut]), labelled(&rows[cut..]));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &history {
        *counts
            .entry(e.category.clone().unwrap_or_default())
            .or_default() += 1;
    }
    for e in history.iter_mut().chain(queries.iter_mut()) {
        let kind = e.category.clone().unwrap_or_default();
        if counts.get(&kind).copied().unwrap_or(0) < a.min_count {
            e.category = Some(OTHER.into());
        }
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let dev_at = history.len() - ((history.len() as f64) * a.dev_fraction).round() as usize;
    let dev = history.split_off(dev_at);
    write_jsonl(&a.out.join("train.jsonl"), &history)?;
    write_jsonl(&a.out.join("dev.jsonl"), &dev)?;
    write_jsonl(&a.out.join("queries.jsonl"), &queries)?;
    let kinds = counts.values().filter(|&&n| n >= a.min_count).count();
    eprintln!(
        "{} of {} older ({} of them dev) and {} of {} newer replies name a department; {kinds} kinds learned (+ {OTHER}) → {}",
        history.len() + dev.len(),
        cut,
        dev.len(),
        queries.len(),
        rows.len() - cut,
        a.out.display()
    );
    Ok(())
}
