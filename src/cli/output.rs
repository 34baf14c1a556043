//! What the commands print besides their results: progress bars, skipped lines.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Prints a result line; a reader that closed the pipe early (`| head`) is not an error.
pub fn emit(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{s}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn report_skipped(skipped: &[String]) {
    if !skipped.is_empty() {
        eprintln!("skipped {} malformed lines:", skipped.len());
        for s in skipped.iter().take(10) {
            eprintln!("  {s}");
        }
    }
}

pub fn bar(total: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {unit} {{per_sec}} eta {{eta}}"
        ))
        .expect("valid template"),
    );
    bar
}

pub fn count_lines(path: &std::path::Path) -> anyhow::Result<u64> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(std::io::BufReader::new(f).lines().count() as u64)
}
