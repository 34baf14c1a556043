//! Training: deterministic given a seed, early stopping on dev, temperature calibration, and
//! the model directory written at the end.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::calibrate::fit_temperature;
use super::classifier::{CONFIG_FILE, Classifier, LABELS_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use super::dataset::Example;
use super::labels::Labels;
use super::metrics::HeadMetrics;
use super::model::{
    CATEGORY_HEAD, ComplaintModel, EMBEDDING, GRADE_HEAD, IDF, ModelConfig, batch_tensors,
    tfidf_weights,
};
use super::tokenizer::{UnitBag, UnitTokenizer};
use super::units::UnitConfig;
use crate::error::{Error, Result};
use crate::text::{PreparedText, TextPipeline};

/// Hyper-parameters of `tousu train`. Defaults were chosen on the dev splits (see the model
/// cards); every one is a flag.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOptions {
    /// Profile name written into `config.json`.
    pub profile: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Most epochs to run.
    pub max_epochs: usize,
    /// Epochs without dev improvement before stopping.
    pub patience: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Share of a complaint's units dropped at random each time it is seen (regularises the
    /// bag the way word dropout does).
    pub unit_dropout: f32,
    /// A unit enters the vocabulary only if this many training texts contain it.
    pub min_df: usize,
    /// Vocabulary size cap (keeps `model.safetensors` under 20 MB).
    pub max_vocab: usize,
    /// Weight of the grade loss beside the category loss.
    pub grade_loss_weight: f32,
    /// Units the tokenizer extracts.
    pub units: UnitConfig,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// Models trained with different seeds and averaged. Because the heads are linear over a
    /// bag, the average is itself one model of `dim × ensemble` dimensions.
    pub ensemble: usize,
    /// What early stopping watches on dev.
    pub stop_on: StopOn,
    /// Weight each class's loss inversely to its frequency in training, so that a rare class
    /// (严重 among government messages) counts as much as a common one, as macro-F1 does.
    pub balance_classes: bool,
}

/// The dev figure early stopping keeps the best epoch by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOn {
    /// The mean of the heads' macro-F1.
    Mean,
    /// Category macro-F1 only.
    Category,
    /// Grade macro-F1 only.
    Grade,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            profile: "custom".into(),
            dim: 64,
            max_epochs: 40,
            patience: 6,
            batch_size: 32,
            learning_rate: 0.01,
            weight_decay: 0.0,
            unit_dropout: 0.2,
            min_df: 2,
            max_vocab: 60_000,
            grade_loss_weight: 1.0,
            units: UnitConfig::default(),
            seed: 20261123,
            ensemble: 1,
            stop_on: StopOn::Mean,
            balance_classes: false,
        }
    }
}

/// What a training run did, for the model card.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Examples with a category label, train side.
    pub train_category: usize,
    /// Examples with a grade label, train side.
    pub train_grade: usize,
    /// Examples with a category label, dev side.
    pub dev_category_count: usize,
    /// Examples with a grade label, dev side.
    pub dev_grade_count: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Category temperature fitted on dev.
    pub category_temperature: f32,
    /// Grade temperature fitted on dev.
    pub grade_temperature: f32,
    /// Dev metrics of the model alone (no grade rules), calibrated.
    pub dev_category: Option<HeadMetrics>,
    /// Dev grade metrics of the model alone.
    pub dev_grade: Option<HeadMetrics>,
}

/// Weight budget of one profile's model: the embedding table dominates, so the vocabulary is
/// capped, whatever `max_vocab` asks, so that embeddings, IDF, heads and the safetensors header
/// fit in `MAX_WEIGHT_BYTES`.
pub const MAX_WEIGHT_BYTES: usize = 20_000_000;
/// Room for the safetensors header (tensor names, shapes, offsets: well under a kilobyte).
const HEADER_RESERVE: usize = 16 * 1024;

/// A prepared training example: its bag and its labels as class ids.
struct Item {
    bag: UnitBag,
    category: Option<u32>,
    grade: Option<u32>,
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

