//! Assurance: the probability that the trial succeeds, averaged over the uncertainty about its
//! parameters (O'Hagan, Stevens & Campbell 2005, "Assurance in clinical trial design").
//!
//! Replicate r first draws every uncertain parameter from its distribution of belief, with a
//! stream keyed by (seed, [`ASSURANCE_SCENARIO`], r), sets the values on a copy of the model
//! (through [`crate::params::set`], so a `rest` path follows a changed share), and then simulates
//! and analyses the trial with the ordinary stream (seed, 0, r), drawing what `power` draws (a
//! lean run). The trial draws are therefore the
//! same as those of `trialsim power` with the same seed: the difference between assurance and
//! power is estimated with common random numbers. The estimate is the share of replicates whose
//! first contrast rejects H0; its Monte Carlo standard error is binomial.

use rand::Rng;
use rand_distr::{Distribution as _, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

use super::{DesignError, Evaluation, evaluate, focus};
use crate::analysis::{Detail, PlanResult, run_plan_into_with};
use crate::model::{AnalysisId, Distribution, TrialModel, UncertainParameter};
use crate::params::{self, ParamError};
use crate::power::{CHUNK, MAX_REPLICATES, wilson};
use crate::sim::rng::replicate_rng;
use crate::sim::{SimOptions, Simulator};

/// Scenario key of the parameter-draw streams ("assuranc" in ASCII), distinct from the
/// trial's scenario 0.
pub const ASSURANCE_SCENARIO: u64 = 0x6173_7375_7261_6e63;

/// One uncertain parameter as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UncertainReport {
    /// Its path.
    pub parameter: String,
    /// The distribution of belief, in words (`uniform(20%, 35%)`).
    pub belief: String,
    /// Its central value (mean of a uniform or normal, median of a log-normal).
    pub central: f64,
    /// Its value in the spec.
    pub spec_value: f64,
}

/// Assurance beside power. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssuranceReport {
    /// Analysis name.
    pub analysis: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates run.
    pub replicates: u64,
    /// The uncertain parameters.
    pub parameters: Vec<UncertainReport>,
    /// Probability of success averaged over the uncertainty.
    pub assurance: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval.
    pub assurance_ci: (f64, f64),
    /// Power with every uncertain parameter at its central value (same seed).
    pub power_at_central: Evaluation,
    /// Power at the spec's own values (same seed).
    pub power_at_spec: Evaluation,
}

/// Describes a distribution of belief about a parameter, in the spec's units.
pub fn describe(d: &Distribution, percent: bool) -> String {
    let v = |x: f64| {
        if percent {
            super::pct(x)
        } else {
            format!("{x}")
        }
    };
    match d {
        Distribution::Uniform { low, high } => format!("uniform({}, {})", v(*low), v(*high)),
        Distribution::Normal { mean, sd } => format!("normal({}, {})", v(*mean), v(*sd)),
        Distribution::LogNormal { median, sigma } => {
            format!("lognormal(median {}, sigma {sigma})", v(*median))
        }
        Distribution::Fixed { value } => format!("fixed {}", v(*value)),
        Distribution::Categorical { levels } => {
            let parts: Vec<String> = levels
                .iter()
                .map(|l| format!("{}: {}", l.name, super::pct(l.probability)))
                .collect();
            format!("categorical {{ {} }}", parts.join(", "))
        }
        // Not a belief (only covariates are binned); described for completeness.
        Distribution::Binned { edges, .. } => format!("bins of {edges:?}"),
    }
}

/// The central value of a distribution of belief.
pub fn central(d: &Distribution) -> Option<f64> {
    match d {
        Distribution::Uniform { low, high } => Some(0.5 * (low + high)),
        Distribution::Normal { mean, .. } => Some(*mean),
        Distribution::LogNormal { median, .. } => Some(*median),
        Distribution::Fixed { value } => Some(*value),
        Distribution::Categorical { levels } => levels
            .iter()
            .map(|l| l.value.map(|v| v * l.probability))
            .sum(),
        Distribution::Binned { .. } => None,
    }
}

