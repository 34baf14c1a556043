//! Training: deterministic given a seed, early stopping on dev, temperature calibration, and
//! the model directory written at the end.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::calibrate::fit_temperature;
use super::classifier::{CONFIG_FILE, Classifier, LABELS_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use super::dataset::Example;
use super::labels::Labels;
use super::model::{IDF, ModelConfig, grade_width};
use super::tokenizer::{UnitBag, UnitTokenizer};
use crate::domain::Reason;
use crate::error::{Error, Result};
use crate::text::{PreparedText, TextPipeline};

mod fitting;
mod options;
mod steps;
mod svm;

use self::fitting::{Fitting, dev_metrics, merge_members};
pub use self::options::{StopOn, TrainOptions, TrainReport};
use self::steps::balanced_weights;

/// Weight budget of one profile's model: the embedding table dominates, so the vocabulary is
/// capped, whatever `max_vocab` asks, so that embeddings, IDF, heads and the safetensors header
/// fit in `MAX_WEIGHT_BYTES`.
pub const MAX_WEIGHT_BYTES: usize = 20_000_000;
/// A category SVM whose gradient is still above this share of where it started is reported
/// as stopped short.
const SVM_GRADIENT_WARNING: f32 = 0.01;
/// Room for the safetensors header (tensor names, shapes, offsets: well under a kilobyte).
const HEADER_RESERVE: usize = 16 * 1024;

/// A prepared training example: its bag and its labels as class ids.
struct Item {
    bag: UnitBag,
    category: Option<u32>,
    grade: Option<u32>,
    /// The grade's reason (index in [`Reason::ALL`]), when the grade head learns reasons.
    reason: Option<u32>,
}

/// Trains a model on `train`, stopping early on `dev`, and writes `out_dir/{tokenizer.json,
/// model.safetensors, config.json, labels.json}`. Blocking; minutes on 2 cores for the shipped
/// profiles. The model card is written by the caller, which knows the data's provenance.
pub fn train(
    pipeline: &TextPipeline,
    train: &[Example],
    dev: &[Example],
    opts: &TrainOptions,
    out_dir: &Path,
) -> Result<TrainReport> {
    let started = Instant::now();
    let categories: Vec<String> = train
        .iter()
        .filter_map(|e| e.category.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let has_grade = train.iter().any(|e| e.grade.is_some());
    if let Some(c) = opts.category_svm
        && !(c.is_finite() && c > 0.0)
    {
        return Err(Error::Invalid(format!(
            "--category-svm {c}: the SVM's cost C must be a positive number (1 is usual)"
        )));
    }
    if categories.is_empty() && !has_grade {
        return Err(Error::Invalid(
            "training data has neither `category` nor `grade` labels".into(),
        ));
    }
    if categories.len() == 1 {
        return Err(Error::Invalid(format!(
            "training data has one category only ({}): a classifier needs at least two",
            categories[0]
        )));
    }
    let labels = Labels {
        category: categories,
        grade: if has_grade {
            Labels::grades()
        } else {
            Vec::new()
        },
    };

    let prepare = |rows: &[Example], what: &str| -> Result<Vec<PreparedText>> {
        rows.iter()
            .map(|e| {
                pipeline
                    .prepare(e.title.as_deref(), &e.text)
                    .map_err(|err| Error::Invalid(format!("{what} example {}: {err}", e.key())))
            })
            .collect()
    };
    let train_texts = prepare(train, "training")?;
    let dev_texts = prepare(dev, "dev")?;

    let reasons = opts.grade_reasons && has_grade;
    let members = opts.ensemble.max(1);
    let total_dim = opts.dim * members;
    let grade_width = grade_width(has_grade, reasons);
    let columns = labels.category.len() + grade_width;
    let head_bytes = 4 * columns * (total_dim + 1);
    // Each unit costs `total_dim` embedding floats, its IDF float and, with a sparse head,
    // a float per column.
    // A category SVM's table (a float per unit and category) is not counted: the vocabulary,
    // and so the encoder and its grade, stay those of the same recipe without it. Its weights
    // may then exceed the budget in f32 by that table (warned below after saving); halved
    // (`tousu halve-weights`), as gov's are shipped, they take half.
    let unit_bytes = 4 * (total_dim + 1 + if opts.sparse_head { columns } else { 0 });
    let budget = opts
        .weight_budget
        .min(MAX_WEIGHT_BYTES)
        .checked_sub(head_bytes + HEADER_RESERVE)
        .filter(|b| *b >= unit_bytes * 2)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{total_dim} dimensions × {columns} classes leave no room for a vocabulary in {} \
                 bytes: lower --dim or --ensemble",
                opts.weight_budget.min(MAX_WEIGHT_BYTES)
            ))
        })?;
    let max_vocab = opts.max_vocab.min(budget / unit_bytes);
    let (tokenizer, df) = UnitTokenizer::build(&train_texts, opts.units, opts.min_df, max_vocab)?;
    let n_docs = train_texts.len() as f32;
    // Smoothed IDF, as scikit-learn's TfidfVectorizer; [UNK] gets 0 and so never counts.
    let idf: Vec<f32> = df
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i == 0 {
                0.0
            } else {
                ((1.0 + n_docs) / (1.0 + d as f32)).ln() + 1.0
            }
        })
        .collect();

    let items = |rows: &[Example], texts: &[PreparedText], side: &str| -> Result<Vec<Item>> {
        rows.iter()
            .zip(texts)
            .map(|(e, t)| {
                let category = match &e.category {
                    Some(c) if !labels.category.is_empty() => Some(
                        labels.category_id(c, &format!(" in {side} example {}", e.key()))? as u32,
                    ),
                    _ => None,
                };
                let grade = e.grade.filter(|_| has_grade);
                let reason = match (&e.reason, grade) {
                    (Some(code), Some(grade)) if reasons => {
                        let reason: Reason = code.parse().map_err(|err| {
                            Error::Invalid(format!("{side} example {}: {err}", e.key()))
                        })?;
                        if reason.guideline_grade() != grade {
                            return Err(Error::Invalid(format!(
                                "{side} example {}: reason {reason} implies {}, but the grade \
                                 is {grade}: fix one of them",
                                e.key(),
                                reason.guideline_grade()
                            )));
                        }
                        Reason::ALL
                            .iter()
                            .position(|r| *r == reason)
                            .map(|i| i as u32)
                    }
                    _ => None,
                };
                Ok(Item {
                    bag: tokenizer.encode(t),
                    category,
                    grade: grade.map(|g| g.index() as u32),
                    reason,
                })
            })
            .collect()
    };
    let train_items = items(train, &train_texts, "training")?;
    if reasons && train_items.iter().all(|i| i.reason.is_none()) {
        return Err(Error::Invalid(
            "--grade-reasons: no graded training row has a `reason` (one of the guideline's \
             codes, e.g. \"safety\"): add them, or train without --grade-reasons"
                .into(),
        ));
    }
    let dev_items = items(dev, &dev_texts, "dev")?;

    let mut config = ModelConfig {
        profile: opts.profile.clone(),
        vocab_size: tokenizer.vocab_size(),
        dim: opts.dim,
        num_categories: labels.category.len(),
        grade_head: has_grade,
        units: opts.units,
        segment: pipeline.segmenter().config(),
        category_temperature: 1.0,
        grade_temperature: 1.0,
        grade_reasons: reasons,
        sparse_head: opts.sparse_head,
        category_svm: false,
    };

    let device = Device::Cpu;
    let model_err = |e: candle_core::Error| Error::Model(e.to_string());
    let steps_per_epoch = train_items.len().div_ceil(opts.batch_size.max(1));
    let bar = ProgressBar::new((steps_per_epoch * opts.max_epochs * members) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} epoch {msg} [{bar:30}] {pos}/{len} steps, {elapsed}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let dev_bags: Vec<UnitBag> = dev_items.iter().map(|i| i.bag.clone()).collect();
    let fitting = Fitting {
        opts,
        labels: &labels,
        tokenizer: &tokenizer,
        idf: &idf,
        train: &train_items,
        dev: &dev_items,
        dev_bags: &dev_bags,
        device: &device,
        bar: &bar,
        category_weights: opts.balance_classes.then(|| {
            balanced_weights(
                train_items.iter().filter_map(|i| i.category),
                labels.category.len(),
            )
        }),
        grade_weights: opts.balance_classes.then(|| {
            balanced_weights(
                train_items.iter().filter_map(|i| i.grade),
                labels.grade.len(),
            )
        }),
        // A reason weighs as much as its grade does: balancing the eleven reasons themselves
        // would let a handful of `security` rows outweigh hundreds of `none`.
        reason_weights: (opts.balance_classes && reasons).then(|| {
            let grades = balanced_weights(
                train_items.iter().filter_map(|i| i.grade),
                labels.grade.len(),
            );
            Reason::ALL
                .iter()
                .map(|r| grades[r.guideline_grade().index()])
                .collect()
        }),
    };
    let mut fitted = Vec::with_capacity(members);
    for member in 0..members {
        // Members differ only by seed: initialisation, shuffling and dropout.
        let seed = opts.seed.wrapping_add(member as u64 * 7919);
        fitted.push(fitting.fit_member(&config, seed, member, members)?);
    }
    bar.finish_and_clear();
    let epochs_run = fitted.iter().map(|f| f.epochs_run).max().unwrap_or(0);
    let best_epoch = fitted.iter().map(|f| f.best_epoch).max().unwrap_or(0);
    let mut tensors = if members == 1 {
        fitted.pop().expect("one member").tensors
    } else {
        config.dim = total_dim;
        merge_members(&fitted, &idf, &device).map_err(model_err)?
    };
    if let Some(c) = opts.category_svm
        && !labels.category.is_empty()
    {
        let fitted = svm::fit(
            &train_items,
            &idf,
            labels.category.len(),
            c,
            fitting.category_weights.as_deref(),
            &device,
        )
        .map_err(model_err)?;
        // Fixed steps, not a stopping test: say how close they came.
        tracing::info!(
            gradient_left = fitted.gradient_left,
            "category SVM fitted (its gradient over the gradient at zero)"
        );
        if fitted.gradient_left > SVM_GRADIENT_WARNING {
            tracing::warn!(
                gradient_left = fitted.gradient_left,
                "the category SVM stopped short of its optimum (a large --category-svm C?)"
            );
        }
        svm::install(&mut tensors, &mut config, fitted).map_err(model_err)?;
    }

    let scorer = Classifier::from_parts(
        config.clone(),
        labels.clone(),
        tokenizer.clone(),
        tensors.clone(),
    )?;
    // Of the shipped model (a merged ensemble shares one bias per class), IDF excluded.
    let parameters: usize = tensors
        .iter()
        .filter(|(name, _)| name.as_str() != IDF)
        .map(|(_, t)| t.elem_count())
        .sum();
    let (cat_logits, grade_logits) = scorer.logits(&dev_bags);
    let fit = |logits: Option<Vec<Vec<f32>>>, pick: fn(&Item) -> Option<u32>| -> f32 {
        let Some(logits) = logits else { return 1.0 };
        let (l, y): (Vec<Vec<f32>>, Vec<usize>) = logits
            .into_iter()
            .zip(&dev_items)
            .filter_map(|(l, it)| pick(it).map(|y| (l, y as usize)))
            .unzip();
        fit_temperature(&l, &y)
    };
    config.category_temperature = fit(cat_logits, |i| i.category);
    config.grade_temperature = fit(grade_logits, |i| i.grade);
    // The temperatures are passed in, so the scorer built before fitting them serves.
    let (dev_category, dev_grade) = dev_metrics(
        &scorer,
        &dev_items,
        &dev_bags,
        &labels,
        config.category_temperature,
        config.grade_temperature,
    )?;

    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    tokenizer.save(&out_dir.join(TOKENIZER_FILE))?;
    let weights_path = out_dir.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&tensors, &weights_path)
        .map_err(|e| Error::bad_file(&weights_path, e.to_string()))?;
    // Only a category SVM's table is outside the budget the vocabulary was sized by.
    if let Ok(meta) = std::fs::metadata(&weights_path)
        && meta.len() > opts.weight_budget.min(MAX_WEIGHT_BYTES) as u64
    {
        tracing::warn!(
            bytes = meta.len(),
            budget = opts.weight_budget.min(MAX_WEIGHT_BYTES),
            "the weights are over the budget in f32 (the category SVM's table): halve them \
             (`tousu halve-weights`) before shipping, or lower --max-vocab"
        );
    }
    write_json(&out_dir.join(CONFIG_FILE), &config)?;
    write_json(&out_dir.join(LABELS_FILE), &labels)?;

    let count = |items: &[Item], f: fn(&Item) -> bool| items.iter().filter(|i| f(i)).count();
    Ok(TrainReport {
        train_category: count(&train_items, |i| i.category.is_some()),
        train_grade: count(&train_items, |i| i.grade.is_some()),
        dev_category_count: count(&dev_items, |i| i.category.is_some()),
        dev_grade_count: count(&dev_items, |i| i.grade.is_some()),
        vocab_size: config.vocab_size,
        parameters,
        epochs_run,
        best_epoch,
        seconds: started.elapsed().as_secs_f64(),
        category_temperature: config.category_temperature,
        grade_temperature: config.grade_temperature,
        dev_category,
        dev_grade,
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(|e| Error::Invalid(e.to_string()))?;
    std::fs::write(path, s + "\n").map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use candle_core::Tensor;
    use candle_nn::VarMap;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::fitting::{Member, snapshot};
    use super::steps::{init_weights, masked_loss};
    use super::*;
    use crate::classify::model::SPARSE_HEAD;
    use crate::classify::units::UnitConfig;
    use crate::text::{SegmentConfig, Segmenter};
    use std::collections::HashMap;

    /// A random member over `cfg`'s shapes, seeded.
    fn member(cfg: &ModelConfig, idf: &[f32], seed: u64) -> Member {
        let varmap = VarMap::new();
        let mut rng = StdRng::seed_from_u64(seed);
        init_weights(&varmap, cfg, &mut rng, &Device::Cpu).unwrap();
        // Non-zero biases and sparse heads so that their averaging is checked too.
        for (name, v) in varmap.data().lock().unwrap().iter() {
            if name.ends_with(".bias") || name.starts_with(SPARSE_HEAD) {
                let b: Vec<f32> = (0..v.elem_count()).map(|_| rng.random()).collect();
                let b = Tensor::new(b.as_slice(), &Device::Cpu).unwrap();
                v.set(&b.reshape(v.shape()).unwrap()).unwrap();
            }
        }
        Member {
            tensors: snapshot(&varmap, idf, &Device::Cpu).unwrap(),
            epochs_run: 1,
            best_epoch: 1,
        }
    }

    #[test]
    fn merged_ensemble_logits_are_the_members_mean() {
        let pipeline = TextPipeline::new(Segmenter::new(SegmentConfig::default()));
        let texts: Vec<PreparedText> = ["宽带断网三天了", "话费被多扣了二十元", "营业员态度很差"]
            .iter()
            .map(|t| pipeline.prepare(None, t).unwrap())
            .collect();
        let (tokenizer, _) = UnitTokenizer::build(&texts, UnitConfig::default(), 1, 1000).unwrap();
        let idf = vec![1.0; tokenizer.vocab_size()];
        let labels = Labels {
            category: vec!["网络".into(), "费用".into(), "服务".into()],
            grade: Labels::grades(),
        };
        let cfg = ModelConfig {
            profile: "t".into(),
            vocab_size: tokenizer.vocab_size(),
            dim: 4,
            num_categories: 3,
            grade_head: true,
            units: UnitConfig::default(),
            segment: SegmentConfig::default(),
            category_temperature: 1.0,
            grade_temperature: 1.0,
            grade_reasons: false,
            sparse_head: true,
            category_svm: false,
        };
        let members: Vec<Member> = (0..3).map(|s| member(&cfg, &idf, s)).collect();
        let bags: Vec<UnitBag> = texts.iter().map(|t| tokenizer.encode(t)).collect();
        let logits = |cfg: &ModelConfig, tensors: HashMap<String, Tensor>| {
            Classifier::from_parts(cfg.clone(), labels.clone(), tokenizer.clone(), tensors)
                .unwrap()
                .logits(&bags)
        };
        let merged_cfg = ModelConfig {
            dim: 12,
            ..cfg.clone()
        };
        let (merged_cat, merged_grade) = logits(
            &merged_cfg,
            merge_members(&members, &idf, &Device::Cpu).unwrap(),
        );
        let each: Vec<_> = members
            .iter()
            .map(|m| logits(&cfg, m.tensors.clone()))
            .collect();
        type HeadLogits = Option<Vec<Vec<f32>>>;
        let check =
            |head: &str, merged: HeadLogits, pick: fn(&(HeadLogits, HeadLogits)) -> &HeadLogits| {
                for (row, merged) in merged.unwrap().iter().enumerate() {
                    for (class, &got) in merged.iter().enumerate() {
                        let mean: f32 = each
                            .iter()
                            .map(|m| pick(m).as_ref().unwrap()[row][class])
                            .sum::<f32>()
                            / 3.0;
                        assert!(
                            (got - mean).abs() < 1e-5,
                            "{head} {row}/{class}: {got} vs {mean}"
                        );
                    }
                }
            };
        check("category", merged_cat, |m| &m.0);
        check("grade", merged_grade, |m| &m.1);
    }

    #[test]
    fn balanced_weights_follow_scikit_learn() {
        // 3 rows of class 0, 1 of class 1, none of class 2.
        let w = balanced_weights([0, 0, 0, 1].into_iter(), 3);
        assert!((w[0] - 4.0 / 9.0).abs() < 1e-6);
        assert!((w[1] - 4.0 / 3.0).abs() < 1e-6);
        assert_eq!(w[2], 0.0);
    }

    #[test]
    fn weighted_loss_with_equal_weights_is_cross_entropy() {
        let d = Device::Cpu;
        let logits =
            Tensor::new(&[[2.0f32, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, 1.0, 5.0]], &d).unwrap();
        let targets = [Some(0), None, Some(2)];
        let plain = masked_loss(Some(&logits), &targets, None, &d)
            .unwrap()
            .unwrap();
        let ones = masked_loss(Some(&logits), &targets, Some(&[1.0, 1.0, 1.0]), &d)
            .unwrap()
            .unwrap();
        let (a, b) = (
            plain.to_scalar::<f32>().unwrap(),
            ones.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        // Weighting row 2's class up pulls the loss towards its (smaller) loss.
        let skewed = masked_loss(Some(&logits), &targets, Some(&[1.0, 1.0, 9.0]), &d)
            .unwrap()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(skewed < a, "{skewed} vs {a}");
        assert!(
            masked_loss(Some(&logits), &[None, None, None], None, &d)
                .unwrap()
                .is_none()
        );
    }
}
