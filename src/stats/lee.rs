//! Lee (2009) trimming bounds on a treatment effect when outcomes go missing, with the
//! Imbens–Manski (2004) confidence interval for the identified set.
//!
//! **Estimand**: the effect among the *always-observed*, those whose outcome would be observed
//! under either arm. **Assumption**: monotonicity (assignment moves everyone's observation the
//! same way, or not at all) and random assignment. With observed shares `q_t ≥ q_c`, a share
//! `p = (q_t − q_c) / q_t` of the treatment arm's observed outcomes belongs to those observed only
//! because they were treated; trimming that share from the top of the treated distribution gives
//! the lower bound, from the bottom the upper bound (with `q_c > q_t` the control arm is trimmed
//! instead). **Ties** (and binary outcomes) are trimmed fractionally: the sorted values carry
//! mass 1 each and exactly `n·p` of mass is removed, the value at the cut losing part of its mass,
//! so a 0/1 outcome with share `ȳ` bounds at `max(0, (ȳ − p) / (1 − p))` and
//! `min(1, ȳ / (1 − p))`, whichever of its equal values is "removed".
//!
//! **Standard errors** are Lee's (2009, Proposition 3) asymptotic ones, in finite-sample form.
//! For the lower bound with the treatment arm trimmed from the top (mean `μ`, variance `σ²` and
//! cut `ξ` of the kept mass; `m` observed of `n` randomised per arm):
//!
//! ```text
//! Var(L) = [σ² + p·(ξ − μ)²] / ((1 − p)·m_t)                   the trimmed mean at a known p
//!        + (μ − ξ)² · [(1 − q_c)/(q_c·n_c) + (1 − q_t)/(q_t·n_t)]  the estimated trimming share
//!        + s_c² / m_c                                           the other arm's mean
//! ```
//!
//! (the influence function of a trimmed mean, plus `∂μ/∂p = (μ − ξ)/(1 − p)` times the delta-method
//! variance of `p̂ = 1 − q̂_c/q̂_t`); the upper bound trims from the bottom, and with `q_c > q_t`
//! the arms swap. Moments divide by the mass (`m`, or the kept `(1 − p)·m`). For a 0/1 outcome the
//! same formula is the delta-method variance of `(ȳ − p)/(1 − p)`. The same estimator serves
//! `analyze` and `power`; [`bootstrap_standard_errors`] cross-checks it in the tests.
//!
//! **Imbens–Manski**: `[L − c·σ_L, U + c·σ_U]` with `c`
//! solving `Φ(c + (U − L) / max(σ_L, σ_U)) − Φ(−c) = level`, which covers the true effect (not the
//! whole set) with the stated probability; `c` lies between the one-sided and the two-sided
//! normal quantile.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::dist::{norm_cdf, norm_quantile};
use super::mix64;

/// Lee bounds and their interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeeBounds {
    /// Observed share of the treatment arm.
    pub observed_treatment: f64,
    /// Observed share of the control arm.
    pub observed_control: f64,
    /// `treatment` or `control`: the arm whose observed outcomes are trimmed.
    pub trimmed_arm: &'static str,
    /// Share of that arm's observed outcomes trimmed.
    pub trimmed_share: f64,
    /// Lower bound of the effect among the always-observed.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Standard error of the lower bound (Lee 2009, Proposition 3).
    pub se_lower: f64,
    /// Standard error of the upper bound.
    pub se_upper: f64,
    /// The Imbens–Manski critical value.
    pub critical: f64,
    /// The Imbens–Manski interval.
    pub ci: (f64, f64),
}

/// Mean of the values after removing a share `p` of the mass from the top (`from_top`) or the
/// bottom, trimming the value at the cut fractionally. `values` must be sorted ascending.
pub fn trimmed_mean(sorted: &[f64], p: f64, from_top: bool) -> f64 {
    trimmed(sorted, sorted.len() as f64 * (1.0 - p), from_top).mean
}

