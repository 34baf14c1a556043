//! The arithmetic of a training step: initial weights, unit dropout, the loss over the rows
//! that have a label, class weights.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::Rng;
use rand::rngs::StdRng;

use crate::classify::model::{CATEGORY_HEAD, EMBEDDING, GRADE_HEAD, ModelConfig, SPARSE_HEAD};
use crate::classify::tokenizer::UnitBag;

/// Seeded initialisation (candle's own initialisers draw from an unseeded generator):
/// embeddings U(−0.1, 0.1), heads U(−1/√dim, 1/√dim), biases and the sparse head 0.
pub(super) fn init_weights(
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
        (GRADE_HEAD, cfg.grade_width()),
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
    if cfg.sparse_head {
        vars.push((
            format!("{SPARSE_HEAD}.weight"),
            Var::zeros((cfg.vocab_size, cfg.sparse_width()), DType::F32, device)?,
        ));
    }
    let mut data = varmap
        .data()
        .lock()
        .expect("var map lock is never poisoned");
    data.extend(vars);
    Ok(())
}

/// Drops each unit with probability `p`, keeping at least one.
pub(super) fn drop_units(bag: &UnitBag, p: f32, rng: &mut StdRng) -> (Vec<u32>, Vec<f32>) {
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
pub(super) fn masked_loss(
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
pub(super) fn balanced_weights(labels: impl Iterator<Item = u32>, classes: usize) -> Vec<f32> {
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
