//! The daily report as an Excel workbook: 概况 (the day's KPIs, one per row with numerator and
//! denominator), 部门 (each department's day), 当日受理 (the day's cases), 超期案件 (the cases
//! overdue at the day's end).

use super::table::{Cell, Column};
use super::workbook::Workbook;
use crate::error::Result;
use crate::handling::{DailyReport, Durations, Kpis, Rate, ReportCase};

const KPI_COLUMNS: [Column; 5] = [
    Column::new("指标", 18.0),
    Column::new("值", 12.0),
    Column::new("分子", 10.0),
    Column::new("分母", 10.0),
    Column::new("说明", 60.0),
];

const DEPARTMENT_COLUMNS: [Column; 7] = [
    Column::new("部门", 24.0),
    Column::new("受理", 8.0),
    Column::new("签收", 8.0),
    Column::new("答复", 8.0),
    Column::new("结案", 8.0),
    Column::new("日终在办", 10.0),
    Column::new("日终超期", 10.0),
];

const CASE_COLUMNS: [Column; 11] = [
    Column::new("案件编号", 20.0),
    Column::new("受理时间", 20.0),
    Column::new("渠道", 12.0),
    Column::new("分类", 14.0),
    Column::new("等级", 6.0),
    Column::new("部门", 20.0),
    Column::new("处理人", 12.0),
    Column::new("状态", 10.0),
    Column::new("超期环节", 10.0),
    Column::new("时限", 20.0),
    Column::new("摘要", 50.0),
];

fn rate_row(name: &str, r: &Rate, note: &str) -> Vec<Cell> {
    vec![
        Cell::Text(name.into()),
        r.rate.map_or(Cell::Empty, Cell::Number),
        Cell::Number(r.numerator as f64),
        Cell::Number(r.denominator as f64),
        Cell::Text(note.into()),
    ]
}

fn count_row(name: &str, n: u64, note: &str) -> Vec<Cell> {
    vec![
        Cell::Text(name.into()),
        Cell::Number(n as f64),
        Cell::Empty,
        Cell::Empty,
        Cell::Text(note.into()),
    ]
}

fn hours_row(name: &str, d: &Durations, p90: bool) -> Vec<Cell> {
    let v = if p90 { d.p90_hours } else { d.median_hours };
    vec![
        Cell::Text(name.into()),
        v.map_or(Cell::Empty, Cell::Number),
        Cell::Empty,
        Cell::Number(d.cases as f64),
        Cell::Text("小时，自受理起；分母为有该环节的案件数".into()),
    ]
}

fn kpi_rows(k: &Kpis) -> Vec<Vec<Cell>> {
    vec![
        count_row("受理量", k.volume, "当日受理的案件"),
        count_row("在办", k.open, "其中尚未结案"),
        rate_row(
            "受理及时率",
            &k.confirmed_on_time,
            "按时签收 ÷ 已签收或已到期",
        ),
        rate_row(
            "按时答复率",
            &k.replied_on_time,
            "按时答复 ÷ 已答复或已到期",
        ),
        rate_row("按时办结率", &k.closed_on_time, "按时办结 ÷ 应办结"),
        count_row("超期数", k.overdue, "在办且有环节已超时限"),
        hours_row("签收时长中位数", &k.time_to_confirm, false),
        hours_row("签收时长P90", &k.time_to_confirm, true),
        hours_row("答复时长中位数", &k.time_to_reply, false),
        hours_row("答复时长P90", &k.time_to_reply, true),
        hours_row("结案时长中位数", &k.time_to_close, false),
        hours_row("结案时长P90", &k.time_to_close, true),
        rate_row("解决率", &k.solved, "回访称已解决 ÷ 回访问及"),
        rate_row("满意率", &k.satisfied, "满意或基本满意 ÷ 有回访结果"),
        rate_row(
            "一次办结率",
            &k.closed_first_time,
            "未退单未重办的办结 ÷ 办结",
        ),
        rate_row("重复投诉率", &k.repeat, "重复投诉 ÷ 受理量"),
        rate_row("延期率", &k.extended, "获批延期 ÷ 受理量"),
        rate_row(
            "异常结案率",
            &k.closed_abnormally,
            "异常结案 ÷ 结案（含撤诉）",
        ),
    ]
}

fn case_row(c: &ReportCase) -> Vec<Cell> {
    vec![
        Cell::Text(c.id.0.clone()),
        Cell::Time(c.received_at),
        Cell::Text(c.channel.code().into()),
        Cell::text(c.category.as_deref()),
        Cell::Text(c.grade.label().into()),
        Cell::text(c.department.as_deref()),
        Cell::text(c.assignee.as_deref()),
        Cell::Text(c.status.label().into()),
        c.overdue
            .as_ref()
            .map_or(Cell::Empty, |o| Cell::Text(o.step.label().into())),
        Cell::time(c.overdue.as_ref().map(|o| o.due)),
        Cell::Text(c.summary.clone()),
    ]
}

/// The report as the bytes of an .xlsx file.
pub fn daily_workbook(r: &DailyReport) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    {
        let mut s = book.add_sheet("概况", &KPI_COLUMNS)?;
        s.push(&[
            Cell::Text("日期".into()),
            Cell::Text(r.day.clone()),
            Cell::Empty,
            Cell::Empty,
            Cell::Text("北京时间；在办与超期按日终（当天则按生成时）计".into()),
        ])?;
        for row in kpi_rows(&r.received) {
            s.push(&row)?;
        }
        s.push(&count_row(
            "日终超期案件",
            r.overdue_total,
            "见“超期案件”表",
        ))?;
    }
    {
        let mut s = book.add_sheet("部门", &DEPARTMENT_COLUMNS)?;
        for d in &r.departments {
            s.push(&[
                Cell::Text(d.department.clone().unwrap_or_else(|| "（未派单）".into())),
                Cell::Number(d.received as f64),
                Cell::Number(d.accepted as f64),
                Cell::Number(d.replied as f64),
                Cell::Number(d.closed as f64),
                Cell::Number(d.open as f64),
                Cell::Number(d.overdue as f64),
            ])?;
        }
    }
    for (name, cases) in [
        ("当日受理", &r.received_cases),
        ("超期案件", &r.overdue_cases),
    ] {
        let mut s = book.add_sheet(name, &CASE_COLUMNS)?;
        for c in cases {
            s.push(&case_row(c))?;
        }
    }
    book.into_bytes()
}