/// What is left of a sorted sample after trimming: its mean and variance (over the kept mass)
/// and the value at the cut (the last value kept, wholly or in part; a sliver of mass below
/// 1e-9, a rounding error of the kept mass, keeps nothing).
#[derive(Debug, Clone, Copy)]
struct Trimmed {
    mean: f64,
    variance: f64,
    cut: f64,
}

fn trimmed(sorted: &[f64], keep: f64, from_top: bool) -> Trimmed {
    let nan = Trimmed {
        mean: f64::NAN,
        variance: f64::NAN,
        cut: f64::NAN,
    };
    if sorted.is_empty() || keep <= 0.0 {
        return nan;
    }
    let kept = |visit: &mut dyn FnMut(f64, f64)| {
        let mut mass = 0.0;
        let mut step = |v: f64| {
            let w = (keep - mass).clamp(0.0, 1.0);
            if w <= 1e-9 {
                return false;
            }
            visit(w, v);
            mass += w;
            true
        };
        if from_top {
            for &v in sorted {
                if !step(v) {
                    break;
                }
            }
        } else {
            for &v in sorted.iter().rev() {
                if !step(v) {
                    break;
                }
            }
        }
    };
    let (mut sum, mut cut) = (0.0, f64::NAN);
    kept(&mut |w, v| {
        sum += w * v;
        cut = v;
    });
    let mean = sum / keep;
    let mut squares = 0.0;
    kept(&mut |w, v| squares += w * (v - mean) * (v - mean));
    Trimmed {
        mean,
        variance: squares / keep,
        cut,
    }
}

/// Each arm's observed outcomes, sorted.
fn observed(v: &[f64]) -> Vec<f64> {
    let mut o: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    o.sort_by(f64::total_cmp);
    o
}

/// Mean and variance (dividing by the count) of a sample.
fn moments(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
}

/// The bounds and their standard errors: (observed shares, whether the treatment arm is
/// trimmed, share, lower, upper, se lower, se upper). `t` and `c` hold each arm's outcomes, NaN
/// for a missing one.
type Point = (f64, f64, bool, f64, f64, f64, f64, f64);

fn point(t: &[f64], c: &[f64]) -> Option<Point> {
    let (ot, oc) = (observed(t), observed(c));
    if ot.is_empty() || oc.is_empty() {
        return None;
    }
    let (mt, mc) = (ot.len() as f64, oc.len() as f64);
    let (nt, nc) = (t.len() as f64, c.len() as f64);
    let (qt, qc) = (mt / nt, mc / nc);
    // The delta-method variance of p̂, divided by (1 − p)²: the same whichever arm is trimmed.
    let share_var = (1.0 - qc) / (qc * nc) + (1.0 - qt) / (qt * nt);
    // Variance of a trimmed mean of the kept mass `(1 − p)·m`, p estimated.
    let trimmed_var = |k: &Trimmed, p: f64, keep: f64| {
        let gap = (k.cut - k.mean).powi(2);
        (k.variance + p * gap) / keep + gap * share_var
    };
    let trim_t = qt >= qc;
    let (trim, other, m_trim, m_other) = if trim_t {
        (&ot, &oc, mt, mc)
    } else {
        (&oc, &ot, mc, mt)
    };
    let p = if trim_t {
        (qt - qc) / qt
    } else {
        (qc - qt) / qc
    };
    // The kept mass m_trim·q_other/q_trim, in the form that is exact when it is whole.
    let keep = if trim_t { mc * nt / nc } else { mt * nc / nt }.min(m_trim);
    let (other_mean, other_var) = moments(other);
    let other_var = other_var / m_other;
    let (low, high) = (trimmed(trim, keep, true), trimmed(trim, keep, false));
    let (var_low, var_high) = if ot.len() < 2 || oc.len() < 2 {
        // One observed value gives its arm's mean no estimable spread (not a spread of 0).
        (f64::NAN, f64::NAN)
    } else {
        (trimmed_var(&low, p, keep), trimmed_var(&high, p, keep))
    };
    Some(if trim_t {
        (
            qt,
            qc,
            true,
            p,
            low.mean - other_mean,
            high.mean - other_mean,
            (var_low + other_var).sqrt(),
            (var_high + other_var).sqrt(),
        )
    } else {
        // Control trimmed: its highest values give the lower bound of treatment − control.
        (
            qt,
            qc,
            false,
            p,
            other_mean - high.mean,
            other_mean - low.mean,
            (var_high + other_var).sqrt(),
            (var_low + other_var).sqrt(),
        )
    })
}

