//! Population: the covariate samplers, drawn conditional on eligibility for a fixed sample (a
//! uniform truncated directly, categorical levels renormalised over the admitted ones, normal
//! and log-normal values redrawn until they pass) or unconditionally for a pool's funnel.

use rand::Rng;
use rand_distr::{Distribution as _, StandardNormal};

use super::*;

/// A numeric distribution ready to sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NumDist {
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Fixed(f64),
    /// Numeric levels of a categorical distribution: cumulative probabilities and values.
    Levels {
        cum: Vec<f64>,
        values: Vec<f64>,
    },
}

impl NumDist {
    pub(crate) fn from_model(d: &Distribution, what: &str) -> Result<Self, SimError> {
        Ok(match d {
            Distribution::Uniform { low, high } => Self::Uniform {
                low: *low,
                high: *high,
            },
            Distribution::Normal { mean, sd } => Self::Normal {
                mean: *mean,
                sd: *sd,
            },
            Distribution::LogNormal { median, sigma } => {
                if *median <= 0.0 {
                    return err(format!("{what}: a log-normal median must be positive"));
                }
                Self::LogNormal {
                    mu: median.ln(),
                    sigma: *sigma,
                }
            }
            Distribution::Fixed { value } => Self::Fixed(*value),
            Distribution::Binned { .. } => {
                return err(format!("{what}: bins are levels, not numbers"));
            }
            Distribution::Categorical { levels } => {
                let mut values = Vec::with_capacity(levels.len());
                for l in levels {
                    match l.value {
                        Some(v) => values.push(v),
                        None => {
                            return err(format!("{what}: level `{}` has no numeric value", l.name));
                        }
                    }
                }
                Self::Levels {
                    cum: cumulative(levels.iter().map(|l| l.probability)),
                    values,
                }
            }
        })
    }

    #[inline(always)]
    pub(crate) fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::Uniform { low, high } => low + (high - low) * u01(rng),
            Self::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + sd * z
            }
            Self::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Self::Fixed(v) => *v,
            Self::Levels { cum, values } => values[pick(cum, u01(rng))],
        }
    }

    /// P(X ≥ x).
    pub(crate) fn sf(&self, x: f64) -> f64 {
        match self {
            Self::Uniform { low, high } => {
                if x <= *low {
                    1.0
                } else if x >= *high {
                    0.0
                } else {
                    (high - x) / (high - low)
                }
            }
            Self::Normal { mean, sd } => 1.0 - norm_cdf((x - mean) / sd),
            Self::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    1.0
                } else {
                    1.0 - norm_cdf((x.ln() - mu) / sigma)
                }
            }
            Self::Fixed(v) => f64::from(u8::from(*v >= x)),
            Self::Levels { cum, values } => {
                let mut prev = 0.0;
                let mut p = 0.0;
                for (c, v) in cum.iter().zip(values) {
                    if *v >= x {
                        p += c - prev;
                    }
                    prev = *c;
                }
                p
            }
        }
    }

    /// E[X] and E[X²].
    pub(crate) fn moments(&self) -> (f64, f64) {
        match self {
            Self::Uniform { low, high } => (
                (low + high) / 2.0,
                (low * low + low * high + high * high) / 3.0,
            ),
            Self::Normal { mean, sd } => (*mean, mean * mean + sd * sd),
            Self::LogNormal { mu, sigma } => (
                (mu + sigma * sigma / 2.0).exp(),
                (2.0 * mu + 2.0 * sigma * sigma).exp(),
            ),
            Self::Fixed(v) => (*v, v * v),
            Self::Levels { cum, values } => {
                let (mut prev, mut m1, mut m2) = (0.0, 0.0, 0.0);
                for (c, v) in cum.iter().zip(values) {
                    m1 += (c - prev) * v;
                    m2 += (c - prev) * v * v;
                    prev = *c;
                }
                (m1, m2)
            }
        }
    }
}

/// How one covariate is drawn.
#[derive(Debug, Clone)]
pub(super) enum VarSampler {
    Categorical {
        /// Cumulative probabilities over all levels (pool draws).
        cum_all: Vec<f64>,
        /// Cumulative probabilities over the admitted levels only (conditional draws), as
        /// [`lt_bound`]s for [`pick_bits`].
        elig_lt: Vec<u64>,
        admitted: Vec<bool>,
        /// Level probabilities conditional on eligibility.
        probs_elig: Vec<f64>,
    },
    Numeric {
        dist: NumDist,
        /// The same distribution truncated to the criteria, when that can be done directly.
        truncated: Option<NumDist>,
        criteria: Vec<(Comparison, f64)>,
    },
    /// A variable derived from an earlier numeric one (`within educ bins [...)`): no draw of
    /// its own; its level is the bin holding the source's value ([`MISSING_CODE`] outside).
    Binned {
        source: VarId,
        edges: Vec<f64>,
        /// Bin probabilities conditional on eligibility (summing to less than 1 by the mass
        /// outside all bins).
        probs_elig: Vec<f64>,
    },
}

