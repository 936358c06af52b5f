//! Statistical validation of the whole pipeline (spec → checker → engine → analysis plan →
//! aggregation) against figures computed independently of the simulation:
//!
//! - **Power and size.** For every design of [`designs`] the simulated rejection rate is compared
//!   with the *exact* rejection probability of the same test: full enumeration over both arms'
//!   binomial outcomes for the z tests and Fisher's test, numerical integration over the two
//!   sample variances for Welch's t on normal data. Under the null this is the exact size, which
//!   for the pooled z test at finite n is not exactly α (and for Fisher's test is below α); the
//!   nominal α and the normal closed form are shown beside it.
//! - **Coverage** of the 95 % interval of the difference against its exact coverage (Newcombe's
//!   interval by enumeration; Welch's interval by integration).
//! - **Unbiasedness** of the difference of proportions or means (exactly unbiased at fixed arm
//!   sizes), with the estimator's known standard deviation.
//! - **Reference p-values** of the z, Fisher and Welch tests, and the exact figures used above,
//!   against scipy/statsmodels ([`reference`]).
//!
//! Tolerances are Monte Carlo standard errors computed from the exact value. With m Monte Carlo
//! checks at ±z standard errors, the chance of at least one false alarm is at most
//! m · 2(1 − Φ(z)) (Bonferroni); z is chosen so that this is [`FAMILY_FALSE_ALARM`]
//! (about 3.8 standard errors for 72 checks), not a fixed 3 (which over 72 checks would raise a
//! false alarm in about one run in five).

mod reference;

use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::ln_binomial;

use crate::check::compile;
use crate::model::{Sides, TestKind};
use crate::power::{PowerSettings, run_power};
use crate::source::SourceFile;
use crate::stats::dist::{norm_cdf, norm_quantile, t_quantile};
use crate::stats::intervals::newcombe_difference;
use crate::stats::power::{
    two_mean_normal_power, two_proportion_exact_power, two_proportion_normal_power,
};
use crate::stats::tests::{fisher_exact, two_proportion_z, welch_t};

/// Chance, over the whole run, of at least one Monte Carlo check failing when everything is
/// right (Bonferroni bound): the z multiplier follows from it and the number of checks.
pub const FAMILY_FALSE_ALARM: f64 = 0.01;
/// Relative tolerance for p-values against the reference implementation.
pub const P_VALUE_TOLERANCE: f64 = 1e-6;

/// How much to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Replicates per design.
    pub replicates: u64,
    /// Master seed.
    pub seed: u64,
}

impl Settings {
    /// A run of seconds (2,000 replicates per design: MC SE ≤ 0.011).
    pub const QUICK: Self = Self {
        replicates: 2_000,
        seed: 2017,
    };
    /// The full run (20,000 replicates per design: MC SE ≤ 0.0035).
    pub const FULL: Self = Self {
        replicates: 20_000,
        seed: 2017,
    };
}

/// What the outcome is in truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Truth {
    /// Binary outcome with these probabilities (treatment, control).
    Proportions {
        /// Treatment probability.
        p_t: f64,
        /// Control probability.
        p_c: f64,
    },
    /// Normal outcome.
    Means {
        /// Treatment mean.
        mean_t: f64,
        /// Treatment standard deviation.
        sd_t: f64,
        /// Control mean.
        mean_c: f64,
        /// Control standard deviation.
        sd_c: f64,
    },
}

/// One design of the validation suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Short label.
    pub name: &'static str,
    /// The spec; its analysis 0 is the one validated, with arms `treatment` and `control` of
    /// sizes `n_t` and `n_c`.
    pub spec: String,
    /// The truth the spec implies.
    pub truth: Truth,
    /// Treatment-arm size.
    pub n_t: u32,
    /// Control-arm size.
    pub n_c: u32,
    /// The test.
    pub test: TestKind,
    /// The alternative.
    pub sides: Sides,
    /// The level.
    pub alpha: f64,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn test_word(test: TestKind) -> &'static str {
    match test {
        TestKind::PooledZ => "pooled_z",
        TestKind::UnpooledZ => "unpooled_z",
        TestKind::FisherExact => "fisher",
        TestKind::WelchT => "welch_t",
        TestKind::ClusterT => "cluster_t",
        TestKind::Randomisation => "randomisation",
        TestKind::RobustT => "robust_t",
        TestKind::Cr2 => "cr2",
        TestKind::StudentT => "student_t",
    }
}

