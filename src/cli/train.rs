//! `tousu train`: a profile's model from labelled JSONL, with its model card.

use std::path::{Path, PathBuf};

use clap::Args;
use tousu::classify::{
    DevRule, Example, ModelConfig, StopOn, TrainOptions, UnitConfig, load_many, split, train,
    write_jsonl,
};
use tousu::text::{SegmentConfig, Segmenter, TextPipeline};
use tousu::triage::{
    Engine, ModelCard, Profile, cross_validate, evaluate, evaluate_predictions, write_model_card,
};

use super::eval::{print_report, read_predictions};
use super::output::report_skipped;

#[derive(Args)]
pub struct TrainArgs {
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
    /// Cross-validate over this many folds of the train and dev rows together, then train the
    /// shipped model on all of them (for the folds' mean best epoch, with their mean
    /// temperatures); the card reports the out-of-fold figures. `--baseline-predictions` must
    /// then hold out-of-fold predictions for every row (`benches/baseline_svm.py --folds`).
    #[arg(long)]
    folds: Option<usize>,
    /// With `--folds`: write every graded row's out-of-fold prediction to this JSONL (the
    /// model's grade probabilities and each rule that fired with its grade), to judge another
    /// way of joining model and rules on the same predictions.
    #[arg(long, requires = "folds")]
    oof_grades: Option<PathBuf>,
    /// How the baseline predictions were made, for the card.
    #[arg(long, default_value = "TF-IDF char 1–3-grams + linear SVM")]
    baseline_name: String,
    #[command(flatten)]
    hyper: HyperArgs,
}

#[derive(Args)]
pub struct HyperArgs {
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
    /// Train the grade head on the guideline's reason codes of the rows that carry one (a
    /// grade is its best reason's); rows with a grade alone still learn the grade.
    #[arg(long)]
    grade_reasons: bool,
    /// Give each unit its own weight per category and grade column beside the shared
    /// encoder: a full-rank linear model over the units trained with the low-rank one, folded
    /// into the same table (no cost per prediction; fewer units fit the weight budget).
    #[arg(long)]
    sparse_head: bool,
    /// AdamW weight decay of the sparse head.
    #[arg(long, default_value_t = TrainOptions::default().sparse_decay)]
    sparse_decay: f64,
    /// AdamW learning rate of the sparse head (default: --lr).
    #[arg(long)]
    sparse_lr: Option<f64>,
    /// Decide the category by a linear SVM over the units' TF-IDF with this cost C (one
    /// against the rest, squared hinge, solved on every training row at once; balanced with
    /// --balance-classes), folded into the same table, instead of the encoder's category head.
    /// The vocabulary is sized without it (the grade is the same recipe's); its table adds 4
    /// bytes a unit and category, which may put the f32 weights over --max-weight-bytes
    /// (training warns: halve them with `tousu halve-weights`, or lower --max-vocab).
    #[arg(long, value_name = "C")]
    category_svm: Option<f64>,
    /// Bytes of weights this model may take (the vocabulary is cut to fit): the profile's
    /// 20 MB less what its other models take, e.g. the dispatch model's.
    #[arg(long, default_value_t = TrainOptions::default().weight_budget)]
    max_weight_bytes: usize,
}

/// `--stop-on`: the dev figure early stopping watches.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StopOnArg {
    /// The mean of the heads' macro-F1.
    Mean,
    /// Category macro-F1.
    Category,
    /// Grade macro-F1.
    Grade,
}

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    // Training's warnings (a category SVM stopped short, weights over the budget) go to stderr.
    super::open::init_logs();
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
        grade_reasons: h.grade_reasons,
        sparse_head: h.sparse_head,
        sparse_decay: h.sparse_decay,
        sparse_lr: h.sparse_lr,
        category_svm: h.category_svm,
        weight_budget: h.max_weight_bytes,
        stop_on: match h.stop_on {
            StopOnArg::Mean => StopOn::Mean,
            StopOnArg::Category => StopOn::Category,
            StopOnArg::Grade => StopOn::Grade,
        },
    };
    let sources: Vec<String> = a.source.iter().cloned().collect();
    let loaded = load_many(&a.train, &sources, a.skip_bad)?;
    report_skipped(&loaded.skipped);
    let (mut train_rows, dev_rows) = if a.dev.is_empty() {
        eprintln!(
            "no --dev given: holding out {:.0}% of the training rows",
            a.dev_fraction * 100.0
        );
        split(loaded.examples, &DevRule::Fraction(a.dev_fraction))
    } else {
        let dev = load_many(&a.dev, &sources, a.skip_bad)?;
        report_skipped(&dev.skipped);
        let dev_keys = dev.examples.iter().map(Example::key).collect();
        // A text in both files belongs to dev only.
        let (train_rows, _) = split(loaded.examples, &DevRule::Keys(dev_keys));
        (train_rows, dev.examples)
    };
    if !a.train_grades.is_empty() {
        // Grade-only rows always train (never dev, so dev stays one source), and a row whose
        // text or id is already in train or dev is dropped whatever its id says.
        let extra = load_many(&a.train_grades, &[], a.skip_bad)?;
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
    let baseline_rows = match &a.baseline_predictions {
        Some(p) => Some(read_predictions(p)?),
        None => None,
    };
    let cv = match a.folds {
        Some(k) => {
            let mut all = train_rows.clone();
            all.extend(dev_rows.iter().cloned());
            let scratch = std::env::temp_dir().join(format!("tousu-cv-{}", std::process::id()));
            let cv = cross_validate(
                &pipeline,
                &all,
                k,
                &options,
                a.profile_file.as_deref(),
                baseline_rows.as_deref(),
                &scratch,
            )?;
            let _ = std::fs::remove_dir_all(&scratch);
            if let Some(path) = &a.oof_grades {
                write_jsonl(path, &cv.model.graded)?;
            }
            Some((cv, all))
        }
        None => None,
    };
    let (report, dev_report, baseline) = if let Some((cv, all)) = &cv {
        // Every row trains: no dev to stop on, so as many epochs as the folds found best.
        let epochs = cv.epochs().max(1);
        let final_options = TrainOptions {
            max_epochs: epochs,
            patience: epochs,
            ..options.clone()
        };
        eprintln!("final fit on all {} rows for {epochs} epochs", all.len());
        let mut report = train(&pipeline, all, &[], &final_options, &out)?;
        let (category_t, grade_t) = cv.temperatures();
        set_temperatures(&out, category_t, grade_t)?;
        report.category_temperature = category_t;
        report.grade_temperature = grade_t;
        (report, cv.model.clone(), cv.baseline.clone())
    } else {
        let report = train(&pipeline, &train_rows, &dev_rows, &options, &out)?;
        let engine = Engine::load(&out, a.profile_file.as_deref())?;
        let dev_report = evaluate(&engine, &dev_rows)?;
        let baseline = baseline_rows
            .as_deref()
            .map(|b| evaluate_predictions(&dev_rows, b))
            .transpose()?;
        (report, dev_report, baseline)
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
            cross_validation: cv.as_ref().map(|(cv, _)| cv),
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

/// Writes the final model's temperatures into its `config.json` (fitted on the folds, as the
/// final fit has no dev to fit them on).
fn set_temperatures(dir: &Path, category: f32, grade: f32) -> anyhow::Result<()> {
    let path = dir.join("config.json");
    let mut config: ModelConfig = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    config.category_temperature = category;
    config.grade_temperature = grade;
    std::fs::write(&path, serde_json::to_string_pretty(&config)? + "\n")?;
    Ok(())
}
