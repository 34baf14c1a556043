//! `tousu agreement`: how far the two independent annotation passes of a label file agreed
//! (share, Cohen's κ on the grades, share with the same reason too) and what the third pass
//! settled, recomputed from the passes the file keeps.

use std::path::PathBuf;

use clap::Args;
use tousu::classify::{agreement, load_annotations};

#[derive(Args)]
pub struct AgreementArgs {
    /// Annotation files (JSON Lines with `pass_a`, `pass_b` and, where they differed, `pass_c`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: AgreementArgs) -> anyhow::Result<()> {
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
