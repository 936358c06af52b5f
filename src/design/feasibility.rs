//! Feasibility: can the pool fill the design?
//!
//! Covariates are independent (as in the engine), so a pool member meets every criterion with
//! probability `e` = the product over variables of P(the variable's criteria hold), computed from
//! each distribution's CDF (categorical levels summed). Paper screening removes each eligible
//! person independently with the planned loss `s`, so the number randomised is exactly
//! Binomial(pool, e(1 − s)); its spread and the probability that it fills the arms are computed
//! from that law, not simulated. Under allocation by ID parity each arm is a fair-coin split of
//! those randomised; under complete or blocked randomisation the arms are fixed shares of them.
//! Capacity (staff × caseload) and an intake rate give the concurrent slots and the months intake
//! takes for the treatment arm.
//!
//! [`pool_answer`] is the one place where the pool is judged against a design: `feasibility`,
//! `check`, `power`, `report` and the gallery all print its verdict, so they cannot disagree.

use serde::Serialize;
use statrs::function::factorial::ln_binomial;

use crate::model::{AssignmentRule, CriterionTest, Distribution, TrialModel};
use crate::stats::dist::norm_cdf;

/// The funnel and capacity check. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feasibility {
    /// Pool size, if the spec gives one.
    pub pool: Option<u64>,
    /// Probability that one pool member meets every criterion.
    pub eligible_share: f64,
    /// Each criterion's variable with the probability its criteria hold.
    pub criteria: Vec<(String, f64)>,
    /// Planned screening loss.
    pub screening_loss: f64,
    /// Observed screening loss, if recorded.
    pub observed_screening_loss: Option<f64>,
    /// Expected number eligible after criteria (before screening).
    pub expected_eligible: Option<f64>,
    /// Expected number randomised (after planned screening).
    pub expected_randomised: Option<f64>,
    /// Its standard deviation.
    pub sd_randomised: Option<f64>,
    /// 5 % and 95 % quantiles of the number randomised.
    pub randomised_90: Option<(u64, u64)>,
    /// Participants required per arm (model order), if the design fixes them.
    pub required: Option<Vec<u32>>,
    /// Probability that the funnel fills every arm with planned screening.
    pub probability_filled: Option<f64>,
    /// The same with the observed screening loss, if recorded.
    pub probability_filled_observed: Option<f64>,
    /// Whether the pool is enough for the required arms ([`pool_answer`]); `None` without a
    /// pool or without required arms.
    pub verdict: Option<PoolVerdict>,
    /// Concurrent slots (staff × caseload), if declared.
    pub slots: Option<u64>,
    /// Treatment-arm participants to take in.
    pub treatment_required: Option<u32>,
    /// Months intake takes for the treatment arm at the declared rate.
    pub months_intake: Option<f64>,
    /// Problems found, in words.
    pub flags: Vec<String>,
}

fn cdf(d: &Distribution, x: f64) -> Option<f64> {
    Some(match d {
        Distribution::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
        Distribution::Normal { mean, sd } => norm_cdf((x - mean) / sd),
        Distribution::LogNormal { median, sigma } => {
            if x <= 0.0 {
                0.0
            } else {
                norm_cdf((x / median).ln() / sigma)
            }
        }
        Distribution::Fixed { value } => {
            if x >= *value {
                1.0
            } else {
                0.0
            }
        }
        Distribution::Categorical { .. } | Distribution::Binned { .. } => return None,
    })
}