/// The code of the bin holding `x`, [`MISSING_CODE`] outside all bins (and for NaN).
#[inline]
pub(super) fn bin_code(edges: &[f64], x: f64) -> u32 {
    Distribution::bin_of(edges, x).map_or(MISSING_CODE, |b| b as u32)
}

/// The probability of each bin of `edges` under `dist` conditional on the criteria.
pub(super) fn bin_probs(dist: &NumDist, criteria: &[(Comparison, f64)], edges: &[f64]) -> Vec<f64> {
    let ok = |x: f64| VarSampler::numeric_ok(criteria, x);
    let bins = edges.len().saturating_sub(1);
    let mut p = vec![0.0; bins];
    let total = match dist {
        NumDist::Fixed(x) => {
            if let Some(b) = Distribution::bin_of(edges, *x).filter(|_| ok(*x)) {
                p[b] = 1.0;
            }
            1.0
        }
        NumDist::Levels { cum, values } => {
            let (mut prev, mut total) = (0.0, 0.0);
            for (c, &v) in cum.iter().zip(values) {
                let w = c - prev;
                prev = *c;
                if ok(v) {
                    total += w;
                    if let Some(b) = Distribution::bin_of(edges, v) {
                        p[b] += w;
                    }
                }
            }
            total
        }
        _ => {
            // Continuous: the criteria admit an interval (an equality has no mass).
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            for (op, v) in criteria {
                match op {
                    Comparison::Gt | Comparison::Ge => lo = lo.max(*v),
                    Comparison::Lt | Comparison::Le => hi = hi.min(*v),
                    Comparison::Eq => {}
                }
            }
            let between = |a: f64, b: f64| {
                if a < b {
                    (dist.sf(a) - dist.sf(b)).max(0.0)
                } else {
                    0.0
                }
            };
            for (b, w) in edges.windows(2).enumerate() {
                p[b] = between(w[0].max(lo), w[1].min(hi));
            }
            between(lo, hi)
        }
    };
    if total > 0.0 {
        p.iter_mut().for_each(|x| *x /= total);
    }
    p
}

impl VarSampler {
    pub(super) fn numeric_ok(criteria: &[(Comparison, f64)], x: f64) -> bool {
        criteria.iter().all(|(op, v)| op.holds(x, *v))
    }
}

/// Open bounds on ln x implied by the criteria (for a positive variable).
pub(super) fn log_bounds(criteria: &[(Comparison, f64)]) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for (op, v) in criteria {
        let l = if *v > 0.0 { v.ln() } else { f64::NEG_INFINITY };
        match op {
            Comparison::Gt | Comparison::Ge => lo = lo.max(l),
            Comparison::Lt | Comparison::Le => hi = hi.min(l),
            // An equality has probability zero; the exact check keeps it honest.
            Comparison::Eq => {}
        }
    }
    (lo, hi)
}

/// The distribution truncated to the criteria where that is direct (uniform, fixed), and the
/// share of the distribution the criteria admit.
pub(super) fn truncate(dist: &NumDist, criteria: &[(Comparison, f64)]) -> (Option<NumDist>, f64) {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut point = None;
    for (op, v) in criteria {
        match op {
            Comparison::Gt | Comparison::Ge => lo = lo.max(*v),
            Comparison::Lt | Comparison::Le => hi = hi.min(*v),
            Comparison::Eq => point = Some(*v),
        }
    }
    let mass = |d: &NumDist| -> f64 {
        if let Some(p) = point {
            return f64::from(u8::from(matches!(d, NumDist::Fixed(x) if *x == p)));
        }
        let below = |x: f64| 1.0 - d.sf(x);
        (below(hi) - below(lo)).max(0.0)
    };
    match dist {
        NumDist::Uniform { low, high } => {
            let (a, b) = (low.max(lo), high.min(hi));
            if point.is_some() || a >= b {
                (None, 0.0)
            } else {
                (
                    Some(NumDist::Uniform { low: a, high: b }),
                    (b - a) / (high - low),
                )
            }
        }
        NumDist::Fixed(x) => {
            let ok = criteria.iter().all(|(op, v)| op.holds(*x, *v));
            (None, f64::from(u8::from(ok)))
        }
        NumDist::Levels { values, .. } => {
            let ok = values
                .iter()
                .any(|x| criteria.iter().all(|(op, v)| op.holds(*x, *v)));
            (None, if ok { mass(dist).max(1e-3) } else { 0.0 })
        }
        _ => (None, mass(dist)),
    }
}