fn sides_words(sides: Sides) -> &'static str {
    match sides {
        Sides::Greater => "one_sided greater",
        Sides::Less => "one_sided less",
        Sides::TwoSided => "two_sided",
    }
}

/// A two-arm spec with directly declared outcomes (`pct` in percent, as written in a spec).
fn direct(
    name: &'static str,
    arms: (&str, &str),
    n: (u32, u32),
    test: TestKind,
    sides: Sides,
    alpha_pct: f64,
    truth: Truth,
) -> Design {
    let (n_t, n_c) = n;
    let g = gcd(n_t, n_c).max(1);
    let kind = if matches!(truth, Truth::Proportions { .. }) {
        "binary"
    } else {
        "continuous"
    };
    let spec = format!(
        "trial \"validation: {name}\" {{\n  assignment {{ randomise {}:{} }}\n  \
         sample treatment {n_t}, control {n_c}\n  arm treatment {{ {} }}\n  arm control {{ {} }}\n  \
         outcome y = {kind}\n  analysis a {{\n    compare y: treatment vs control\n    \
         test {}, {}, alpha {alpha_pct}%\n  }}\n}}\n",
        n_t / g,
        n_c / g,
        arms.0,
        arms.1,
        test_word(test),
        sides_words(sides),
    );
    Design {
        name,
        spec,
        truth,
        n_t,
        n_c,
        test,
        sides,
        alpha: alpha_pct / 100.0,
    }
}

fn binary(
    name: &'static str,
    pct: (f64, f64),
    n: (u32, u32),
    test: TestKind,
    sides: Sides,
    alpha_pct: f64,
) -> Design {
    direct(
        name,
        (&format!("y: {}%", pct.0), &format!("y: {}%", pct.1)),
        n,
        test,
        sides,
        alpha_pct,
        Truth::Proportions {
            p_t: pct.0 / 100.0,
            p_c: pct.1 / 100.0,
        },
    )
}

fn normal(
    name: &'static str,
    t: (f64, f64),
    c: (f64, f64),
    n: (u32, u32),
    sides: Sides,
    alpha_pct: f64,
) -> Design {
    direct(
        name,
        (
            &format!("y ~ normal(mean {}, sd {})", t.0, t.1),
            &format!("y ~ normal(mean {}, sd {})", c.0, c.1),
        ),
        n,
        TestKind::WelchT,
        sides,
        alpha_pct,
        Truth::Means {
            mean_t: t.0,
            sd_t: t.1,
            mean_c: c.0,
            sd_c: c.1,
        },
    )
}

/// A two-arm spec through the employment process: `treatment` and `control` with the given
/// rate statements, `extra` statements in the employment block, and outcome `y` measured as `measure`.
#[allow(clippy::too_many_arguments)]
fn process(
    name: &'static str,
    rates: (&str, &str),
    extra: &str,
    measure: &str,
    p: (f64, f64),
    n: u32,
    sides: Sides,
) -> Design {
    let spec = format!(
        "trial \"validation: {name}\" {{\n  follow_up 18 months\n  \
         assignment {{ randomise 1:1 }}\n  sample {n} per arm\n  \
         employment {{ hours ~ uniform(8 hours, 160 hours) {extra} }}\n  arm treatment {{ {} }}\n  \
         arm control {{ {} }}\n  outcome y = {measure}\n  analysis a {{\n    \
         compare y: treatment vs control\n    test pooled_z, {}, alpha 5%\n  }}\n}}\n",
        rates.0,
        rates.1,
        sides_words(sides)
    );
    Design {
        name,
        spec,
        truth: Truth::Proportions { p_t: p.0, p_c: p.1 },
        n_t: n,
        n_c: n,
        test: TestKind::PooledZ,
        sides,
        alpha: 0.05,
    }
}