    let members = opts.ensemble.max(1);
    let total_dim = opts.dim * members;
    let head_bytes = 4 * (labels.category.len() + labels.grade.len()) * (total_dim + 1);
    let budget = MAX_WEIGHT_BYTES
        .checked_sub(head_bytes + HEADER_RESERVE)
        .filter(|b| *b >= 4 * (total_dim + 1) * 2)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{total_dim} dimensions × {} classes leave no room for a vocabulary in {} MB: \
                 lower --dim or --ensemble",
                labels.category.len() + labels.grade.len(),
                MAX_WEIGHT_BYTES / 1_000_000
            ))
        })?;
    // Each unit costs `total_dim` embedding floats plus its IDF float.
    let max_vocab = opts.max_vocab.min(budget / (4 * (total_dim + 1)));
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
                let grade = e.grade.filter(|_| has_grade).map(|g| g.index() as u32);
                Ok(Item {
                    bag: tokenizer.encode(t),
                    category,
                    grade,
                })
            })
            .collect()
    };
    let train_items = items(train, &train_texts, "training")?;
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
    let tensors = if members == 1 {
        fitted.pop().expect("one member").tensors
    } else {
        config.dim = total_dim;
        merge_members(&fitted, &idf, &device).map_err(model_err)?
    };

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
    let (cat_logits, grade_logits) = scorer.logits(&dev_bags)?;
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

/// What one member's training needs.
struct Fitting<'a> {
    opts: &'a TrainOptions,
    labels: &'a Labels,
    tokenizer: &'a UnitTokenizer,
    idf: &'a [f32],
    train: &'a [Item],
    dev: &'a [Item],
    dev_bags: &'a [UnitBag],
    device: &'a Device,
    bar: &'a ProgressBar,
    /// Per-class loss weights, when balancing.
    category_weights: Option<Vec<f32>>,
    grade_weights: Option<Vec<f32>>,
}

/// One trained member: its best weights and how it got there.
struct Member {
    tensors: HashMap<String, Tensor>,
    epochs_run: usize,
    best_epoch: usize,
}

