//! Group-sequential boundaries by recursive numerical integration.
//!
//! The statistic at look `k` is `Z_k`, standard normal under H0, with information fraction
//! `t_k = I_k / I_K`; under a drift `δ = θ √I_K` it has mean `δ √t_k`, and the increments of the
//! score `Z_k √t_k` are independent (the canonical joint distribution of Jennison & Turnbull,
//! *Group Sequential Methods*, 2000, ch. 3). The probability of stopping at each look is
//! computed by carrying the sub-density of `Z_k` on the continuation region from look to look on
//! the grid of Jennison & Turnbull ch. 19 (Armitage, McPherson & Rowe 1969), integrated by
//! Simpson's rule; nothing here simulates.
//!
//! Efficacy boundaries spend the one-sided level `α` by a Lan–DeMets spending function: the
//! boundary at look `k` is the value whose crossing probability under H0, having continued so
//! far, is `α(t_k) − α(t_{k−1})`. Two-sided designs are symmetric and spend `α/2` on each side
//! (as rpact does). Futility boundaries spend `β` the same way under the drift of the design,
//! and the drift is solved so that the design has power `1 − β` (a_K = b_K at the last look).
//! A binding futility boundary is taken into account when the efficacy boundary is computed; a
//! non-binding one is not, so the type-I error is kept whether or not the trial stops for
//! futility.

// The recursion walks several arrays of one grid (points, weights, densities) by index.
#![allow(clippy::needless_range_loop)]

use super::dist::{norm_cdf, norm_quantile, norm_sf};
use std::f64::consts::PI;

/// Grid resolution `r` of Jennison & Turnbull (6r − 1 points before the midpoints). 32 puts the
/// boundaries within 1e-7 of their converged values (the unit test below checks 32 against 128)
/// and within 1e-7 of rpact 3.3.4 (tests/integration/sequential.rs).
pub const GRID: usize = 32;

/// A Lan–DeMets spending function `f(level, t)`, `f(level, 0) = 0`, `f(level, 1) = level`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "gamma")]
pub enum Spending {
    /// O'Brien–Fleming type: `2 (1 − Φ(z_{1−level/2} / √t))`.
    #[serde(rename = "obrien_fleming")]
    OBrienFleming,
    /// Pocock type: `level · ln(1 + (e − 1) t)`.
    Pocock,
    /// Hwang–Shih–DeCani with parameter γ: `level (1 − e^{−γt}) / (1 − e^{−γ})`, `level · t` at γ = 0.
    Hsd(f64),
}

impl Spending {
    /// The cumulative share of `level` spent by information fraction `t`.
    pub fn spend(self, level: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if t >= 1.0 {
            return level;
        }
        match self {
            Self::OBrienFleming => 2.0 * norm_sf(norm_quantile(1.0 - level / 2.0) / t.sqrt()),
            Self::Pocock => level * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
            Self::Hsd(g) if g.abs() < 1e-12 => level * t,
            Self::Hsd(g) => level * (1.0 - (-g * t).exp()) / (1.0 - (-g).exp()),
        }
    }

    /// The name used in specs and reports: `obrien_fleming`, `pocock`, `hsd(-4)`.
    pub fn label(self) -> String {
        match self {
            Self::OBrienFleming => "obrien_fleming".into(),
            Self::Pocock => "pocock".into(),
            Self::Hsd(g) => format!("hsd({g})"),
        }
    }
}

/// How the efficacy boundary is set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "spending")]
pub enum Efficacy {
    /// Lan–DeMets alpha spending.
    Spending(Spending),
    /// Haybittle–Peto: `z ≥ 3` at every interim look, the last look at whatever keeps the level
    /// exactly `α`.
    HaybittlePeto,
}

impl Efficacy {
    /// The name used in specs and reports.
    pub fn label(self) -> String {
        match self {
            Self::Spending(s) => s.label(),
            Self::HaybittlePeto => "haybittle_peto".into(),
        }
    }
}

/// Beta-spending futility.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BetaSpending {
    /// The spending function applied to β.
    pub spending: Spending,
    /// Type-II error of the design, `1 − power`.
    pub beta: f64,
    /// Whether the efficacy boundary counts on stopping at the futility boundary.
    pub binding: bool,
}

