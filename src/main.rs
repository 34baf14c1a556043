//! `tousu`: the command line. Thin: parses flags, calls the library, prints.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

mod cli;

// The service allocates many short-lived strings and vectors per request (JSON, tokens, hits);
// glibc's malloc spent ~15% of search and triage time in its free lists here, mimalloc a
// fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use tousu::classify::{
    DevRule, Example, StopOn, TrainOptions, UnitConfig, load_jsonl, load_many, split, train,
    write_jsonl,
};
use tousu::text::{SegmentConfig, Segmenter, TextPipeline};
use tousu::triage::{
    BaselinePrediction, Complaint, Engine, EvalReport, ModelCard, Profile, evaluate,
    evaluate_predictions, write_model_card,
};

#[derive(Parser)]
#[command(
    name = "tousu",
    version,
    about = "Triage and analysis of Chinese complaints (投诉)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Triage one complaint (argument or stdin) and print JSON.
    Triage(TriageArgs),
    /// Train a profile's model from labelled JSONL and write models/<profile>/.
    Train(Box<TrainArgs>),
    /// Evaluate a model (grade rules included) on labelled JSONL.
    Eval(EvalArgs),
    /// Split labelled JSONL into train.jsonl and dev.jsonl, joining labels of one text by id.
    Split(SplitArgs),
    /// Run the HTTP API on the embedded store (SQLite) and index (tantivy).
    Serve(cli::service::ServeArgs),
    /// Import cases from JSONL into the store and index (resumable).
    Import(cli::service::ImportArgs),
    /// Export cases as JSONL or CSV, or analysts' corrections as training JSONL.
    Export(cli::service::ExportArgs),
    /// Rebuild the search index from the store.
    Reindex(cli::service::ReindexArgs),
    /// Measure resolution suggestions on resolved history (time-ordered split) beside BM25.
    EvalSuggestions(cli::service::EvalSuggestionsArgs),
    /// Case counts per hour/day/week by category, grade, channel, department or phrase;
    /// rising phrases; hot topics (a table in the terminal).
    Trends(cli::trends::TrendsArgs),
    /// Feed timestamped complaints through intake in time order (as fast as possible or
    /// scaled), then print the hot topics of every week: a detector judged on history.
    Replay(cli::trends::ReplayArgs),
}

#[derive(Args)]
struct ModelArgs {
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
    fn engine(&self) -> anyhow::Result<Engine> {
        let dir = self
            .model
            .clone()
            .unwrap_or_else(|| self.models_dir.join(&self.profile));
        Ok(Engine::load(&dir, self.profile_file.as_deref())?)
    }
}

#[derive(Args)]
struct TriageArgs {
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

#[derive(Args)]
struct TrainArgs {
    /// Profile name; also picks data/profiles/<profile>.toml for the grade rules.
    #[arg(long)]
    profile: String,
    /// Training JSONL (`text` + `category` and/or `grade`); repeat for several files.
    #[arg(long = "train", required = true)]
    train: Vec<PathBuf>,
    /// Extra training JSONL whose rows teach the grade head only (their categories, from
    /// another taxonomy, are ignored): urgency labels of another source; repeatable.
    #[arg(long = "train-grades")]
    train_grades: Vec<PathBuf>,
    /// Dev JSONL for early stopping and calibration; repeat for several files.
    #[arg(long = "dev")]
    dev: Vec<PathBuf>,
    /// Without --dev: the share of training rows held out as dev (by a hash of the id).
    #[arg(long, default_value_t = 0.1)]
    dev_fraction: f64,
    /// Keep only rows whose `source` is this (rows without `source` are kept).
    #[arg(long)]
    source: Option<String>,
    /// Skip malformed lines (and count them) instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
    /// Output directory; defaults to models/<profile>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A profile file for the grade rules used in the dev evaluation.
    #[arg(long)]
    profile_file: Option<PathBuf>,
    /// Baseline predictions on the dev rows (`id` + `category`/`grade` JSONL) to report beside
    /// the model in the card.
    #[arg(long)]
    baseline_predictions: Option<PathBuf>,
    /// How the baseline predictions were made, for the card.
    #[arg(long, default_value = "TF-IDF char 1–3-grams + linear SVM")]
    baseline_name: String,
    #[command(flatten)]
    hyper: HyperArgs,
}

#[derive(Args)]
struct HyperArgs {
    /// Embedding dimension.
    #[arg(long, default_value_t = TrainOptions::default().dim)]
    dim: usize,
    /// Most epochs.
    #[arg(long, default_value_t = TrainOptions::default().max_epochs)]
    epochs: usize,
    /// Epochs without dev improvement before stopping.
    #[arg(long, default_value_t = TrainOptions::default().patience)]
    patience: usize,
    /// Examples per step.
    #[arg(long, default_value_t = TrainOptions::default().batch_size)]
    batch_size: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    lr: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = TrainOptions::default().weight_decay)]
    weight_decay: f64,
    /// Share of units dropped per example per step.
    #[arg(long, default_value_t = TrainOptions::default().unit_dropout)]
    unit_dropout: f32,
    /// Minimum document frequency of a unit.
    #[arg(long, default_value_t = TrainOptions::default().min_df)]
    min_df: usize,
    /// Vocabulary cap.
    #[arg(long, default_value_t = TrainOptions::default().max_vocab)]
    max_vocab: usize,
    /// Weight of the grade loss.
    #[arg(long, default_value_t = TrainOptions::default().grade_loss_weight)]
    grade_loss_weight: f32,
    /// Longest character n-gram.
    #[arg(long, default_value_t = UnitConfig::default().ngram_max)]
    ngram_max: usize,
    /// Do not add jieba words as units.
    #[arg(long)]
    no_words: bool,
    /// Segment without jieba's HMM.
    #[arg(long)]
    no_hmm: bool,
    /// Random seed.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
    /// Train this many models from different seeds and ship their average (one model of
    /// `dim × ensemble` dimensions).
    #[arg(long, default_value_t = TrainOptions::default().ensemble)]
    ensemble: usize,
    /// What early stopping watches on dev.
    #[arg(long, value_enum, default_value_t = StopOnArg::Mean)]
    stop_on: StopOnArg,
    /// Weight each class's loss inversely to its training frequency.
    #[arg(long)]
    balance_classes: bool,
}

