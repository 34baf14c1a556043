//! One member of an ensemble fitted (epochs, early stopping on dev, the best weights kept),
//! the members merged into one model, and the dev metrics training reports.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::Item;
use super::options::{StopOn, TrainOptions};
use super::steps::{drop_units, init_weights, masked_loss};
use crate::classify::classifier::Classifier;
use crate::classify::labels::Labels;
use crate::classify::metrics::HeadMetrics;
use crate::classify::model::{
    CATEGORY_HEAD, ComplaintModel, EMBEDDING, GRADE_HEAD, IDF, ModelConfig, SPARSE_HEAD,
    batch_tensors, tfidf_weights,
};
use crate::classify::tokenizer::{UnitBag, UnitTokenizer};
use crate::error::{Error, Result};

/// What one member's training needs.
pub(super) struct Fitting<'a> {
    pub(super) opts: &'a TrainOptions,
    pub(super) labels: &'a Labels,
    pub(super) tokenizer: &'a UnitTokenizer,
    pub(super) idf: &'a [f32],
    pub(super) train: &'a [Item],
    pub(super) dev: &'a [Item],
    pub(super) dev_bags: &'a [UnitBag],
    pub(super) device: &'a Device,
    pub(super) bar: &'a ProgressBar,
    /// Per-class loss weights, when balancing.
    pub(super) category_weights: Option<Vec<f32>>,
    pub(super) grade_weights: Option<Vec<f32>>,
    pub(super) reason_weights: Option<Vec<f32>>,
}

/// One trained member: its best weights and how it got there.
pub(super) struct Member {
    pub(super) tensors: HashMap<String, Tensor>,
    pub(super) epochs_run: usize,
    pub(super) best_epoch: usize,
}

impl Fitting<'_> {
    /// Trains one model from `seed`, keeping the epoch with the best dev score.
    pub(super) fn fit_member(
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
        // The sparse head has its own decay: its one weight per unit and column is what
        // overfits, where the shared encoder is held by its low rank.
        let sparse_name = format!("{SPARSE_HEAD}.weight");
        let vars = varmap
            .data()
            .lock()
            .expect("var map lock is never poisoned")
            .clone();
        let (sparse_vars, shared_vars): (Vec<_>, Vec<_>) =
            vars.into_iter().partition(|(name, _)| *name == sparse_name);
        let adamw = |vars: Vec<(String, candle_core::Var)>, lr: f64, weight_decay: f64| {
            AdamW::new(
                vars.into_iter().map(|(_, v)| v).collect(),
                ParamsAdamW {
                    lr,
                    weight_decay,
                    ..Default::default()
                },
            )
        };
        let mut optimizer =
            adamw(shared_vars, opts.learning_rate, opts.weight_decay).map_err(model_err)?;
        let mut sparse_optimizer = (!sparse_vars.is_empty())
            .then(|| {
                adamw(
                    sparse_vars,
                    opts.sparse_lr.unwrap_or(opts.learning_rate),
                    opts.sparse_decay,
                )
            })
            .transpose()
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
                    // A row with a reason learns it; one with a grade alone learns the grade.
                    (
                        out.grade,
                        rows.iter()
                            .map(|r| r.grade.filter(|_| r.reason.is_none()))
                            .collect(),
                        opts.grade_loss_weight,
                        self.grade_weights.as_deref(),
                    ),
                    (
                        out.reasons,
                        rows.iter().map(|r| r.reason).collect(),
                        opts.grade_loss_weight,
                        self.reason_weights.as_deref(),
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
                    let grads = loss.backward().map_err(model_err)?;
                    optimizer.step(&grads).map_err(model_err)?;
                    if let Some(sparse) = &mut sparse_optimizer {
                        sparse.step(&grads).map_err(model_err)?;
                    }
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
pub(super) fn merge_members(
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
    let mean = |name: &str| Tensor::stack(&gather(name)?, 0)?.sum(0)? / k;
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
        out.insert(bias.clone(), mean(&bias)?);
    }
    // The members' sparse heads, averaged: the mean of their logits, as above.
    let sparse = format!("{SPARSE_HEAD}.weight");
    if members[0].tensors.contains_key(&sparse) {
        out.insert(sparse.clone(), mean(&sparse)?);
    }
    out.insert(IDF.to_string(), Tensor::new(idf, device)?);
    Ok(out)
}

/// A copy of the current weights plus the IDF table: what `model.safetensors` holds.
pub(super) fn snapshot(
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
pub(super) fn dev_metrics(
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
    let (cat, grade) = scorer.logits(bags);
    let score = |logits: Option<Vec<Vec<f32>>>,
                 names: &[String],
                 t: f32,
                 pick: fn(&Item) -> Option<u32>| {
        let logits = logits?;
        let (mut truth, mut pred, mut conf) = (Vec::new(), Vec::new(), Vec::new());
        for (l, it) in logits.iter().zip(dev) {
            if let Some(y) = pick(it) {
                let p = crate::classify::prediction::head_prediction(l, names, t);
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