/// A group-sequential design on the information scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Information fractions of the looks, increasing, the last 1.
    pub fractions: Vec<f64>,
    /// One-sided level; for a two-sided design the total two-sided level.
    pub alpha: f64,
    /// Symmetric two-sided boundaries.
    pub two_sided: bool,
    /// The efficacy boundary.
    pub efficacy: Efficacy,
    /// Optional beta-spending futility boundary (one-sided designs only).
    pub futility: Option<BetaSpending>,
}

/// The boundaries of a design on the z scale.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Boundaries {
    /// Information fractions of the looks.
    pub fractions: Vec<f64>,
    /// Efficacy boundary per look: reject when `z ≥ c_k` (two-sided: `|z| ≥ c_k`).
    pub efficacy: Vec<f64>,
    /// Futility boundary per look: stop for futility when `z < a_k`; −∞ where there is none.
    /// With beta spending the last entry equals the last efficacy boundary.
    pub futility: Vec<f64>,
    /// Cumulative type-I error spent by each look (two-sided: both sides).
    pub cumulative_alpha: Vec<f64>,
    /// Nominal level of each look's boundary: `1 − Φ(c_k)` (two-sided: `2 (1 − Φ(c_k))`).
    pub nominal_alpha: Vec<f64>,
    /// Drift `δ = θ √I_K` at which the design has power `1 − β` (beta spending only).
    pub drift: Option<f64>,
    /// Symmetric two-sided boundaries.
    pub two_sided: bool,
    /// Whether the futility boundary binds.
    pub binding: bool,
}

/// Why a design has no boundaries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SequentialError {
    /// Fractions not strictly increasing within (0, 1].
    #[error("information fractions must increase strictly from above 0 to 1")]
    Fractions,
    /// α (or β) outside (0, 1).
    #[error("the level must lie strictly between 0 and 1")]
    Level,
    /// Futility boundaries for a two-sided design.
    #[error("futility boundaries are for one-sided designs")]
    TwoSidedFutility,
    /// The Haybittle–Peto interim boundary already spends all of α.
    #[error("the Haybittle–Peto interim boundaries spend more than alpha")]
    HaybittlePeto,
}

/// Stopping probabilities per look under one drift.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Crossing {
    /// Probability of stopping at each look by crossing the efficacy boundary.
    pub efficacy: Vec<f64>,
    /// Probability of stopping at each look by crossing the futility boundary (the last look's
    /// entry is the probability of ending without rejecting H0 there).
    pub futility: Vec<f64>,
    /// Two-sided designs: the probability of stopping at each look by crossing the lower
    /// boundary `−c_k`, a rejection in the direction opposite to a positive drift (rpact counts
    /// only `efficacy` as power; both count as stopping). Zero for one-sided designs.
    pub opposite: Vec<f64>,
}

impl Crossing {
    /// Probability of rejecting H0 at any look in the direction of the drift.
    pub fn power(&self) -> f64 {
        self.efficacy.iter().sum()
    }

    /// Probability of rejecting H0 at any look on either side (the type-I error under H0).
    pub fn rejection(&self) -> f64 {
        self.power() + self.opposite.iter().sum::<f64>()
    }

    /// Expected information fraction at stopping (the expected sample size over the maximum
    /// when information is proportional to the number observed).
    pub fn expected_fraction(&self, fractions: &[f64]) -> f64 {
        let k = fractions.len();
        let mut stop_before = 0.0;
        let mut e = 0.0;
        for i in 0..k - 1 {
            let p = self.efficacy[i] + self.futility[i] + self.opposite[i];
            e += p * fractions[i];
            stop_before += p;
        }
        e + (1.0 - stop_before) * fractions[k - 1]
    }
}

/// The sub-density of `Z_k` on the continuation region of look `k`, on a Simpson grid.
#[derive(Debug, Clone)]
struct Density {
    z: Vec<f64>,
    w: Vec<f64>,
    h: Vec<f64>,
    /// `√t_k` of the look the density belongs to.
    root_t: f64,
    t: f64,
}