fn u01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Draws one value and hands it to `ok` (which sets it); normal and log-normal draws are redrawn
/// (up to 1000 times) until `ok` accepts one, so a belief is truncated to what the parameter
/// admits. `None` when no draw was accepted.
fn draw<R: Rng + ?Sized>(
    d: &Distribution,
    rng: &mut R,
    mut ok: impl FnMut(f64) -> bool,
) -> Option<f64> {
    for _ in 0..1000 {
        let value = match d {
            Distribution::Uniform { low, high } => low + (high - low) * u01(rng),
            Distribution::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + sd * z
            }
            Distribution::LogNormal { median, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                median * (sigma * z).exp()
            }
            Distribution::Fixed { value } => *value,
            Distribution::Categorical { levels } => {
                let u = u01(rng);
                let mut acc = 0.0;
                let mut chosen = levels.last().and_then(|l| l.value).unwrap_or(f64::NAN);
                for l in levels {
                    acc += l.probability;
                    if u < acc {
                        chosen = l.value.unwrap_or(f64::NAN);
                        break;
                    }
                }
                chosen
            }
            Distribution::Binned { .. } => return None,
        };
        if ok(value) {
            return Some(value);
        }
    }
    None
}

/// Checks that every uncertain parameter exists and that its belief stays within what the
/// parameter admits (both ends of a uniform, the central value otherwise).
pub fn validate(model: &TrialModel, uncertain: &[UncertainParameter]) -> Result<(), DesignError> {
    // Every parameter must take effect with the others set, too.
    let mut together = model.clone();
    for u in uncertain {
        let h = params::handle(model, &u.parameter)?;
        let c = central(&u.distribution).unwrap_or(h.param().value);
        // A central value out of range is reported below, with the belief.
        let _ = h.set(&mut together, c);
    }
    for u in uncertain {
        params::get(&together, &u.parameter)?;
    }
    for u in uncertain {
        params::get(model, &u.parameter)?;
        let probes: Vec<f64> = match &u.distribution {
            Distribution::Uniform { low, high } => {
                if high < low {
                    return Err(DesignError::new(format!(
                        "the belief about `{}` is uniform from {low} down to {high}",
                        u.parameter
                    )));
                }
                vec![*low, *high]
            }
            d => central(d).into_iter().collect(),
        };
        for v in probes {
            let mut probe = model.clone();
            if let Err(e) = params::set(&mut probe, &u.parameter, v) {
                return Err(match e {
                    ParamError::OutOfRange { expected, .. } => DesignError::with_help(
                        format!("the belief about `{}` reaches {v}", u.parameter),
                        format!("its values must be {expected}"),
                    ),
                    other => other.into(),
                });
            }
        }
    }
    Ok(())
}

