//! `tousu import | export | reindex`: cases in and out of the store in bulk, and the index
//! rebuilt from it.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use tousu::service::tools::{self, ExportFormat};

use super::open::ServiceArgs;
use super::output::{bar, count_lines};

#[derive(Args)]
pub struct ImportArgs {
    /// JSONL file: one case per line (`text` required; `title`, `channel`, `contact`,
    /// `received_at`/`created_at`, `resolution`, `resolved_at`, `department`, `status`, …).
    file: PathBuf,
    /// Import from the first line even if an earlier run of this file was interrupted.
    #[arg(long)]
    restart: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn import(a: ImportArgs) -> anyhow::Result<()> {
    let service = a.service.open_for_bulk()?;
    let total = count_lines(&a.file)?;
    let bar = bar(total, "lines");
    let started = std::time::Instant::now();
    let report = service
        .intake()
        .import(&a.file, !a.restart, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if report.resumed_after > 0 {
        eprintln!(
            "resumed after line {} (done by an earlier run)",
            report.resumed_after
        );
    }
    for (line, message) in &report.bad {
        eprintln!("{}:{line}: {message}", a.file.display());
    }
    if report.bad_count as usize > report.bad.len() {
        eprintln!(
            "… and {} more bad lines",
            report.bad_count as usize - report.bad.len()
        );
    }
    eprintln!(
        "imported {} cases from {} lines in {secs:.1} s ({:.0} cases/s); {} bad lines",
        report.imported,
        report.lines,
        report.imported as f64 / secs.max(1e-9),
        report.bad_count
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Jsonl,
    Csv,
    Xlsx,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Output file; stdout when absent (xlsx needs one).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// jsonl, csv (UTF-8 with BOM for Excel) or xlsx (an Excel workbook of at most 100,000
    /// cases; needs --out).
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Only analysts' corrections, as training JSONL for `tousu train --train`.
    #[arg(long, conflicts_with = "format")]
    corrections: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn export(a: ExportArgs) -> anyhow::Result<()> {
    if a.format == Format::Xlsx && a.out.is_none() {
        anyhow::bail!("--format xlsx writes a binary workbook: name its file with --out FILE");
    }
    let service = a.service.open_for_bulk()?;
    let format = match (a.corrections, a.format) {
        (true, _) => ExportFormat::Corrections,
        (false, Format::Jsonl) => ExportFormat::Jsonl,
        (false, Format::Csv) => ExportFormat::Csv,
        (false, Format::Xlsx) => ExportFormat::Xlsx,
    };
    let rows = match &a.out {
        Some(p) => {
            let f =
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            // A file cut short (or a workbook that was never written) is not left behind.
            tools::export(service.store(), f, format).inspect_err(|_| {
                let _ = std::fs::remove_file(p);
            })?
        }
        None => tools::export(service.store(), std::io::stdout().lock(), format)?,
    };
    eprintln!("exported {rows} rows");
    Ok(())
}

#[derive(Args)]
pub struct ReindexArgs {
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn reindex(a: ReindexArgs) -> anyhow::Result<()> {
    let service = a.service.open_for_bulk()?;
    let bar = bar(service.store().count()?, "cases");
    let n = service.views().reindex(|n| bar.set_position(n))?;
    bar.finish_and_clear();
    eprintln!("re-indexed {n} cases");
    Ok(())
}