/// The Jennison–Turnbull grid for a statistic with mean `mean` restricted to `(lo, hi)`, with
/// Simpson weights: `6r − 1` points, dense near the mean and logarithmically spread in the
/// tails, trimmed to the interval, with midpoints added.
fn grid(mean: f64, lo: f64, hi: f64, r: usize) -> (Vec<f64>, Vec<f64>) {
    if lo >= hi {
        return (Vec::new(), Vec::new());
    }
    let rf = r as f64;
    let mut x = Vec::with_capacity(6 * r);
    for i in 1..6 * r {
        let fi = i as f64;
        let v = if i < r {
            -3.0 - 4.0 * (rf / fi).ln()
        } else if i <= 5 * r {
            -3.0 + 3.0 * (fi - rf) / (2.0 * rf)
        } else {
            3.0 + 4.0 * (rf / (6.0 * rf - fi)).ln()
        };
        x.push(mean + v);
    }
    let mut pts = Vec::with_capacity(x.len() + 2);
    if lo > x[0] {
        pts.push(lo);
    }
    pts.extend(x.iter().copied().filter(|&v| v > lo && v < hi));
    if hi < x[x.len() - 1] {
        pts.push(hi);
    }
    if pts.len() < 2 {
        // The interval lies between two grid points: integrate it on its own ends.
        pts = vec![lo.max(x[0]), hi.min(x[x.len() - 1])];
        if pts[0] >= pts[1] {
            return (Vec::new(), Vec::new());
        }
    }
    let n = pts.len();
    let m = 2 * n - 1;
    let mut z = Vec::with_capacity(m);
    for i in 0..n {
        z.push(pts[i]);
        if i + 1 < n {
            z.push(0.5 * (pts[i] + pts[i + 1]));
        }
    }
    let mut w = vec![0.0; m];
    for i in 0..n - 1 {
        let d = z[2 * i + 2] - z[2 * i];
        w[2 * i] += d / 6.0;
        w[2 * i + 1] += 4.0 * d / 6.0;
        w[2 * i + 2] += d / 6.0;
    }
    (z, w)
}

fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// The recursion for one drift, look by look.
struct Recursion {
    drift: f64,
    r: usize,
    prev: Option<Density>,
}

impl Recursion {
    fn new(drift: f64, r: usize) -> Self {
        Self {
            drift,
            r,
            prev: None,
        }
    }

    /// P(continued so far and `Z_k ≥ b`) at the look with fraction `t`.
    fn upper(&self, t: f64, b: f64) -> f64 {
        if b == f64::INFINITY {
            return 0.0;
        }
        match &self.prev {
            None => norm_sf(b - self.drift * t.sqrt()),
            Some(d) => {
                let dt = t - d.t;
                let sd = dt.sqrt();
                let rt = t.sqrt();
                let mut s = 0.0;
                for i in 0..d.z.len() {
                    s += d.w[i]
                        * d.h[i]
                        * norm_sf((b * rt - d.z[i] * d.root_t - self.drift * dt) / sd);
                }
                s
            }
        }
    }

    /// P(continued so far and `Z_k < a`) at the look with fraction `t`.
    fn lower(&self, t: f64, a: f64) -> f64 {
        if a == f64::NEG_INFINITY {
            return 0.0;
        }
        match &self.prev {
            None => norm_cdf(a - self.drift * t.sqrt()),
            Some(d) => {
                let dt = t - d.t;
                let sd = dt.sqrt();
                let rt = t.sqrt();
                let mut s = 0.0;
                for i in 0..d.z.len() {
                    s += d.w[i]
                        * d.h[i]
                        * norm_cdf((a * rt - d.z[i] * d.root_t - self.drift * dt) / sd);
                }
                s
            }
        }
    }

    /// Moves on past the look with fraction `t`, continuing on `(lo, hi)`.
    fn advance(&mut self, t: f64, lo: f64, hi: f64) {
        let mean = self.drift * t.sqrt();
        let (z, w) = grid(mean, lo, hi, self.r);
        let rt = t.sqrt();
        let h: Vec<f64> = match &self.prev {
            None => z.iter().map(|&x| phi(x - mean)).collect(),
            Some(d) => {
                let dt = t - d.t;
                let sd = dt.sqrt();
                let scale = rt / sd;
                let a: Vec<f64> = (0..d.z.len()).map(|i| d.w[i] * d.h[i]).collect();
                let base: Vec<f64> =
                    d.z.iter()
                        .map(|&y| y * d.root_t + self.drift * dt)
                        .collect();
                z.iter()
                    .map(|&x| {
                        let xs = x * rt;
                        let mut s = 0.0;
                        for i in 0..a.len() {
                            s += a[i] * phi((xs - base[i]) / sd);
                        }
                        s * scale
                    })
                    .collect()
            }
        };
        self.prev = Some(Density {
            z,
            w,
            h,
            root_t: rt,
            t,
        });
    }
}