/// The designs of the suite: 26 designs varying n (25 to 1,000 per arm), rates (2 % to 75 %),
/// the allocation ratio (1:1, 2:1, 3:2, 1:2, 5:7), sidedness, α (1 %, 5 %, 10 %) and the test,
/// nine of them null designs, three running through the monthly employment process and one the
/// shipped Almere plan.
pub fn designs() -> Vec<Design> {
    use Sides::{Greater, Less, TwoSided};
    use TestKind::{FisherExact, PooledZ, UnpooledZ};
    let almere = Design {
        name: "almere plan 180/180",
        spec: include_str!("../../specs/almere-45plus.trial").to_string(),
        // Control: 11.67 % within 12 months; experiment: 0.25 × 10 % + 0.75 × 25 %.
        truth: Truth::Proportions {
            p_t: 0.2125,
            p_c: 0.1167,
        },
        n_t: 180,
        n_c: 180,
        test: PooledZ,
        sides: Greater,
        alpha: 0.05,
    };
    vec![
        almere,
        process(
            "process null, found within",
            (
                "work within 12 months: 11.67%",
                "work within 12 months: 11.67%",
            ),
            "",
            "worked within 12 months, hours >= 1",
            (0.1167, 0.1167),
            180,
            Greater,
        ),
        process(
            "process, employed at, job loss",
            ("employed at month 12: 30%", "employed at month 12: 20%"),
            "job_loss 5% per month",
            "employed at month 12, hours >= 1",
            (0.30, 0.20),
            250,
            TwoSided,
        ),
        binary(
            "two-arm 300/300",
            (30.0, 20.0),
            (300, 300),
            PooledZ,
            TwoSided,
            5.0,
        ),
        binary(
            "small 60/60",
            (30.0, 15.0),
            (60, 60),
            PooledZ,
            TwoSided,
            5.0,
        ),
        binary("null 60/60", (20.0, 20.0), (60, 60), PooledZ, TwoSided, 5.0),
        binary("null 2:1", (10.0, 10.0), (200, 100), PooledZ, Greater, 5.0),
        binary(
            "2:1 one-sided",
            (20.0, 10.0),
            (200, 100),
            PooledZ,
            Greater,
            5.0,
        ),
        binary("less 150/150", (40.0, 50.0), (150, 150), PooledZ, Less, 5.0),
        binary("null less", (50.0, 50.0), (150, 150), PooledZ, Less, 5.0),
        binary(
            "unpooled 3:2",
            (15.0, 5.0),
            (120, 80),
            UnpooledZ,
            TwoSided,
            5.0,
        ),
        binary(
            "unpooled null 3:2",
            (30.0, 30.0),
            (120, 80),
            UnpooledZ,
            TwoSided,
            5.0,
        ),
        binary(
            "rare null 400/400",
            (2.0, 2.0),
            (400, 400),
            PooledZ,
            TwoSided,
            5.0,
        ),
        binary(
            "high rates 40/40",
            (75.0, 60.0),
            (40, 40),
            PooledZ,
            Greater,
            5.0,
        ),
        binary(
            "fisher null 25/35",
            (25.0, 25.0),
            (25, 35),
            FisherExact,
            TwoSided,
            5.0,
        ),
        binary(
            "fisher 40/40",
            (50.0, 20.0),
            (40, 40),
            FisherExact,
            TwoSided,
            5.0,
        ),
        binary(
            "fisher 1:2",
            (30.0, 10.0),
            (50, 100),
            FisherExact,
            Greater,
            5.0,
        ),
        binary("alpha 1%", (45.0, 30.0), (250, 250), PooledZ, TwoSided, 1.0),
        binary(
            "alpha 10% null",
            (40.0, 40.0),
            (80, 80),
            PooledZ,
            Greater,
            10.0,
        ),
        binary(
            "large 1000/1000",
            (38.0, 35.0),
            (1000, 1000),
            PooledZ,
            TwoSided,
            5.0,
        ),
        binary("5:7 less", (10.0, 22.0), (100, 140), UnpooledZ, Less, 5.0),
        normal(
            "welch null 30/60",
            (0.0, 1.0),
            (0.0, 2.0),
            (30, 60),
            TwoSided,
            5.0,
        ),
        normal(
            "welch 50/50",
            (0.5, 1.0),
            (0.0, 1.0),
            (50, 50),
            TwoSided,
            5.0,
        ),
        normal(
            "welch 1:2 greater",
            (10.0, 6.0),
            (8.0, 3.0),
            (40, 80),
            Greater,
            5.0,
        ),
        normal(
            "welch null small",
            (100.0, 20.0),
            (100.0, 20.0),
            (15, 15),
            Less,
            5.0,
        ),
        normal(
            "welch hours",
            (60.0, 45.0),
            (48.0, 40.0),
            (180, 180),
            Greater,
            5.0,
        ),
    ]
}

