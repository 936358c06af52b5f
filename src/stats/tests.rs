//! Hypothesis tests on two groups: two-proportion z, Fisher's exact test, Welch's t, and a
//! heterogeneity (interaction) test across subgroup estimates.

use serde::Serialize;
use statrs::function::factorial::ln_binomial;

use super::Sides;
use super::dist::{chi2_sf, p_from_t, p_from_z};

/// A test statistic and its p-value in the requested direction.
///
/// A NaN p-value means the test is undefined on these data (e.g. an empty group); it must be
/// read as "not rejected".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestOutcome {
    /// The statistic (z, t, chi-square, or the sample odds ratio for Fisher's test).
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
}

impl TestOutcome {
    pub(crate) const UNDEFINED: Self = Self {
        statistic: f64::NAN,
        p_value: f64::NAN,
    };

    /// Whether H0 is rejected at level `alpha` (`p ≤ alpha`; a NaN p-value never rejects).
    pub fn rejects(&self, alpha: f64) -> bool {
        self.p_value <= alpha
    }
}

/// The chi-square test of two proportions with Yates' continuity correction, as R's
/// `prop.test(correct = TRUE)`: the correction is `min(0.5, |p_t − p_c| / (1/n_t + 1/n_c))`
/// (never past a zero difference), the statistic `Σ (|O − E| − correction)² / E` over the four
/// cells; one-sided p-values from `sign(p_t − p_c) √χ²` on the normal. NaN for an empty group or
/// a table whose margins leave an expected count of zero.
pub fn yates_chi_square(x_t: u64, n_t: u64, x_c: u64, n_c: u64, sides: Sides) -> TestOutcome {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return TestOutcome::UNDEFINED;
    }
    let (nt, nc) = (n_t as f64, n_c as f64);
    let (xt, xc) = (x_t as f64, x_c as f64);
    let n = nt + nc;
    let events = xt + xc;
    if events == 0.0 || events == n {
        return TestOutcome::UNDEFINED;
    }
    let delta = xt / nt - xc / nc;
    let correction = 0.5f64.min(delta.abs() / (1.0 / nt + 1.0 / nc));
    let mut statistic = 0.0;
    let expected = [
        nt * events / n,
        nt * (n - events) / n,
        nc * events / n,
        nc * (n - events) / n,
    ];
    let observed = [xt, nt - xt, xc, nc - xc];
    for (o, e) in observed.iter().zip(expected) {
        statistic += ((o - e).abs() - correction).powi(2) / e;
    }
    let p_value = match sides {
        Sides::TwoSided => chi2_sf(statistic, 1.0),
        _ => p_from_z(delta.signum() * statistic.sqrt(), sides),
    };
    TestOutcome { statistic, p_value }
}

/// Two-proportion z test of `x_t / n_t` against `x_c / n_c`.
///
/// `pooled`: the variance under H0 from the pooled proportion (the classical test, as
/// `statsmodels.stats.proportion.proportions_ztest`); otherwise the unpooled (Wald) variance.
///
/// Edge cases: an empty group gives NaN (undefined). When the estimated variance is zero
/// (both groups all-0 or all-1, or, unpooled, each group all-0 or all-1) the statistic is the
/// limit: 0 with p = 1 when the proportions are equal (no evidence of any difference), ±∞ with
/// p = 0 or 1 when they differ.
pub fn two_proportion_z(
    x_t: u64,
    n_t: u64,
    x_c: u64,
    n_c: u64,
    pooled: bool,
    sides: Sides,
) -> TestOutcome {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return TestOutcome::UNDEFINED;
    }
    let (nt, nc) = (n_t as f64, n_c as f64);
    let (pt, pc) = (x_t as f64 / nt, x_c as f64 / nc);
    let variance = if pooled {
        let p = (x_t + x_c) as f64 / (nt + nc);
        p * (1.0 - p) * (1.0 / nt + 1.0 / nc)
    } else {
        pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc
    };
    z_outcome(pt - pc, variance, sides)
}