impl Simulator<'_> {
    /// Draws `n` participants' covariates conditional on eligibility, column by column.
    pub(super) fn draw_eligible<R: Rng + Clone>(&self, w: &mut Worker, n: usize, rng: &mut R) {
        for (v, s) in self.vars.iter().enumerate() {
            // Columns a lean run leaves missing are laid out once per worker.
            if !self.draw_var[v] {
                continue;
            }
            w.table.covariates[v].clear();
            match (s, &mut w.table.covariates[v]) {
                (VarSampler::Categorical { elig_lt, .. }, CovariateColumn::Categorical(col)) => {
                    draw_levels(elig_lt, n, col, rng);
                }
                (
                    VarSampler::Numeric {
                        dist,
                        truncated,
                        criteria,
                    },
                    CovariateColumn::Numeric(col),
                ) => match (truncated, dist) {
                    (Some(NumDist::Uniform { low, high }), _) => {
                        let (low, width) = (*low, high - low);
                        col.extend((0..n).map(|_| low + width * u01(rng)));
                    }
                    (_, NumDist::LogNormal { mu, sigma }) => {
                        // Criteria tested on the log scale, one exp per accepted value.
                        let (lo, hi) = log_bounds(criteria);
                        col.extend((0..n).map(|_| {
                            let mut tries = 0;
                            loop {
                                let z: f64 = StandardNormal.sample(rng);
                                let l = mu + sigma * z;
                                if (l > lo && l < hi) || tries >= 1_000_000 {
                                    break l.exp();
                                }
                                tries += 1;
                            }
                        }));
                        // Boundary values (x == bound) are left to the exact check below.
                        for x in col.iter_mut().rev().take(n) {
                            if !VarSampler::numeric_ok(criteria, *x) {
                                let mut y = dist.draw(rng);
                                let mut tries = 0;
                                while !VarSampler::numeric_ok(criteria, y) && tries < 1_000_000 {
                                    y = dist.draw(rng);
                                    tries += 1;
                                }
                                *x = y;
                            }
                        }
                    }
                    _ => {
                        let d = truncated.as_ref().unwrap_or(dist);
                        col.extend((0..n).map(|_| {
                            // Acceptance is at least 1e-4 (checked in `new`); the cap only
                            // guards against a pathological edge and keeps the last draw.
                            let mut x = d.draw(rng);
                            let mut tries = 0;
                            while !VarSampler::numeric_ok(criteria, x) && tries < 1_000_000 {
                                x = d.draw(rng);
                                tries += 1;
                            }
                            x
                        }));
                    }
                },
                _ => {}
            }
        }
        // Bins of a covariate drawn above (a derived variable comes after its source).
        for (v, s) in self.vars.iter().enumerate() {
            let VarSampler::Binned { source, edges, .. } = s else {
                continue;
            };
            if !self.draw_var[v] {
                continue;
            }
            let (before, after) = w.table.covariates.split_at_mut(v);
            if let (
                Some(CovariateColumn::Numeric(values)),
                Some(CovariateColumn::Categorical(col)),
            ) = (before.get(*source), after.first_mut())
            {
                col.clear();
                col.extend(values.iter().map(|&x| bin_code(edges, x)));
            }
        }
    }

    /// Draws a pool member into `w.cov`; returns whether all criteria hold.
    pub(super) fn draw_unconditional<R: Rng + ?Sized>(&self, w: &mut Worker, rng: &mut R) -> bool {
        let mut ok = true;
        for (v, s) in self.vars.iter().enumerate() {
            match s {
                VarSampler::Categorical {
                    cum_all, admitted, ..
                } => {
                    let l = pick(cum_all, u01(rng));
                    ok &= admitted[l];
                    w.cov[v] = l as f64;
                }
                VarSampler::Numeric { dist, criteria, .. } => {
                    let x = dist.draw(rng);
                    ok &= VarSampler::numeric_ok(criteria, x);
                    w.cov[v] = x;
                }
                VarSampler::Binned { source, edges, .. } => {
                    let x = w.cov.get(*source).copied().unwrap_or(f64::NAN);
                    w.cov[v] = f64::from(bin_code(edges, x));
                }
            }
        }
        ok
    }

    pub(super) fn push_cov(&self, w: &mut Worker) {
        for (v, col) in w.table.covariates.iter_mut().enumerate() {
            match col {
                CovariateColumn::Categorical(c) => c.push(w.cov[v] as u32),
                CovariateColumn::Numeric(c) => c.push(w.cov[v]),
            }
        }
    }

    pub(super) fn level(&self, w: &Worker, i: usize, v: VarId) -> u32 {
        match w.table.covariates.get(v) {
            Some(CovariateColumn::Categorical(c)) => c[i],
            _ => MISSING_CODE,
        }
    }
}