/// `--stop-on`: the dev figure early stopping watches.
#[derive(Clone, Copy, clap::ValueEnum)]
enum StopOnArg {
    /// The mean of the heads' macro-F1.
    Mean,
    /// Category macro-F1.
    Category,
    /// Grade macro-F1.
    Grade,
}

#[derive(Args)]
struct EvalArgs {
    /// Labelled JSONL: `text` and `category` and/or `grade` (other fields ignored).
    #[arg(long)]
    data: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Skip malformed lines (and count them) instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
    /// Score these predictions (`id` + `category`/`grade` JSONL) instead of the model.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Write every misjudged row (labels, predictions, fired rules, masked text) to this JSONL.
    #[arg(long, conflicts_with = "predictions")]
    errors: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct SplitArgs {
    /// Input JSONL; repeat for several files. Rows sharing an id are merged.
    #[arg(long = "data", required = true)]
    data: Vec<PathBuf>,
    /// Keep only rows whose `source` is this.
    #[arg(long)]
    source: Option<String>,
    /// Rows whose id appears in these files go to dev.
    #[arg(long = "dev-ids")]
    dev_ids: Vec<PathBuf>,
    /// Otherwise: this share of rows, by a hash of the id, goes to dev.
    #[arg(long)]
    dev_fraction: Option<f64>,
    /// Output directory for train.jsonl and dev.jsonl (keep it outside the repository).
    #[arg(long)]
    out: PathBuf,
    /// Skip malformed lines instead of stopping.
    #[arg(long)]
    skip_bad: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Triage(a) => run_triage(a),
        Command::Train(a) => run_train(*a),
        Command::Eval(a) => run_eval(a),
        Command::Split(a) => run_split(a),
        Command::Serve(a) => cli::service::serve(a),
        Command::Import(a) => cli::service::import(a),
        Command::Export(a) => cli::service::export(a),
        Command::Reindex(a) => cli::service::reindex(a),
        Command::EvalSuggestions(a) => cli::service::eval_suggestions(a),
        Command::Trends(a) => cli::trends::trends(a),
        Command::Replay(a) => cli::trends::replay(a),
    }
}

fn run_triage(a: TriageArgs) -> anyhow::Result<()> {
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
    let triage = engine.triage(&Complaint {
        title: a.title.as_deref(),
        text: &text,
        received_at: a.received_at,
    })?;
    let out = if a.compact {
        serde_json::to_string(&triage)?
    } else {
        serde_json::to_string_pretty(&triage)?
    };
    emit(&out)
}

