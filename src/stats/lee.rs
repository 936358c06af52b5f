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
//! **Standard errors** are bootstrapped: participants are resampled with replacement within each
//! arm (missing ones included, so the observed shares vary), [`BOOTSTRAP`] times, from a
//! Xoshiro256++ stream keyed by the data. **Imbens–Manski**: `[L − c·σ_L, U + c·σ_U]` with `c`
//! solving `Φ(c + (U − L) / max(σ_L, σ_U)) − Φ(−c) = level`, which covers the true effect (not the
//! whole set) with the stated probability; `c` lies between the one-sided and the two-sided
//! normal quantile.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::dist::{norm_cdf, norm_quantile};
use super::mix64;

/// Bootstrap resamples behind the bounds' standard errors.
pub const BOOTSTRAP: u32 = 1000;

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
    /// Bootstrap standard error of the lower bound.
    pub se_lower: f64,
    /// Bootstrap standard error of the upper bound.
    pub se_upper: f64,
    /// The Imbens–Manski critical value.
    pub critical: f64,
    /// The Imbens–Manski interval.
    pub ci: (f64, f64),
}

/// Mean of the values after removing a share `p` of the mass from the top (`from_top`) or the
/// bottom, trimming the value at the cut fractionally. `values` must be sorted ascending.
pub fn trimmed_mean(sorted: &[f64], p: f64, from_top: bool) -> f64 {
    let n = sorted.len() as f64;
    let keep = n * (1.0 - p);
    if sorted.is_empty() || keep <= 0.0 {
        return f64::NAN;
    }
    let mut sum = 0.0;
    let mut mass = 0.0;
    let ordered: Box<dyn Iterator<Item = &f64>> = if from_top {
        Box::new(sorted.iter())
    } else {
        Box::new(sorted.iter().rev())
    };
    for &v in ordered {
        let w = (keep - mass).clamp(0.0, 1.0);
        if w <= 0.0 {
            break;
        }
        sum += w * v;
        mass += w;
    }
    sum / keep
}

/// The bounds' point estimates: (observed shares, trimmed arm, share, lower, upper). `t` and `c`
/// hold each arm's outcomes, NaN for a missing one.
fn point(t: &[f64], c: &[f64]) -> Option<(f64, f64, bool, f64, f64, f64)> {
    let observed = |v: &[f64]| {
        let mut o: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        o.sort_by(f64::total_cmp);
        o
    };
    let (ot, oc) = (observed(t), observed(c));
    if ot.is_empty() || oc.is_empty() {
        return None;
    }
    let qt = ot.len() as f64 / t.len() as f64;
    let qc = oc.len() as f64 / c.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    if qt >= qc {
        let p = (qt - qc) / qt;
        let lower = trimmed_mean(&ot, p, true) - mean(&oc);
        let upper = trimmed_mean(&ot, p, false) - mean(&oc);
        Some((qt, qc, true, p, lower, upper))
    } else {
        let p = (qc - qt) / qc;
        let lower = mean(&ot) - trimmed_mean(&oc, p, false);
        let upper = mean(&ot) - trimmed_mean(&oc, p, true);
        Some((qt, qc, false, p, lower, upper))
    }
}

/// Lee bounds of treatment − control from each arm's outcomes (NaN = missing), with the
/// Imbens–Manski interval at `level` (e.g. 0.95). `None` when an arm has no observed outcome.
pub fn lee_bounds(t: &[f64], c: &[f64], level: f64) -> Option<LeeBounds> {
    let (qt, qc, trim_t, p, lower, upper) = point(t, c)?;
    // Bootstrap within arms, from a stream keyed by the data.
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
    for _ in 0..BOOTSTRAP {
        let (bt, bc) = (draw(t, &mut rng), draw(c, &mut rng));
        if let Some((.., l, u)) = point(&bt, &bc) {
            lows.push(l);
            highs.push(u);
        }
    }
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
    };
    let (se_lower, se_upper) = (sd(&lows), sd(&highs));
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

    #[test]
    fn an_arm_without_observed_outcomes_has_no_bounds() {
        assert!(lee_bounds(&[NA, NA], &[1.0, 2.0], 0.95).is_none());
    }
}
