//! `tousu agreement`: how far the two independent annotation passes of a label file agreed
//! (share, Cohen's κ on the grades, share with the same reason too) and what the third pass
//! settled, recomputed from the passes the file keeps.

use std::path::PathBuf;

use clap::Args;
use std::collections::HashMap;

use tousu::classify::{agreement, compare, load_annotations, load_graded};

#[derive(Args)]
pub struct AgreementArgs {
    /// Annotation files (JSON Lines with `pass_a`, `pass_b` and, where they differed, `pass_c`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Instead: compare the grades of FILES (any JSONL with `id` and `grade`, e.g. a single
    /// pass over texts that already have labels) with the grades of this labelled file, on the
    /// ids both have.
    #[arg(long)]
    against: Option<PathBuf>,
}

pub fn run(a: AgreementArgs) -> anyhow::Result<()> {
    if let Some(against) = &a.against {
        return run_against(&a, against);
    }
    let mut all = Vec::new();
    for f in &a.files {
        all.extend(load_annotations(f)?);
    }
    let r = agreement(&all);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!("items                         {}", r.items);
    println!("grade agreement (A, B)        {:.3}", r.grade_agreement);
    println!("Cohen's kappa, grades         {:.3}", r.grade_kappa);
    println!("grade and reason agreement    {:.3}", r.reason_agreement);
    println!(
        "settled by the third pass     {} (of the grade disagreements: A's grade {}, B's {}, another {})",
        r.settled_by_third_pass,
        r.third_sided_with[0],
        r.third_sided_with[1],
        r.third_sided_with[2]
    );
    println!(
        "settled grades                一般 {} · 严重 {} · 重大 {}",
        r.grades[0], r.grades[1], r.grades[2]
    );
    Ok(())
}

fn run_against(a: &AgreementArgs, against: &std::path::Path) -> anyhow::Result<()> {
    let theirs: HashMap<String, tousu::domain::Grade> = load_graded(against)?
        .into_iter()
        .map(|g| (g.id, g.grade))
        .collect();
    let mut pairs = Vec::new();
    let mut unmatched = 0;
    for f in &a.files {
        for g in load_graded(f)? {
            match theirs.get(&g.id) {
                Some(t) => pairs.push((g.grade, *t)),
                None => unmatched += 1,
            }
        }
    }
    let r = compare(pairs);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "items in both                 {} ({unmatched} not in {})",
        r.items,
        against.display()
    );
    println!("grade agreement               {:.3}", r.agreement);
    println!("Cohen's kappa, grades         {:.3}", r.kappa);
    println!(
        "confusion (rows: these files; columns: {}) 一般 严重 重大",
        against.display()
    );
    for (g, row) in ["一般", "严重", "重大"].iter().zip(r.confusion) {
        println!("  {g} {row:?}");
    }
    Ok(())
}
