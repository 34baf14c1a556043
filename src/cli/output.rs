//! What the commands print besides their results: progress bars, skipped lines.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Prints a result line. A reader that closed the pipe early (`| head`) ends the process
/// quietly by SIGPIPE, as `cat` ends (exit status 141 in a shell): see `closed_pipe.rs`.
pub fn emit(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    Ok(writeln!(std::io::stdout().lock(), "{s}")?)
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
