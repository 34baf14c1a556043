//! Export: every case as JSONL or CSV (UTF-8 with a BOM, so Excel opens Chinese correctly),
//! or analysts' corrections as JSONL that `tousu train` reads.

use std::io::Write;

use serde::Serialize;

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
    /// A spreadsheet: one row per case, the handling fields as columns.
    Csv,
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

const CSV_HEADER: [&str; 20] = [
    "id",
    "received_at",
    "channel",
    "category",
    "category_confidence",
    "grade",
    "reasons",
    "tier",
    "department",
    "assignee",
    "status",
    "title",
    "text",
    "resolution",
    "remedy",
    "resolved_at",
    "repeat_of",
    "duplicate_of",
    "group_id",
    "corrected",
];

/// Writes every case of `store` (or every corrected case) to `out`; returns the rows written.
pub fn export(store: &dyn CaseStore, out: impl Write, format: ExportFormat) -> Result<u64> {
    Exporter { store }.export(out, format)
}

struct Exporter<'a> {
    store: &'a dyn CaseStore,
}

impl Exporter<'_> {
    fn export(&self, out: impl Write, format: ExportFormat) -> Result<u64> {
        let io = |e: std::io::Error| Error::io("export output", e);
        let mut out = std::io::BufWriter::new(out);
        if format == ExportFormat::Csv {
            out.write_all("\u{FEFF}".as_bytes()).map_err(io)?;
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)
                .map_err(|e| Error::Invalid(format!("writing CSV: {e}")))?;
            return self.export_csv(w);
        }
        let mut rows = 0u64;
        self.for_each_case(|case| {
            let line = match format {
                ExportFormat::Jsonl => Some(serde_json::to_string(case)),
                ExportFormat::Corrections => {
                    correction_row(case).map(|r| serde_json::to_string(&r))
                }
                ExportFormat::Csv => unreachable!("handled above"),
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

    fn export_csv<W: Write>(&self, mut w: csv::Writer<W>) -> Result<u64> {
        let err = |e: csv::Error| Error::Invalid(format!("writing CSV: {e}"));
        let mut rows = 0u64;
        self.for_each_case(|c| {
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            let reasons: Vec<&str> = c.reasons.iter().map(|r| r.code()).collect();
            let repeats: Vec<&str> = c.links.repeat_of.iter().map(|i| i.as_str()).collect();
            w.write_record([
                c.id.to_string(),
                c.received_at.to_string(),
                c.channel.code().to_string(),
                opt(&c.category),
                c.category_confidence
                    .map(|x| format!("{x:.3}"))
                    .unwrap_or_default(),
                c.grade.label().to_string(),
                reasons.join(" "),
                opt(&c.tier),
                opt(&c.department),
                opt(&c.assignee),
                c.status.code().to_string(),
                opt(&c.title),
                c.text.clone(),
                opt(&c.resolution),
                c.remedy.map(|r| r.label().to_string()).unwrap_or_default(),
                c.resolved_at.map(|t| t.to_string()).unwrap_or_default(),
                repeats.join(" "),
                c.links
                    .duplicate_of
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
                opt(&c.links.group_id),
                if c.corrections.is_empty() { "" } else { "yes" }.to_string(),
            ])
            .map_err(err)?;
            rows += 1;
            Ok(())
        })?;
        w.flush().map_err(|e| Error::io("export output", e))?;
        Ok(rows)
    }
}

impl Exporter<'_> {
    /// Calls `f` with every case, in creation order, a page of the store at a time.
    fn for_each_case(&self, mut f: impl FnMut(&Case) -> Result<()>) -> Result<()> {
        crate::store::for_each_page(self.store, STEP, |page| page.iter().try_for_each(&mut f))
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