// ---- exact figures ----------------------------------------------------------------------------

/// `Binomial(n, p)` probabilities from the first `k` with one at least 10⁻¹⁸ to the last (the
/// rest sum to far less than any tolerance here).
fn binomial_pmf(n: u64, p: f64) -> (u64, Vec<f64>) {
    if p <= 0.0 {
        return (0, vec![1.0]);
    }
    if p >= 1.0 {
        return (n, vec![1.0]);
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let all: Vec<f64> = (0..=n)
        .map(|k| (ln_binomial(n, k) + k as f64 * lp + (n - k) as f64 * lq).exp())
        .collect();
    let first = all.iter().position(|&w| w >= 1e-18).unwrap_or(0);
    let last = all
        .iter()
        .rposition(|&w| w >= 1e-18)
        .unwrap_or(all.len() - 1);
    (first as u64, all[first..=last].to_vec())
}

/// Σ over both arms' binomial outcomes of their probability times `f(x_t, x_c)`.
fn enumerate(p_t: f64, n_t: u64, p_c: f64, n_c: u64, f: impl Fn(u64, u64) -> bool + Sync) -> f64 {
    let (lo_t, wt) = binomial_pmf(n_t, p_t);
    let (lo_c, wc) = binomial_pmf(n_c, p_c);
    // Rows in parallel, summed in order: the same bits for any thread count.
    let rows: Vec<f64> = wt
        .par_iter()
        .enumerate()
        .map(|(i, &w)| {
            let x_t = lo_t + i as u64;
            let row: f64 = wc
                .iter()
                .enumerate()
                .filter(|&(j, _)| f(x_t, lo_c + j as u64))
                .map(|(_, &v)| v)
                .sum();
            w * row
        })
        .collect();
    rows.iter().sum()
}

/// Exact power of Fisher's test.
pub fn fisher_exact_power(p_c: f64, p_t: f64, n_c: u64, n_t: u64, alpha: f64, sides: Sides) -> f64 {
    enumerate(p_t, n_t, p_c, n_c, |x_t, x_c| {
        fisher_exact(x_t, n_t, x_c, n_c, sides).rejects(alpha)
    })
}

/// Exact coverage of the 95 % Newcombe interval of `p_t − p_c`.
pub fn newcombe_exact_coverage(p_c: f64, p_t: f64, n_c: u64, n_t: u64) -> f64 {
    let d = p_t - p_c;
    enumerate(p_t, n_t, p_c, n_c, |x_t, x_c| {
        let (lo, hi) = newcombe_difference(x_t, n_t, x_c, n_c, 0.95);
        lo <= d && d <= hi
    })
}

/// Points per dimension of the quadrature over the two sample variances.
const QUADRATURE: usize = 400;

/// Power of Welch's t test and coverage of its 95 % interval on normal data, by integration
/// over both sample variances: given them, the mean difference is normal and independent, so
/// the rejection (and coverage) probability is a normal probability. Midpoint rule on the
/// quantile scale of each scaled chi-square.
#[allow(clippy::too_many_arguments)]
pub fn welch_exact(
    mean_t: f64,
    sd_t: f64,
    n_t: u64,
    mean_c: f64,
    sd_c: f64,
    n_c: u64,
    alpha: f64,
    sides: Sides,
) -> (f64, f64) {
    let (Ok(chi_t), Ok(chi_c)) = (
        ChiSquared::new((n_t - 1) as f64),
        ChiSquared::new((n_c - 1) as f64),
    ) else {
        return (f64::NAN, f64::NAN);
    };
    let grid = |chi: &ChiSquared, n: u64, sd: f64| -> Vec<f64> {
        (0..QUADRATURE)
            .map(|i| {
                let u = (i as f64 + 0.5) / QUADRATURE as f64;
                sd * sd * chi.inverse_cdf(u) / (n - 1) as f64 / n as f64
            })
            .collect()
    };
    // Variances of the two means as estimated.
    let vt = grid(&chi_t, n_t, sd_t);
    let vc = grid(&chi_c, n_c, sd_c);
    let delta = mean_t - mean_c;
    let sd_d = (sd_t * sd_t / n_t as f64 + sd_c * sd_c / n_c as f64).sqrt();
    let (ft, fc) = ((n_t - 1) as f64, (n_c - 1) as f64);
    let q_power = match sides {
        Sides::TwoSided => 1.0 - alpha / 2.0,
        _ => 1.0 - alpha,
    };
    let rows: Vec<(f64, f64)> = vt
        .par_iter()
        .map(|&a| {
            let mut sums = (0.0, 0.0);
            for &b in &vc {
                let se = (a + b).sqrt();
                let df = (a + b) * (a + b) / (a * a / ft + b * b / fc);
                let c = t_quantile(q_power, df);
                sums.0 += match sides {
                    Sides::Greater => norm_cdf((delta - c * se) / sd_d),
                    Sides::Less => norm_cdf((-delta - c * se) / sd_d),
                    Sides::TwoSided => {
                        norm_cdf((delta - c * se) / sd_d) + norm_cdf((-delta - c * se) / sd_d)
                    }
                };
                let q = t_quantile(0.975, df);
                sums.1 += 2.0 * norm_cdf(q * se / sd_d) - 1.0;
            }
            sums
        })
        .collect();
    // Summed in order: the same bits for any thread count.
    let (power, coverage) = rows.iter().fold((0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1));
    let cells = (QUADRATURE * QUADRATURE) as f64;
    (power / cells, coverage / cells)
}

/// The exact figures of one design, computed without simulation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Exact {
    /// True difference treatment − control.
    pub effect: f64,
    /// Exact rejection probability (the exact size under the null).
    pub power: f64,
    /// Normal closed form.
    pub normal: f64,
    /// Exact coverage of the 95 % interval.
    pub coverage: f64,
    /// Standard deviation of the estimated difference.
    pub estimate_sd: f64,
}