/// Probability that a pool member meets every criterion on variable `v`.
fn variable_share(model: &TrialModel, v: usize) -> f64 {
    use crate::model::Comparison::{Eq, Ge, Gt, Le, Lt};
    let Some(var) = model.population.variables.get(v) else {
        return 1.0;
    };
    let criteria: Vec<_> = model
        .eligibility
        .criteria
        .iter()
        .filter(|c| c.variable == v)
        .collect();
    if let Distribution::Categorical { levels } = &var.distribution {
        return levels
            .iter()
            .enumerate()
            .filter(|(li, l)| {
                criteria.iter().all(|c| match &c.test {
                    CriterionTest::InSet { levels } => levels.contains(li),
                    CriterionTest::Compare { op, value } => {
                        l.value.is_some_and(|x| op.holds(x, *value))
                    }
                })
            })
            .map(|(_, l)| l.probability)
            .sum();
    }
    if let Distribution::Fixed { value } = var.distribution {
        let ok = criteria.iter().all(|c| match &c.test {
            CriterionTest::Compare { op, value: bound } => op.holds(value, *bound),
            CriterionTest::InSet { .. } => false,
        });
        return if ok { 1.0 } else { 0.0 };
    }
    // Continuous: the criteria cut out one interval (ties have probability 0).
    let (mut low, mut high) = (f64::NEG_INFINITY, f64::INFINITY);
    for c in &criteria {
        match &c.test {
            CriterionTest::Compare { op: Gt | Ge, value } => low = low.max(*value),
            CriterionTest::Compare { op: Lt | Le, value } => high = high.min(*value),
            CriterionTest::Compare { op: Eq, .. } | CriterionTest::InSet { .. } => return 0.0,
        }
    }
    if high <= low {
        return 0.0;
    }
    let f = |x: f64| {
        if x == f64::NEG_INFINITY {
            0.0
        } else if x == f64::INFINITY {
            1.0
        } else {
            cdf(&var.distribution, x).unwrap_or(1.0)
        }
    };
    (f(high) - f(low)).max(0.0)
}

/// Binomial(n, p) probabilities.
fn binomial(n: u64, p: f64) -> Vec<f64> {
    if p <= 0.0 {
        let mut v = vec![0.0; n as usize + 1];
        v[0] = 1.0;
        return v;
    }
    if p >= 1.0 {
        let mut v = vec![0.0; n as usize + 1];
        v[n as usize] = 1.0;
        return v;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    (0..=n)
        .map(|k| (ln_binomial(n, k) + k as f64 * lp + (n - k) as f64 * lq).exp())
        .collect()
}

/// Largest pool for which the exact sums are done (above it, a normal approximation).
const EXACT_LIMIT: u64 = 5_000;

/// P(the funnel fills every arm) with retention probability `q` per pool member.
fn probability_filled(model: &TrialModel, pool: u64, q: f64, required: &[u32]) -> f64 {
    let total: u64 = required.iter().map(|&n| u64::from(n)).sum();
    let parity = match &model.assignment.rule {
        AssignmentRule::Parity { even, odd, .. } => Some((*even, *odd)),
        _ => None,
    };
    if pool > EXACT_LIMIT {
        let mean = pool as f64 * q;
        let sd = (pool as f64 * q * (1.0 - q)).sqrt().max(1e-9);
        return match parity {
            // Each arm is then Binomial(pool, q/2); the two are nearly independent.
            Some((e, o)) => {
                let arm_mean = mean / 2.0;
                let arm_sd = (pool as f64 * q / 2.0 * (1.0 - q / 2.0)).sqrt().max(1e-9);
                let need = |a: usize| f64::from(required.get(a).copied().unwrap_or(0));
                (1.0 - norm_cdf((need(e) - 0.5 - arm_mean) / arm_sd))
                    * (1.0 - norm_cdf((need(o) - 0.5 - arm_mean) / arm_sd))
            }
            None => 1.0 - norm_cdf((total as f64 - 0.5 - mean) / sd),
        };
    }
    let pmf = binomial(pool, q);
    match parity {
        Some((e, o)) => {
            let ne = u64::from(required.get(e).copied().unwrap_or(0));
            let no = u64::from(required.get(o).copied().unwrap_or(0));
            let mut p = 0.0;
            for (t, &pt) in pmf.iter().enumerate() {
                let t = t as u64;
                if pt < 1e-300 || t < ne + no {
                    continue;
                }
                let split = binomial(t, 0.5);
                let within: f64 = split[ne as usize..=(t - no) as usize].iter().sum();
                p += pt * within;
            }
            p.min(1.0)
        }
        None if total > pool => 0.0,
        None => pmf[total as usize..].iter().sum::<f64>().min(1.0),
    }
}

/// The probability of filling every arm at or above which a pool is called enough.
pub const POOL_FILL_TARGET: f64 = 0.8;

/// Whether a stated pool is enough for a design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolVerdict {
    /// The funnel fills every arm with probability at least [`POOL_FILL_TARGET`].
    Enough,
    /// It does not.
    TooSmall,
}

