//! Confidence intervals for one proportion, for the difference of two proportions or means, and
//! for the risk ratio. `level` is the confidence level (0.95 for a 95 % interval); a level
//! outside `(0, 1)` gives NaN bounds.

use serde::Serialize;

use super::dist::{norm_quantile, t_quantile};
use super::tests::welch_df;

/// A confidence interval `(lower, upper)`.
pub type Interval = (f64, f64);

const UNDEFINED: Interval = (f64::NAN, f64::NAN);

/// Φ⁻¹(0.975), computed once: every interval of a Monte Carlo replicate asks for it.
static Z_95: std::sync::LazyLock<f64> = std::sync::LazyLock::new(|| norm_quantile(0.975));

fn z_of(level: f64) -> f64 {
    if level == 0.95 {
        *Z_95
    } else if level > 0.0 && level < 1.0 {
        norm_quantile(0.5 + level / 2.0)
    } else {
        f64::NAN
    }
}

/// Wilson score interval for the proportion `x / n` (no continuity correction, as
/// `statsmodels.stats.proportion.proportion_confint(method="wilson")`). `n = 0` gives `(0, 1)`,
/// the whole range, which is what the formula tends to; `x > n` gives NaN.
pub fn wilson(x: u64, n: u64, level: f64) -> Interval {
    let z = z_of(level);
    if x > n || z.is_nan() {
        return UNDEFINED;
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let (xf, nf) = (x as f64, n as f64);
    let z2 = z * z;
    let centre = (xf + z2 / 2.0) / (nf + z2);
    let half = z * (xf * (nf - xf) / nf + z2 / 4.0).sqrt() / (nf + z2);
    // Clamp away rounding at the ends: the interval always contains 0 when x = 0, 1 when x = n.
    let lower = if x == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let upper = if x == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lower, upper)
}

/// Newcombe's hybrid score interval (his method 10) for `x_t / n_t − x_c / n_c`, built from the
/// two Wilson intervals; as `statsmodels` `confint_proportions_2indep(method="newcomb")`.
/// Defined for every table with both groups non-empty (NaN otherwise); never leaves `[−1, 1]`.
pub fn newcombe_difference(x_t: u64, n_t: u64, x_c: u64, n_c: u64, level: f64) -> Interval {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return UNDEFINED;
    }
    let (pt, pc) = (x_t as f64 / n_t as f64, x_c as f64 / n_c as f64);
    let (lt, ut) = wilson(x_t, n_t, level);
    let (lc, uc) = wilson(x_c, n_c, level);
    let d = pt - pc;
    let lower = d - ((pt - lt).powi(2) + (uc - pc).powi(2)).sqrt();
    let upper = d + ((ut - pt).powi(2) + (pc - lc).powi(2)).sqrt();
    (lower, upper)
}

/// Wald interval for `x_t / n_t − x_c / n_c` with the unpooled standard error. With 0 % or
/// 100 % in both groups the standard error is 0 and the interval is the single point (a known
/// weakness of Wald, which is why [`newcombe_difference`] is the primary interval).
pub fn wald_difference_proportions(x_t: u64, n_t: u64, x_c: u64, n_c: u64, level: f64) -> Interval {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return UNDEFINED;
    }
    let (nt, nc) = (n_t as f64, n_c as f64);
    let (pt, pc) = (x_t as f64 / nt, x_c as f64 / nc);
    let se = (pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc).sqrt();
    let half = z_of(level) * se;
    (pt - pc - half, pt - pc + half)
}

/// Wald interval for `mean_t − mean_c` with the unequal-variance standard error and the t
/// quantile at the Welch–Satterthwaite degrees of freedom (as the interval that goes with
/// `scipy.stats.ttest_ind(equal_var=False)`). Needs two observations per group (NaN otherwise);
/// with both standard deviations zero the interval is the single point.
pub fn welch_difference_means(
    mean_t: f64,
    sd_t: f64,
    n_t: u64,
    mean_c: f64,
    sd_c: f64,
    n_c: u64,
    level: f64,
) -> Interval {
    if n_t < 2
        || n_c < 2
        || sd_t.is_nan()
        || sd_t < 0.0
        || sd_c.is_nan()
        || sd_c < 0.0
        || !(level > 0.0 && level < 1.0)
    {
        return UNDEFINED;
    }
    let d = mean_t - mean_c;
    let se = (sd_t * sd_t / n_t as f64 + sd_c * sd_c / n_c as f64).sqrt();
    if se == 0.0 {
        return (d, d);
    }
    let q = t_quantile(0.5 + level / 2.0, welch_df(sd_t, n_t, sd_c, n_c));
    (d - q * se, d + q * se)
}

