//! `tousu triage`: one complaint on the command line, no server.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use tousu::triage::{Engine, Triage};

use super::output::emit;

#[derive(Args)]
pub struct ModelArgs {
    /// Model directory; defaults to <models-dir>/<profile>.
    #[arg(long, env = "TOUSU_MODEL")]
    model: Option<PathBuf>,
    /// Profile whose model to use.
    #[arg(long, env = "TOUSU_PROFILE", default_value = "telecom")]
    profile: String,
    /// Where the shipped models are.
    #[arg(long, env = "TOUSU_MODELS_DIR", default_value = "models")]
    models_dir: PathBuf,
    /// A profile file to use instead of the built-in one the model names.
    #[arg(long)]
    profile_file: Option<PathBuf>,
}

impl ModelArgs {
    pub fn engine(&self) -> anyhow::Result<Engine> {
        let dir = self
            .model
            .clone()
            .unwrap_or_else(|| self.models_dir.join(&self.profile));
        Ok(Engine::load(&dir, self.profile_file.as_deref())?)
    }
}

#[derive(Args)]
pub struct TriageArgs {
    /// The complaint text; read from stdin when absent.
    text: Option<String>,
    /// Optional subject line.
    #[arg(long)]
    title: Option<String>,
    /// When the complaint was received (RFC 3339, e.g. 2026-11-23T09:30:00+08:00); SLA
    /// deadlines count from here. Default: now.
    #[arg(long)]
    received_at: Option<jiff::Timestamp>,
    /// One line of JSON instead of pretty-printed.
    #[arg(long)]
    compact: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// What `tousu triage` prints: the text as the model read it, and the triage.
#[derive(Serialize)]
struct Printed<'a> {
    masked_text: &'a str,
    #[serde(flatten)]
    triage: &'a Triage,
}

pub fn run(a: TriageArgs) -> anyhow::Result<()> {
    let text = match a.text {
        Some(t) => t,
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("reading the complaint from stdin; end with Ctrl-D");
            }
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading stdin")?;
            s
        }
    };
    let engine = a.model.engine()?;
    let prepared = engine.pipeline().prepare(a.title.as_deref(), &text)?;
    let received = a.received_at.unwrap_or_else(jiff::Timestamp::now);
    let triage = engine.judge(&prepared, received, &[], true)?;
    let printed = Printed {
        masked_text: &prepared.masked,
        triage: &triage,
    };
    let out = if a.compact {
        serde_json::to_string(&printed)?
    } else {
        serde_json::to_string_pretty(&printed)?
    };
    emit(&out)
}