/// The z statistic `difference / sqrt(variance)` with the zero-variance limits described at
/// [`two_proportion_z`].
pub(crate) fn z_outcome(difference: f64, variance: f64, sides: Sides) -> TestOutcome {
    if !difference.is_finite() || variance.is_nan() || variance < 0.0 {
        return TestOutcome::UNDEFINED;
    }
    if variance == 0.0 || difference == 0.0 {
        if difference == 0.0 {
            return TestOutcome {
                statistic: 0.0,
                p_value: if variance == 0.0 {
                    1.0
                } else {
                    p_from_z(0.0, sides)
                },
            };
        }
        let statistic = difference.signum() * f64::INFINITY;
        return TestOutcome {
            statistic,
            p_value: p_from_z(statistic, sides),
        };
    }
    let statistic = difference / variance.sqrt();
    TestOutcome {
        statistic,
        p_value: p_from_z(statistic, sides),
    }
}

/// Fisher's exact test on the 2×2 table (`x_t`, `n_t − x_t` / `x_c`, `n_c − x_c`), conditional on
/// both margins: the number of successes in the treatment group is hypergeometric under H0.
///
/// One-sided ([`Sides::Greater`]): P(X ≥ x_t); [`Sides::Less`]: P(X ≤ x_t). Two-sided: the sum
/// of the probabilities of all tables no more likely than the observed one, with the relative
/// tolerance 1 + 10⁻⁷ that R's `fisher.test` uses against rounding. The statistic is the sample
/// odds ratio (∞ or NaN with zero cells, as in `scipy.stats.fisher_exact`). An empty group gives
/// p = 1 (the conditional distribution has a single table).
pub fn fisher_exact(x_t: u64, n_t: u64, x_c: u64, n_c: u64, sides: Sides) -> TestOutcome {
    if x_t > n_t || x_c > n_c {
        return TestOutcome::UNDEFINED;
    }
    let (a, b, c, d) = (
        x_t as f64,
        (n_t - x_t) as f64,
        x_c as f64,
        (n_c - x_c) as f64,
    );
    let statistic = if b * c == 0.0 {
        if a * d == 0.0 {
            f64::NAN
        } else {
            f64::INFINITY
        }
    } else {
        (a * d) / (b * c)
    };
    let n = n_t + n_c;
    let m = x_t + x_c; // successes in total
    let lo = m.saturating_sub(n_c); // smallest possible x_t
    let hi = m.min(n_t);
    let ln_total = ln_binomial(n, n_t);
    let pmf = |k: u64| (ln_binomial(m, k) + ln_binomial(n - m, n_t - k) - ln_total).exp();
    let p_value = match sides {
        Sides::Greater => (x_t..=hi).map(pmf).sum::<f64>(),
        Sides::Less => (lo..=x_t).map(pmf).sum::<f64>(),
        Sides::TwoSided => {
            let bound = pmf(x_t) * (1.0 + 1e-7);
            (lo..=hi).map(pmf).filter(|&p| p <= bound).sum::<f64>()
        }
    };
    TestOutcome {
        statistic,
        p_value: p_value.min(1.0),
    }
}

/// Welch's unequal-variance t test from group summaries (sample standard deviations).
///
/// Needs at least two observations per group (NaN otherwise). With both standard deviations
/// zero the statistic is the limit described at [`two_proportion_z`] (0 with p = 1, or ±∞).
/// The degrees of freedom are [`welch_df`].
pub fn welch_t(
    mean_t: f64,
    sd_t: f64,
    n_t: u64,
    mean_c: f64,
    sd_c: f64,
    n_c: u64,
    sides: Sides,
) -> TestOutcome {
    if n_t < 2 || n_c < 2 || sd_t.is_nan() || sd_t < 0.0 || sd_c.is_nan() || sd_c < 0.0 {
        return TestOutcome::UNDEFINED;
    }
    let difference = mean_t - mean_c;
    let variance = sd_t * sd_t / n_t as f64 + sd_c * sd_c / n_c as f64;
    if !difference.is_finite() || !variance.is_finite() {
        return TestOutcome::UNDEFINED;
    }
    if variance == 0.0 {
        return z_outcome(difference, 0.0, sides);
    }
    let statistic = difference / variance.sqrt();
    let df = welch_df(sd_t, n_t, sd_c, n_c);
    TestOutcome {
        statistic,
        p_value: p_from_t(statistic, df, sides),
    }
}

