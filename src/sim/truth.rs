//! The exact expected value of every outcome measure, per arm (and per subgroup level), computed
//! from the prepared model without simulation: the participant-level process is a mixture of a
//! few profiles (path, exemption length, crossover target, level of the rate's covariate), each a
//! small Markov chain over months that is propagated exactly. This is the "true effect" the power
//! report compares estimates with, and the proportions behind the closed-form power.

use crate::model::{ArmId, Measure, OutcomeId, VarId};

use super::{DirectSampler, Schedule, Simulator};

/// Mean and variance of an outcome for one participant of an arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Expected value (the probability, for a binary outcome).
    pub mean: f64,
    /// Variance of one participant's value.
    pub variance: f64,
}

struct Profile {
    weight: f64,
    sched: Schedule,
}

impl Simulator<'_> {
    /// The exact mean and variance of `outcome` in `arm`, optionally within the subgroup
    /// `(variable, level)`. `None` when the model is outside what the exact computation covers
    /// (rates depending on two different covariates in one arm).
    pub fn expected(
        &self,
        arm: ArmId,
        outcome: OutcomeId,
        subgroup: Option<(VarId, usize)>,
    ) -> Option<Moments> {
        let plan = self.arms.get(arm)?;
        let measure = &self.model().outcomes.get(outcome)?.measure;
        // Outside the exact computation: competing exits, inflow (follow-up varies), and the
        // cluster effect on process measures (its mean is not the stated rate's in general).
        let delivery = &self.model().delivery;
        let direct = matches!(measure, Measure::DirectBinary | Measure::DirectContinuous);
        if matches!(measure, Measure::ExitedTo { .. })
            || plan.exits.is_some()
            || (delivery.inflow.is_some() && !direct)
            || (delivery.clusters.is_some() && !direct)
            || (self.queue.as_ref().is_some_and(|q| q.arm == arm) && !direct)
            // Covariate shifts (`depends on`) change the outcome's spread, and its mean where
            // eligibility truncates the covariate: simulated instead.
            || self
                .model()
                .covariate_effects
                .iter()
                .any(|e| e.outcome == outcome)
        {
            return None;
        }
        if matches!(measure, Measure::Wage { .. }) {
            // A wage is drawn per job, independently of everything else: among those in work
            // it has the wage distribution's moments in every arm and subgroup.
            let (m1, m2) = self.wage.as_ref()?.moments();
            return Some(Moments {
                mean: m1,
                variance: (m2 - m1 * m1).max(0.0),
            });
        }
        if matches!(measure, Measure::DirectBinary | Measure::DirectContinuous) {
            return match plan.direct.get(outcome)?.as_ref()? {
                DirectSampler::Binary(p) => Some(Moments {
                    mean: *p,
                    variance: p * (1.0 - p),
                }),
                DirectSampler::Continuous(d) => {
                    let (m1, m2) = d.moments();
                    Some(Moments {
                        mean: m1,
                        variance: m2 - m1 * m1,
                    })
                }
            };
        }
        let profiles = self.profiles(arm, subgroup)?;
        let q = 1.0 - (-plan.exit_c).exp();
        let (mut m1, mut m2) = (0.0, 0.0);
        for p in &profiles {
            let (a, b) = self.profile_moments(p, measure, plan.baseline, q);
            m1 += p.weight * a;
            m2 += p.weight * b;
        }
        Some(Moments {
            mean: m1,
            variance: (m2 - m1 * m1).max(0.0),
        })
    }

    fn profiles(&self, arm: ArmId, subgroup: Option<(VarId, usize)>) -> Option<Vec<Profile>> {
        let plan = &self.arms[arm];
        // The covariate the arm's rates depend on (at most one).
        let mut targets: Vec<(ArmId, usize)> = (0..plan.paths.len()).map(|p| (arm, p)).collect();
        for r in plan
            .dropout
            .iter()
            .map(|d| &d.1)
            .chain(plan.crossover.iter().map(|x| &x.1))
        {
            let t = &self.arms[r.arm];
            match r.path {
                Some(p) => targets.push((r.arm, p.min(t.paths.len() - 1))),
                None => targets.extend((0..t.paths.len()).map(|p| (r.arm, p))),
            }
        }
        let mut by: Option<VarId> = None;
        for &(a, p) in &targets {
            if let Some(v) = self.arms[a].paths[p].by {
                if by.is_some_and(|b| b != v) {
                    return None;
                }
                by = Some(v);
            }
        }
        // Path shares that depend on a covariate: the same one, or the profile cannot be exact.
        for &(a, _) in &targets {
            if let Some(b) = &self.arms[a].path_by {
                if by.is_some_and(|v| v != b.var) {
                    return None;
                }
                by = Some(b.var);
            }
        }
        let levels: Vec<(u32, f64)> = match (by, subgroup) {
            (None, _) => vec![(0, 1.0)],
            (Some(v), Some((sv, l))) if v == sv => vec![(l as u32, 1.0)],
            (Some(v), _) => self
                .eligible_level_probs(v)?
                .iter()
                .enumerate()
                .map(|(l, p)| (l as u32, *p))
                .collect(),
        };
        let c_of = |a: ArmId, p: usize, level: u32| {
            let path = &self.arms[a].paths[p];
            (path.delay, path.c_for(level))
        };
        let shares = |r: &crate::model::ProcessRef, level: u32| -> Vec<(usize, f64)> {
            let t = &self.arms[r.arm];
            match r.path {
                Some(p) => vec![(p.min(t.paths.len() - 1), 1.0)],
                None if t.paths.len() == 1 => vec![(0, 1.0)],
                None => t.shares_at(level).iter().copied().enumerate().collect(),
            }
        };
        let mut out = Vec::new();
        for &(level, pl) in &levels {
            if pl <= 0.0 {
                continue;
            }
            let d = plan.dropout.as_ref().map_or(0.0, |x| x.0);
            if let Some((_, to, ..)) = plan.dropout.as_ref().map(|x| (x.0, &x.1)) {
                for (tp, s) in shares(to, level) {
                    let (delay, c) = c_of(to.arm, tp, level);
                    let mut sched = Schedule::new();
                    sched.push(1 + delay, c);
                    out.push(Profile {
                        weight: pl * d * s,
                        sched,
                    });
                }
            }
            let own: Vec<(usize, f64)> = if plan.paths.len() == 1 {
                vec![(0, 1.0)]
            } else {
                plan.shares_at(level).iter().copied().enumerate().collect()
            };
            for (p, sp) in own {
                let (delay, c) = c_of(arm, p, level);
                let mut pauses = vec![(0u32, 1.0)];
                if let Some((e, max)) = plan.exemption
                    && e > 0.0
                {
                    // A pause of `horizon − delay` months or more starts the path after the
                    // horizon: all such pauses give the same profile, so they are merged (an
                    // exemption far longer than the follow-up then costs one profile, not one per month).
                    let cap = self.horizon.saturating_sub(delay).max(1);
                    let each = e / f64::from(max);
                    pauses = vec![(0, 1.0 - e)];
                    pauses.extend((1..=max.min(cap - 1)).map(|l| (l, each)));
                    if max >= cap {
                        pauses.push((cap, each * f64::from(max - cap + 1)));
                    }
                }
                for &(pause, wp) in &pauses {
                    let mut base = Schedule::new();
                    base.push(1 + pause + delay, c);
                    let w = pl * (1.0 - d) * sp * wp;
                    match &plan.crossover {
                        Some((x, to, after)) if *x > 0.0 => {
                            out.push(Profile {
                                weight: w * (1.0 - x),
                                sched: base,
                            });
                            for (tp, s) in shares(to, level) {
                                let (dt, ct) = c_of(to.arm, tp, level);
                                let mut sched = base;
                                sched.push(after + 1, 0.0);
                                sched.push(after + 1 + dt, ct);
                                out.push(Profile {
                                    weight: w * x * s,
                                    sched,
                                });
                            }
                        }
                        _ => out.push(Profile {
                            weight: w,
                            sched: base,
                        }),
                    }
                }
            }
        }
        Some(out)
    }

    /// (E[X], E[X²]) of a measure under one profile.
    fn profile_moments(&self, p: &Profile, measure: &Measure, b: f64, q: f64) -> (f64, f64) {
        let lambda = self.loss;
        let h_at = |t: u32| 1.0 - (-p.sched.c_at(t)).exp();
        // P(in work at month m): states unemployed (U), unemployed after a non-work exit (Ux),
        // employed (E), employed after an exit (Ex).
        let employed = |m: u32| -> f64 {
            let (mut u, mut ux, mut e, mut ex) = (1.0 - b, 0.0, b, 0.0);
            for t in 1..=m {
                let h = h_at(t);
                let nu = u * (1.0 - q) * (1.0 - h) + e * (1.0 - q) * lambda;
                let nux = ux + u * q + ex * lambda + e * q * lambda;
                let ne = u * (1.0 - q) * h + e * (1.0 - q) * (1.0 - lambda);
                let nex = ex * (1.0 - lambda) + e * q * (1.0 - lambda);
                (u, ux, e, ex) = (nu, nux, ne, nex);
            }
            e + ex
        };
        let bin = |x: f64| (x, x);
        match *measure {
            Measure::EmployedAt { month, min_hours } => {
                bin(employed(month) * self.hours.sf(min_hours))
            }
            Measure::Hours { month } => {
                let pe = employed(month);
                let (h1, h2) = self.hours.moments();
                (pe * h1, pe * h2)
            }
            Measure::Durable {
                month,
                consecutive,
                min_hours,
            } => {
                let first = i64::from(month) - i64::from(consecutive) + 1;
                if first < 0 {
                    return (0.0, 0.0);
                }
                let keep = (1.0 - lambda).powi(consecutive.saturating_sub(1) as i32);
                bin(employed(first as u32) * keep * self.hours.sf(min_hours))
            }
            Measure::WorkedWithin { within, min_hours } => {
                // Employed states split into qualifying (≥ min hours) and not; reaching a
                // qualifying job in months 1..=within absorbs.
                let g = self.hours.sf(min_hours);
                let (mut u, mut ux) = (1.0 - b, 0.0);
                let (mut eq, mut eqx) = (b * g, 0.0);
                let (mut en, mut enx) = (b * (1.0 - g), 0.0);
                let mut success = 0.0;
                for t in 1..=within {
                    let h = h_at(t);
                    let nu = u * (1.0 - q) * (1.0 - h) + (eq + en) * (1.0 - q) * lambda;
                    let nux = ux + u * q + (eqx + enx) * lambda + (eq + en) * q * lambda;
                    let neq = u * (1.0 - q) * h * g + eq * (1.0 - q) * (1.0 - lambda);
                    let neqx = eqx * (1.0 - lambda) + eq * q * (1.0 - lambda);
                    let nen = u * (1.0 - q) * h * (1.0 - g) + en * (1.0 - q) * (1.0 - lambda);
                    let nenx = enx * (1.0 - lambda) + en * q * (1.0 - lambda);
                    success += neq + neqx;
                    (u, ux, eq, eqx, en, enx) = (nu, nux, 0.0, 0.0, nen, nenx);
                }
                bin(success)
            }
            Measure::BenefitEnded { month } => {
                // Still on benefit: no exit and no job start yet (a job held at intake allowed).
                let (mut cu, mut ce) = (1.0 - b, b);
                for t in 1..=month {
                    let h = h_at(t);
                    let ncu = cu * (1.0 - q) * (1.0 - h) + ce * (1.0 - q) * lambda;
                    let nce = ce * (1.0 - q) * (1.0 - lambda);
                    (cu, ce) = (ncu, nce);
                }
                bin(1.0 - cu - ce)
            }
            Measure::Wage { .. }
            | Measure::DirectBinary
            | Measure::DirectContinuous
            | Measure::ExitedTo { .. } => (f64::NAN, f64::NAN),
        }
    }
}

