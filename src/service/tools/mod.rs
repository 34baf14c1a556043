//! Tools over the store: export (JSONL, CSV, xlsx, corrections for retraining), the tables and
//! workbooks exports and reports are written as, and the evaluation of resolution suggestions on
//! history.

mod case_table;
mod daily_workbook;
mod export;
mod suggest_eval;
mod table;
mod workbook;

pub use self::case_table::{
    CASE_COLUMNS, CaseSource, MAX_XLSX_ROWS, add_cases_sheet, case_row, cases_workbook,
    write_cases_csv,
};
pub use self::daily_workbook::daily_workbook;
pub use self::export::{ExportFormat, export};
pub use self::suggest_eval::{
    ResolvedRow, SuggestionEval, SuggestionScores, char_f1, evaluate_suggestions, read_history,
    write_history,
};
pub use self::table::{Cell, Column, CsvTable};
pub use self::workbook::{MAX_SHEET_ROWS, MAX_WORKBOOK_TEXT_BYTES, Sheet, Workbook};
