//! Design exploration on top of the engine: sample-size search, parameter sweeps, assurance, the
//! dilution waterfall, feasibility of the eligible pool, and the design report.
//!
//! Every simulated figure here goes through [`crate::power::run_power`] (or, for assurance, the
//! same engine calls replicate by replicate) with the master seed and scenario 0, so replicate r
//! draws from the same stream whatever the sample size or parameter value: the points of a sweep
//! or a size search use common random numbers, and a sweep point equals `trialsim power` at the
//! same value and seed.

pub mod assurance;
pub mod explain;
pub mod feasibility;
pub mod mde;
pub mod report;
pub mod size;
pub mod sweep;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::model::{AnalysisId, TestKind, TrialModel};
use crate::power::{PowerSettings, run_power_until};
use crate::sim::{SimOptions, Simulator};
use crate::stats::power::{two_mean_normal_n, two_proportion_exact_n, two_proportion_normal_n};

/// Why a design question could not be answered; printed as a diagnostic with a hint.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(trialsim::design))]
pub struct DesignError {
    /// What is wrong.
    pub message: String,
    /// How to fix it, if known.
    #[help]
    pub help: Option<String>,
    /// The question is well posed but has no answer for this spec (no size reaches the target,
    /// no value of the parameter does): the commands exit 1 rather than 2.
    pub no_answer: bool,
}

impl DesignError {
    /// An error without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
            no_answer: false,
        }
    }

    /// An error with a hint.
    pub fn with_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: Some(help.into()),
            no_answer: false,
        }
    }

    /// A question without an answer for this spec, with what would give one.
    pub fn no_answer(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            no_answer: true,
            ..Self::with_help(message, help)
        }
    }
}

impl From<crate::sim::SimError> for DesignError {
    fn from(e: crate::sim::SimError) -> Self {
        Self::new(e.0)
    }
}

impl From<crate::params::ParamError> for DesignError {
    fn from(e: crate::params::ParamError) -> Self {
        match e {
            crate::params::ParamError::Unknown {
                path,
                suggestion: Some(s),
            } => Self::with_help(
                format!("no parameter `{path}` in this spec"),
                format!("did you mean `{s}`?"),
            ),
            crate::params::ParamError::Overridden {
                path,
                reason,
                effective,
            } => Self::with_help(
                format!("`{path}` takes no effect in this spec: {reason}"),
                crate::params::vary_instead(&effective).unwrap_or_else(|| {
                    "`trialsim sweep FILE --list` shows every parameter that takes effect".into()
                }),
            ),
            other => Self::with_help(
                other.to_string(),
                "`trialsim sweep FILE --list` shows every parameter with its value",
            ),
        }
    }
}

/// The analysis a design question is about: the one named, else the one marked `(primary)`,
/// else the first.
pub fn analysis_index(model: &TrialModel, name: Option<&str>) -> Result<AnalysisId, DesignError> {
    if model.analyses.is_empty() {
        return Err(DesignError::new("the spec declares no analysis"));
    }
    let Some(name) = name else {
        return Ok(model.primary_index());
    };
    if let Some(i) = model.analyses.iter().position(|a| a.name == name) {
        return Ok(i);
    }
    let names: Vec<&str> = model.analyses.iter().map(|a| a.name.as_str()).collect();
    let best = names
        .iter()
        .map(|n| (strsim::jaro_winkler(name, n), *n))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n);
    Err(DesignError::with_help(
        format!("no analysis `{name}` in this spec"),
        match best {
            Some(b) => format!("did you mean `{b}`? (analyses: {})", names.join(", ")),
            None => format!("the analyses are: {}", names.join(", ")),
        },
    ))
}

/// A copy of `model` without expectations, uncertain parameters or a data mapping: what a design
/// run simulates. The analyses and outcomes stay, because the engine draws only what the plan
/// needs, so dropping any would change the streams and a point would no longer equal
/// `trialsim power` with the same seed.
pub fn focus(model: &TrialModel, _analysis: AnalysisId) -> TrialModel {
    let mut m = model.clone();
    m.expectations.clear();
    m.uncertain.clear();
    m.data = None;
    m
}