impl Fitting<'_> {
    /// Trains one model from `seed`, keeping the epoch with the best dev score.
    fn fit_member(
        &self,
        config: &ModelConfig,
        seed: u64,
        member: usize,
        members: usize,
    ) -> Result<Member> {
        let (opts, device) = (self.opts, self.device);
        let model_err = |e: candle_core::Error| Error::Model(e.to_string());
        let mut rng = StdRng::seed_from_u64(seed);
        let varmap = VarMap::new();
        init_weights(&varmap, config, &mut rng, device).map_err(model_err)?;
        let model =
            ComplaintModel::new(VarBuilder::from_varmap(&varmap, DType::F32, device), config)
                .map_err(model_err)?;
        let mut optimizer = AdamW::new(
            varmap.all_vars(),
            ParamsAdamW {
                lr: opts.learning_rate,
                weight_decay: opts.weight_decay,
                ..Default::default()
            },
        )
        .map_err(model_err)?;
        let steps_per_epoch = self.train.len().div_ceil(opts.batch_size.max(1));
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        let mut best: Option<(f64, usize, HashMap<String, Tensor>)> = None;
        let mut epochs_run = 0;
        for epoch in 1..=opts.max_epochs {
            epochs_run = epoch;
            order.shuffle(&mut rng);
            for batch in order.chunks(opts.batch_size.max(1)) {
                let rows: Vec<&Item> = batch.iter().map(|&i| &self.train[i]).collect();
                let dropped: Vec<(Vec<u32>, Vec<f32>)> = rows
                    .iter()
                    .map(|it| drop_units(&it.bag, opts.unit_dropout, &mut rng))
                    .collect();
                let weighted: Vec<(&[u32], Vec<f32>)> = dropped
                    .iter()
                    .map(|(ids, counts)| (ids.as_slice(), tfidf_weights(ids, counts, self.idf)))
                    .collect();
                let (ids, ws) = batch_tensors(&weighted, device).map_err(model_err)?;
                let out = model.forward(&ids, &ws).map_err(model_err)?;
                let mut loss: Option<Tensor> = None;
                let heads = [
                    (
                        out.category,
                        rows.iter().map(|r| r.category).collect::<Vec<_>>(),
                        1.0,
                        self.category_weights.as_deref(),
                    ),
                    (
                        out.grade,
                        rows.iter().map(|r| r.grade).collect(),
                        opts.grade_loss_weight,
                        self.grade_weights.as_deref(),
                    ),
                ];
                for (logits, targets, weight, class_weights) in heads {
                    if let Some(l) = masked_loss(logits.as_ref(), &targets, class_weights, device)
                        .map_err(model_err)?
                    {
                        let l = (l * f64::from(weight)).map_err(model_err)?;
                        loss = Some(match loss {
                            Some(acc) => (acc + l).map_err(model_err)?,
                            None => l,
                        });
                    }
                }
                if let Some(loss) = loss {
                    optimizer.backward_step(&loss).map_err(model_err)?;
                }
                self.bar.inc(1);
            }

            let snapshot = snapshot(&varmap, self.idf, device).map_err(model_err)?;
            let scorer = Classifier::from_parts(
                config.clone(),
                self.labels.clone(),
                self.tokenizer.clone(),
                snapshot.clone(),
            )?;
            let (cat, grade) =
                dev_metrics(&scorer, self.dev, self.dev_bags, self.labels, 1.0, 1.0)?;
            let f1 = |m: &Option<HeadMetrics>| m.as_ref().map(|m| m.macro_f1);
            let watched: Vec<f64> = match opts.stop_on {
                StopOn::Mean => [f1(&cat), f1(&grade)].into_iter().flatten().collect(),
                StopOn::Category => f1(&cat).or(f1(&grade)).into_iter().collect(),
                StopOn::Grade => f1(&grade).or(f1(&cat)).into_iter().collect(),
            };
            let score = if watched.is_empty() {
                -(epoch as f64)
            } else {
                watched.iter().sum::<f64>() / watched.len() as f64
            };
            let member_tag = if members > 1 {
                format!(" (model {}/{members})", member + 1)
            } else {
                String::new()
            };
            self.bar.set_message(format!(
                "{epoch}{member_tag}: dev category F1 {} grade F1 {}",
                f1(&cat).map_or("-".into(), |x| format!("{x:.3}")),
                f1(&grade).map_or("-".into(), |x| format!("{x:.3}")),
            ));
            // Without dev data there is nothing to stop on: keep the last epoch.
            let improved =
                best.as_ref().is_none_or(|(b, _, _)| score > *b + 1e-6) || self.dev.is_empty();
            if improved {
                best = Some((score, epoch, snapshot));
            } else if epoch - best.as_ref().map_or(0, |b| b.1) >= opts.patience {
                break;
            }
        }
        // Steps of epochs not run still count on the bar, so the next member starts aligned.
        self.bar
            .set_position((steps_per_epoch * opts.max_epochs * (member + 1)) as u64);
        let (_, best_epoch, tensors) = best.expect("at least one epoch ran");
        Ok(Member {
            tensors,
            epochs_run,
            best_epoch,
        })
    }
}