/// Prints a result line; a reader that closed the pipe early (`| head`) is not an error.
fn emit(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{s}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run_train(a: TrainArgs) -> anyhow::Result<()> {
    let h = &a.hyper;
    let options = TrainOptions {
        profile: a.profile.clone(),
        dim: h.dim,
        max_epochs: h.epochs,
        patience: h.patience,
        batch_size: h.batch_size,
        learning_rate: h.lr,
        weight_decay: h.weight_decay,
        unit_dropout: h.unit_dropout,
        min_df: h.min_df,
        max_vocab: h.max_vocab,
        grade_loss_weight: h.grade_loss_weight,
        units: UnitConfig {
            ngram_max: h.ngram_max,
            words: !h.no_words,
        },
        seed: h.seed,
        ensemble: h.ensemble,
        balance_classes: h.balance_classes,
        stop_on: match h.stop_on {
            StopOnArg::Mean => StopOn::Mean,
            StopOnArg::Category => StopOn::Category,
            StopOnArg::Grade => StopOn::Grade,
        },
    };
    let loaded = load_many(&a.train, a.source.as_deref(), a.skip_bad)?;
    report_skipped(&loaded.skipped);
    let (mut train_rows, dev_rows) = if a.dev.is_empty() {
        eprintln!(
            "no --dev given: holding out {:.0}% of the training rows",
            a.dev_fraction * 100.0
        );
        split(loaded.examples, &DevRule::Fraction(a.dev_fraction))
    } else {
        let dev = load_many(&a.dev, a.source.as_deref(), a.skip_bad)?;
        report_skipped(&dev.skipped);
        let dev_keys = dev.examples.iter().map(Example::key).collect();
        // A text in both files belongs to dev only.
        let (train_rows, _) = split(loaded.examples, &DevRule::Keys(dev_keys));
        (train_rows, dev.examples)
    };
    if !a.train_grades.is_empty() {
        // Grade-only rows always train (never dev, so dev stays one source), and a row whose
        // text or id is already in train or dev is dropped whatever its id says.
        let extra = load_many(&a.train_grades, None, a.skip_bad)?;
        report_skipped(&extra.skipped);
        let seen: std::collections::HashSet<String> = train_rows
            .iter()
            .chain(&dev_rows)
            .flat_map(|e| [e.key(), e.text.trim().to_string()])
            .collect();
        let before = train_rows.len();
        train_rows.extend(
            extra
                .examples
                .into_iter()
                .filter(|e| {
                    e.grade.is_some() && !seen.contains(&e.key()) && !seen.contains(e.text.trim())
                })
                .map(|e| Example {
                    category: None,
                    ..e
                }),
        );
        eprintln!(
            "--train-grades: {} grade-only rows added",
            train_rows.len() - before
        );
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("models").join(&a.profile));
    let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig { hmm: !h.no_hmm }));
    eprintln!(
        "training `{}` on {} rows, dev {} rows → {}",
        a.profile,
        train_rows.len(),
        dev_rows.len(),
        out.display()
    );
    let report = train(&pipeline, &train_rows, &dev_rows, &options, &out)?;

    let engine = Engine::load(&out, a.profile_file.as_deref())?;
    let dev_report = evaluate(&engine, &dev_rows)?;
    let baseline = match &a.baseline_predictions {
        Some(p) => Some(evaluate_predictions(&dev_rows, &read_predictions(p)?)?),
        None => None,
    };
    let profile = match &a.profile_file {
        Some(p) => Profile::load(p)?,
        None => Profile::builtin(&a.profile)?,
    };
    let command = std::iter::once("tousu".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    write_model_card(
        &out,
        &ModelCard {
            profile: &profile,
            command,
            options: &options,
            report: &report,
            dev: &dev_report,
            baseline: baseline.as_ref().map(|b| (b, a.baseline_name.clone())),
        },
    )?;
    print_report(&dev_report, baseline.as_ref());
    eprintln!(
        "{} epochs (best {}), {:.0} s; model and card in {}",
        report.epochs_run,
        report.best_epoch,
        report.seconds,
        out.display()
    );
    Ok(())
}