/// Power of the first contrast of a focused model's analysis, simulated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Share of replicates rejecting H0.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval of the power.
    pub power_ci: (f64, f64),
    /// Replicates run.
    pub replicates: u64,
    /// The exact effect the model implies (treatment minus control), if computable.
    pub true_effect: Option<f64>,
    /// Exact treatment-arm mean (a proportion for binary outcomes).
    pub true_treatment: Option<f64>,
    /// Exact control-arm mean.
    pub true_control: Option<f64>,
    /// `exact`, or `simulated` where the design has no exact form (exits, inflow, clusters, a
    /// queue): see [`crate::power::ContrastReport::truth`].
    pub truth: &'static str,
    /// Costs and savings at this point, when the spec states costs for this analysis (so that
    /// varying a cost figure shows its effect); absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub economics: Option<PointEconomics>,
}

/// The economics of one design point (see [`crate::economics`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PointEconomics {
    /// Programme cost (euro).
    pub cost: f64,
    /// The effect at which savings equal the cost.
    pub break_even_effect: f64,
    /// Cost per extra exit at the true (or mean estimated) effect; None when it is not positive.
    pub cost_per_extra_exit: Option<f64>,
    /// Net saving at that effect (euro).
    pub net_saving: f64,
    /// Share of replicates whose estimated effect reaches the break-even effect.
    pub p_break_even: f64,
}

/// The flag that stops design runs (set by Ctrl-C in the command line), if one is installed.
static STOP: OnceLock<&'static AtomicBool> = OnceLock::new();
/// Where a search reports each evaluation (a progress line), if anywhere.
type Progress = Box<dyn Fn(&str) + Send + Sync>;
static PROGRESS: OnceLock<Progress> = OnceLock::new();

/// Lets `flag` stop every design run of this process: once it is set, [`evaluate`] stops after
/// its current batch of replicates and fails, and the searches and sweeps report what they had.
pub fn stop_on(flag: &'static AtomicBool) {
    let _ = STOP.set(flag);
}

/// Whether a stop has been asked for (see [`stop_on`]).
pub fn stopped() -> bool {
    STOP.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Sends each search step's one-line summary to `show` (a spinner's message).
pub fn report_progress(show: Progress) {
    let _ = PROGRESS.set(show);
}

/// Shows one line of progress, if anyone listens.
pub(crate) fn progress(line: &str) {
    if let Some(show) = PROGRESS.get() {
        show(line);
    }
}

/// Simulates `model` (already [`focus`]ed) with scenario 0 and reads the first contrast of
/// `analysis`. Fails without a figure once a stop is asked for ([`stop_on`]).
pub fn evaluate(
    model: &TrialModel,
    analysis: AnalysisId,
    seed: u64,
    replicates: u64,
) -> Result<Evaluation, DesignError> {
    let settings = PowerSettings {
        seed,
        replicates,
        n_per_arm: None,
        scenario: 0,
    };
    let never = AtomicBool::new(false);
    let stop = STOP.get().copied().unwrap_or(&never);
    let report = run_power_until(model, &settings, &|_| {}, stop)?;
    if report.interrupted {
        return Err(DesignError::new("interrupted"));
    }
    let contrast = report
        .analyses
        .get(analysis)
        .and_then(|a| a.contrasts.first())
        .ok_or_else(|| DesignError::new("the analysis has no contrast"))?;
    // An analysis with interim looks is powered as the group-sequential design it is: the
    // probability of crossing an efficacy boundary at some look, not of one final test.
    let (power, mc_se, power_ci) = if model.analyses[analysis].sequential.is_some() {
        let seq = crate::sequential::run_sequential(model, analysis, &settings)?;
        let rejections = (seq.power.value * seq.replicates as f64).round() as u64;
        (
            seq.power.value,
            seq.power.mc_se,
            crate::power::wilson(rejections, seq.replicates),
        )
    } else {
        (contrast.power, contrast.mc_se, contrast.power_ci)
    };
    Ok(Evaluation {
        power,
        mc_se,
        power_ci,
        replicates: report.replicates,
        true_effect: contrast.true_effect,
        true_treatment: contrast.true_treatment,
        true_control: contrast.true_control,
        truth: contrast.truth,
        economics: report
            .economics
            .as_ref()
            .filter(|e| e.analysis == model.analyses[analysis].name)
            .map(|e| PointEconomics {
                cost: e.cost,
                break_even_effect: e.break_even_effect,
                cost_per_extra_exit: e.cost_per_extra_exit,
                net_saving: e.net_saving,
                p_break_even: e.p_break_even,
            }),
    })
}

/// `model` with `n × ratio[i]` participants in arm `i` (arms in declaration order).
pub fn with_sizes(model: &TrialModel, n: u32, ratio: &[u32]) -> TrialModel {
    let mut m = model.clone();
    m.sample = Some(
        (0..model.arms.len())
            .map(|i| n.saturating_mul(ratio.get(i).copied().unwrap_or(1)))
            .collect(),
    );
    m
}