/// The average of the members' predictions as one model: embeddings side by side, each head's
/// weights side by side and divided by the member count, biases averaged. Logits of the merged
/// model are exactly the mean of the members' logits.
fn merge_members(
    members: &[Member],
    idf: &[f32],
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let k = members.len() as f64;
    let gather = |name: &str| -> candle_core::Result<Vec<Tensor>> {
        members
            .iter()
            .map(|m| {
                m.tensors
                    .get(name)
                    .cloned()
                    .ok_or_else(|| candle_core::Error::Msg(format!("member lacks tensor {name}")))
            })
            .collect()
    };
    let mut out = HashMap::new();
    let emb = format!("{EMBEDDING}.weight");
    out.insert(emb.clone(), Tensor::cat(&gather(&emb)?, 1)?);
    for head in [CATEGORY_HEAD, GRADE_HEAD] {
        let weight = format!("{head}.weight");
        if !members[0].tensors.contains_key(&weight) {
            continue;
        }
        out.insert(weight.clone(), (Tensor::cat(&gather(&weight)?, 1)? / k)?);
        let bias = format!("{head}.bias");
        out.insert(
            bias.clone(),
            (Tensor::stack(&gather(&bias)?, 0)?.sum(0)? / k)?,
        );
    }
    out.insert(IDF.to_string(), Tensor::new(idf, device)?);
    Ok(out)
}

/// Seeded initialisation (candle's own initialisers draw from an unseeded generator):
/// embeddings U(−0.1, 0.1), heads U(−1/√dim, 1/√dim), biases 0.
fn init_weights(
    varmap: &VarMap,
    cfg: &ModelConfig,
    rng: &mut StdRng,
    device: &Device,
) -> candle_core::Result<()> {
    const EMBEDDING_INIT: f32 = 0.1;
    let mut uniform = |shape: (usize, usize), bound: f32| -> candle_core::Result<Var> {
        let data: Vec<f32> = (0..shape.0 * shape.1)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        Var::from_tensor(&Tensor::from_vec(data, shape, device)?)
    };
    let head_bound = 1.0 / (cfg.dim as f32).sqrt();
    let mut vars = vec![(
        format!("{EMBEDDING}.weight"),
        uniform((cfg.vocab_size, cfg.dim), EMBEDDING_INIT)?,
    )];
    for (name, classes) in [
        (CATEGORY_HEAD, cfg.num_categories),
        (GRADE_HEAD, if cfg.grade_head { 3 } else { 0 }),
    ] {
        if classes > 0 {
            vars.push((
                format!("{name}.weight"),
                uniform((classes, cfg.dim), head_bound)?,
            ));
            vars.push((
                format!("{name}.bias"),
                Var::zeros(classes, DType::F32, device)?,
            ));
        }
    }
    let mut data = varmap
        .data()
        .lock()
        .expect("var map lock is never poisoned");
    data.extend(vars);
    Ok(())
}

/// Drops each unit with probability `p`, keeping at least one.
fn drop_units(bag: &UnitBag, p: f32, rng: &mut StdRng) -> (Vec<u32>, Vec<f32>) {
    let mut ids = Vec::with_capacity(bag.ids.len());
    let mut counts = Vec::with_capacity(bag.ids.len());
    for (&id, &c) in bag.ids.iter().zip(&bag.counts) {
        if p <= 0.0 || rng.random::<f32>() >= p {
            ids.push(id);
            counts.push(c);
        }
    }
    if ids.is_empty() && !bag.ids.is_empty() {
        ids.push(bag.ids[0]);
        counts.push(bag.counts[0]);
    }
    (ids, counts)
}

/// Cross-entropy over the rows that have a label for this head, each row weighted by its
/// class's weight (`None`: all 1); `None` if no row has a label.
fn masked_loss(
    logits: Option<&Tensor>,
    targets: &[Option<u32>],
    class_weights: Option<&[f32]>,
    device: &Device,
) -> candle_core::Result<Option<Tensor>> {
    let Some(logits) = logits else {
        return Ok(None);
    };
    let (rows, ys): (Vec<u32>, Vec<u32>) = targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|y| (i as u32, y)))
        .unzip();
    if rows.is_empty() {
        return Ok(None);
    }
    let picked = logits.index_select(&Tensor::new(rows.as_slice(), device)?, 0)?;
    let ys_t = Tensor::new(ys.as_slice(), device)?;
    let Some(weights) = class_weights else {
        return Ok(Some(candle_nn::loss::cross_entropy(&picked, &ys_t)?));
    };
    let w: Vec<f32> = ys.iter().map(|&y| weights[y as usize]).collect();
    let w = Tensor::new(w.as_slice(), device)?;
    let nll = candle_nn::ops::log_softmax(&picked, 1)?
        .gather(&ys_t.unsqueeze(1)?, 1)?
        .squeeze(1)?
        .neg()?;
    Ok(Some(
        (nll.mul(&w)?.sum_all()? / f64::from(w.sum_all()?.to_scalar::<f32>()?))?,
    ))
}