/// Exact figures of a design.
pub fn exact(d: &Design) -> Exact {
    let (n_t, n_c) = (u64::from(d.n_t), u64::from(d.n_c));
    match d.truth {
        Truth::Proportions { p_t, p_c } => {
            let power = match d.test {
                TestKind::PooledZ | TestKind::UnpooledZ => two_proportion_exact_power(
                    p_c,
                    p_t,
                    n_c,
                    n_t,
                    d.alpha,
                    d.sides,
                    d.test == TestKind::PooledZ,
                ),
                TestKind::FisherExact => fisher_exact_power(p_c, p_t, n_c, n_t, d.alpha, d.sides),
                // No binary design of the suite uses these.
                TestKind::WelchT
                | TestKind::ClusterT
                | TestKind::RobustT
                | TestKind::Cr2
                | TestKind::StudentT
                | TestKind::Randomisation => f64::NAN,
            };
            Exact {
                effect: p_t - p_c,
                power,
                normal: two_proportion_normal_power(
                    p_c,
                    p_t,
                    f64::from(d.n_c),
                    f64::from(d.n_t),
                    d.alpha,
                    d.sides,
                ),
                coverage: newcombe_exact_coverage(p_c, p_t, n_c, n_t),
                estimate_sd: (p_t * (1.0 - p_t) / n_t as f64 + p_c * (1.0 - p_c) / n_c as f64)
                    .sqrt(),
            }
        }
        Truth::Means {
            mean_t,
            sd_t,
            mean_c,
            sd_c,
        } => {
            let (power, coverage) =
                welch_exact(mean_t, sd_t, n_t, mean_c, sd_c, n_c, d.alpha, d.sides);
            Exact {
                effect: mean_t - mean_c,
                power,
                normal: two_mean_normal_power(
                    mean_t - mean_c,
                    sd_t,
                    sd_c,
                    f64::from(d.n_c),
                    f64::from(d.n_t),
                    d.alpha,
                    d.sides,
                ),
                coverage,
                estimate_sd: (sd_t * sd_t / n_t as f64 + sd_c * sd_c / n_c as f64).sqrt(),
            }
        }
    }
}

// ---- the run ----------------------------------------------------------------------------------

/// A simulated figure against its exact value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// Simulated.
    pub simulated: f64,
    /// Exact (the target).
    pub exact: f64,
    /// Monte Carlo standard error of the simulated figure, from the exact value.
    pub mc_se: f64,
    /// (simulated − exact) / mc_se.
    pub z: f64,
    /// |z| within the multiplier.
    pub passed: bool,
}

