//! Is a count a burst? A one-sided Poisson test of the count in a window against the rate of
//! the same series in the baseline before it, behind a minimum-volume gate.
//!
//! Why Poisson: complaints arrive as independent events, so a steady topic's count in a window
//! is close to Poisson around its baseline rate; the upper tail `P(X ≥ k | λ)` is then exactly
//! "how surprising is this many", and needs no fitted parameters (Kleinberg's burst automaton
//! needs a state cost and rate ratios to tune, and says less to a manager than a p-value and
//! a growth factor). Complaint volume has a weekly cycle, so windows are whole days and the
//! baseline spans whole weeks: the cycle cancels out. A new topic has no baseline: its rate
//! is floored (`min_rate`) so that one or two new cases are never a burst, while a dozen
//! letters about one compound in a week is.

use serde::Serialize;

/// The verdict on one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Burst {
    /// Cases in the window.
    pub count: u32,
    /// Cases the baseline rate predicts for the window (after the floor).
    pub expected: f64,
    /// `count / expected`.
    pub growth: f64,
    /// `P(X ≥ count)` for `X ~ Poisson(expected)`.
    pub p_value: f64,
    /// `-log10(p_value)`, capped at 300: larger is more surprising; ranks bursts.
    pub score: f64,
}

/// How a burst is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstTest {
    /// The window's length, in any unit.
    pub window: f64,
    /// The baseline's length, in the same unit.
    pub baseline: f64,
    /// The least rate (cases per unit) assumed for a series, so that a new series with a
    /// case or two is not a burst.
    pub min_rate: f64,
}

impl BurstTest {
    /// The verdict for `count` cases in the window after `baseline_count` in the baseline.
    pub fn judge(&self, count: u32, baseline_count: u32) -> Burst {
        let rate =
            (f64::from(baseline_count) / self.baseline.max(f64::MIN_POSITIVE)).max(self.min_rate);
        let expected = rate * self.window;
        let p_value = poisson_upper_tail(count, expected);
        Burst {
            count,
            expected,
            growth: f64::from(count) / expected.max(f64::MIN_POSITIVE),
            p_value,
            score: (-p_value.max(1e-300).log10()).min(300.0),
        }
    }

    /// Whether a verdict passes the gates: at least `min_count` cases, growth of at least
    /// `min_growth` and a p-value at most `max_p`.
    pub fn is_burst(b: &Burst, min_count: u32, min_growth: f64, max_p: f64) -> bool {
        b.count >= min_count && b.growth >= min_growth && b.p_value <= max_p
    }
}

/// `P(X ≥ k)` for `X ~ Poisson(lambda)`: one minus the lower terms, summed in log space for
/// large `lambda`, or the upper terms directly when the lower sum would cancel.
pub fn poisson_upper_tail(k: u32, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    let ln_pmf = |i: u32| -> f64 { f64::from(i) * lambda.ln() - lambda - ln_factorial(i) };
    if f64::from(k) > lambda {
        // Upper terms shrink fast past the mean: sum until they stop mattering.
        let mut sum = 0.0;
        let mut i = k;
        loop {
            let term = ln_pmf(i).exp();
            sum += term;
            // `term == 0.0`: the tail underflowed (p below ~1e-308); more terms add nothing.
            if term == 0.0 || term < sum * 1e-16 || i > k + 10_000 {
                break;
            }
            i += 1;
        }
        sum.min(1.0)
    } else {
        let lower: f64 = (0..k).map(|i| ln_pmf(i).exp()).sum();
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// `ln(n!)`: exact sums for small `n`, Stirling's series above.
fn ln_factorial(n: u32) -> f64 {
    if n < 64 {
        return (2..=n).map(|i| f64::from(i).ln()).sum();
    }
    let n = f64::from(n);
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
        - 1.0 / (360.0 * n.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisson_tail_matches_known_values() {
        // P(X ≥ 1 | 1) = 1 - e^-1; P(X ≥ 5 | 1) = 0.0036599 (tables).
        assert!((poisson_upper_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!((poisson_upper_tail(5, 1.0) - 0.003_659_846_827).abs() < 1e-9);
        // Past the smallest double it is 0.
        assert_eq!(poisson_upper_tail(6000, 0.25), 0.0);
        // Far in the tail it stays positive and tiny, not 0 from cancellation.
        let p = poisson_upper_tail(60, 2.0);
        assert!(p > 0.0 && p < 1e-40, "{p}");
        assert_eq!(poisson_upper_tail(0, 3.0), 1.0);
        // Large means: P(X ≥ mean) is about a half.
        let p = poisson_upper_tail(1000, 1000.0);
        assert!((p - 0.5).abs() < 0.02, "{p}");
    }

    #[test]
    fn ln_factorial_is_continuous_where_stirling_takes_over() {
        let exact: f64 = (2..=64).map(|i| f64::from(i).ln()).sum();
        assert!((ln_factorial(64) - exact).abs() < 1e-9);
    }

    /// A synthetic daily series: flat at 3 a day for four weeks, then one day of 25.
    #[test]
    fn a_known_burst_is_found_and_a_flat_series_is_not() {
        let test = BurstTest {
            window: 1.0,
            baseline: 28.0,
            min_rate: 0.5,
        };
        let flat: Vec<u32> = (0..35).map(|d| 3 + (d % 3 == 0) as u32).collect();
        let mut series = flat.clone();
        series[30] = 25;
        let judge = |s: &[u32], day: usize| {
            let baseline: u32 = s[day - 28..day].iter().sum();
            test.judge(s[day], baseline)
        };
        let alerts = |s: &[u32]| -> Vec<usize> {
            (28..s.len())
                .filter(|&d| BurstTest::is_burst(&judge(s, d), 5, 2.0, 1e-3))
                .collect()
        };
        assert_eq!(alerts(&series), vec![30]);
        assert!(alerts(&flat).is_empty());
        let b = judge(&series, 30);
        assert!(b.growth > 6.0 && b.score > 10.0, "{b:?}");
    }

    #[test]
    fn a_new_series_needs_volume_to_be_a_burst() {
        let test = BurstTest {
            window: 7.0,
            baseline: 28.0,
            min_rate: 0.1,
        };
        // Two cases of a topic never seen: expected 0.7, growth ~2.9, but p ≈ 0.16.
        let b = test.judge(2, 0);
        assert!(!BurstTest::is_burst(&b, 3, 2.0, 1e-3), "{b:?}");
        // Fifteen in a week: a burst.
        let b = test.judge(15, 0);
        assert!(BurstTest::is_burst(&b, 3, 2.0, 1e-3), "{b:?}");
    }
}
