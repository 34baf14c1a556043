//! `tousu halve-weights`: a trained model's weights rewritten in f16 (half the bytes).

use std::path::PathBuf;

use clap::Args;
use tousu::classify::halve_weights;

#[derive(Args)]
pub struct HalveArgs {
    /// Model directory (`models/<profile>`, `models/gov/dispatch`); repeatable.
    #[arg(long = "model", required = true)]
    models: Vec<PathBuf>,
}

pub fn run(a: HalveArgs) -> anyhow::Result<()> {
    for dir in &a.models {
        let (before, after) = halve_weights(dir)?;
        println!(
            "{}: {before} → {after} bytes of weights",
            dir.join("model.safetensors").display()
        );
    }
    Ok(())
}