impl Comparison {
    fn new(simulated: f64, exact: f64, mc_se: f64, limit: f64) -> Self {
        // Half a replicate's worth of slack keeps an exact 0 or 1 from failing on rounding.
        let z = (simulated - exact) / mc_se;
        Self {
            simulated,
            exact,
            mc_se,
            z,
            passed: z.is_finite() && z.abs() <= limit,
        }
    }
}

/// One design's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignResult {
    /// Design label.
    pub name: String,
    /// Arm sizes (treatment, control).
    pub n: (u32, u32),
    /// Test.
    pub test: TestKind,
    /// Alternative.
    pub sides: Sides,
    /// Nominal α.
    pub alpha: f64,
    /// Whether this is a null design (the power is the size).
    pub null: bool,
    /// Exact figures.
    pub exact: Exact,
    /// Rejection rate against the exact power (or size).
    pub power: Comparison,
    /// Interval coverage against the exact coverage.
    pub coverage: Comparison,
    /// Mean estimate against the true difference.
    pub bias: Comparison,
}

/// A p-value (or exact figure) against a reference value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceResult {
    /// What is compared.
    pub name: String,
    /// Computed by trialsim.
    pub computed: f64,
    /// The reference value.
    pub reference: f64,
    /// Tolerance (absolute).
    pub tolerance: f64,
    /// Within tolerance.
    pub passed: bool,
}

/// The whole validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Replicates per design.
    pub replicates: u64,
    /// Master seed.
    pub seed: u64,
    /// Monte Carlo checks run (3 per design).
    pub mc_checks: usize,
    /// Bound on the family-wise false-alarm rate.
    pub family_false_alarm: f64,
    /// The z multiplier that gives it.
    pub z_limit: f64,
    /// Per design.
    pub designs: Vec<DesignResult>,
    /// Reference checks.
    pub references: Vec<ReferenceResult>,
    /// Whether every check passed.
    pub passed: bool,
}

/// The z multiplier for `checks` two-sided checks at the family-wise rate
/// [`FAMILY_FALSE_ALARM`].
pub fn z_limit(checks: usize) -> f64 {
    norm_quantile(1.0 - FAMILY_FALSE_ALARM / (2.0 * checks.max(1) as f64))
}

fn reference_checks() -> Vec<ReferenceResult> {
    let mut out = Vec::new();
    let mut push = |name: String, computed: f64, reference: f64, tolerance: f64| {
        out.push(ReferenceResult {
            name,
            computed,
            reference,
            tolerance,
            passed: (computed - reference).abs() <= tolerance,
        });
    };
    for &(xt, nt, xc, nc, sides, pooled, unpooled, fisher) in &reference::TABLES {
        let table = format!("{xt}/{nt} vs {xc}/{nc} {}", sides_words(sides));
        let rel = |p: f64| P_VALUE_TOLERANCE * p.abs();
        push(
            format!("pooled z p, {table}"),
            two_proportion_z(xt, nt, xc, nc, true, sides).p_value,
            pooled,
            rel(pooled),
        );
        push(
            format!("unpooled z p, {table}"),
            two_proportion_z(xt, nt, xc, nc, false, sides).p_value,
            unpooled,
            rel(unpooled),
        );
        push(
            format!("fisher p, {table}"),
            fisher_exact(xt, nt, xc, nc, sides).p_value,
            fisher,
            rel(fisher),
        );
    }
    for &(mt, st, nt, mc, sc, nc, sides, p) in &reference::WELCH {
        push(
            format!(
                "welch p, {mt}±{st} ({nt}) vs {mc}±{sc} ({nc}) {}",
                sides_words(sides)
            ),
            welch_t(mt, st, nt, mc, sc, nc, sides).p_value,
            p,
            P_VALUE_TOLERANCE * p,
        );
    }
    for &(pc, pt, nc, nt, cov) in &reference::NEWCOMBE_COVERAGE {
        push(
            format!("exact Newcombe coverage {pt} ({nt}) vs {pc} ({nc})"),
            newcombe_exact_coverage(pc, pt, nc, nt),
            cov,
            1e-9,
        );
    }
    for &(pc, pt, nc, nt, alpha, sides, power) in &reference::FISHER_POWER {
        push(
            format!("exact Fisher power {pt} ({nt}) vs {pc} ({nc})"),
            fisher_exact_power(pc, pt, nc, nt, alpha, sides),
            power,
            1e-9,
        );
    }
    for &(mt, st, nt, mc, sc, nc, alpha, sides, power, coverage) in &reference::WELCH_EXACT {
        let (p, c) = welch_exact(mt, st, nt, mc, sc, nc, alpha, sides);
        let label = format!("{mt}±{st} ({nt}) vs {mc}±{sc} ({nc})");
        // The midpoint rule on 400² points: accurate to about 10⁻⁴, 30× below any MC SE here.
        push(format!("Welch exact power {label}"), p, power, 1e-4);
        push(format!("Welch exact coverage {label}"), c, coverage, 1e-4);
    }
    out
}

