//! Excel workbooks (.xlsx), built in memory: sheets of a header and rows of typed cells
//! ([`Cell`]), each with a bold header row that stays in view (frozen), a filter on it, and the
//! columns' widths. Times are Excel date-times in Beijing time, shown `yyyy-mm-dd hh:mm:ss`. The
//! case export writes one sheet; a report writes several (KPIs, cases). The only user of
//! rust_xlsxwriter.

use std::borrow::Cow;

use rust_xlsxwriter::{ExcelDateTime, Format, Worksheet};

use super::table::{Cell, Column};
use crate::domain::beijing;
use crate::error::{Error, Result};

/// Most characters in a cell (Excel's limit, in UTF-16 units): longer text is cut, ending in
/// `…`. Complaint texts may be up to 50,000 characters.
const MAX_CELL_UNITS: usize = 32_767;
/// Most rows of data in a sheet (Excel's limit, less the header).
pub const MAX_SHEET_ROWS: u64 = 1_048_575;
/// Most bytes of text in a workbook: the workbook is built in memory, and a few copies of its
/// text are held while it is written out.
pub const MAX_WORKBOOK_TEXT_BYTES: usize = 256 * 1024 * 1024;

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Invalid(format!("writing the workbook: {e}"))
}

/// A workbook being built.
pub struct Workbook {
    book: rust_xlsxwriter::Workbook,
    formats: Formats,
    /// Text written so far, in bytes.
    text_bytes: usize,
    /// Each sheet's rows (header included) and columns, for its filter.
    sheets: Vec<(u32, u16)>,
}

struct Formats {
    header: Format,
    time: Format,
}

impl Default for Workbook {
    fn default() -> Self {
        Self::new()
    }
}

impl Workbook {
    /// An empty workbook.
    pub fn new() -> Self {
        Workbook {
            book: rust_xlsxwriter::Workbook::new(),
            formats: Formats {
                header: Format::new().set_bold(),
                time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            },
            text_bytes: 0,
            sheets: Vec::new(),
        }
    }

    /// Adds a sheet called `name` (at most 31 characters, none of `[]:*?/\`) with a header
    /// row of `columns`; add its rows with [`Sheet::push`].
    pub fn add_sheet(&mut self, name: &str, columns: &[Column]) -> Result<Sheet<'_>> {
        let width = u16::try_from(columns.len())
            .map_err(|_| Error::Invalid(format!("{} columns in one sheet", columns.len())))?;
        let sheet = self.book.add_worksheet();
        sheet.set_name(name).map_err(xlsx_err)?;
        for (i, c) in (0..).zip(columns) {
            sheet.set_column_width(i, c.width).map_err(xlsx_err)?;
            sheet
                .write_string_with_format(0, i, c.name, &self.formats.header)
                .map_err(xlsx_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        self.sheets.push((1, width));
        Ok(Sheet {
            sheet,
            formats: &self.formats,
            text_bytes: &mut self.text_bytes,
            rows: self
                .sheets
                .last_mut()
                .map(|(rows, _)| rows)
                .expect("just pushed"),
            columns: width,
        })
    }

    /// The workbook as the bytes of an .xlsx file.
    pub fn into_bytes(mut self) -> Result<Vec<u8>> {
        for (i, &(rows, columns)) in self.sheets.iter().enumerate() {
            if columns > 0 {
                self.book
                    .worksheet_from_index(i)
                    .and_then(|s| s.autofilter(0, 0, rows - 1, columns - 1))
                    .map_err(xlsx_err)?;
            }
        }
        self.book.save_to_buffer().map_err(xlsx_err)
    }
}

/// A sheet of a [`Workbook`], taking rows.
pub struct Sheet<'a> {
    sheet: &'a mut Worksheet,
    formats: &'a Formats,
    text_bytes: &'a mut usize,
    /// Rows written, header included.
    rows: &'a mut u32,
    columns: u16,
}