fn run_eval(a: EvalArgs) -> anyhow::Result<()> {
    let loaded = load_jsonl(&a.data, a.skip_bad)?;
    report_skipped(&loaded.skipped);
    if loaded.examples.is_empty() {
        bail!("{}: no rows to evaluate", a.data.display());
    }
    let report = match &a.predictions {
        Some(p) => evaluate_predictions(&loaded.examples, &read_predictions(p)?)?,
        None => evaluate(&a.model.engine()?, &loaded.examples)?,
    };
    if report.category.is_none() && report.grade.is_none() {
        bail!(
            "{}: no row has a `category` or `grade` label",
            a.data.display()
        );
    }
    if let Some(path) = &a.errors {
        write_jsonl(path, &report.errors)?;
    }
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        // The headline figures of the head evaluated (category when both) also stand at the
        // top level, so a script can read `macro_f1` without knowing which head it asked for.
        let primary = v
            .get("category")
            .filter(|c| !c.is_null())
            .or_else(|| v.get("grade"))
            .cloned();
        if let (Some(serde_json::Value::Object(head)), Some(top)) = (primary, v.as_object_mut()) {
            for key in ["macro_f1", "accuracy", "ece", "per_class"] {
                if let Some(x) = head.get(key) {
                    top.insert(key.to_string(), x.clone());
                }
            }
            top.insert("skipped_lines".into(), loaded.skipped.len().into());
        }
        emit(&serde_json::to_string(&v)?)?;
    } else {
        print_report(&report, None);
    }
    Ok(())
}

fn run_split(a: SplitArgs) -> anyhow::Result<()> {
    let loaded = load_many(&a.data, a.source.as_deref(), a.skip_bad)?;
    report_skipped(&loaded.skipped);
    let rule = match (a.dev_ids.is_empty(), a.dev_fraction) {
        (false, None) => {
            let mut keys = std::collections::HashSet::new();
            for p in &a.dev_ids {
                keys.extend(load_jsonl(p, a.skip_bad)?.examples.iter().map(Example::key));
            }
            DevRule::Keys(keys)
        }
        (true, Some(f)) if (0.0..1.0).contains(&f) => DevRule::Fraction(f),
        (true, Some(f)) => bail!("--dev-fraction {f}: give a share between 0 and 1, e.g. 0.2"),
        _ => bail!("give either --dev-ids FILE or --dev-fraction SHARE"),
    };
    let (train_rows, dev_rows) = split(loaded.examples, &rule);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    write_jsonl(&a.out.join("train.jsonl"), &train_rows)?;
    write_jsonl(&a.out.join("dev.jsonl"), &dev_rows)?;
    eprintln!(
        "{} train rows, {} dev rows → {}",
        train_rows.len(),
        dev_rows.len(),
        a.out.display()
    );
    Ok(())
}

fn read_predictions(path: &Path) -> anyhow::Result<Vec<BaselinePrediction>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a prediction", path.display(), i + 1))
        })
        .collect()
}

fn report_skipped(skipped: &[String]) {
    if !skipped.is_empty() {
        eprintln!("skipped {} malformed lines:", skipped.len());
        for s in skipped.iter().take(10) {
            eprintln!("  {s}");
        }
    }
}

fn print_report(r: &EvalReport, baseline: Option<&EvalReport>) {
    let head = |name: &str, m: &tousu::classify::HeadMetrics| {
        println!(
            "{name}: macro-F1 {:.4}  accuracy {:.4}  ECE {:.4}  ({} rows)",
            m.macro_f1, m.accuracy, m.ece, m.count
        );
        println!(
            "  {:<16} {:>9} {:>9} {:>9} {:>8}",
            "class", "precision", "recall", "F1", "support"
        );
        for (label, c) in &m.per_class {
            println!(
                "  {label:<16} {:>9.3} {:>9.3} {:>9.3} {:>8}",
                c.precision, c.recall, c.f1, c.support
            );
        }
        println!(
            "  confusion (rows truth, columns predicted): {:?}",
            m.labels
        );
        for (label, row) in m.labels.iter().zip(&m.confusion) {
            println!("  {label:<16} {row:?}");
        }
    };
    if let Some(m) = &r.category {
        head("category", m);
    }
    if let Some(g) = &r.grade {
        head("grade (rules included)", &g.metrics);
        println!(
            "  重大 recall {:.4}  重大 precision {:.4}  model alone macro-F1 {}  rules alone {}",
            g.major_recall,
            g.major_precision,
            g.model_only_macro_f1
                .map_or("-".into(), |x| format!("{x:.4}")),
            g.rules_only_macro_f1
                .map_or("-".into(), |x| format!("{x:.4}"))
        );
    }
    if let Some(b) = baseline.and_then(|b| b.category.as_ref()) {
        println!(
            "baseline category: macro-F1 {:.4}  accuracy {:.4}",
            b.macro_f1, b.accuracy
        );
    }
}