/// Runs the suite. `progress` is told each design's name as it starts.
pub fn run(settings: Settings, progress: &dyn Fn(&str)) -> Result<Summary, String> {
    let designs = designs();
    let checks = 3 * designs.len();
    let limit = z_limit(checks);
    progress("reference values");
    let references = reference_checks();
    let mut results = Vec::with_capacity(designs.len());
    for d in &designs {
        progress(d.name);
        let source = SourceFile::new(format!("{}.trial", d.name), d.spec.as_str());
        let checked = compile(&source).map_err(|e| {
            format!(
                "{}: the spec does not check: {:?}",
                d.name,
                miette::Report::new(e)
            )
        })?;
        let exact = exact(d);
        let report = run_power(
            &checked.model,
            &PowerSettings {
                seed: settings.seed,
                replicates: settings.replicates,
                n_per_arm: None,
                scenario: 0,
            },
            &|_| {},
        )
        .map_err(|e| format!("{}: {}", d.name, e.0))?;
        let c = report
            .analyses
            .first()
            .and_then(|a| a.contrasts.first())
            .ok_or_else(|| format!("{}: no contrast in the report", d.name))?;
        let r = report.replicates as f64;
        let valid = c.valid_replicates.max(1) as f64;
        let se_of = |p: f64, n: f64| (p * (1.0 - p) / n).sqrt().max(0.5 / n);
        let power = Comparison::new(c.power, exact.power, se_of(exact.power, r), limit);
        let coverage = Comparison::new(
            c.coverage.unwrap_or(f64::NAN),
            exact.coverage,
            se_of(exact.coverage, valid),
            limit,
        );
        let bias = Comparison::new(
            c.mean_estimate.unwrap_or(f64::NAN),
            exact.effect,
            exact.estimate_sd / valid.sqrt(),
            limit,
        );
        results.push(DesignResult {
            name: d.name.to_string(),
            n: (d.n_t, d.n_c),
            test: d.test,
            sides: d.sides,
            alpha: d.alpha,
            null: exact.effect == 0.0,
            exact,
            power,
            coverage,
            bias,
        });
    }
    let passed = references.iter().all(|r| r.passed)
        && results
            .iter()
            .all(|d| d.power.passed && d.coverage.passed && d.bias.passed);
    Ok(Summary {
        replicates: settings.replicates,
        seed: settings.seed,
        mc_checks: checks,
        family_false_alarm: FAMILY_FALSE_ALARM,
        z_limit: limit,
        designs: results,
        references,
        passed,
    })
}

// ---- rendering --------------------------------------------------------------------------------

fn short_test(t: TestKind) -> &'static str {
    match t {
        TestKind::PooledZ => "z",
        TestKind::UnpooledZ => "z-unp",
        TestKind::FisherExact => "fisher",
        TestKind::WelchT => "welch",
        TestKind::ClusterT => "cluster-t",
        TestKind::Randomisation => "rand",
        TestKind::RobustT => "robust-t",
        TestKind::Cr2 => "cr2",
        TestKind::StudentT => "student",
    }
}

fn short_sides(s: Sides) -> &'static str {
    match s {
        Sides::Greater => ">",
        Sides::Less => "<",
        Sides::TwoSided => "2s",
    }
}

fn mark(c: &Comparison) -> &'static str {
    if c.passed { "" } else { " MISS" }
}