/// Assurance of `analysis` (its first contrast) over the `uncertain` parameters.
pub fn run_assurance(
    model: &TrialModel,
    analysis: AnalysisId,
    uncertain: &[UncertainParameter],
    seed: u64,
    replicates: u64,
) -> Result<AssuranceReport, DesignError> {
    if replicates == 0 || replicates > MAX_REPLICATES {
        return Err(DesignError::new(format!(
            "--reps must be between 1 and {MAX_REPLICATES}"
        )));
    }
    let a = model
        .analyses
        .get(analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    validate(model, uncertain)?;
    let focused = focus(model, analysis);
    // Fail early (with the engine's message) if the model cannot be simulated at all.
    Simulator::new(&focused, SimOptions::default())?;

    // Resolved once: a belief is drawn even where another one's draw leaves it without effect.
    let handles = uncertain
        .iter()
        .map(|u| params::handle(&focused, &u.parameter))
        .collect::<Result<Vec<_>, _>>()?;
    let chunks = replicates.div_ceil(CHUNK);
    // A sharded run computes some chunks here and reads the others back at the merge.
    let fold = crate::shard::Fold::begin("assurance", chunks);
    let rejections: Result<Vec<u64>, DesignError> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            fold.chunk(
                chunk,
                || -> Result<u64, DesignError> {
                    let mut m = focused.clone();
                    let mut plan = PlanResult::default();
                    // One table for the whole chunk: drawn parameter values change rates and shares,
                    // never the table's shape (arms, variables, outcomes, flow counters), and
                    // `simulate` clears it first.
                    let mut worker = None;
                    let mut rejected = 0;
                    let first = chunk * CHUNK;
                    for r in first..(first + CHUNK).min(replicates) {
                        let mut prior = replicate_rng(seed, ASSURANCE_SCENARIO, r);
                        for (u, h) in uncertain.iter().zip(&handles) {
                            let set =
                                draw(&u.distribution, &mut prior, |v| h.set(&mut m, v).is_ok());
                            if set.is_none() {
                                return Err(DesignError::new(format!(
                                    "no value drawn from the belief about `{}` is admissible",
                                    u.parameter
                                )));
                            }
                        }
                        let sim = Simulator::new(
                            &m,
                            SimOptions {
                                lean: true,
                                ..SimOptions::default()
                            },
                        )?;
                        let w = worker.get_or_insert_with(|| sim.worker());
                        let mut rng = replicate_rng(seed, 0, r);
                        sim.simulate(w, &mut rng);
                        run_plan_into_with(&m, &w.table, &mut plan, Detail::Decisions);
                        let reject = plan
                            .analyses
                            .get(analysis)
                            .and_then(|a| a.contrasts.first())
                            .is_some_and(|c| c.reject);
                        rejected += u64::from(reject);
                    }
                    Ok(rejected)
                },
                || 0,
            )
        })
        .collect();
    let successes: u64 = rejections?.iter().sum();
    let p = successes as f64 / replicates as f64;

    let mut at_central = focused.clone();
    let mut parameters = Vec::new();
    for (u, h) in uncertain.iter().zip(&handles) {
        let param = params::get(model, &u.parameter)?;
        let c = central(&u.distribution).unwrap_or(param.value);
        h.set(&mut at_central, c)?;
        parameters.push(UncertainReport {
            parameter: u.parameter.clone(),
            belief: describe(&u.distribution, param.kind.is_percent()),
            central: c,
            spec_value: param.value,
        });
    }
    Ok(AssuranceReport {
        analysis: a.name.clone(),
        seed,
        replicates,
        parameters,
        assurance: p,
        mc_se: (p * (1.0 - p) / replicates as f64).sqrt(),
        assurance_ci: wilson(successes, replicates),
        power_at_central: evaluate(&at_central, analysis, seed, replicates)?,
        power_at_spec: evaluate(&focused, analysis, seed, replicates)?,
    })
}

/// Parses a command-line belief `PATH~uniform(A,B)`, `PATH~normal(MEAN,SD)` or `PATH~fixed(V)`
/// (percentages allowed: `arm.experiment.team_zorg.share~uniform(20%,35%)`).
pub fn parse_assume(model: &TrialModel, text: &str) -> Result<UncertainParameter, DesignError> {
    let form = "write PATH~uniform(LOW,HIGH) or PATH~normal(MEAN,SD), e.g. \
                arm.experiment.team_zorg.share~uniform(20%,35%)";
    let Some((path, dist)) = text.split_once('~') else {
        return Err(DesignError::with_help(
            format!("`{text}` is not a belief about a parameter"),
            form,
        ));
    };
    let path = path.trim();
    params::get(model, path)?;
    let dist = dist.trim();
    let (name, args) = dist
        .strip_suffix(')')
        .and_then(|d| d.split_once('('))
        .ok_or_else(|| DesignError::with_help(format!("`{dist}` is not a distribution"), form))?;
    let args: Vec<f64> = args
        .split(',')
        .map(|a| {
            let a = a.trim();
            match a.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
                None => a.parse::<f64>(),
            }
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| DesignError::with_help(format!("`{a}` is not a number"), form))
        })
        .collect::<Result<_, _>>()?;
    let distribution = match (name.trim(), args.as_slice()) {
        ("uniform", [low, high]) => Distribution::Uniform {
            low: *low,
            high: *high,
        },
        ("normal", [mean, sd]) if *sd > 0.0 => Distribution::Normal {
            mean: *mean,
            sd: *sd,
        },
        ("fixed", [value]) => Distribution::Fixed { value: *value },
        (other, _) => {
            return Err(DesignError::with_help(
                format!("`{other}({})` is not a supported belief", args.len()),
                form,
            ));
        }
    };
    let u = UncertainParameter {
        parameter: path.to_string(),
        distribution,
    };
    validate(model, std::slice::from_ref(&u))?;
    Ok(u)
}
