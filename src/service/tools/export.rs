//! `tousu export`: every case as JSONL, CSV (UTF-8 with a BOM, so Excel opens Chinese correctly)
//! or an xlsx workbook, or analysts' corrections as JSONL that `tousu train` reads.

use std::io::Write;

use serde::Serialize;

use super::case_table::{CaseSource, MAX_XLSX_ROWS, cases_workbook, write_cases_csv};
use crate::domain::Case;
use crate::error::{Error, Result};
use crate::store::CaseStore;

/// Cases read from the store per step.
const STEP: usize = 1000;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One case per line, as the API shows it.
    Jsonl,
    /// A spreadsheet: one row per case, the handling fields as columns (UTF-8 with a BOM).
    Csv,
    /// The same columns as an Excel workbook of one sheet.
    Xlsx,
    /// Corrected cases as training rows: `text` + the corrected `category` and/or `grade`.
    Corrections,
}

/// A training row from an analyst's correction.
#[derive(Serialize)]
struct CorrectionRow<'a> {
    id: &'a str,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<&'a str>,
    corrected_by: &'a str,
    corrected_at: String,
    source: &'static str,
}

/// Writes every case of `store` (or every corrected case) to `out`; returns the rows written.
/// An xlsx workbook is built in memory first and holds at most [`MAX_XLSX_ROWS`] cases.
pub fn export(store: &dyn CaseStore, mut out: impl Write, format: ExportFormat) -> Result<u64> {
    let io = |e: std::io::Error| Error::io("export output", e);
    let all = AllCases(store);
    match format {
        ExportFormat::Csv => write_cases_csv(&all, out),
        ExportFormat::Xlsx => {
            let (bytes, rows) = cases_workbook(&all, MAX_XLSX_ROWS)?;
            out.write_all(&bytes).map_err(io)?;
            out.flush().map_err(io)?;
            Ok(rows)
        }
        ExportFormat::Jsonl | ExportFormat::Corrections => {
            let mut out = std::io::BufWriter::new(out);
            let mut rows = 0u64;
            all.for_each(&mut |case| {
                let line = match format {
                    ExportFormat::Corrections => {
                        correction_row(case).map(|r| serde_json::to_string(&r))
                    }
                    _ => Some(serde_json::to_string(case)),
                };
                if let Some(line) = line {
                    let line = line.map_err(|e| Error::Invalid(e.to_string()))?;
                    writeln!(out, "{line}").map_err(io)?;
                    rows += 1;
                }
                Ok(())
            })?;
            out.flush().map_err(io)?;
            Ok(rows)
        }
    }
}

/// Every case of a store, in creation order.
struct AllCases<'a>(&'a dyn CaseStore);

impl CaseSource for AllCases<'_> {
    fn count(&self) -> Result<u64> {
        self.0.count()
    }

    /// A page of the store at a time.
    fn for_each(&self, f: &mut dyn FnMut(&Case) -> Result<()>) -> Result<()> {
        crate::store::for_each_page(self.0, STEP, |page| page.iter().try_for_each(&mut *f))
    }
}

fn correction_row(case: &Case) -> Option<CorrectionRow<'_>> {
    let cat = case.corrections.category.as_ref();
    let grade = case.corrections.grade.as_ref();
    let latest = match (cat, grade) {
        (Some(a), Some(b)) => Some(if a.at >= b.at { a } else { b }),
        (a, b) => a.or(b),
    }?;
    let text = match &case.title {
        Some(t) => format!("{t}。{}", case.text),
        None => case.text.clone(),
    };
    Some(CorrectionRow {
        id: case.id.as_str(),
        text,
        category: cat.map(|c| c.to.as_str()),
        grade: grade.map(|c| c.to.as_str()),
        corrected_by: &latest.by,
        corrected_at: latest.at.to_string(),
        source: "correction",
    })
}