/// Exact arm means of the first contrast of `analysis` (treatment, control, and their standard
/// deviations), computed from the model without simulation.
pub fn exact_means(model: &TrialModel, analysis: AnalysisId) -> Option<[f64; 4]> {
    let a = model.analyses.get(analysis)?;
    let outcome = *a.outcomes.first()?;
    // A sample is needed to prepare the engine; the means do not depend on its size.
    let sized;
    let m = if model.sample.is_none() && model.population.pool.is_none() {
        sized = with_sizes(model, 100, &[]);
        &sized
    } else {
        model
    };
    let sim = Simulator::new(m, SimOptions::default()).ok()?;
    let subgroup = a.within.zip(a.levels.first().copied());
    let t = sim.expected(a.treatment, outcome, subgroup)?;
    let c = sim.expected(a.control, outcome, subgroup)?;
    Some([t.mean, c.mean, t.variance.sqrt(), c.variance.sqrt()])
}

/// Fewest replicates expected to fall on the rarer side of the target (to miss it, near a
/// target power of 1): below this, a confirming estimate of `R` replicates cannot tell the target
/// from its neighbours, and a search answers where every replicate happens to reject.
pub const MIN_EXPECTED_MISSES: f64 = 10.0;

/// Checks that a search with `replicates` per confirming evaluation can resolve `target`:
/// `min(target, 1 − target) × replicates ≥` [`MIN_EXPECTED_MISSES`]. `closed` names what a
/// formula answers, for the help.
pub fn check_resolvable(
    target: f64,
    replicates: u64,
    closed: Option<String>,
) -> Result<(), DesignError> {
    let rare = target.min(1.0 - target);
    let expected = rare * replicates as f64;
    if expected >= MIN_EXPECTED_MISSES {
        return Ok(());
    }
    // Two significant figures: the float of `1 − target` is not exact (1 − 0.999999999).
    let exact = MIN_EXPECTED_MISSES / rare;
    let unit = 10f64.powf(exact.log10().floor() - 1.0).max(1.0);
    let needed = (exact / unit).round() * unit;
    let more = if needed <= crate::power::MAX_REPLICATES as f64 {
        format!("at least --reps {needed:.0}")
    } else {
        format!(
            "at least {needed:.0} replicates, more than the limit of {}",
            crate::power::MAX_REPLICATES
        )
    };
    let mut help = format!(
        "a confirming evaluation needs {more}, so that about {MIN_EXPECTED_MISSES:.0} replicates \
         are expected to miss the target"
    );
    if let Some(c) = closed {
        help.push_str(&format!("; or use the closed form: {c}"));
    }
    Err(DesignError::with_help(
        format!(
            "the simulation cannot resolve a target power of {} with {replicates} replicates: \
             it expects {} of them to miss it, so it would answer where every \
             replicate happens to reject",
            pct_fine(target),
            if expected >= 0.01 {
                format!("{expected:.2}")
            } else {
                format!("{expected:.1e}")
            }
        ),
        help,
    ))
}

