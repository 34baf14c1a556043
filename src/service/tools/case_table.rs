//! Cases as a table: the columns every case export has (the CLI's and the API's, CSV and
//! xlsx), one row per case, written from any [`CaseSource`].

use std::io::Write;

use super::table::{Cell, Column, CsvTable};
use super::workbook::Workbook;
use crate::domain::{Case, Step};
use crate::error::{Error, Result};

/// Most cases in an xlsx export by default (`limits.export_xlsx_rows` over the API): the
/// workbook is built in memory before it is sent or saved. Past it, narrow the selection or
/// export CSV, which is written as it is read.
pub const MAX_XLSX_ROWS: u64 = 100_000;

/// Cases to export, in a stable order.
pub trait CaseSource {
    /// How many cases [`CaseSource::for_each`] gives (at most).
    fn count(&self) -> Result<u64>;

    /// Calls `f` with every case, in order; stops at the first error.
    fn for_each(&self, f: &mut dyn FnMut(&Case) -> Result<()>) -> Result<()>;
}

/// The columns of a case export. Times are RFC 3339 (UTC) in CSV and Beijing time in xlsx.
/// Every text is as the case holds it: masked.
pub const CASE_COLUMNS: [Column; 31] = [
    Column::new("id", 19.0),
    Column::new("received_at", 19.0),
    Column::new("channel", 12.0),
    Column::new("category", 14.0),
    Column::new("category_confidence", 10.0),
    Column::new("grade", 8.0),
    Column::new("reasons", 16.0),
    Column::new("tier", 10.0),
    Column::new("department", 18.0),
    Column::new("assignee", 12.0),
    Column::new("status", 12.0),
    Column::new("title", 30.0),
    Column::new("text", 60.0),
    Column::new("resolution", 40.0),
    Column::new("remedy", 10.0),
    Column::new("resolved_at", 19.0),
    Column::new("repeat_of", 19.0),
    Column::new("duplicate_of", 19.0),
    Column::new("group_id", 12.0),
    Column::new("corrected", 10.0),
    // The handling record.
    Column::new("confirm_due", 19.0),
    Column::new("confirm_met_at", 19.0),
    Column::new("reply_due", 19.0),
    Column::new("reply_met_at", 19.0),
    Column::new("close_due", 19.0),
    Column::new("close_met_at", 19.0),
    Column::new("follow_up_result", 12.0),
    Column::new("follow_up_solved", 10.0),
    Column::new("root_cause", 16.0),
    Column::new("returns", 8.0),
    Column::new("reopened", 9.0),
];

/// A case's row, cell for cell as [`CASE_COLUMNS`].
pub fn case_row(c: &Case) -> [Cell; 31] {
    let joined = |items: Vec<&str>| Cell::text(Some(&items.join(" ")));
    let deadline = |step: Step| {
        let d = c.deadlines.iter().find(|d| d.step == step);
        [
            Cell::time(d.map(|d| d.due)),
            Cell::time(d.and_then(|d| d.met_at)),
        ]
    };
    let [confirm_due, confirm_met] = deadline(Step::Confirm);
    let [reply_due, reply_met] = deadline(Step::Reply);
    let [close_due, close_met] = deadline(Step::Close);
    let h = &c.handling;
    [
        Cell::Text(c.id.to_string()),
        Cell::Time(c.received_at),
        Cell::Text(c.channel.code().into()),
        Cell::text(c.category.as_deref()),
        // To three decimals (a model confidence says no more).
        c.category_confidence.map_or(Cell::Empty, |x| {
            Cell::Number((f64::from(x) * 1000.0).round() / 1000.0)
        }),
        Cell::Text(c.grade.label().into()),
        joined(c.reasons.iter().map(|r| r.code()).collect()),
        Cell::text(c.tier.as_deref()),
        Cell::text(c.department.as_deref()),
        Cell::text(c.assignee.as_deref()),
        Cell::Text(c.status.code().into()),
        Cell::text(c.title.as_deref()),
        Cell::Text(c.text.clone()),
        Cell::text(c.resolution.as_deref()),
        Cell::text(c.remedy.map(|r| r.label())),
        Cell::time(c.resolved_at),
        joined(c.links.repeat_of.iter().map(|i| i.as_str()).collect()),
        Cell::text(c.links.duplicate_of.as_ref().map(|i| i.as_str())),
        Cell::text(c.links.group_id.as_deref()),
        Cell::text((!c.corrections.is_empty()).then_some("yes")),
        confirm_due,
        confirm_met,
        reply_due,
        reply_met,
        close_due,
        close_met,
        Cell::text(h.follow_up.as_ref().map(|f| f.result.label())),
        Cell::text(
            h.follow_up
                .as_ref()
                .and_then(|f| f.solved)
                .map(|solved| if solved { "yes" } else { "no" }),
        ),
        Cell::text(h.root_cause.as_deref()),
        Cell::Number(h.returns.len() as f64),
        Cell::Number(f64::from(h.reopened)),
    ]
}