/// The estimand by simulation, where [`Simulator::expected`] has no exact form (competing exits,
/// inflow, clusters): the mean of an outcome over the participants of many replicates of the
/// design itself, so that it means what the analysis of one trial estimates (each participant
/// followed as the design follows them, clusters drawn as the design draws them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedMoments {
    /// Mean over the pooled participants.
    pub mean: f64,
    /// Variance of one participant's value.
    pub variance: f64,
    /// Monte Carlo standard error of `mean`: the standard deviation of the replicates' own
    /// means over √replicates (replicates, not participants, are independent: participants
    /// of one cluster share its draw).
    pub mc_se: f64,
    /// Participants pooled.
    pub participants: u64,
}

/// One estimand wanted by [`Simulator::simulated_moments`]: an arm's outcome, in all of the arm or
/// within one level of a categorical covariate.
pub type ArmOutcome = (ArmId, OutcomeId, Option<(VarId, usize)>);

/// The master seed of the estimand's own streams: the estimand is a property of the model, the
/// same whatever seed the user gives.
pub const TRUTH_SEED: u64 = 0x7472_7574_685f_6573;

/// The scenario key of those streams (apart from every scenario a sweep uses).
const TRUTH_SCENARIO: u64 = u64::MAX - 1;

/// Replicates per parallel chunk of the estimand's simulation.
const TRUTH_CHUNK: u64 = 256;