/// Balanced class weights, `n / (classes × count)`, as scikit-learn's `class_weight="balanced"`;
/// a class absent from training gets 0 weight (it has no rows anyway).
fn balanced_weights(labels: impl Iterator<Item = u32>, classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for y in labels {
        counts[y as usize] += 1;
    }
    let n: usize = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                n as f32 / (classes * c) as f32
            }
        })
        .collect()
}

/// A copy of the current weights plus the IDF table: what `model.safetensors` holds.
fn snapshot(
    varmap: &VarMap,
    idf: &[f32],
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let data = varmap
        .data()
        .lock()
        .expect("var map lock is never poisoned");
    let mut out: HashMap<String, Tensor> = data
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
        .collect::<candle_core::Result<_>>()?;
    out.insert(IDF.to_string(), Tensor::new(idf, device)?);
    Ok(out)
}

/// Dev metrics of each head at the given temperatures (model only, no rules).
fn dev_metrics(
    scorer: &Classifier,
    dev: &[Item],
    bags: &[UnitBag],
    labels: &Labels,
    cat_t: f32,
    grade_t: f32,
) -> Result<(Option<HeadMetrics>, Option<HeadMetrics>)> {
    if dev.is_empty() {
        return Ok((None, None));
    }
    let (cat, grade) = scorer.logits(bags)?;
    let score = |logits: Option<Vec<Vec<f32>>>,
                 names: &[String],
                 t: f32,
                 pick: fn(&Item) -> Option<u32>| {
        let logits = logits?;
        let (mut truth, mut pred, mut conf) = (Vec::new(), Vec::new(), Vec::new());
        for (l, it) in logits.iter().zip(dev) {
            if let Some(y) = pick(it) {
                let p = super::classifier::head_prediction(l, names, t);
                truth.push(y as usize);
                pred.push(p.class);
                conf.push(p.confidence);
            }
        }
        (!truth.is_empty()).then(|| HeadMetrics::compute(names, &truth, &pred, &conf))
    };
    Ok((
        score(cat, &labels.category, cat_t, |i| i.category),
        score(grade, &labels.grade, grade_t, |i| i.grade),
    ))
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(|e| Error::Invalid(e.to_string()))?;
    std::fs::write(path, s + "\n").map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{SegmentConfig, Segmenter};

    /// A random member over `cfg`'s shapes, seeded.
    fn member(cfg: &ModelConfig, idf: &[f32], seed: u64) -> Member {
        let varmap = VarMap::new();
        let mut rng = StdRng::seed_from_u64(seed);
        init_weights(&varmap, cfg, &mut rng, &Device::Cpu).unwrap();
        // Non-zero biases so that their averaging is checked too.
        for (name, v) in varmap.data().lock().unwrap().iter() {
            if name.ends_with(".bias") {
                let b: Vec<f32> = (0..v.elem_count()).map(|_| rng.random()).collect();
                v.set(&Tensor::new(b.as_slice(), &Device::Cpu).unwrap())
                    .unwrap();
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
        };
        let members: Vec<Member> = (0..3).map(|s| member(&cfg, &idf, s)).collect();
        let bags: Vec<UnitBag> = texts.iter().map(|t| tokenizer.encode(t)).collect();
        let logits = |cfg: &ModelConfig, tensors: HashMap<String, Tensor>| {
            Classifier::from_parts(cfg.clone(), labels.clone(), tokenizer.clone(), tensors)
                .unwrap()
                .logits(&bags)
                .unwrap()
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
