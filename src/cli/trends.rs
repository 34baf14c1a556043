//! `tousu trends` (counts, rising phrases and hot topics as terminal tables) and `tousu replay`
//! (history fed through intake in time order, then the hot topics of every week).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use tousu::service::intake_of_line;
use tousu::text::mask_free_text;
use tousu::trends::{Bucket, Dimension, HotTopic, WeekTopics, beijing_date};

use super::open::ServiceArgs;

#[derive(Args)]
pub struct TrendsArgs {
    /// category, grade, channel, department or phrase.
    #[arg(long, default_value = "category")]
    dimension: String,
    /// hour, day or week.
    #[arg(long, default_value = "day")]
    bucket: String,
    /// Start (RFC 3339 or `yyyy-mm-dd hh:mm:ss` Beijing time); default 14 buckets before --to.
    #[arg(long)]
    from: Option<String>,
    /// End, exclusive; default just after the latest case.
    #[arg(long)]
    to: Option<String>,
    /// Series shown (largest first).
    #[arg(long, default_value_t = 8)]
    top: usize,
    #[command(flatten)]
    service: ServiceArgs,
}

fn time(s: &Option<String>) -> anyhow::Result<Option<Timestamp>> {
    s.as_deref()
        .map(|s| tousu::domain::parse_time(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}")))
        .transpose()
}

pub fn trends(a: TrendsArgs) -> anyhow::Result<()> {
    let dimension = Dimension::parse(&a.dimension).with_context(|| {
        format!(
            "--dimension must be category, grade, channel, department or phrase, not {:?}",
            a.dimension
        )
    })?;
    let bucket = Bucket::parse(&a.bucket)
        .with_context(|| format!("--bucket must be hour, day or week, not {:?}", a.bucket))?;
    let service = a.service.open()?;
    let watch = service.views().watch();
    if watch.cases() == 0 {
        println!("no cases");
        return Ok(());
    }
    let to = time(&a.to)?.unwrap_or_else(|| watch.default_end());
    let from =
        time(&a.from)?.unwrap_or(to - SignedDuration::from_hours(14 * bucket.hours().min(24 * 7)));
    let table = watch.table(dimension, bucket, from, to, a.top.max(1));
    let out = &mut std::io::stdout().lock();
    let label = |t: Timestamp| match bucket {
        Bucket::Hour => t
            .to_zoned(tousu::domain::beijing())
            .strftime("%m-%d %H时")
            .to_string(),
        _ => beijing_date(t)[5..].to_string(),
    };
    write!(out, "{:<14}", dimension.name())?;
    for s in &table.starts {
        write!(out, "{:>9}", label(*s))?;
    }
    writeln!(out, "{:>8}", "total")?;
    for s in &table.series {
        write!(out, "{}", pad(&s.value, 14))?;
        for c in &s.counts {
            write!(out, "{c:>9}")?;
        }
        writeln!(out, "{:>8}", s.total)?;
    }
    let rising = watch.rising(Dimension::Phrase, to, 24 * 7, 24 * 28, 3, 10);
    writeln!(out, "\nrising phrases, the week to {}:", beijing_date(to))?;
    for r in &rising {
        writeln!(
            out,
            "  {} {:>4} cases (baseline rate predicts {:.1}; ×{:.1}, p = {:.1e})",
            pad(&r.value, 14),
            r.burst.count,
            r.burst.expected,
            r.burst.growth,
            r.burst.p_value
        )?;
    }
    writeln!(out, "\nhot topics, the week to {}:", beijing_date(to))?;
    for t in watch.hot_topics(to, 10) {
        writeln!(out, "  {}", topic_line(&t))?;
    }
    Ok(())
}

/// `s` padded with spaces to `width` columns (CJK characters are two columns wide).
/// `s` padded with spaces to `width` terminal columns (CJK characters take two).
pub(super) fn pad(s: &str, width: usize) -> String {
    let cols: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(cols)))
}