/// The pool judged against a number of participants per arm: the funnel's pass share (every
/// criterion, then the planned screening loss the engine uses), the candidates that many
/// randomised take on average, and, when the spec states a pool, the probability that it fills
/// every arm and the verdict. Every command that speaks of the pool takes it from here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolAnswer {
    /// Pool size, if the spec gives one.
    pub pool: Option<u64>,
    /// Participants required per arm (model order); empty when only the pass share is wanted.
    pub required: Vec<u32>,
    /// Probability that one pool member meets every criterion.
    pub eligible_share: f64,
    /// Planned screening loss.
    pub screening_loss: f64,
    /// Share of the pool randomised: eligible share × (1 − planned screening loss).
    pub pass_share: f64,
    /// Pool members it takes on average to randomise the required total (`None` when nobody
    /// passes).
    pub candidates: Option<f64>,
    /// Expected number randomised from the pool.
    pub expected_randomised: Option<f64>,
    /// Probability that the pool fills every arm with the planned screening loss.
    pub probability_filled: Option<f64>,
    /// The same with the observed screening loss, if recorded.
    pub probability_filled_observed: Option<f64>,
    /// Enough or too small, from `probability_filled`.
    pub verdict: Option<PoolVerdict>,
}

/// `pool 440: too small, P(fill) 0.0 %`: the words every command prints for a verdict.
fn verdict_words(pool: u64, filled: f64, verdict: PoolVerdict) -> String {
    let word = match verdict {
        PoolVerdict::Enough => "enough",
        PoolVerdict::TooSmall => "too small",
    };
    format!("pool {pool}: {word}, P(fill) {:.1} %", 100.0 * filled)
}

impl PoolAnswer {
    /// The verdict in words, e.g. `pool 440: too small, P(fill) 0.0 %`; `None` without a pool.
    pub fn verdict_text(&self) -> Option<String> {
        Some(verdict_words(
            self.pool?,
            self.probability_filled?,
            self.verdict?,
        ))
    }
}

impl Feasibility {
    /// The pool's verdict in the words of [`PoolAnswer::verdict_text`].
    pub fn pool_verdict_text(&self) -> Option<String> {
        Some(verdict_words(
            self.pool?,
            self.probability_filled?,
            self.verdict?,
        ))
    }
}

/// Probability that one pool member meets every eligibility criterion, with the share of each
/// variable that has criteria.
fn eligibility(model: &TrialModel) -> (f64, Vec<(String, f64)>) {
    let mut criteria = Vec::new();
    let mut eligible = 1.0;
    for (v, var) in model.population.variables.iter().enumerate() {
        if model.eligibility.criteria.iter().any(|c| c.variable == v) {
            let share = variable_share(model, v);
            eligible *= share;
            criteria.push((var.name.clone(), share));
        }
    }
    (eligible, criteria)
}

/// Months intake takes for `clients` of the arm that takes the caseload slots
/// ([`TrialModel::capacity_arm`]) at the spec's intake rate: ⌈clients / rate⌉. `check`,
/// `feasibility` and `power` all answer with this one function. `None` without a stated rate.
pub fn intake_months(model: &TrialModel, clients: f64) -> Option<f64> {
    model.intake_months(clients)
}

/// The pool of `model` judged against `required` participants per arm (model order).
pub fn pool_answer(model: &TrialModel, required: &[u32]) -> PoolAnswer {
    let (eligible, _) = eligibility(model);
    let screening = model.eligibility.screening.as_ref();
    let planned = screening.map_or(0.0, |s| s.planned_loss);
    let observed = screening.and_then(|s| s.observed_loss);
    let pass_share = eligible * (1.0 - planned);
    let total: u64 = required.iter().map(|&n| u64::from(n)).sum();
    let candidates = Some(total as f64 / pass_share).filter(|c| c.is_finite());
    let pool = model.population.pool;
    // With nothing required (only the pass share wanted) there is no fill probability.
    let counted = pool.filter(|_| !required.is_empty());
    let filled = counted.map(|n| probability_filled(model, n, pass_share, required));
    PoolAnswer {
        pool,
        required: required.to_vec(),
        eligible_share: eligible,
        screening_loss: planned,
        pass_share,
        candidates,
        expected_randomised: pool.map(|n| n as f64 * pass_share),
        probability_filled: filled,
        probability_filled_observed: counted
            .zip(observed)
            .map(|(n, obs)| probability_filled(model, n, eligible * (1.0 - obs), required)),
        verdict: filled.map(|p| {
            if p >= POOL_FILL_TARGET {
                PoolVerdict::Enough
            } else {
                PoolVerdict::TooSmall
            }
        }),
    }
}