/// Writes `cases` to `out` as CSV (UTF-8 with a byte-order mark, the header first), a row at a
/// time; returns the rows written.
pub fn write_cases_csv(cases: &dyn CaseSource, out: impl Write) -> Result<u64> {
    let mut table = CsvTable::new(out, &CASE_COLUMNS)?;
    let mut rows = 0u64;
    cases.for_each(&mut |c| {
        rows += 1;
        table.push(&case_row(c))
    })?;
    table.finish()?;
    Ok(rows)
}

/// Adds a sheet called `name` holding `cases` to `book`; returns the rows written. Refuses
/// more than `max_rows` cases before reading any.
pub fn add_cases_sheet(
    book: &mut Workbook,
    name: &str,
    cases: &dyn CaseSource,
    max_rows: u64,
) -> Result<u64> {
    let n = cases.count()?;
    if n > max_rows {
        return Err(too_many_for_xlsx(n, max_rows));
    }
    let mut sheet = book.add_sheet(name, &CASE_COLUMNS)?;
    let mut rows = 0u64;
    cases.for_each(&mut |c| {
        rows += 1;
        if rows > max_rows {
            // Cases stored since they were counted.
            return Err(too_many_for_xlsx(rows, max_rows));
        }
        sheet.push(&case_row(c))
    })?;
    Ok(rows)
}

fn too_many_for_xlsx(n: u64, max: u64) -> Error {
    Error::Invalid(format!(
        "{n} cases are more than an xlsx export holds ({max}): export CSV (`--format csv`), which is written as it is read"
    ))
}

/// `cases` as the bytes of an xlsx workbook of one sheet, `cases`, and the rows in it; refuses
/// more than `max_rows` ([`MAX_XLSX_ROWS`] unless configured).
pub fn cases_workbook(cases: &dyn CaseSource, max_rows: u64) -> Result<(Vec<u8>, u64)> {
    let mut book = Workbook::new();
    let rows = add_cases_sheet(&mut book, "cases", cases, max_rows)?;
    Ok((book.into_bytes()?, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Deadline, FollowUp, Limit, Satisfaction};

    #[test]
    fn a_row_has_the_handling_record_in_its_columns() {
        let mut c = crate::store::conformance::sample_case("宽带断网", "2026-11-01T02:00:00Z");
        let at: jiff::Timestamp = "2026-11-02T02:00:00Z".parse().unwrap();
        c.deadlines = vec![Deadline {
            step: Step::Reply,
            limit: Limit::WorkingDays(3),
            start: c.received_at,
            extended_days: 0,
            due: at,
            calendar_complete: true,
            met_at: Some(at),
        }];
        c.handling.reopened = 2;
        let row = case_row(&c);
        let cell = |name: &str| &row[CASE_COLUMNS.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(cell("reply_due"), &Cell::Time(at));
        assert_eq!(cell("reply_met_at"), &Cell::Time(at));
        assert_eq!(cell("close_due"), &Cell::Empty);
        assert_eq!(cell("reopened"), &Cell::Number(2.0));
        assert_eq!(cell("returns"), &Cell::Number(0.0));
        for result in [
            Satisfaction::Satisfied,
            Satisfaction::FairlySatisfied,
            Satisfaction::Unsatisfied,
        ] {
            c.handling.follow_up = Some(FollowUp {
                at,
                by: "wang".into(),
                result,
                solved: Some(true),
                comment: None,
            });
            let label = serde_json::to_value(result).unwrap();
            let row = case_row(&c);
            assert_eq!(
                row[26],
                Cell::Text(label.as_str().unwrap().into()),
                "the label is the API's"
            );
            assert_eq!(row[27], Cell::Text("yes".into()));
        }
    }
}
