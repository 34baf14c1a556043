//! Shipping weights in half precision. A profile has 20 MB for all its weights; stored as f16
//! its models take half of what training wrote, and the loader widens them back to f32, so
//! arithmetic is unchanged. A bag-of-embeddings model loses nothing that matters: rounding
//! each weight to 11 significant bits moves a logit by about 1e-3 (checked by `tousu eval`
//! giving the model card's figures after the conversion).

use std::path::Path;

use candle_core::DType;

use super::classifier::WEIGHTS_FILE;
use crate::error::{Error, Result};

/// Rewrites `dir/model.safetensors` with f16 weights; returns its size before and after.
/// Converting a file already in f16 changes nothing.
pub fn halve_weights(dir: &Path) -> Result<(u64, u64)> {
    let path = dir.join(WEIGHTS_FILE);
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| Error::io(p, e))
    };
    let before = size(&path)?;
    let bad = |e: candle_core::Error| Error::bad_file(&path, e.to_string());
    let tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).map_err(bad)?;
    let halved = tensors
        .into_iter()
        .map(|(name, t)| Ok((name, t.to_dtype(DType::F16)?)))
        .collect::<candle_core::Result<std::collections::HashMap<_, _>>>()
        .map_err(bad)?;
    // Written beside and renamed, so an interrupted run leaves the old file whole.
    let tmp = dir.join(format!("{WEIGHTS_FILE}.tmp"));
    candle_core::safetensors::save(&halved, &tmp).map_err(bad)?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok((before, size(&path)?))
}