fn quantile(pmf: &[f64], level: f64) -> u64 {
    let mut acc = 0.0;
    for (k, p) in pmf.iter().enumerate() {
        acc += p;
        if acc >= level {
            return k as u64;
        }
    }
    pmf.len().saturating_sub(1) as u64
}

/// The feasibility check of `model`, against `required` participants per arm (the spec's sample
/// when `None`); `treatment` is the arm that takes the case managers' capacity (callers pass
/// [`TrialModel::capacity_arm`], as `check` and `power` use).
pub fn feasibility(
    model: &TrialModel,
    required: Option<Vec<u32>>,
    treatment: usize,
) -> Feasibility {
    let (_, criteria) = eligibility(model);
    let observed = model
        .eligibility
        .screening
        .as_ref()
        .and_then(|s| s.observed_loss);
    let required = required.or_else(|| model.sample.clone());
    // The pool's share, mean and verdict are those of `pool_answer`; the spread is added here.
    let base = pool_answer(model, required.as_deref().unwrap_or(&[]));
    let (eligible, screening, q) = (base.eligible_share, base.screening_loss, base.pass_share);
    let answer = required.as_ref().map(|_| &base);
    let pool = base.pool;
    let mut flags = Vec::new();
    let expected_randomised = base.expected_randomised;
    let (mut sd, mut q90) = (None, None);
    if let (Some(pool), Some(mean)) = (pool, expected_randomised) {
        let n = pool as f64;
        sd = Some((n * q * (1.0 - q)).sqrt());
        if pool <= EXACT_LIMIT {
            let pmf = binomial(pool, q);
            q90 = Some((quantile(&pmf, 0.05), quantile(&pmf, 0.95)));
        }
        if let Some(a) = answer {
            let total: u64 = a.required.iter().map(|&x| u64::from(x)).sum();
            if mean < total as f64 {
                flags.push(format!(
                    "the pool of {pool} yields {mean:.0} randomised on average (eligible {}, \
                     screening loss {}), fewer than the {total} the design needs",
                    super::pct(eligible),
                    super::pct(screening)
                ));
            }
            if let (Some(PoolVerdict::TooSmall), Some(p)) = (a.verdict, a.probability_filled) {
                flags.push(format!(
                    "the probability that the pool fills every arm is only {}",
                    super::pct(p)
                ));
            }
        }
    } else {
        flags.push("the spec gives no pool size, so the funnel cannot be checked".into());
    }
    let capacity = model.assignment.capacity.as_ref();
    let slots = capacity.map(|c| u64::from(c.staff) * u64::from(c.caseload));
    let treatment_required = required.as_ref().and_then(|r| r.get(treatment).copied());
    let months_intake = treatment_required.and_then(|n| intake_months(model, f64::from(n)));
    if let (Some(slots), Some(n)) = (slots, treatment_required)
        && u64::from(n) > slots
    {
        flags.push(format!(
            "{n} participants in `{}` exceed the {slots} caseload slots (staff x caseload): intake \
             must be spread over time or the caseload raised",
            model.arms.get(treatment).map_or("", |a| a.name.as_str())
        ));
    }
    Feasibility {
        pool,
        eligible_share: eligible,
        criteria,
        screening_loss: screening,
        observed_screening_loss: observed,
        expected_eligible: pool.map(|p| p as f64 * eligible),
        expected_randomised,
        sd_randomised: sd,
        randomised_90: q90,
        required,
        probability_filled: answer.and_then(|a| a.probability_filled),
        probability_filled_observed: answer.and_then(|a| a.probability_filled_observed),
        verdict: answer.and_then(|a| a.verdict),
        slots,
        treatment_required,
        months_intake,
        flags,
    }
}