fn topic_line(t: &HotTopic) -> String {
    let grades: Vec<String> = t.grades.iter().map(|(g, n)| format!("{g}{n}")).collect();
    let samples: Vec<&str> = t.samples.iter().take(3).map(|s| s.as_str()).collect();
    format!(
        "{} {} — {} cases, {} complainants (×{:.1}, p = {:.1e}), {} → {}, {}; e.g. {}",
        t.id,
        t.phrases.join(" "),
        t.cases,
        t.complainants,
        t.burst.growth,
        t.burst.p_value,
        beijing_date(t.first_seen),
        beijing_date(t.last_seen),
        grades.join(" "),
        samples.join(", ")
    )
}

#[derive(Args)]
pub struct ReplayArgs {
    /// JSONL of timestamped complaints (`text`, `received_at` or `created_at`; `title`, …).
    file: PathBuf,
    /// Replay speed: 0 (default) as fast as possible; N plays N seconds of history per
    /// second (gaps capped at 10 s).
    #[arg(long, default_value_t = 0.0)]
    speed: f64,
    /// A field of the lines that identifies the complainant when there is no `contact`
    /// (e.g. `user`): repeats and group complaints count complainants by it.
    #[arg(long)]
    contact_field: Option<String>,
    /// Hot topics shown per week.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Also write the weekly topics as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open {}", a.file.display()))?;
    let mut intakes = Vec::new();
    let mut bad = 0usize;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", a.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match intake_of_line(&line, a.contact_field.as_deref()) {
            Ok(intake) if intake.received_at.is_some() => intakes.push(intake),
            Ok(_) => {
                bad += 1;
                eprintln!(
                    "{}:{}: no received_at / created_at: a replay needs the time",
                    a.file.display(),
                    i + 1
                );
            }
            Err(e) => {
                bad += 1;
                eprintln!(
                    "{}:{}: {}",
                    a.file.display(),
                    i + 1,
                    mask_free_text(&e.to_string())
                );
            }
        }
    }
    // Time order; equal times keep file order.
    intakes.sort_by_key(|i| i.received_at);
    let service = a.service.open_replaying()?;
    let started = Instant::now();
    let mut previous: Option<Timestamp> = None;
    let mut stored = 0usize;
    for intake in &intakes {
        if a.speed > 0.0
            && let (Some(p), Some(at)) = (previous, intake.received_at)
        {
            let gap = at.duration_since(p).as_secs_f64() / a.speed;
            std::thread::sleep(Duration::from_secs_f64(gap.clamp(0.0, 10.0)));
        }
        previous = intake.received_at;
        match service.intake().create(intake, "replay", None) {
            Ok(_) => stored += 1,
            Err(e) => {
                bad += 1;
                eprintln!(
                    "a case could not be replayed: {}",
                    mask_free_text(&e.to_string())
                );
            }
        }
    }
    service.views().sync()?;
    let secs = started.elapsed().as_secs_f64();
    let records = service
        .views()
        .watch()
        .alerts()
        .map(|c| c.history(None, MAX_REPLAY_ALERTS))
        .transpose()?
        .unwrap_or_default();
    let alerts = records.len();
    eprintln!(
        "replayed {stored} cases in {secs:.1} s ({:.0} cases/s); {bad} bad; {alerts} alerts raised",
        stored as f64 / secs.max(1e-9)
    );
    let weeks = service.views().watch().weekly_topics(a.top.max(1));
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&weeks)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    print_weeks(&weeks)?;
    let with_cases = weeks
        .iter()
        .filter(|w| w.cases > 0)
        .map(|w| w.week.clone())
        .collect();
    super::replay_alerts::print(
        &super::replay_alerts::weekly(&service, &records)?,
        &with_cases,
    )?;
    Ok(())
}

/// Most alerts a replay reads back to count by week.
const MAX_REPLAY_ALERTS: usize = 100_000;

fn print_weeks(weeks: &[WeekTopics]) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    for w in weeks {
        if w.topics.is_empty() {
            continue;
        }
        writeln!(out, "week of {} ({} cases)", w.week, w.cases)?;
        for t in &w.topics {
            writeln!(out, "  {}", topic_line(t))?;
        }
    }
    Ok(())
}