impl Sheet<'_> {
    /// Adds a row of at most as many cells as there are columns. Errors when the sheet is full
    /// or the workbook's text passes [`MAX_WORKBOOK_TEXT_BYTES`].
    pub fn push(&mut self, cells: &[Cell]) -> Result<()> {
        let row = *self.rows;
        if u64::from(row) > MAX_SHEET_ROWS {
            return Err(Error::Invalid(format!(
                "a sheet holds at most {MAX_SHEET_ROWS} rows"
            )));
        }
        debug_assert!(cells.len() <= usize::from(self.columns));
        for (col, cell) in (0..self.columns).zip(cells) {
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    *self.text_bytes += s.len();
                    if *self.text_bytes > MAX_WORKBOOK_TEXT_BYTES {
                        return Err(Error::Invalid(format!(
                            "the workbook's text passed {} MiB at row {row}: export fewer rows, or as CSV",
                            MAX_WORKBOOK_TEXT_BYTES / (1024 * 1024)
                        )));
                    }
                    self.sheet
                        .write_string(row, col, fit(s).into_owned())
                        .map_err(xlsx_err)?;
                }
                Cell::Number(x) => {
                    self.sheet.write_number(row, col, *x).map_err(xlsx_err)?;
                }
                Cell::Time(t) => match excel_time(*t) {
                    Some(d) => {
                        self.sheet
                            .write_datetime_with_format(row, col, d, &self.formats.time)
                            .map_err(xlsx_err)?;
                    }
                    // Before 1900 or after 9999: Excel has no date for it.
                    None => {
                        self.sheet
                            .write_string(row, col, t.to_string())
                            .map_err(xlsx_err)?;
                    }
                },
            }
        }
        *self.rows += 1;
        Ok(())
    }
}

/// `s`, cut to what a cell holds.
fn fit(s: &str) -> Cow<'_, str> {
    // UTF-8 never takes fewer bytes than UTF-16 takes units.
    if s.len() <= MAX_CELL_UNITS || s.encode_utf16().count() <= MAX_CELL_UNITS {
        return Cow::Borrowed(s);
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        // One unit left for the `…`.
        if units >= MAX_CELL_UNITS {
            return Cow::Owned(format!("{}…", &s[..i]));
        }
    }
    Cow::Borrowed(s)
}

/// `t` in Beijing time, as Excel counts dates.
fn excel_time(t: jiff::Timestamp) -> Option<ExcelDateTime> {
    let local = t.to_zoned(beijing()).datetime();
    let second = f64::from(local.second()) + f64::from(local.subsec_nanosecond()) / 1e9;
    ExcelDateTime::from_ymd(
        u16::try_from(local.year()).ok()?,
        u8::try_from(local.month()).ok()?,
        u8::try_from(local.day()).ok()?,
    )
    .and_then(|d| {
        d.and_hms(
            u16::try_from(local.hour()).unwrap_or(0),
            u8::try_from(local.minute()).unwrap_or(0),
            second,
        )
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        assert_eq!(fit("宽带"), "宽带");
        let long = "断".repeat(40_000);
        let cut = fit(&long);
        assert_eq!(cut.encode_utf16().count(), MAX_CELL_UNITS);
        assert!(cut.ends_with("断…"));
        let exact = "断".repeat(MAX_CELL_UNITS);
        assert_eq!(fit(&exact), exact);
    }

    #[test]
    fn a_workbook_with_sheets_is_written() {
        let mut book = Workbook::new();
        let columns = [Column::new("id", 20.0), Column::new("at", 19.0)];
        let mut s = book.add_sheet("cases", &columns).unwrap();
        s.push(&[
            Cell::Text("TS20261123-000001".into()),
            Cell::Time("2026-11-23T02:00:00Z".parse().unwrap()),
        ])
        .unwrap();
        s.push(&[Cell::Number(1.5), Cell::Empty]).unwrap();
        book.add_sheet("KPIs", &[Column::new("kpi", 10.0)]).unwrap();
        let bytes = book.into_bytes().unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip file");
        assert!(Workbook::new().add_sheet("a/b", &columns).is_err());
    }
}