/// The summary as a Markdown table (readable as text), one row per design, then the reference
/// checks and the verdict.
pub fn text(s: &Summary) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Validation: {} designs × {} replicates (seed {}); {} Monte Carlo checks at ±{:.2} MC SE \
         (family-wise false-alarm rate ≤ {} %, Bonferroni).",
        s.designs.len(),
        s.replicates,
        s.seed,
        s.mc_checks,
        s.z_limit,
        100.0 * s.family_false_alarm
    );
    let _ = writeln!(
        o,
        "power: simulated rejection rate vs exact (size under H0; nominal α and normal closed form \
         beside); coverage of the 95 % interval vs its exact coverage; bias of the difference in \
         MC SE.\n"
    );
    let _ = writeln!(
        o,
        "| design | n_t/n_c | test | α | Δ | sim power | exact | normal | z | sim cover | exact cover | z | bias z |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for d in &s.designs {
        let label = if d.null {
            format!("{} (H0)", d.name)
        } else {
            d.name.clone()
        };
        let _ = writeln!(
            o,
            "| {label} | {}/{} | {} {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:+.2}{} | {:.4} | {:.4} | {:+.2}{} | {:+.2}{} |",
            d.n.0,
            d.n.1,
            short_test(d.test),
            short_sides(d.sides),
            d.alpha,
            d.exact.effect,
            d.power.simulated,
            d.power.exact,
            d.exact.normal,
            d.power.z,
            mark(&d.power),
            d.coverage.simulated,
            d.coverage.exact,
            d.coverage.z,
            mark(&d.coverage),
            d.bias.z,
            mark(&d.bias),
        );
    }
    let worst = s
        .designs
        .iter()
        .flat_map(|d| [d.power.z, d.coverage.z, d.bias.z])
        .fold(0.0_f64, |m, z| m.max(z.abs()));
    let _ = writeln!(o, "\nLargest |z|: {worst:.2} (limit {:.2}).", s.z_limit);
    let failed_refs: Vec<&ReferenceResult> = s.references.iter().filter(|r| !r.passed).collect();
    let max_rel = s
        .references
        .iter()
        .filter(|r| r.reference != 0.0)
        .map(|r| ((r.computed - r.reference) / r.reference).abs())
        .fold(0.0_f64, f64::max);
    let _ = writeln!(
        o,
        "Reference values (scipy/statsmodels, tests/reference/validation.py): {} of {} within \
         tolerance; largest relative difference {max_rel:.1e}.",
        s.references.len() - failed_refs.len(),
        s.references.len()
    );
    for r in failed_refs {
        let _ = writeln!(
            o,
            "  MISS {}: computed {:e}, reference {:e}, tolerance {:e}",
            r.name, r.computed, r.reference, r.tolerance
        );
    }
    let _ = writeln!(
        o,
        "{}",
        if s.passed {
            "PASSED"
        } else {
            "FAILED: see MISS above"
        }
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_checks_and_names_its_arms() {
        for d in designs() {
            let source = SourceFile::new("v.trial", d.spec.as_str());
            let checked = compile(&source)
                .unwrap_or_else(|e| panic!("{}: {:?}\n{}", d.name, miette::Report::new(e), d.spec));
            let m = &checked.model;
            let a = &m.analyses[0];
            assert_eq!(
                (
                    m.arms[a.treatment].name.as_str(),
                    m.arms[a.control].name.as_str()
                ),
                if d.name.starts_with("almere") {
                    ("experiment", "control")
                } else {
                    ("treatment", "control")
                },
                "{}",
                d.name
            );
            assert_eq!((a.test, a.sides), (d.test, d.sides), "{}", d.name);
            assert!((a.alpha - d.alpha).abs() < 1e-12, "{}", d.name);
        }
        assert!(designs().len() >= 20);
    }

    #[test]
    fn z_limit_follows_bonferroni() {
        // 78 checks at 1 %: scipy.stats.norm.ppf(1 - 0.01/156) = 3.829881218992473.
        assert!(
            (z_limit(78) - 3.829_881_218_992_473).abs() < 1e-9,
            "{}",
            z_limit(78)
        );
    }

    #[test]
    fn reference_values_match() {
        let failed: Vec<_> = reference_checks()
            .into_iter()
            .filter(|r| !r.passed)
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}