/// Interval for `mean_t − mean_c` with the pooled standard deviation and the t quantile at
/// `n_t + n_c − 2` degrees of freedom (the interval of Student's t test, R `t.test(var.equal =
/// TRUE)`). Needs two observations per group (NaN otherwise).
pub fn student_difference_means(
    mean_t: f64,
    sd_t: f64,
    n_t: u64,
    mean_c: f64,
    sd_c: f64,
    n_c: u64,
    level: f64,
) -> Interval {
    if n_t < 2
        || n_c < 2
        || sd_t.is_nan()
        || sd_t < 0.0
        || sd_c.is_nan()
        || sd_c < 0.0
        || !(level > 0.0 && level < 1.0)
    {
        return UNDEFINED;
    }
    let (nt, nc) = (n_t as f64, n_c as f64);
    let df = nt + nc - 2.0;
    let pooled = ((nt - 1.0) * sd_t * sd_t + (nc - 1.0) * sd_c * sd_c) / df;
    let d = mean_t - mean_c;
    let se = (pooled * (1.0 / nt + 1.0 / nc)).sqrt();
    if se == 0.0 {
        return (d, d);
    }
    let q = t_quantile(0.5 + level / 2.0, df);
    (d - q * se, d + q * se)
}

/// t interval for one mean (`mean ± t(n−1) · sd / √n`); NaN with fewer than two observations.
pub fn t_mean(mean: f64, sd: f64, n: u64, level: f64) -> Interval {
    if n < 2 || sd.is_nan() || sd < 0.0 || !(level > 0.0 && level < 1.0) {
        return UNDEFINED;
    }
    let half = t_quantile(0.5 + level / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
    (mean - half, mean + half)
}

/// A risk ratio with its log-scale (Katz) interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskRatio {
    /// `(x_t / n_t) / (x_c / n_c)`, from the corrected cells when `zero_cell_corrected`.
    pub estimate: f64,
    /// `exp(log RR ± z · se)`, `se² = 1/a − 1/(a+b) + 1/c − 1/(c+d)`.
    pub ci: Interval,
    /// Whether 0.5 was added to every cell because an arm had no events.
    pub zero_cell_corrected: bool,
}

/// An odds ratio with its Woolf (log) interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OddsRatio {
    /// `ad / bc`, from the corrected cells when `zero_cell_corrected`.
    pub estimate: f64,
    /// `exp(log OR ± z · se)`, `se² = 1/a + 1/b + 1/c + 1/d` (Woolf 1955).
    pub ci: Interval,
    /// Whether 0.5 was added to every cell because one was zero (the odds ratio or its
    /// standard error is otherwise undefined).
    pub zero_cell_corrected: bool,
}

/// Odds ratio of treatment to control (`a` events and `b` non-events in treatment, `c` and `d`
/// in control) with Woolf's interval; 0.5 is added to all four cells only when one is zero.
/// An empty group gives NaN.
pub fn odds_ratio(x_t: u64, n_t: u64, x_c: u64, n_c: u64, level: f64) -> OddsRatio {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return OddsRatio {
            estimate: f64::NAN,
            ci: UNDEFINED,
            zero_cell_corrected: false,
        };
    }
    let cells = [x_t, n_t - x_t, x_c, n_c - x_c];
    let corrected = cells.contains(&0);
    let shift = if corrected { 0.5 } else { 0.0 };
    let [a, b, c, d] = cells.map(|v| v as f64 + shift);
    let estimate = a * d / (b * c);
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    let half = z_of(level) * se;
    let log = estimate.ln();
    OddsRatio {
        estimate,
        ci: ((log - half).exp(), (log + half).exp()),
        zero_cell_corrected: corrected,
    }
}

/// Risk ratio of treatment to control with the log (Katz) interval. Only when an arm has no
/// events (`a = 0` or `c = 0`: the log ratio or its standard error is undefined) is 0.5 added to
/// all four cells first (the Haldane–Anscombe correction), so that the estimate and the interval
/// are finite; the flag says so. An arm in which everyone has the event leaves both defined and
/// is not corrected. An empty group gives NaN.
pub fn risk_ratio(x_t: u64, n_t: u64, x_c: u64, n_c: u64, level: f64) -> RiskRatio {
    if n_t == 0 || n_c == 0 || x_t > n_t || x_c > n_c {
        return RiskRatio {
            estimate: f64::NAN,
            ci: UNDEFINED,
            zero_cell_corrected: false,
        };
    }
    let cells = [x_t, n_t - x_t, x_c, n_c - x_c];
    let corrected = x_t == 0 || x_c == 0;
    let shift = if corrected { 0.5 } else { 0.0 };
    let [a, b, c, d] = cells.map(|v| v as f64 + shift);
    let estimate = (a / (a + b)) / (c / (c + d));
    let se = (1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + d)).sqrt();
    let half = z_of(level) * se;
    let log = estimate.ln();
    RiskRatio {
        estimate,
        ci: ((log - half).exp(), (log + half).exp()),
        zero_cell_corrected: corrected,
    }
}