/// Lee bounds of treatment − control from each arm's outcomes (NaN = missing), with the
/// Imbens–Manski interval at `level` (e.g. 0.95). `None` when an arm has no observed outcome.
pub fn lee_bounds(t: &[f64], c: &[f64], level: f64) -> Option<LeeBounds> {
    let (qt, qc, trim_t, p, lower, upper, se_lower, se_upper) = point(t, c)?;
    let critical = imbens_manski_critical(upper - lower, se_lower.max(se_upper), level);
    Some(LeeBounds {
        observed_treatment: qt,
        observed_control: qc,
        trimmed_arm: if trim_t { "treatment" } else { "control" },
        trimmed_share: p,
        lower,
        upper,
        se_lower,
        se_upper,
        critical,
        ci: (lower - critical * se_lower, upper + critical * se_upper),
    })
}

/// Bootstrap standard errors of the two bounds (participants resampled with replacement within
/// each arm, missing ones included so the observed shares vary), `resamples` times from a stream
/// keyed by the data: the cross-check of the analytic ones.
pub fn bootstrap_standard_errors(t: &[f64], c: &[f64], resamples: u32) -> (f64, f64) {
    let mut key = mix64(t.len() as u64 ^ (c.len() as u64) << 32);
    for v in t.iter().chain(c) {
        key = mix64(key ^ v.to_bits());
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
    let draw = |v: &[f64], rng: &mut Xoshiro256PlusPlus| -> Vec<f64> {
        let n = v.len() as u64;
        (0..v.len())
            .map(|_| v[((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as usize])
            .collect()
    };
    let (mut lows, mut highs) = (Vec::new(), Vec::new());
    for _ in 0..resamples {
        let (bt, bc) = (draw(t, &mut rng), draw(c, &mut rng));
        if let Some((.., l, u, _, _)) = point(&bt, &bc) {
            lows.push(l);
            highs.push(u);
        }
    }
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
    };
    (sd(&lows), sd(&highs))
}

/// The `c` of Imbens and Manski (2004): `Φ(c + width / se) − Φ(−c) = level`, by bisection
/// between the one-sided and the two-sided normal quantile (the ends of a zero and an infinite
/// width).
pub fn imbens_manski_critical(width: f64, se: f64, level: f64) -> f64 {
    let two_sided = norm_quantile(0.5 + level / 2.0);
    if se.is_nan() || se <= 0.0 || !width.is_finite() {
        return two_sided;
    }
    let ratio = width.max(0.0) / se;
    let f = |c: f64| norm_cdf(c + ratio) - norm_cdf(-c) - level;
    let (mut lo, mut hi) = (norm_quantile(level), two_sided);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: f64 = f64::NAN;

    /// Worked by hand. Treatment: 10 assigned, 8 observed (q_t = 0.8) with outcomes
    /// 1, 2, ..., 8; control: 10 assigned, 6 observed (q_c = 0.6) with outcomes 2, 2, 3, 3, 4, 4
    /// (mean 3). p = (0.8 − 0.6) / 0.8 = 0.25 of the 8 treated outcomes, i.e. 2 of them:
    /// trimming the top two leaves 1..6, mean 3.5, so the lower bound is 3.5 − 3 = 0.5;
    /// trimming the bottom two leaves 3..8, mean 5.5, so the upper bound is 5.5 − 3 = 2.5.
    #[test]
    fn bounds_match_a_hand_computation() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, NA, NA];
        let c = [2.0, 2.0, 3.0, 3.0, 4.0, 4.0, NA, NA, NA, NA];
        let b = lee_bounds(&t, &c, 0.95).expect("bounds");
        assert_eq!(b.trimmed_arm, "treatment");
        assert!((b.trimmed_share - 0.25).abs() < 1e-12);
        assert!((b.lower - 0.5).abs() < 1e-12, "{b:?}");
        assert!((b.upper - 2.5).abs() < 1e-12, "{b:?}");
        assert!(b.ci.0 < b.lower && b.ci.1 > b.upper);
        assert!(b.critical > 1.6448 && b.critical < 1.9600);
        // Proposition 3 by hand: kept 1..6 (mean 3.5, variance 35/12, cut 6), p = 1/4, m_t = 8;
        // V_q = 0.4/(0.6·10) + 0.2/(0.8·10); control variance 2/3 over 6:
        // (35/12 + 6.25/4)/6 + 6.25·V_q + 1/9 = 1.430555…; and the independent base-R
        // reference (tests/reference/lee.R) prints se 1.19605834120061, c 1.64921187232049.
        let v_q: f64 = 0.4 / 6.0 + 0.2 / 8.0;
        let var: f64 = (35.0 / 12.0 + 6.25 / 4.0) / 6.0 + 6.25 * v_q + 1.0 / 9.0;
        assert!((b.se_lower - var.sqrt()).abs() < 1e-12, "{b:?}");
        assert!((b.se_lower - 1.196_058_341_200_61).abs() < 1e-12, "{b:?}");
        assert!((b.se_upper - 1.196_058_341_200_61).abs() < 1e-12, "{b:?}");
        assert!((b.critical - 1.649_211_872_320_49).abs() < 1e-10, "{b:?}");
        // The same data with the arms swapped: the control arm is trimmed, the bounds mirror.
        let m = lee_bounds(&c, &t, 0.95).expect("bounds");
        assert_eq!(m.trimmed_arm, "control");
        assert!(
            (m.lower + 2.5).abs() < 1e-12 && (m.upper + 0.5).abs() < 1e-12,
            "{m:?}"
        );
    }

    /// A fractional cut and the binary tie rule, by hand. 5 observed treated outcomes
    /// 0, 0, 1, 1, 1 (ȳ = 0.6), p = 0.3: 1.5 of the mass goes. From the top: one 1 and half of
    /// the next, keeping 0 + 0 + 0.5·1 over 3.5 = 1/7 = (0.6 − 0.3) / 0.7. From the bottom: one
    /// zero and half of the other, keeping (0.5·0 + 1 + 1 + 1) / 3.5 = 6/7 = 0.6 / 0.7.
    #[test]
    fn binary_outcomes_are_trimmed_fractionally() {
        let v = [0.0, 0.0, 1.0, 1.0, 1.0];
        assert!((trimmed_mean(&v, 0.3, true) - (0.6 - 0.3) / 0.7).abs() < 1e-12);
        assert!((trimmed_mean(&v, 0.3, false) - 0.6 / 0.7).abs() < 1e-12);
        // Beyond the share of ones, the lower bound of the share is 0.
        assert!(trimmed_mean(&v, 0.7, true).abs() < 1e-12);
    }

    #[test]
    fn imbens_manski_lies_between_the_one_and_two_sided_quantiles() {
        let c0 = imbens_manski_critical(0.0, 1.0, 0.95);
        assert!((c0 - 1.959_963_984_540_054).abs() < 1e-9);
        let wide = imbens_manski_critical(100.0, 1.0, 0.95);
        assert!((wide - 1.644_853_626_951_472_2).abs() < 1e-9);
    }

    /// The analytic standard errors agree with the bootstrap's on a large sample (normal
    /// outcomes, 20 % against 35 % lost, so the treatment arm is trimmed by 18.75 %, and the
    /// arms swapped): within 5 %, about three times the bootstrap's own relative error at 2,000
    /// resamples (1/√(2·2000) ≈ 1.6 %).
    #[test]
    fn analytic_standard_errors_match_the_bootstrap() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut arm = |n: usize, mean: f64, lost: f64| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let z: f64 =
                        rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
                    if ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < lost {
                        NA
                    } else {
                        mean + 2.0 * z
                    }
                })
                .collect()
        };
        let (t, c) = (arm(1000, 5.0, 0.20), arm(1000, 4.0, 0.35));
        for (t, c) in [(&t, &c), (&c, &t)] {
            let b = lee_bounds(t, c, 0.95).expect("bounds");
            let (boot_lower, boot_upper) = bootstrap_standard_errors(t, c, 2000);
            assert!(
                (b.se_lower / boot_lower - 1.0).abs() < 0.05,
                "{b:?} {boot_lower}"
            );
            assert!(
                (b.se_upper / boot_upper - 1.0).abs() < 0.05,
                "{b:?} {boot_upper}"
            );
        }
    }

    /// A 0/1 outcome: the lower bound (ȳ − p)/(1 − p) with p = 1 − q̂_c/q̂_t has the delta-method
    /// variance ȳ(1 − ȳ)/(m_t(1 − p)²) + ((1 − ȳ)/(1 − p)²)²·(1 − p)²·V_q + control's, worked
    /// out here for treatment 48 of 60 observed, 30 ones; control 36 of 60, 15 ones.
    #[test]
    fn binary_standard_errors_are_the_delta_method() {
        let arm = |n: usize, observed: usize, ones: usize| -> Vec<f64> {
            (0..n)
                .map(|i| match i {
                    i if i < ones => 1.0,
                    i if i < observed => 0.0,
                    _ => NA,
                })
                .collect()
        };
        let (t, c) = (arm(60, 48, 30), arm(60, 36, 15));
        let b = lee_bounds(&t, &c, 0.95).expect("bounds");
        let (qt, qc, y, yc): (f64, f64, f64, f64) = (0.8, 0.6, 30.0 / 48.0, 15.0 / 36.0);
        let p = 1.0 - qc / qt;
        let share_var = (1.0 - qc) / (qc * 60.0) + (1.0 - qt) / (qt * 60.0);
        let control = yc * (1.0 - yc) / 36.0;
        let lower = (y - p) / (1.0 - p);
        let var_lower = y * (1.0 - y) / (48.0 * (1.0 - p).powi(2))
            + ((1.0 - y) / (1.0 - p)).powi(2) * share_var
            + control;
        assert!((b.lower - (lower - yc)).abs() < 1e-12, "{b:?}");
        assert!((b.se_lower - var_lower.sqrt()).abs() < 1e-12, "{b:?}");
        // Upper: ȳ/(1 − p), derivative ȳ/(1 − p)² in p.
        let upper = y / (1.0 - p);
        let var_upper = y * (1.0 - y) / (48.0 * (1.0 - p).powi(2))
            + (y / (1.0 - p)).powi(2) * share_var
            + control;
        assert!((b.upper - (upper - yc)).abs() < 1e-12, "{b:?}");
        assert!((b.se_upper - var_upper.sqrt()).abs() < 1e-12, "{b:?}");
    }

    #[test]
    fn one_observed_value_in_an_arm_has_bounds_but_no_interval() {
        let b = lee_bounds(&[3.0, NA], &[1.0, 2.0], 0.95).expect("both arms observed");
        // The control arm (2 of 2 observed) is trimmed to the treatment's 1 of 2: bounds
        // [3 − 2, 3 − 1]; with one treated value its mean has no estimable spread.
        assert_eq!((b.lower, b.upper), (1.0, 2.0));
        assert!(b.se_lower.is_nan() && b.se_upper.is_nan(), "{b:?}");
        assert!(b.ci.0.is_nan() && b.ci.1.is_nan(), "{b:?}");
    }

    #[test]
    fn an_arm_without_observed_outcomes_has_no_bounds() {
        assert!(lee_bounds(&[NA, NA], &[1.0, 2.0], 0.95).is_none());
    }
}
