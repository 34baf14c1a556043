//! Temperature scaling (Guo et al., 2017): one scalar per head, fitted on dev logits, so that
//! a reported confidence of 0.8 is right about 80 % of the time.

/// Temperatures tried, log-spaced: wide enough for over- and under-confident heads.
const T_MIN: f32 = 0.05;
const T_MAX: f32 = 20.0;
const T_STEPS: usize = 200;

/// Softmax of `logits / t`, numerically stable.
pub fn softmax(logits: &[f32], t: f32) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| ((l - max) / t).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The temperature minimising the negative log-likelihood of `truth` under `softmax(logits /
/// t)`, by a log-spaced grid search (the objective is one-dimensional and smooth). Returns 1
/// when there is nothing to fit on.
pub fn fit_temperature(logits: &[Vec<f32>], truth: &[usize]) -> f32 {
    if logits.is_empty() {
        return 1.0;
    }
    let nll = |t: f32| -> f64 {
        logits
            .iter()
            .zip(truth)
            .map(|(l, &y)| -f64::from(softmax(l, t)[y].max(1e-12)).ln())
            .sum()
    };
    let (ln_min, ln_max) = (T_MIN.ln(), T_MAX.ln());
    (0..T_STEPS)
        .map(|i| (ln_min + (ln_max - ln_min) * i as f32 / (T_STEPS - 1) as f32).exp())
        .map(|t| (t, nll(t)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(1.0, |(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overconfident_logits_get_a_temperature_above_one() {
        // Always very sure, right only 3 times in 4.
        let logits = vec![vec![10.0, 0.0]; 4];
        let t = fit_temperature(&logits, &[0, 0, 0, 1]);
        assert!(t > 2.0, "{t}");
        let p = softmax(&logits[0], t)[0];
        assert!((p - 0.75).abs() < 0.05, "{p}");
    }

    #[test]
    fn softmax_sums_to_one() {
        let p = softmax(&[1.0, 2.0, 3.0], 1.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
