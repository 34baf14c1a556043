//! The model card (`models/<profile>/README.md`): data and terms, the exact command, dev
//! metrics beside the baseline, and the date.

use std::fmt::Write as _;
use std::path::Path;

use super::evaluate::EvalReport;
use super::profile::Profile;
use crate::classify::{HeadMetrics, MODEL_CARD_FILE, TrainOptions, TrainReport};
use crate::error::{Error, Result};

/// What goes into a model card.
#[derive(Debug)]
pub struct ModelCard<'a> {
    /// The profile (name, data terms).
    pub profile: &'a Profile,
    /// The command line that trained the model.
    pub command: String,
    /// The hyper-parameters used.
    pub options: &'a TrainOptions,
    /// What training did.
    pub report: &'a TrainReport,
    /// Dev evaluation with grade rules, by the same code as `tousu eval`.
    pub dev: &'a EvalReport,
    /// The baseline's dev evaluation, when its predictions were given, and how they were made.
    pub baseline: Option<(&'a EvalReport, String)>,
}

/// Writes `dir/README.md`.
pub fn write_model_card(dir: &Path, card: &ModelCard<'_>) -> Result<()> {
    let path = dir.join(MODEL_CARD_FILE);
    std::fs::write(&path, render(card)).map_err(|e| Error::io(&path, e))
}

fn render(c: &ModelCard<'_>) -> String {
    let r = c.report;
    let mut s = String::new();
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d");
    let _ = writeln!(s, "# Model card: `{}`\n", c.profile.name);
    let _ = writeln!(s, "{}\n", c.profile.description);
    let _ = writeln!(
        s,
        "Trained {date} by `tousu train`. A TF-IDF-weighted bag of unit embeddings (character \
         1–{}-grams{} from jieba) shared by a category head and a grade head (一般 / 严重 / 重大); \
         candle, CPU. {} units × {} dimensions{}, {} parameters ({:.1} MB of f32 weights as trained, \
         half that when stored by `tousu halve-weights`). \
         Grades are raised (never lowered) by the profile's rules in `data/profiles/`.\n",
        c.options.units.ngram_max,
        if c.options.units.words {
            " and words"
        } else {
            ""
        },
        r.vocab_size,
        c.options.dim * c.options.ensemble.max(1),
        if c.options.ensemble > 1 {
            format!(
                " (the average of {} models of {} dimensions trained from different seeds)",
                c.options.ensemble, c.options.dim
            )
        } else {
            String::new()
        },
        r.parameters,
        (r.parameters + r.vocab_size) as f64 * 4.0 / 1e6,
    );
    let _ = writeln!(s, "## Data and terms\n\n{}\n", c.profile.data_terms);
    let _ = writeln!(
        s,
        "Training rows: {} with a category, {} with a grade. Dev rows: {} with a category, {} \
         with a grade. No dev row was trained on.\n",
        r.train_category, r.train_grade, r.dev_category_count, r.dev_grade_count
    );
    let _ = writeln!(s, "## Command\n\n```\n{}\n```\n", c.command);
    let _ = writeln!(
        s,
        "Hyper-parameters: `{}`\n\nEpochs run {}, best epoch {} (early stopping on dev), {:.0} s \
         on this machine. Temperatures fitted on dev: category {:.3}, grade {:.3}.\n",
        serde_json::to_string(c.options).unwrap_or_default(),
        r.epochs_run,
        r.best_epoch,
        r.seconds,
        r.category_temperature,
        r.grade_temperature
    );
    let _ = writeln!(
        s,
        "## Dev metrics\n\nReproduce with `tousu eval --model models/{} --data <dev file>` (the \
         dev file is written by the `tousu split` command in `models/build.sh`).\n",
        c.profile.name
    );
    if let Some(m) = &c.dev.category {
        let _ = writeln!(s, "### Category\n");
        let _ = writeln!(
            s,
            "| system | macro-F1 | accuracy | ECE |\n|---|---|---|---|"
        );
        let _ = writeln!(
            s,
            "| this model | {:.4} | {:.4} | {:.4} |",
            m.macro_f1, m.accuracy, m.ece
        );
        if let Some((b, how)) = &c.baseline
            && let Some(bm) = &b.category
        {
            let _ = writeln!(
                s,
                "| baseline: {how} | {:.4} | {:.4} | – |",
                bm.macro_f1, bm.accuracy
            );
        }
        let _ = writeln!(s);
        per_class(&mut s, m);
    }
    if let Some(g) = &c.dev.grade {
        let _ = writeln!(s, "### Grade (rules included)\n");
        let _ = writeln!(
            s,
            "| macro-F1 | accuracy | ECE | 重大 recall | 重大 precision | model alone macro-F1 | rules alone macro-F1 |\n|---|---|---|---|---|---|---|"
        );
        let _ = writeln!(
            s,
            "| {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {} |\n",
            g.metrics.macro_f1,
            g.metrics.accuracy,
            g.metrics.ece,
            g.major_recall,
            g.major_precision,
            g.model_only_macro_f1
                .map_or("–".into(), |x| format!("{x:.4}")),
            g.rules_only_macro_f1
                .map_or("–".into(), |x| format!("{x:.4}"))
        );
        per_class(&mut s, &g.metrics);
    }
    let _ = writeln!(
        s,
        "## Limits\n\nDev sets are small (hundreds of rows; the grade dev set under a hundred), so \
         these figures carry several points of sampling error. Categories are the profile's own \
         taxonomy: texts from other domains get the nearest of these labels. Confidences are \
         calibrated on the same dev set they are reported on."
    );
    // Say plainly where the dev figures stand against the project's targets.
    let mut verdicts = Vec::new();
    if let (Some(m), Some(b)) = (
        c.dev.category.as_ref(),
        c.baseline.as_ref().and_then(|(b, _)| b.category.as_ref()),
    ) {
        verdicts.push(format!(
            "category macro-F1 {:.4} is {} the baseline's {:.4}",
            m.macro_f1,
            if m.macro_f1 > b.macro_f1 {
                "above"
            } else {
                "not above"
            },
            b.macro_f1
        ));
    }
    if let Some(g) = &c.dev.grade {
        verdicts.push(format!(
            "grade macro-F1 {:.4} is {} the 0.80 target and 重大 recall {:.4} {} the 0.90 target",
            g.metrics.macro_f1,
            if g.metrics.macro_f1 >= 0.80 {
                "at or above"
            } else {
                "below"
            },
            g.major_recall,
            if g.major_recall >= 0.90 {
                "meets"
            } else {
                "misses"
            },
        ));
    }
    if !verdicts.is_empty() {
        let _ = writeln!(s, "\nOn dev, {}.", verdicts.join("; "));
    }
    s
}

fn per_class(s: &mut String, m: &HeadMetrics) {
    let _ = writeln!(
        s,
        "| class | precision | recall | F1 | support |\n|---|---|---|---|---|"
    );
    for (label, c) in &m.per_class {
        let _ = writeln!(
            s,
            "| {label} | {:.3} | {:.3} | {:.3} | {} |",
            c.precision, c.recall, c.f1, c.support
        );
    }
    let _ = writeln!(
        s,
        "\nConfusion (rows: truth, columns: predicted, order as above):\n\n```"
    );
    for row in &m.confusion {
        let _ = writeln!(
            s,
            "{}",
            row.iter().map(|n| format!("{n:4}")).collect::<String>()
        );
    }
    let _ = writeln!(s, "```\n");
}
