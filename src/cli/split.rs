//! `tousu split`: labelled JSONL into train and dev files.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use tousu::classify::{
    DevRule, Example, attach, load_annotations, load_jsonl, load_many, split, write_jsonl,
};

use super::output::report_skipped;

#[derive(Args)]
pub struct SplitArgs {
    /// Input JSONL; repeat for several files. Rows sharing an id are merged.
    #[arg(long = "data", required = true)]
    data: Vec<PathBuf>,
    /// Keep only rows whose `source` is this; repeat for several.
    #[arg(long)]
    source: Vec<String>,
    /// Annotations (id, grade, reason, the passes: `data/labels/…`) to join onto the texts by
    /// id; repeat for several files. Texts left with no label at all are dropped.
    #[arg(long = "annotations")]
    annotations: Vec<PathBuf>,
    /// Rows whose id appears in these files go to dev.
    #[arg(long = "dev-ids")]
    dev_ids: Vec<PathBuf>,
    /// Otherwise: this share of rows, by a hash of the id, goes to dev.
    #[arg(long)]
    dev_fraction: Option<f64>,
    /// Output directory for train.jsonl and dev.jsonl (keep it outside the repository).
    #[arg(long)]
    out: PathBuf,
    /// Skip malformed lines instead of stopping.
    #[arg(long)]
    skip_bad: bool,
}

pub fn run(a: SplitArgs) -> anyhow::Result<()> {
    let mut loaded = load_many(&a.data, &a.source, a.skip_bad)?;
    report_skipped(&loaded.skipped);
    if !a.annotations.is_empty() {
        for p in &a.annotations {
            let r = attach(&mut loaded.examples, &load_annotations(p)?);
            eprintln!(
                "{}: {} annotations joined, {} naming no text here, {} disagreeing with a label the text has (kept)",
                p.display(),
                r.joined,
                r.unmatched.len(),
                r.conflicting.len()
            );
        }
        // Texts read only to carry annotations (a whole message board) are not examples.
        let before = loaded.examples.len();
        loaded
            .examples
            .retain(|e| e.category.is_some() || e.grade.is_some());
        eprintln!(
            "{} texts without any label dropped",
            before - loaded.examples.len()
        );
    }
    let rule = match (a.dev_ids.is_empty(), a.dev_fraction) {
        (false, None) => {
            let mut keys = std::collections::HashSet::new();
            for p in &a.dev_ids {
                keys.extend(load_jsonl(p, a.skip_bad)?.examples.iter().map(Example::key));
            }
            DevRule::Keys(keys)
        }
        (true, Some(f)) if (0.0..1.0).contains(&f) => DevRule::Fraction(f),
        (true, Some(f)) => bail!("--dev-fraction {f}: give a share between 0 and 1, e.g. 0.2"),
        _ => bail!("give either --dev-ids FILE or --dev-fraction SHARE"),
    };
    let (train_rows, dev_rows) = split(loaded.examples, &rule);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    write_jsonl(&a.out.join("train.jsonl"), &train_rows)?;
    write_jsonl(&a.out.join("dev.jsonl"), &dev_rows)?;
    eprintln!(
        "{} train rows, {} dev rows → {}",
        train_rows.len(),
        dev_rows.len(),
        a.out.display()
    );
    Ok(())
}
