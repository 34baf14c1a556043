//! The model card (`models/<profile>/README.md`): data and terms, the exact command, dev
//! metrics beside the baseline, and the date.

use std::fmt::Write as _;
use std::path::Path;

use super::cross_validation::CrossValidation;
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
    /// When the model was trained on every row after cross-validation: the folds (`dev` and
    /// `baseline` are then their pooled out-of-fold figures).
    pub cross_validation: Option<&'a CrossValidation>,
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
         1–{}-grams{} from jieba) shared by a category head and a grade head{}; \
         candle, CPU. {} units × {} dimensions{}{}, {} parameters ({:.1} MB of f32 weights as trained, \
         half that when stored by `tousu halve-weights`). \
         Grades are raised (never lowered) by the profile's rules in `data/profiles/`.\n",
        c.options.units.ngram_max,
        if c.options.units.words {
            " and words"
        } else {
            ""
        },
        if c.options.grade_reasons {
            " that learns the guideline's 11 reason codes (a grade is its best reason's: 严重 and \
             重大 are each a union of unlike reasons)"
        } else {
            " (一般 / 严重 / 重大)"
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
        if c.options.sparse_head {
            " plus each unit's own weight per column (a sparse head)"
        } else {
            ""
        },
        r.parameters,
        (r.parameters + r.vocab_size) as f64 * 4.0 / 1e6,
    );
    if let Some(cost) = c.options.category_svm
        && r.train_category > 0
    {
        let _ = writeln!(
            s,
            "The category is not the encoder's: a linear SVM over the same units' TF-IDF decides \
             it (one category against the rest, squared hinge, L2, cost C = {cost}{}, solved on \
             every training row at once; `--category-svm`), its weights a float per unit and \
             category in the same table. The encoder, sized and trained as without it, serves \
             the grade.\n",
            if c.options.balance_classes {
                ", classes balanced"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "## Data and terms\n\n{}\n", c.profile.data_terms);
    if let Some(cv) = c.cross_validation {
        let _ = writeln!(
            s,
            "Trained on every labelled row, the train and dev splits together: {} with a \
             category, {} with a grade. Its figures below are {}-fold cross-validated.\n",
            r.train_category,
            r.train_grade,
            cv.folds.len()
        );
    } else {
        let _ = writeln!(
            s,
            "Training rows: {} with a category, {} with a grade. Dev rows: {} with a category, \
             {} with a grade. No dev row was trained on.\n",
            r.train_category, r.train_grade, r.dev_category_count, r.dev_grade_count
        );
    }
    let _ = writeln!(s, "## Command\n\n```\n{}\n```\n", c.command);
    let how = if c.cross_validation.is_some() {
        "the folds' mean best epoch, no dev; temperatures the folds' means"
    } else {
        "early stopping on dev; temperatures fitted on dev"
    };
    let _ = writeln!(
        s,
        "Hyper-parameters: `{}`\n\nEpochs run {}, best epoch {} ({how}: category {:.3}, grade \
         {:.3}), {:.0} s on this machine.\n",
        serde_json::to_string(c.options).unwrap_or_default(),
        r.epochs_run,
        r.best_epoch,
        r.category_temperature,
        r.grade_temperature,
        r.seconds
    );
    if let Some(cv) = c.cross_validation {
        let _ = writeln!(
            s,
            "## Cross-validated metrics\n\n{}-fold cross-validation by the command above, before \
             the final fit: each fold's model is trained on the other folds (stopping early on a \
             tenth of them) and judged on its own fold with the grade rules, as `tousu eval` \
             judges; the baseline is trained and judged on the same folds \
             (`benches/baseline_svm.py --folds`). Out-of-fold figures over every row:\n",
            cv.folds.len()
        );
    } else {
        let _ = writeln!(
            s,
            "## Dev metrics\n\nReproduce with `tousu eval --model models/{} --data <dev file>` \
             (the dev file is written by the `tousu split` command in `models/build.sh`).\n",
            c.profile.name
        );
    }
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
    if let Some(cv) = c.cross_validation {
        folds_table(&mut s, cv);
    }
    let calibration = if c.cross_validation.is_some() {
        "The hyper-parameters were chosen on the dev split, which the folds include, so these \
         figures lean slightly optimistic; the folds' spread above is their sampling error. \
         Temperatures are the folds' means, each fitted on its fold's inner dev."
    } else {
        "Dev sets are small (hundreds of rows; the grade dev set under a hundred), so these \
         figures carry several points of sampling error. Confidences are calibrated on the same \
         dev set they are reported on."
    };
    let _ = writeln!(
        s,
        "## Limits\n\n{calibration} Categories are the profile's own taxonomy: texts from other \
         domains get the nearest of these labels."
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
        let on = if c.cross_validation.is_some() {
            "Cross-validated"
        } else {
            "On dev"
        };
        let _ = writeln!(s, "\n{on}, {}.", verdicts.join("; "));
    }
    s
}

/// Each fold's figures, and their spread.
fn folds_table(s: &mut String, cv: &CrossValidation) {
    let _ = writeln!(
        s,
        "### Per fold\n\n| fold | rows | category macro-F1 | baseline | grade macro-F1 | 重大 recall | 重大 precision | best epoch |\n|---|---|---|---|---|---|---|---|"
    );
    let f = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{x:.4}"));
    let mut cat = Vec::new();
    let mut base = Vec::new();
    let mut grade = Vec::new();
    for (k, fold) in cv.folds.iter().enumerate() {
        let m = fold.model.category.as_ref().map(|m| m.macro_f1);
        let b = fold
            .baseline
            .as_ref()
            .and_then(|b| b.category.as_ref())
            .map(|m| m.macro_f1);
        let g = fold.model.grade.as_ref();
        cat.extend(m);
        base.extend(b);
        grade.extend(g.map(|g| g.metrics.macro_f1));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            k + 1,
            fold.model.rows,
            f(m),
            f(b),
            f(g.map(|g| g.metrics.macro_f1)),
            f(g.map(|g| g.major_recall)),
            f(g.map(|g| g.major_precision)),
            fold.best_epoch
        );
    }
    let spread = |xs: &[f64]| -> String {
        if xs.is_empty() {
            return "–".into();
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        format!("{mean:.4} ± {sd:.4}")
    };
    let _ = writeln!(
        s,
        "| mean ± sd | | {} | {} | {} | | | |\n",
        spread(&cat),
        spread(&base),
        spread(&grade)
    );
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
