//! Inverse-probability weighting for missing outcomes: the Hájek weighted mean of one arm, with a
//! logistic model of being observed given the covariates fitted within the arm, and its
//! variance by the M-estimation sandwich that accounts for the estimated model.
//!
//! Per arm, with `R_i` 1 when participant `i`'s outcome is observed, `X_i` the covariate terms
//! with an intercept and `p_i = expit(X_i β̂)` the fitted probability of being observed:
//! - `β̂` solves `Σ (R_i − p_i) X_i = 0` (the logistic maximum likelihood, R's `glm(family =
//!   binomial)`), by Newton–Raphson;
//! - the mean is `μ̂ = Σ R_i y_i / p_i / Σ R_i / p_i` (Hájek: the weights `1/p_i` normalised);
//! - stacking `ψ_β = (R − p) X` and `ψ_μ = R (y − μ) / p`, the sandwich `A⁻¹ B A⁻ᵀ` (sums, no
//!   small-sample factor) gives for `μ` the influence `φ_i = (ψ_μ,i − hᵀ I⁻¹ ψ_β,i) / S` with
//!   `S = Σ R/p`, `I = Σ p(1 − p) X Xᵀ` and `h = Σ R (y − μ)(1 − p)/p X`, and the variance
//!   `Σ φ_i²`. The arms are independent, so the variance of the difference is the sum.
//!
//! The model is fitted within each arm, which is the same as one model with every term
//! interacted with the arm. Terms that are constant in the arm or collinear with earlier ones
//! are dropped (as `glm` gives them `NA`). An arm with every outcome observed needs no model
//! (every weight is 1); an arm with none observed has no mean.

use serde::Serialize;

/// A weight above this (a fitted probability of being observed below 5 %) is flagged as extreme.
pub const EXTREME_WEIGHT: f64 = 20.0;

/// Newton–Raphson stops when the deviance changes by less than this relative amount (then takes
/// two more steps, so that the coefficients are at machine precision where the maximum exists).
const DEVIANCE_TOL: f64 = 1e-13;
/// Newton–Raphson gives up after this many steps.
const MAX_ITERATIONS: usize = 100;
/// A fitted probability below this for a participant without an outcome is a covariate pattern
/// nobody was observed in (the model separates).
const SEPARATED: f64 = 1e-8;

/// The weighted mean of one arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpwArm {
    /// Participants in the model (covariates observed).
    pub n: u64,
    /// Of them, those with the outcome observed.
    pub observed: u64,
    /// The Hájek mean (NaN when nobody is observed).
    pub mean: f64,
    /// Its sandwich variance.
    pub variance: f64,
    /// The largest weight `1/p̂` among the observed.
    pub max_weight: f64,
    /// Terms dropped as constant or collinear, by index into the caller's columns.
    pub dropped: Vec<usize>,
    /// Participants without an outcome whose fitted probability of being observed is 0 (their
    /// covariate pattern has nobody observed): the weighted mean leaves them out.
    pub separated: u64,
    /// Why the mean is undefined, when it is.
    pub flag: Option<&'static str>,
}

/// Reusable buffers.
#[derive(Default)]
pub struct IpwScratch {
    /// Kept columns, row-major `n × k`.
    x: Vec<f64>,
    p: Vec<f64>,
    beta: Vec<f64>,
    step: Vec<f64>,
    info: Vec<f64>,
    chol: Vec<f64>,
    score: Vec<f64>,
    h: Vec<f64>,
    g: Vec<f64>,
    kept: Vec<usize>,
}

/// Cholesky factor of the `k × k` matrix `a` (row-major) into `l`; false when not positive
/// definite.
fn cholesky(a: &[f64], k: usize, l: &mut Vec<f64>) -> bool {
    l.clear();
    l.resize(k * k, 0.0);
    for j in 0..k {
        let mut d = a[j * k + j];
        for m in 0..j {
            d -= l[j * k + m] * l[j * k + m];
        }
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        let d = d.sqrt();
        l[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for m in 0..j {
                s -= l[i * k + m] * l[j * k + m];
            }
            l[i * k + j] = s / d;
        }
    }
    true
}