/// A power with as many decimals as it needs (99.9999999 %).
fn pct_fine(x: f64) -> String {
    let s = format!("{:.10}", 100.0 * x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// Sample sizes from formulas, beside the simulated one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClosedForm {
    /// Exact treatment-arm proportion or mean the model implies.
    pub treatment: f64,
    /// Exact control-arm proportion or mean.
    pub control: f64,
    /// Normal-approximation n per ratio unit before rounding up.
    pub normal_n_unrounded: f64,
    /// Normal-approximation n per ratio unit, rounded up.
    pub normal_n: Option<u32>,
    /// First n per arm at which the exact power of the z test reaches the target (equal arms,
    /// z tests on proportions only).
    pub exact_n: Option<u32>,
}

/// Closed-form sample sizes for `analysis` at `target` power, where a formula applies: one
/// contrast (one outcome, no subgroups), a two-proportion z test or a Welch test of means.
/// `ratio` holds integer weights per arm in declaration order.
pub fn closed_form(
    model: &TrialModel,
    analysis: AnalysisId,
    target: f64,
    ratio: &[u32],
) -> Option<ClosedForm> {
    let a = model.analyses.get(analysis)?;
    if a.outcomes.len() != 1 || a.within.is_some() || model.loses_outcomes(a) {
        return None;
    }
    let [pt, pc, sdt, sdc] = exact_means(model, analysis)?;
    let wt = f64::from(ratio.get(a.treatment).copied().unwrap_or(1));
    let wc = f64::from(ratio.get(a.control).copied().unwrap_or(1));
    let binary = model.outcomes.get(*a.outcomes.first()?)?.is_binary();
    let n_c = match (binary, a.test) {
        (true, TestKind::PooledZ | TestKind::UnpooledZ) => {
            two_proportion_normal_n(pc, pt, a.alpha, a.sides, target, wt / wc)
        }
        (false, TestKind::WelchT) => {
            two_mean_normal_n(pt - pc, sdt, sdc, a.alpha, a.sides, target, wt / wc)
        }
        _ => return None,
    };
    if !n_c.is_finite() || n_c.is_nan() {
        return None;
    }
    let unit = n_c / wc;
    let varies = Simulator::new(&with_sizes(model, 10, ratio), SimOptions::default())
        .is_ok_and(|s| s.arm_sizes_vary());
    let exact_n = if binary && wt == wc && varies {
        // The rule lets the arm sizes vary: the first n per arm whose exact power, averaged
        // over the sizes the rule gives, reaches the target (scanned upwards from half the
        // normal answer, as for fixed sizes).
        let start = ((unit * wc / 2.0).floor() as u32).max(1);
        (start..=20_000u32)
            .find(|&n| {
                closed_form_power_of(model, analysis, &with_sizes(model, n, ratio))
                    .and_then(|p| p.1)
                    .is_some_and(|p| p >= target)
            })
            .map(|n| n.max(1))
    } else if binary && wt == wc && matches!(a.test, TestKind::PooledZ | TestKind::UnpooledZ) {
        two_proportion_exact_n(
            pc,
            pt,
            a.alpha,
            a.sides,
            a.test == TestKind::PooledZ,
            target,
            20_000,
        )
        .and_then(|n| u32::try_from(n).ok())
        .map(|n| n.div_ceil(wc as u32).max(1))
    } else {
        None
    };
    Some(ClosedForm {
        treatment: pt,
        control: pc,
        normal_n_unrounded: unit,
        normal_n: (unit.ceil() < 1e9).then_some(unit.ceil().max(1.0) as u32),
        exact_n,
    })
}

/// Normal-approximation and exact power of a single whole-arm contrast on proportions at the
/// given arm sizes, from the model's exact proportions, by the formulas of the analysis' test
/// ([`crate::analysis::power`]); `None` where no normal formula applies.
///
/// The sizes are those randomised: where the rule lets the arm sizes vary (parity, blocks), both
/// powers are averaged over the law of the sizes it gives.
pub fn closed_form_power(
    model: &TrialModel,
    analysis: AnalysisId,
    n_treatment: u32,
    n_control: u32,
) -> Option<(f64, Option<f64>)> {
    let a = model.analyses.get(analysis)?;
    let mut sized = model.clone();
    let mut sizes = model
        .sample
        .clone()
        .unwrap_or_else(|| vec![n_treatment; model.arms.len()]);
    *sizes.get_mut(a.treatment)? = n_treatment;
    *sizes.get_mut(a.control)? = n_control;
    sized.sample = Some(sizes);
    closed_form_power_of(model, analysis, &sized)
}

/// [`closed_form_power`] at the sample of `sized` (`model` with its sample set).
fn closed_form_power_of(
    model: &TrialModel,
    analysis: AnalysisId,
    sized: &TrialModel,
) -> Option<(f64, Option<f64>)> {
    use crate::analysis::{Effect, exact_power};
    let a = model.analyses.get(analysis)?;
    if a.outcomes.len() != 1 || a.within.is_some() || model.loses_outcomes(a) {
        return None;
    }
    if !model.outcomes.get(*a.outcomes.first()?)?.is_binary() {
        return None;
    }
    let [p_t, p_c, ..] = exact_means(model, analysis)?;
    let effect = Effect::Proportions { p_c, p_t };
    let law = Simulator::new(sized, SimOptions::default())
        .ok()?
        .arm_size_law(a.treatment, a.control)?;
    let normal = crate::power::average_over(&law, |nt, nc| {
        crate::analysis::closed_form_power(a, effect, f64::from(nc), f64::from(nt))
    })?;
    let exact = crate::power::average_over(&law, |nt, nc| {
        exact_power(a, effect, u64::from(nc), u64::from(nt))
    });
    Some((normal, exact))
}

/// Formats a probability as a percentage with up to two decimals (`25%`, `11.67%`).
pub fn pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}
