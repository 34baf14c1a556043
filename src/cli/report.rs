//! `tousu report --day D`: the daily report (日报) as JSON, or as an `.xlsx` workbook.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use jiff::Timestamp;
use tousu::domain::{Role, beijing};
use tousu::handling::Actor;

use super::open::ServiceArgs;

#[derive(Args)]
pub struct ReportArgs {
    /// The Beijing date (2026-03-04); default today.
    #[arg(long)]
    day: Option<String>,
    /// json or xlsx.
    #[arg(long, default_value = "json")]
    format: String,
    /// Where to write (required for xlsx); default stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    let day = match &a.day {
        Some(d) => tousu::domain::full_date(d.trim())
            .with_context(|| format!("--day {d:?} is not a date: write it as 2026-03-04"))?,
        None => Timestamp::now().to_zoned(beijing()).date(),
    };
    let xlsx = match a.format.as_str() {
        "json" => false,
        "xlsx" => true,
        other => anyhow::bail!("--format must be json or xlsx, not {other:?}"),
    };
    if xlsx && a.out.is_none() {
        anyhow::bail!("an xlsx report needs --out FILE.xlsx");
    }
    let service = a.service.open()?;
    let report = service
        .handling()
        .daily_report(&Actor::new("cli", Role::Admin), day)?;
    let bytes = if xlsx {
        tousu::service::tools::daily_workbook(&report)?
    } else {
        let mut v = serde_json::to_vec_pretty(&report)?;
        v.push(b'\n');
        v
    };
    match &a.out {
        Some(path) => std::fs::write(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}