/// Solves `f(x) = target` for `f` decreasing in `x` on `[lo, hi]` by bisection to 1e-13.
fn solve_decreasing(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Boundaries of a design computed on its own fractions.
pub fn boundaries(design: &Design) -> Result<Boundaries, SequentialError> {
    boundaries_with_grid(design, GRID)
}

/// Boundaries with an explicit grid resolution (for the convergence test).
pub fn boundaries_with_grid(design: &Design, r: usize) -> Result<Boundaries, SequentialError> {
    let t = &design.fractions;
    let k = t.len();
    if k == 0 || t[0] <= 0.0 || (t[k - 1] - 1.0).abs() > 1e-12 || t.windows(2).any(|w| w[1] <= w[0])
    {
        return Err(SequentialError::Fractions);
    }
    if !(design.alpha > 0.0 && design.alpha < 1.0) {
        return Err(SequentialError::Level);
    }
    if design.two_sided && design.futility.is_some() {
        return Err(SequentialError::TwoSidedFutility);
    }
    match design.futility {
        None => {
            let efficacy = efficacy_bounds(design, &vec![f64::NEG_INFINITY; k], r)?;
            Ok(finish(
                design,
                efficacy,
                vec![f64::NEG_INFINITY; k],
                None,
                r,
            ))
        }
        Some(fut) => {
            if !(fut.beta > 0.0 && fut.beta < 1.0 - design.alpha) {
                return Err(SequentialError::Level);
            }
            let unbound = if fut.binding {
                None
            } else {
                Some(efficacy_bounds(design, &vec![f64::NEG_INFINITY; k], r)?)
            };
            let solve = |drift: f64| -> Result<(Vec<f64>, Vec<f64>, f64), SequentialError> {
                let (eff, futb) = futility_pass(design, fut, drift, unbound.as_deref(), r)?;
                let power = crossing_with_grid(t, &eff, &futb, design.two_sided, drift, r).power();
                Ok((eff, futb, power))
            };
            // Power increases with the drift; bisect on it.
            let (mut lo, mut hi) = (
                0.0,
                2.0 * (norm_quantile(1.0 - design.alpha) + norm_quantile(1.0 - fut.beta)) + 2.0,
            );
            while solve(hi)?.2 < 1.0 - fut.beta {
                hi *= 2.0;
            }
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if solve(mid)?.2 < 1.0 - fut.beta {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo < 1e-12 {
                    break;
                }
            }
            let drift = 0.5 * (lo + hi);
            let (eff, futb, _) = solve(drift)?;
            Ok(finish(design, eff, futb, Some(drift), r))
        }
    }
}

/// Boundaries re-computed by error spending on other fractions (those a trial observed), with
/// a beta-spending futility boundary kept at the drift `drift` of the planned design (the drift
/// is not solved again: the design's power refers to the planned information). `r` is the grid
/// resolution ([`GRID`] for reports; the engine may use a coarser one).
pub fn boundaries_at_drift(
    design: &Design,
    drift: Option<f64>,
    r: usize,
) -> Result<Boundaries, SequentialError> {
    match (design.futility, drift) {
        (Some(fut), Some(drift)) => {
            let t = &design.fractions;
            let k = t.len();
            if k == 0
                || t[0] <= 0.0
                || (t[k - 1] - 1.0).abs() > 1e-12
                || t.windows(2).any(|w| w[1] <= w[0])
            {
                return Err(SequentialError::Fractions);
            }
            let unbound = if fut.binding {
                None
            } else {
                Some(efficacy_bounds(design, &vec![f64::NEG_INFINITY; k], r)?)
            };
            let (eff, futb) = futility_pass(design, fut, drift, unbound.as_deref(), r)?;
            Ok(finish(design, eff, futb, Some(drift), r))
        }
        _ => boundaries_with_grid(design, r),
    }
}

/// Futility boundaries at the design's drift `drift`, on `design.fractions`, with the efficacy
/// boundaries given (non-binding) or computed alongside (binding).
fn futility_pass(
    design: &Design,
    fut: BetaSpending,
    drift: f64,
    efficacy: Option<&[f64]>,
    r: usize,
) -> Result<(Vec<f64>, Vec<f64>), SequentialError> {
    let t = &design.fractions;
    let k = t.len();
    let mut h0 = Recursion::new(0.0, r);
    let mut h1 = Recursion::new(drift, r);
    let mut eff = Vec::with_capacity(k);
    let mut futb = Vec::with_capacity(k);
    let mut spent_a = 0.0;
    let mut spent_b = 0.0;
    for i in 0..k {
        let b = match efficacy {
            Some(e) => e[i],
            None => {
                let target = efficacy_spend(design, t, i) - spent_a;
                let b = efficacy_bound(design, &h0, t, i, target);
                spent_a += h0.upper(t[i], b);
                b
            }
        };
        let a = if i + 1 == k {
            b
        } else {
            let target = fut.spending.spend(fut.beta, t[i]) - spent_b;
            let a = if target <= 0.0 {
                f64::NEG_INFINITY
            } else {
                solve_decreasing(|a| -h1.lower(t[i], a), -target, -40.0, 40.0)
            };
            a.min(b)
        };
        spent_b += h1.lower(t[i], a);
        eff.push(b);
        futb.push(a);
        if i + 1 < k {
            h0.advance(t[i], a, b);
            h1.advance(t[i], a, b);
        }
    }
    Ok((eff, futb))
}

/// Cumulative level the efficacy boundary may have spent by look `i` (Haybittle–Peto interim
/// looks spend what `z ≥ 3` spends: handled by the caller).
fn efficacy_spend(design: &Design, t: &[f64], i: usize) -> f64 {
    let level = if design.two_sided {
        design.alpha / 2.0
    } else {
        design.alpha
    };
    match design.efficacy {
        Efficacy::Spending(s) => s.spend(level, t[i]),
        Efficacy::HaybittlePeto => level,
    }
}

/// The efficacy boundary of look `i` that spends `target` (one side) given the recursion so far.
fn efficacy_bound(design: &Design, rec: &Recursion, t: &[f64], i: usize, target: f64) -> f64 {
    if matches!(design.efficacy, Efficacy::HaybittlePeto) && i + 1 < t.len() {
        return 3.0;
    }
    if target <= 0.0 {
        return f64::INFINITY;
    }
    solve_decreasing(|b| rec.upper(t[i], b), target, -40.0, 40.0)
}

/// Efficacy boundaries with the futility boundaries `futility` binding (−∞: none).
fn efficacy_bounds(
    design: &Design,
    futility: &[f64],
    r: usize,
) -> Result<Vec<f64>, SequentialError> {
    let t = &design.fractions;
    let k = t.len();
    let mut rec = Recursion::new(0.0, r);
    let mut out = Vec::with_capacity(k);
    let mut spent = 0.0;
    for i in 0..k {
        let target = efficacy_spend(design, t, i) - spent;
        if i + 1 == k && target <= 0.0 {
            return Err(SequentialError::HaybittlePeto);
        }
        let b = efficacy_bound(design, &rec, t, i, target);
        spent += rec.upper(t[i], b);
        out.push(b);
        if i + 1 < k {
            let lo = if design.two_sided { -b } else { futility[i] };
            rec.advance(t[i], lo, b);
        }
    }
    Ok(out)
}

fn finish(
    design: &Design,
    efficacy: Vec<f64>,
    futility: Vec<f64>,
    drift: Option<f64>,
    r: usize,
) -> Boundaries {
    let binding = design.futility.is_some_and(|f| f.binding);
    let counted: Vec<f64> = if binding {
        futility.clone()
    } else {
        vec![f64::NEG_INFINITY; futility.len()]
    };
    let c = crossing_with_grid(
        &design.fractions,
        &efficacy,
        &counted,
        design.two_sided,
        0.0,
        r,
    );
    let mut cum = 0.0;
    let cumulative_alpha = c
        .efficacy
        .iter()
        .zip(&c.opposite)
        .map(|(p, q)| {
            cum += p + q;
            cum
        })
        .collect();
    let nominal_alpha = efficacy
        .iter()
        .map(|&b| {
            if design.two_sided {
                2.0 * norm_sf(b)
            } else {
                norm_sf(b)
            }
        })
        .collect();
    Boundaries {
        fractions: design.fractions.clone(),
        efficacy,
        futility,
        cumulative_alpha,
        nominal_alpha,
        drift,
        two_sided: design.two_sided,
        binding,
    }
}

/// The drift `δ = θ √I_K` at which the boundaries reject H0 with probability `power`.
pub fn drift_for_power(b: &Boundaries, power: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while crossing(b, hi).power() < power && hi < 1e3 {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if crossing(b, mid).power() < power {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Stopping probabilities of boundaries at `drift` (on the boundaries' own fractions).
pub fn crossing(b: &Boundaries, drift: f64) -> Crossing {
    crossing_with_grid(
        &b.fractions,
        &b.efficacy,
        &b.futility,
        b.two_sided,
        drift,
        GRID,
    )
}

fn crossing_with_grid(
    t: &[f64],
    efficacy: &[f64],
    futility: &[f64],
    two_sided: bool,
    drift: f64,
    r: usize,
) -> Crossing {
    let k = t.len();
    let mut rec = Recursion::new(drift, r);
    let mut eff = Vec::with_capacity(k);
    let mut fut = Vec::with_capacity(k);
    let mut opposite = vec![0.0; k];
    for i in 0..k {
        let b = efficacy[i];
        let a = if two_sided { -b } else { futility[i] };
        let up = rec.upper(t[i], b);
        let low = rec.lower(t[i], a);
        eff.push(up);
        if two_sided {
            opposite[i] = low;
            fut.push(0.0);
        } else {
            fut.push(low);
        }
        if i + 1 < k {
            rec.advance(t[i], a, b);
        }
    }
    if two_sided || futility[k - 1] == f64::NEG_INFINITY {
        // Ending at the last look without rejecting is "not crossing" rather than futility.
        let stopped: f64 =
            eff.iter().sum::<f64>() + fut.iter().sum::<f64>() + opposite.iter().sum::<f64>();
        fut[k - 1] += (1.0 - stopped).max(0.0);
    }
    Crossing {
        efficacy: eff,
        futility: fut,
        opposite,
    }
}

/// Probability, under `drift`, of a result at least as extreme as `z` at look `stage` in the
/// stage-wise ordering: crossing the efficacy boundary at an earlier look, or reaching look
/// `stage` and seeing `Z ≥ z` there. Futility boundaries count only when `binding`.
pub fn stagewise_tail(b: &Boundaries, stage: usize, z: f64, drift: f64) -> f64 {
    let mut rec = Recursion::new(drift, GRID);
    let mut p = 0.0;
    for i in 0..=stage {
        let a = if b.binding {
            b.futility[i]
        } else {
            f64::NEG_INFINITY
        };
        if i == stage {
            p += rec.upper(b.fractions[i], z);
            break;
        }
        p += rec.upper(b.fractions[i], b.efficacy[i]);
        rec.advance(b.fractions[i], a, b.efficacy[i]);
    }
    p
}

/// Conditional power at a look with fraction `t` and statistic `z`, under the current trend
/// (drift estimated as `z / √t`), of crossing the last efficacy boundary `c_final`.
pub fn conditional_power(t: f64, z: f64, c_final: f64) -> f64 {
    if t >= 1.0 {
        return if z >= c_final { 1.0 } else { 0.0 };
    }
    let b = z * t.sqrt();
    norm_sf((c_final - b / t) / (1.0 - t).sqrt())
}

#[cfg(test)]
mod unit {
    use super::*;

    fn of(k: usize) -> Design {
        Design {
            fractions: (1..=k).map(|i| i as f64 / k as f64).collect(),
            alpha: 0.025,
            two_sided: false,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: None,
        }
    }

    #[test]
    fn final_look_spends_exactly_alpha() {
        let b = boundaries(&of(5)).unwrap();
        assert!(
            (b.cumulative_alpha[4] - 0.025).abs() < 1e-10,
            "{:?}",
            b.cumulative_alpha
        );
    }

    #[test]
    fn one_look_is_the_fixed_design() {
        let b = boundaries(&of(1)).unwrap();
        assert!((b.efficacy[0] - norm_quantile(0.975)).abs() < 1e-10);
    }

    #[test]
    fn grid_32_is_converged() {
        let mut d = of(5);
        d.futility = Some(BetaSpending {
            spending: Spending::Pocock,
            beta: 0.2,
            binding: true,
        });
        let a = boundaries_with_grid(&d, 32).unwrap();
        let b = boundaries_with_grid(&d, 128).unwrap();
        for i in 0..5 {
            assert!((a.efficacy[i] - b.efficacy[i]).abs() < 1e-7);
            assert!((a.futility[i] - b.futility[i]).abs() < 1e-7);
        }
    }
}