/// Solves `L Lᵀ x = b` in place.
fn solve(l: &[f64], k: usize, b: &mut [f64]) {
    for i in 0..k {
        let mut s = b[i];
        for m in 0..i {
            s -= l[i * k + m] * b[m];
        }
        b[i] = s / l[i * k + i];
    }
    for i in (0..k).rev() {
        let mut s = b[i];
        for m in i + 1..k {
            s -= l[m * k + i] * b[m];
        }
        b[i] = s / l[i * k + i];
    }
}

#[inline]
fn expit(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// The weighted mean of one arm: `y[i]` the outcome (NaN when missing) and `columns[j][i]` the
/// covariate terms (without the intercept) of the arm's participants, all observed.
pub fn weighted_mean(y: &[f64], columns: &[Vec<f64>], scratch: &mut IpwScratch) -> IpwArm {
    let n = y.len();
    let observed = y.iter().filter(|v| !v.is_nan()).count();
    let mut out = IpwArm {
        n: n as u64,
        observed: observed as u64,
        mean: f64::NAN,
        variance: f64::NAN,
        max_weight: f64::NAN,
        dropped: Vec::new(),
        separated: 0,
        flag: None,
    };
    if observed == 0 {
        out.flag = Some("nobody in the arm has the outcome observed");
        return out;
    }
    if observed == 1 {
        // One value is its own weighted mean, but its spread (and so the SE) is unknown.
        out.mean = y.iter().copied().find(|v| !v.is_nan()).unwrap_or(f64::NAN);
        out.flag = Some(
            "one participant in the arm has the outcome observed: the variance is not estimable",
        );
        return out;
    }
    if observed == n {
        // Every weight is 1: the plain mean, with the sandwich's n-divisor variance.
        let mean = y.iter().sum::<f64>() / n as f64;
        let ss: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
        out.mean = mean;
        out.variance = ss / (n as f64 * n as f64);
        out.max_weight = 1.0;
        return out;
    }
    let IpwScratch {
        x,
        p,
        beta,
        step,
        info,
        chol,
        score,
        h,
        g,
        kept,
    } = scratch;
    // Columns: the intercept, then each term centred and scaled (which changes neither the
    // fitted probabilities nor the sandwich of μ), dropped when constant or collinear with the
    // kept ones (a pivot below 1e-7 of the centred column's norm, as R's QR tolerance).
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(columns.len());
    kept.clear();
    for (j, c) in columns.iter().enumerate() {
        let mean = c.iter().sum::<f64>() / n as f64;
        // The centred column's residual against the kept ones (Gram–Schmidt), to judge
        // collinearity.
        let mut r: Vec<f64> = c.iter().map(|x| x - mean).collect();
        let norm0 = r.iter().map(|x| x * x).sum::<f64>().sqrt();
        for b in &basis {
            let bb: f64 = b.iter().map(|x| x * x).sum();
            let d: f64 = b.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>() / bb;
            for (ri, bi) in r.iter_mut().zip(b) {
                *ri -= d * bi;
            }
        }
        let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm0 == 0.0 || !norm0.is_finite() || norm <= 1e-7 * norm0 {
            out.dropped.push(j);
            continue;
        }
        basis.push(r);
        kept.push(j);
    }
    let k = 1 + kept.len();
    x.clear();
    x.resize(n * k, 0.0);
    for i in 0..n {
        x[i * k] = 1.0;
    }
    for (m, &j) in kept.iter().enumerate() {
        let c = &columns[j];
        let mean = c.iter().sum::<f64>() / n as f64;
        let sd = (c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
        for i in 0..n {
            x[i * k + 1 + m] = (c[i] - mean) / sd;
        }
    }
    let r = |i: usize| f64::from(u8::from(!y[i].is_nan()));
    // Newton–Raphson from the intercept-only fit.
    beta.clear();
    beta.resize(k, 0.0);
    let share = observed as f64 / n as f64;
    beta[0] = (share / (1.0 - share)).ln();
    p.clear();
    p.resize(n, 0.0);
    let deviance = |p: &[f64]| -> f64 {
        (0..n)
            .map(|i| {
                let q = if r(i) == 1.0 { p[i] } else { 1.0 - p[i] };
                -2.0 * q.max(f64::MIN_POSITIVE).ln()
            })
            .sum()
    };
    let fitted = |beta: &[f64], p: &mut [f64]| {
        for i in 0..n {
            let eta: f64 = (0..k).map(|m| x[i * k + m] * beta[m]).sum();
            p[i] = expit(eta);
        }
    };
    fitted(beta, p);
    let mut dev = deviance(p);
    let mut converged = false;
    let mut polish = 0;
    for _ in 0..MAX_ITERATIONS {
        score.clear();
        score.resize(k, 0.0);
        info.clear();
        info.resize(k * k, 0.0);
        for i in 0..n {
            let row = &x[i * k..][..k];
            let w = p[i] * (1.0 - p[i]);
            let e = r(i) - p[i];
            for a in 0..k {
                score[a] += e * row[a];
                for b in 0..=a {
                    info[a * k + b] += w * row[a] * row[b];
                }
            }
        }
        for a in 0..k {
            for b in a + 1..k {
                info[a * k + b] = info[b * k + a];
            }
        }
        if !cholesky(info, k, chol) {
            break;
        }
        step.clone_from(score);
        solve(chol, k, step);
        // Step halving while the deviance rises (a safeguard; Newton rarely needs it here).
        let mut t = 1.0;
        let mut trial = beta.clone();
        let mut new_dev = f64::INFINITY;
        for _ in 0..30 {
            for m in 0..k {
                trial[m] = beta[m] + t * step[m];
            }
            fitted(&trial, p);
            new_dev = deviance(p);
            if new_dev <= dev * (1.0 + 1e-12) + 1e-12 {
                break;
            }
            t /= 2.0;
        }
        beta.clone_from(&trial);
        let change = (dev - new_dev).abs() / (new_dev.abs() + 0.1);
        dev = new_dev;
        if polish > 0 {
            polish -= 1;
            if polish == 0 {
                converged = true;
                break;
            }
        } else if change < DEVIANCE_TOL {
            polish = 2;
        }
    }
    if !converged || p.iter().any(|v| !v.is_finite()) {
        out.flag = Some("the model of being observed does not converge");
        return out;
    }
    // The Hájek mean.
    let (mut s, mut sy, mut max_w) = (0.0, 0.0, 0.0f64);
    for i in 0..n {
        if r(i) == 1.0 {
            let w = 1.0 / p[i];
            s += w;
            sy += w * y[i];
            max_w = max_w.max(w);
        } else if p[i] < SEPARATED {
            out.separated += 1;
        }
    }
    let mu = sy / s;
    // Sandwich: I (the information at β̂), h, then g = I⁻¹ h and φ_i.
    info.clear();
    info.resize(k * k, 0.0);
    h.clear();
    h.resize(k, 0.0);
    for i in 0..n {
        let row = &x[i * k..][..k];
        let w = p[i] * (1.0 - p[i]);
        let hi = if r(i) == 1.0 {
            (y[i] - mu) * (1.0 - p[i]) / p[i]
        } else {
            0.0
        };
        for a in 0..k {
            h[a] += hi * row[a];
            for b in 0..=a {
                info[a * k + b] += w * row[a] * row[b];
            }
        }
    }
    for a in 0..k {
        for b in a + 1..k {
            info[a * k + b] = info[b * k + a];
        }
    }
    if !cholesky(info, k, chol) {
        out.flag = Some("the model of being observed is singular at its fit");
        return out;
    }
    g.clone_from(h);
    solve(chol, k, g);
    let mut var = 0.0;
    for i in 0..n {
        let row = &x[i * k..][..k];
        let psi_mu = if r(i) == 1.0 { (y[i] - mu) / p[i] } else { 0.0 };
        let e = r(i) - p[i];
        let correction: f64 = (0..k).map(|a| g[a] * e * row[a]).sum();
        let phi = (psi_mu - correction) / s;
        var += phi * phi;
    }
    out.mean = mu;
    out.variance = var;
    out.max_weight = max_w;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With one categorical covariate the model is saturated: p̂ is the observed share in each
    /// level, and the Hájek mean is the mean of the levels' observed means weighted by the
    /// levels' sizes (post-stratification), worked out by hand.
    #[test]
    fn saturated_model_post_stratifies() {
        // Level a: 4 people, 2 observed (1, 3); level b: 2 people, both observed (10, 20).
        let nan = f64::NAN;
        let y = [1.0, nan, 3.0, nan, 10.0, 20.0];
        let b = vec![vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0]];
        let got = weighted_mean(&y, &b, &mut IpwScratch::default());
        // (4/6)·2 + (2/6)·15 = 4/3 + 5 = 19/3.
        assert!((got.mean - 19.0 / 3.0).abs() < 1e-9, "{}", got.mean);
        assert_eq!((got.n, got.observed), (6, 4));
        // Weight 2 in level a (p̂ = 1/2), 1 in level b.
        assert!((got.max_weight - 2.0).abs() < 1e-6);
        assert!(got.flag.is_none());
    }

    #[test]
    fn all_observed_is_the_plain_mean() {
        let got = weighted_mean(
            &[1.0, 2.0, 6.0],
            &[vec![1.0, 0.0, 5.0]],
            &mut IpwScratch::default(),
        );
        assert_eq!(got.mean, 3.0);
        // Σ(y − ȳ)² / n² = 14 / 9.
        assert!((got.variance - 14.0 / 9.0).abs() < 1e-12);
        assert_eq!(got.max_weight, 1.0);
    }

    #[test]
    fn nobody_observed_is_flagged() {
        let got = weighted_mean(
            &[f64::NAN, f64::NAN],
            &[vec![1.0, 2.0]],
            &mut IpwScratch::default(),
        );
        assert!(got.mean.is_nan());
        assert!(got.flag.is_some());
    }

    #[test]
    fn one_observed_value_has_its_mean_but_no_variance() {
        let nan = f64::NAN;
        let got = weighted_mean(
            &[nan, 7.5, nan],
            &[vec![1.0, 2.0, 3.0]],
            &mut IpwScratch::default(),
        );
        assert_eq!(got.mean, 7.5);
        // A variance of 0 would give SE 0 and p 0: a rejection out of one value.
        assert!(got.variance.is_nan(), "{got:?}");
        assert!(got.flag.is_some_and(|f| f.contains("not estimable")));
    }

    #[test]
    fn a_level_nobody_observed_is_counted_as_separated() {
        let nan = f64::NAN;
        // Level b (last two) never observed: p̂ → 0 there.
        let y = [1.0, 2.0, nan, 4.0, nan, nan];
        let b = vec![vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0]];
        let got = weighted_mean(&y, &b, &mut IpwScratch::default());
        assert_eq!(got.separated, 2);
        assert!((got.mean - 7.0 / 3.0).abs() < 1e-6, "{}", got.mean);
    }

    #[test]
    fn a_constant_term_is_dropped() {
        let nan = f64::NAN;
        let y = [1.0, nan, 3.0, 4.0];
        let cols = vec![vec![2.0; 4], vec![1.0, 2.0, 3.0, 5.0]];
        let got = weighted_mean(&y, &cols, &mut IpwScratch::default());
        assert_eq!(got.dropped, vec![0]);
        assert!(got.mean.is_finite());
    }
}