impl Simulator<'_> {
    /// [`SimulatedMoments`] of each `(arm, outcome, subgroup)` in `wanted`, from replicates of
    /// this simulator's design until about `participants` have been drawn (at least two
    /// replicates). Deterministic: per-chunk sums are folded in chunk order.
    pub fn simulated_moments(
        &self,
        wanted: &[ArmOutcome],
        participants: u64,
    ) -> Vec<Option<SimulatedMoments>> {
        use rayon::prelude::*;

        let per_replicate = self.participants_per_replicate().max(1);
        let replicates = participants.div_ceil(per_replicate).clamp(2, 10_000_000);
        let chunks = replicates.div_ceil(TRUTH_CHUNK);
        // Per wanted: [replicates with a mean, Σ replicate means, Σ squared replicate means,
        // participants, Σ y, Σ y²].
        let sums: Vec<Vec<[f64; 6]>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut w = self.worker();
                let mut acc = vec![[0.0; 6]; wanted.len()];
                let first = c * TRUTH_CHUNK;
                for r in first..(first + TRUTH_CHUNK).min(replicates) {
                    let mut rng = super::rng::replicate_rng(TRUTH_SEED, TRUTH_SCENARIO, r);
                    self.simulate(&mut w, &mut rng);
                    for (k, &(arm, outcome, group)) in wanted.iter().enumerate() {
                        let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
                        let Some(col) = w.table.outcomes.get(outcome) else {
                            continue;
                        };
                        for (i, &y) in col.iter().enumerate() {
                            if w.table.arm[i] as usize != arm {
                                continue;
                            }
                            if let Some((v, l)) = group
                                && self.level(&w, i, v) as usize != l
                            {
                                continue;
                            }
                            if y.is_finite() {
                                n += 1.0;
                                s += y;
                                s2 += y * y;
                            }
                        }
                        if n > 0.0 {
                            let m = s / n;
                            let a = &mut acc[k];
                            a[0] += 1.0;
                            a[1] += m;
                            a[2] += m * m;
                            a[3] += n;
                            a[4] += s;
                            a[5] += s2;
                        }
                    }
                }
                acc
            })
            .collect();
        let mut total = vec![[0.0; 6]; wanted.len()];
        for part in &sums {
            for (t, p) in total.iter_mut().zip(part) {
                for (x, y) in t.iter_mut().zip(p) {
                    *x += y;
                }
            }
        }
        total
            .iter()
            .map(|t| {
                let [reps, sum_m, sum_m2, n, s, s2] = *t;
                if reps < 2.0 || n < 1.0 {
                    return None;
                }
                let mean = s / n;
                let rep_mean = sum_m / reps;
                let rep_var = ((sum_m2 - reps * rep_mean * rep_mean) / (reps - 1.0)).max(0.0);
                Some(SimulatedMoments {
                    mean,
                    variance: (s2 / n - mean * mean).max(0.0),
                    mc_se: (rep_var / reps).sqrt(),
                    participants: n as u64,
                })
            })
            .collect()
    }

    /// Participants one replicate draws: the fixed sample, or the pool before its funnel.
    pub(crate) fn participants_per_replicate(&self) -> u64 {
        match &self.population {
            super::Population::Fixed(v) => v.iter().map(|&n| u64::from(n)).sum(),
            super::Population::Pool(p) => *p,
        }
    }
}
