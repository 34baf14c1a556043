//! A table of typed cells — what an export or a report writes — and its CSV form: UTF-8 with a
//! byte-order mark, so that Excel reads Chinese correctly. The same rows go into a workbook sheet
//! ([`super::Workbook`]).

use std::borrow::Cow;
use std::io::Write;

use jiff::Timestamp;

use crate::error::{Error, Result};

/// A column: its header and its width in a workbook, in Excel's units (about one Latin
/// character; a Chinese character takes two).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The header.
    pub name: &'static str,
    /// Width in a workbook.
    pub width: f64,
}

impl Column {
    /// A column named `name`, `width` wide.
    pub const fn new(name: &'static str, width: f64) -> Self {
        Column { name, width }
    }
}

/// A cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text, as it is (every free text of a case is masked already).
    Text(String),
    /// A number (a count, a share, a confidence).
    Number(f64),
    /// A time: RFC 3339 in UTC in CSV, an Excel date-time in Beijing time in a workbook.
    Time(Timestamp),
}

impl Cell {
    /// Text, or [`Cell::Empty`] when there is none.
    pub fn text(s: Option<&str>) -> Cell {
        match s {
            Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
            _ => Cell::Empty,
        }
    }

    /// A time, or [`Cell::Empty`].
    pub fn time(t: Option<Timestamp>) -> Cell {
        t.map_or(Cell::Empty, Cell::Time)
    }

    /// The cell as CSV writes it. Text that a spreadsheet would run as a formula (it starts
    /// with `=`, `+`, `-`, `@`, a tab or a carriage return: complaint text is anyone's input)
    /// gets a leading `'`, which Excel shows as text.
    pub fn to_csv(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                Cow::Owned(format!("'{s}"))
            }
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Number(x) => Cow::Owned(x.to_string()),
            Cell::Time(t) => Cow::Owned(t.to_string()),
        }
    }
}

/// Writes a table as CSV: the byte-order mark and the header first, then a row at a time.
pub struct CsvTable<W: Write> {
    out: csv::Writer<W>,
    columns: usize,
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io("export output", e),
        other => Error::Invalid(format!("writing CSV: {other:?}")),
    }
}

impl<W: Write> CsvTable<W> {
    /// Starts the table on `out` (buffered here: pass it unbuffered).
    pub fn new(mut out: W, columns: &[Column]) -> Result<Self> {
        out.write_all("\u{FEFF}".as_bytes())
            .map_err(|e| Error::io("export output", e))?;
        let mut out = csv::Writer::from_writer(out);
        out.write_record(columns.iter().map(|c| c.name))
            .map_err(csv_err)?;
        Ok(CsvTable {
            out,
            columns: columns.len(),
        })
    }

    /// Writes a row of as many cells as there are columns.
    pub fn push(&mut self, cells: &[Cell]) -> Result<()> {
        debug_assert_eq!(cells.len(), self.columns, "a row has a cell per column");
        self.out
            .write_record(cells.iter().map(|c| c.to_csv().into_owned()))
            .map_err(csv_err)
    }

    /// Writes out what is buffered.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io("export output", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_the_mark_the_header_and_text_that_never_runs_as_a_formula() {
        let mut out = Vec::new();
        let mut t =
            CsvTable::new(&mut out, &[Column::new("a", 1.0), Column::new("b", 1.0)]).unwrap();
        t.push(&[Cell::Text("=1+2".into()), Cell::Number(0.5)])
            .unwrap();
        t.push(&[
            Cell::Time("2026-11-23T02:00:00Z".parse().unwrap()),
            Cell::Empty,
        ])
        .unwrap();
        t.push(&[Cell::Text("宽带, \"断网\"".into()), Cell::Number(3.0)])
            .unwrap();
        t.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\u{FEFF}a,b\n'=1+2,0.5\n2026-11-23T02:00:00Z,\n\"宽带, \"\"断网\"\"\",3\n"
        );
    }
}