/// Welch–Satterthwaite degrees of freedom; NaN with fewer than two observations in a group or
/// with both standard deviations zero.
pub fn welch_df(sd_t: f64, n_t: u64, sd_c: f64, n_c: u64) -> f64 {
    if n_t < 2 || n_c < 2 {
        return f64::NAN;
    }
    let vt = sd_t * sd_t / n_t as f64;
    let vc = sd_c * sd_c / n_c as f64;
    let denominator = vt * vt / (n_t - 1) as f64 + vc * vc / (n_c - 1) as f64;
    if denominator > 0.0 {
        (vt + vc) * (vt + vc) / denominator
    } else {
        f64::NAN
    }
}

/// Heterogeneity of independent estimates `estimates[i]` with variances `variances[i]`
/// (Cochran's Q): `Q = Σ wᵢ (dᵢ − d̄)²` with `wᵢ = 1 / varianceᵢ` and the weighted mean `d̄`,
/// referred to chi-square with (k − 1) degrees of freedom, where k counts the estimates with a
/// finite estimate and a finite positive variance (the others cannot be weighted and are left
/// out). Used as the interaction test of a subgroup analysis. Returns the outcome and the
/// degrees of freedom; with fewer than two usable estimates the test is undefined (NaN, df 0).
pub fn heterogeneity(estimates: &[f64], variances: &[f64]) -> (TestOutcome, usize) {
    let usable = || {
        estimates
            .iter()
            .zip(variances)
            .filter(|&(d, v)| d.is_finite() && v.is_finite() && *v > 0.0)
    };
    let k = usable().count();
    if k < 2 {
        return (TestOutcome::UNDEFINED, 0);
    }
    let (sw, swd) = usable().fold((0.0, 0.0), |(sw, swd), (d, v)| (sw + 1.0 / v, swd + d / v));
    let mean = swd / sw;
    let q: f64 = usable().map(|(d, v)| (d - mean) * (d - mean) / v).sum();
    let df = k - 1;
    (
        TestOutcome {
            statistic: q,
            p_value: chi2_sf(q, df as f64),
        },
        df,
    )
}

/// Student's two-sample t test with pooled variance from group summaries (sample standard
/// deviations), `n_t + n_c − 2` degrees of freedom: the test of cluster-level summaries, where
/// each observation is one cluster's mean.
///
/// Needs at least two observations per group (NaN otherwise). With a pooled standard deviation
/// of zero the statistic is the limit (0 with p = 1 when the means agree, ±∞ otherwise).
pub fn student_t(
    mean_t: f64,
    sd_t: f64,
    n_t: u64,
    mean_c: f64,
    sd_c: f64,
    n_c: u64,
    sides: Sides,
) -> TestOutcome {
    if n_t < 2 || n_c < 2 || sd_t.is_nan() || sd_t < 0.0 || sd_c.is_nan() || sd_c < 0.0 {
        return TestOutcome::UNDEFINED;
    }
    let (nt, nc) = (n_t as f64, n_c as f64);
    let df = nt + nc - 2.0;
    let pooled = ((nt - 1.0) * sd_t * sd_t + (nc - 1.0) * sd_c * sd_c) / df;
    let difference = mean_t - mean_c;
    let variance = pooled * (1.0 / nt + 1.0 / nc);
    if !difference.is_finite() || !variance.is_finite() {
        return TestOutcome::UNDEFINED;
    }
    if variance == 0.0 {
        return z_outcome(difference, 0.0, sides);
    }
    let statistic = difference / variance.sqrt();
    TestOutcome {
        statistic,
        p_value: p_from_t(statistic, df, sides),
    }
}
