//! `tousu kpis`: the handling KPIs of a period, as a table in the terminal or as JSON.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use tousu::domain::{Role, period_bound};
use tousu::handling::{Actor, GroupBy, KpiReport, Kpis, Rate};

use super::open::ServiceArgs;
use super::trends::pad;

#[derive(Args)]
pub struct KpisArgs {
    /// Start: a Beijing date (from its start) or an RFC 3339 time; default 30 days before --to.
    #[arg(long)]
    from: Option<String>,
    /// End: a Beijing date (to its end) or an RFC 3339 time (exclusive); default now.
    #[arg(long)]
    to: Option<String>,
    /// department, handler, category, channel or grade.
    #[arg(long)]
    group_by: Option<String>,
    /// table or json.
    #[arg(long, default_value = "table")]
    format: String,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn run(a: KpisArgs) -> anyhow::Result<()> {
    let to = match &a.to {
        Some(t) => period_bound("--to", t, true).map_err(anyhow::Error::msg)?,
        None => Timestamp::now(),
    };
    let from = match &a.from {
        Some(f) => period_bound("--from", f, false).map_err(anyhow::Error::msg)?,
        None => to - SignedDuration::from_hours(30 * 24),
    };
    let group_by = a
        .group_by
        .as_deref()
        .map(|g| {
            GroupBy::from_code(g).with_context(|| {
                format!(
                    "--group-by must be {}, not {g:?}",
                    GroupBy::ALL.map(GroupBy::code).join(", ")
                )
            })
        })
        .transpose()?;
    if !["table", "json"].contains(&a.format.as_str()) {
        anyhow::bail!("--format must be table or json, not {:?}", a.format);
    }
    let service = a.service.open()?;
    let report = service
        .handling()
        .kpis(&Actor::new("cli", Role::Admin), from, to, group_by)?;
    let out = &mut std::io::stdout().lock();
    if a.format == "json" {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        table(out, &report)?;
    }
    Ok(())
}

/// The KPIs as columns, one row per group and the total last.
fn table(out: &mut impl Write, r: &KpiReport) -> std::io::Result<()> {
    let z = tousu::domain::beijing();
    writeln!(
        out,
        "cases received {} – {} (Beijing), deadlines as of {}",
        r.from.to_zoned(z.clone()).strftime("%Y-%m-%d %H:%M"),
        r.to.to_zoned(z.clone()).strftime("%Y-%m-%d %H:%M"),
        r.as_of.to_zoned(z).strftime("%Y-%m-%d %H:%M")
    )?;
    let head = [
        "受理量",
        "受理及时",
        "按时答复",
        "按时办结",
        "超期",
        "办结中位h",
        "解决率",
        "满意率",
        "一次办结",
        "重复",
        "延期",
        "异常结案",
    ];
    write!(out, "{}", pad(r.group_by.map_or("", |g| g.code()), 18))?;
    for h in head {
        write!(out, "{}", right(h, 11))?;
    }
    writeln!(out)?;
    for k in r.groups.iter().chain(std::iter::once(&r.total)) {
        let name = if std::ptr::eq(k, &r.total) {
            "合计".to_string()
        } else {
            k.group.clone().unwrap_or_else(|| "（无）".into())
        };
        write!(out, "{}", pad(&name, 18))?;
        for cell in row(k) {
            write!(out, "{}", right(&cell, 11))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `s` right-aligned in `width` terminal columns.
fn right(s: &str, width: usize) -> String {
    let padded = pad(s, width);
    let spaces = padded.len() - s.len();
    format!("{}{s}", " ".repeat(spaces))
}

fn row(k: &Kpis) -> Vec<String> {
    let pct = |r: &Rate| r.rate.map_or("-".into(), |x| format!("{:.1}%", x * 100.0));
    vec![
        k.volume.to_string(),
        pct(&k.confirmed_on_time),
        pct(&k.replied_on_time),
        pct(&k.closed_on_time),
        k.overdue.to_string(),
        k.time_to_close
            .median_hours
            .map_or("-".into(), |h| format!("{h:.1}")),
        pct(&k.solved),
        pct(&k.satisfied),
        pct(&k.closed_first_time),
        pct(&k.repeat),
        pct(&k.extended),
        pct(&k.closed_abnormally),
    ]
}
