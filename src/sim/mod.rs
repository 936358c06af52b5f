//! The Monte Carlo engine: one replicate of a checked [`TrialModel`] into a [`ParticipantTable`].
//!
//! The engine sees only the model. [`Simulator::new`] prepares it once (calibrated hazards,
//! truncated covariate samplers); [`Simulator::simulate`] then draws one replicate into a reusable
//! [`Worker`] without allocating per participant. Parallel runs, seeding and the aggregation over
//! replicates live in [`crate::power`]; random streams in [`rng`].
//!
//! # The process model
//!
//! **Population.** Covariates are independent, each drawn from its declared distribution.
//! - *Fixed sample* (`sample N per arm` in the spec, or `--n-per-arm N`): every arm gets exactly
//!   its N participants, and each covariate is drawn from its distribution *conditional on the
//!   eligibility criteria* (uniforms are truncated directly, categorical levels renormalised over
//!   the admitted levels, normal and log-normal values redrawn until they pass). Screening loss
//!   and the assignment rule do not change a fixed sample (arm sizes are given, covariates are
//!   independent of the arm), so they are not simulated.
//! - *Pool and funnel* (a `pool` and no `sample`): each of the pool's people is drawn
//!   unconditionally, kept when all criteria hold, then removed by paper screening with the
//!   *planned* loss, then assigned: by ID parity (a fair coin each, so arm sizes vary), complete
//!   randomisation (exact arm sizes in the ratio, largest remainder, a random permutation), or
//!   permuted blocks within strata (blocks filled in pool order within each stratum; the last
//!   block of a stratum may stay incomplete).
//!
//! **Intake.** The clock of every participant starts at their own intake (t = 0), as in Almere, so
//! intake order and capacity do not change outcomes; they feed the flows report (slots =
//! staff × caseload, months needed to take the largest arm in at the declared intake rate).
//!
//! **Flows, per participant,** in this order of draws:
//! 1. *Baseline employment*: in work in month 0 with the arm's share, with a job spell as below.
//! 2. *Dropout before intake* (with its share): the participant stays in the assigned arm for the
//!    analysis (intention to treat) but follows the referenced process instead: that arm's path
//!    (drawn by that arm's shares when no path is named), with its rate and delay. Dropouts take
//!    no sub-path, no exemption and no crossover of their own arm; their path column is missing.
//! 3. *Sub-path* by the arm's shares (Team Zorg / guided).
//! 4. *Temporary exemption* (with its share): the length is uniform on 1..=max months; the work
//!    process is paused (job-start hazard zero) for those months from intake, then the path
//!    starts, delay included. The path's calibration refers to non-exempt participants, so
//!    exemption lowers the arm's realised rate.
//! 5. *Crossover* (with its share): after `after` months the participant's job-start hazard
//!    becomes the target process's (target path drawn by the target arm's shares when not named);
//!    the target path's delay counts from the crossover. Analysed in the assigned arm.
//! 6. *Competing non-work exit*: a month X drawn from the geometric law with
//!    P(X ≤ m) = the stated probability within m months. No job starts in month X or later;
//!    a job already running goes on until it ends.
//! 7. *Loss to follow-up* (arms that declare it), after everything else, measures included: the
//!    month of loss L = ⌈E / c⌉ ≥ 1 from one uniform, with the arm's hazard c (at the
//!    participant's level, when the share differs by a covariate; times the factor when the
//!    outcome it depends on is 1); every outcome measured in month L or later becomes missing
//!    (NaN), and the participant counts as lost when L is at most the stated month. See
//!    [`crate::model::LostToFollowUp`].
//!
//! **Employment process.** Months 1..=H (H = the follow-up, or the latest month a measure needs).
//! Someone out of work in month t−1 starts a job in month t with the path's monthly hazard h
//! (zero during a delay, an exemption, or after a non-work exit); someone in work in month t−1
//! loses the job in month t with the monthly job-loss probability λ, and can start again from
//! month t+1. Every job spell draws its hours per month once (and its hourly wage, if declared).
//! Event times are drawn directly, not month by month: with E ~ Exp(1), the start is the first
//! month where the cumulative hazard −Σ ln(1−h) reaches E (exactly geometric within each
//! constant-hazard stretch), and a spell lasts ⌊E′ / −ln(1−λ)⌋ further months. Cost grows with
//! the number of events, not months.
//!
//! **Calibration** of a path's monthly hazard h from its stated rate p over m months with a delay
//! of d months (hazard zero in months 1..=d, so the window counts from intake):
//! - `work within m months: p` ([`RateMeaning::FoundWithin`]): P(a first job start in months
//!   1..=m | out of work at intake) = p, so h = 1 − (1 − p)^(1/(m − d)).
//! - `employed at month m: p` ([`RateMeaning::EmployedAt`]): h is solved numerically (bisection on
//!   the exact two-state recursion) so that P(in work in month m) = p for the path's participants,
//!   given λ and the arm's baseline employment.
//!
//! A delay of m months or more leaves no month to start in and is rejected, as is an
//! `employed at` rate out of reach for any hazard.
//!
//! **Measures** are read from the spells: employed at month m with ≥ h hours; worked (a spell with
//! ≥ h hours overlapping months 1..=m; a job held at intake counts); durable (one spell with ≥ h
//! hours covering the k months ending at m; spells are separated by at least one month, so runs
//! never join two jobs); hours in month m (0 out of work); benefit ended by month m (a job start
//! in months 1..=m, or a non-work exit by m; a job held at intake is part-time work on benefit).
//! Directly declared per-arm outcomes are drawn from their distribution, by assigned arm.
//!
//! **Lean runs.** `power` asks for [`SimOptions::lean`]: in a fixed sample, covariates that no
//! analysis (`within`, `adjust for`), rate (`by`), stratum or outcome (`depends on`) reads, and
//! outcomes that no analysis compares, are left missing instead of drawn. Covariates are
//! independent of each other, and a covariate nothing reads affects nothing, so the plan's
//! results have the same distribution either way; `simulate --export` writes complete tables.
//!
//! **Covariate effects.** `outcome y = continuous, depends on x 0.8` adds `0.8 × (x − mean x)`
//! to each participant's draw of `y` (the declared mean of `x`; per level of a categorical
//! covariate, the level's shift less the share-weighted mean shift), under every arm alike:
//! the arm's stated distribution is the outcome's law given the covariates, its mean over
//! the declared population is the arm's mean, and the effect is unchanged.
//!
//! **Truth.** [`Simulator::expected`] computes every measure's exact mean per arm (and subgroup)
//! by propagating the same process month by month over its few profiles (path, exemption length,
//! crossover target, rate level), with no simulation; `power` compares estimates with it.
//!
//! **Randomness and cost.** One stream per replicate ([`rng`]). Per participant the engine draws
//! one uniform per drawn covariate, one for the sub-path, one for each declared flow (baseline,
//! dropout, exemption, crossover, exit, loss to follow-up), one for the first job start, and
//! per job spell one for its hours (and wage) and one for its end when jobs can be lost.
//! Someone who never starts work costs no logarithm: the first uniform is compared with the path's precomputed
//! probability of no start over the follow-up; someone on one path from intake finds the month
//! of their first start in a table of thresholds ([`StartTable`]), also without a logarithm.
//!
//! **Two kernels.** A model without baseline employment, dropout, exemption, crossover, exits,
//! loss to follow-up, wages, clusters, inflow, rates or shares by level and direct outcomes (the Almere plan, the
//! NumPy peer's model) runs the simple kernel: the same draws in the same order, the same
//! table and counters, without the flow bookkeeping. Everything else runs the general one.

#[doc(hidden)]
pub mod assignment;
mod draw;
pub mod fixtures;
mod hazard;
pub mod hours;
pub mod intake;
mod kernel;
mod measures;
mod population;
pub mod rng;
mod spells;
pub mod truth;

use assignment::Allocation;
use draw::*;
pub use hazard::calibrate;
pub(crate) use hazard::employed_at_prob;
use hazard::*;
use measures::*;
use population::*;
use spells::*;

use crate::model::{
    ArmId, AssignmentRule, Comparison, CriterionTest, DirectValue, Distribution, ExitKind, Measure,
    ProcessRef, RateMeaning, TrialModel, VarId, WorkRate,
};
use crate::stats::dist::norm_cdf;
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable, flags};

/// Why a model cannot be simulated as given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SimError> {
    Err(SimError(msg.into()))
}

/// Options of a simulation that are not part of the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// Overrides the model's sample: exactly this many participants in every arm.
    pub n_per_arm: Option<u32>,
    /// Draw only what the analysis plan and the process read: in a fixed sample, covariates
    /// that no analysis, rate or stratum refers to, and outcomes no analysis compares, are left
    /// missing (NaN, or the missing level code) instead of drawn. Results of the plan are
    /// unchanged in distribution; `power` runs this way. Off by default (a complete table).
    pub lean: bool,
}

/// Largest population the engine accepts per replicate (pool or total sample).
pub const MAX_PARTICIPANTS: u64 = 50_000_000;

#[derive(Debug, Clone)]
pub(crate) struct ArmPlan {
    pub(crate) path_cum: Vec<f64>,
    /// `path_cum` as [`lt_bound`]s, for [`pick_bits`].
    path_lt: Vec<u64>,
    pub(crate) path_shares: Vec<f64>,
    pub(crate) paths: Vec<PathPlan>,
    pub(crate) baseline: f64,
    pub(crate) dropout: Option<(f64, ProcessRef)>,
    pub(crate) exemption: Option<(f64, u32)>,
    /// −ln(1 − q) of the monthly non-work exit probability q (0 when none).
    pub(crate) exit_c: f64,
    /// [`never_within`] of `exit_c` and the horizon.
    exit_never: u64,
    pub(crate) crossover: Option<(f64, ProcessRef, u32)>,
    direct: Vec<Option<DirectSampler>>,
    /// Competing exits (see [`ExitPlan`]).
    pub(crate) exits: Option<ExitPlan>,
    /// Per outcome: the index of its `exited to` destination among this arm's exits.
    exit_outcome: Vec<Option<usize>>,
    /// Path shares by the level of a covariate, when a path declares `by`.
    pub(crate) path_by: Option<PathBy>,
    /// Loss to follow-up (see [`LostPlan`]).
    pub(crate) lost: Option<LostPlan>,
}

/// An arm's loss to follow-up, prepared: the month of loss L ≥ 1 is ⌈E / c⌉ with E ~ Exp(1),
/// so P(L > m) = exp(−c·m); outcomes measured in month L or later are missing.
#[derive(Debug, Clone)]
pub(crate) struct LostPlan {
    /// Hazard of loss per month, −ln(1 − share) / month: one entry, or one per level of `by`.
    c: Vec<f64>,
    /// The categorical covariate whose level selects the hazard, if shares differ by level.
    by: Option<VarId>,
    /// The binary outcome whose value 1 multiplies the hazard, and the factor.
    factor: Option<(usize, f64)>,
    /// The month the stated share refers to (counted in the flows).
    by_month: u32,
}

impl LostPlan {
    fn new(l: &crate::model::LostToFollowUp) -> Self {
        let month = f64::from(l.by_month.max(1));
        let c = |p: f64| rate_c(p) / month;
        Self {
            c: match &l.by {
                Some(b) => (0..b.probabilities.len())
                    .map(|level| c(l.share_at(Some(level))))
                    .collect(),
                None => vec![c(l.share)],
            },
            by: l.by.as_ref().map(|b| b.variable),
            factor: l
                .outcome_factor
                .as_ref()
                .map(|f| (f.outcome, f.hazard_ratio)),
            by_month: l.by_month,
        }
    }
}

/// Competing exits of an arm in continuous time: the first exit happens at rate `total` per
/// month, to destination k with probability `probs[k] / Σ probs`, so that the cumulative
/// incidence of destination k by the window's end is exactly `probs[k]`. The month is the
/// ceiling of the continuous time.
#[derive(Debug, Clone)]
pub(crate) struct ExitPlan {
    pub(crate) total: f64,
    /// [`never_within`] of `total` and the horizon.
    never: u64,
    cum: Vec<f64>,
    kinds: Vec<ExitKind>,
}

/// Path shares that depend on the level of one categorical covariate.
#[derive(Debug, Clone)]
pub(crate) struct PathBy {
    pub(crate) var: VarId,
    /// Per level: cumulative shares over the arm's paths.
    cum: Vec<Vec<f64>>,
    /// Per level: the shares.
    pub(crate) shares: Vec<Vec<f64>>,
}

impl ArmPlan {
    /// The path shares at `level` of the covariate they depend on (the arm's own when none).
    pub(crate) fn shares_at(&self, level: u32) -> &[f64] {
        match &self.path_by {
            Some(b) => b.shares.get(level as usize).unwrap_or(&self.path_shares),
            None => &self.path_shares,
        }
    }
}

#[derive(Debug, Clone)]
enum DirectSampler {
    Binary(f64),
    Continuous(NumDist),
}

/// Index of the counters of one arm in [`Worker::flows`]; see [`FlowLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLayout {
    /// Number of arms.
    pub arms: usize,
    /// Paths per arm.
    pub paths: Vec<usize>,
    /// Months at which "found work within m" and "employed at month m" are counted.
    pub months: Vec<u32>,
    offsets: Vec<usize>,
    /// Total number of counters.
    pub len: usize,
}

/// Counters per arm, in this order.
pub mod counter {
    /// Participants.
    pub const N: usize = 0;
    /// Dropouts before intake.
    pub const DROPOUT: usize = 1;
    /// Temporarily exempted.
    pub const EXEMPT: usize = 2;
    /// Crossed over.
    pub const CROSSOVER: usize = 3;
    /// Non-work exits within the follow-up.
    pub const NON_WORK_EXIT: usize = 4;
    /// In work at intake.
    pub const BASELINE: usize = 5;
    /// Lost to follow-up by the month the arm's share refers to.
    pub const LOST: usize = 6;
    /// Fixed counters before the per-path and per-month ones.
    pub const FIXED: usize = 7;
}

impl FlowLayout {
    /// Offset of arm `a`'s counters.
    pub fn arm(&self, a: usize) -> usize {
        self.offsets[a]
    }
    /// Offset of the path counter (participants on path `p`, dropouts excluded).
    pub fn path(&self, a: usize, p: usize) -> usize {
        self.offsets[a] + counter::FIXED + p
    }
    /// Offset of the "a job start in months 1..=m" counter for `months[i]`.
    pub fn found_within(&self, a: usize, i: usize) -> usize {
        self.offsets[a] + counter::FIXED + self.paths[a] + i
    }
    /// Offset of the "in work in month m" counter for `months[i]`.
    pub fn employed_at(&self, a: usize, i: usize) -> usize {
        self.offsets[a] + counter::FIXED + self.paths[a] + self.months.len() + i
    }
}

/// Per-thread scratch: the participant table and buffers, reused replicate after replicate.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The participants of the last replicate.
    pub table: ParticipantTable,
    /// Flow counters of the last replicate (see [`FlowLayout`]).
    pub flows: Vec<u64>,
    spells: Vec<Spell>,
    cov: Vec<f64>,
    labels: Vec<u32>,
    blocks: Vec<(Vec<u32>, usize)>,
    /// Regrouping rows by arm after blocked assignment: each arm's next row, each row's
    /// destination, and a spare column of each kind.
    arm_start: Vec<usize>,
    destination: Vec<u32>,
    scratch_codes: Vec<u32>,
    scratch_values: Vec<f64>,
    /// Per cluster: the cumulative hazard of each path of its arm (stride: most paths of an arm).
    cluster_c: Vec<f64>,
    /// Per cluster: the probability of each directly declared binary outcome.
    cluster_p: Vec<f64>,
    /// Intake month per participant, with an inflow.
    pub(crate) entry: Vec<u32>,
    /// The simulator whose fixed sample `table` is laid out for: its ids, arms and the columns a
    /// lean run leaves missing are the same in every replicate and are written only once.
    laid_out_for: Option<u64>,
    /// The simple kernel's count of first job starts by month, in one run of an arm.
    start_months: Vec<u64>,
    /// The queue for caseload slots, with the clock at randomisation.
    pub(crate) queue: intake::QueueState,
    /// The month in which the participant just drawn was lost to follow-up (`u32::MAX`: not
    /// within the horizon, or no loss declared).
    lost_month: u32,
    /// With [`Simulator::simulate_potential`]: every participant's outcome under every arm,
    /// `[(i × outcomes + o) × arms + arm]`.
    pub(crate) potential: Vec<f64>,
    /// With it: receipt of the programme under every arm, `[i × arms + arm]` (D(arm)).
    pub(crate) receipt: Vec<bool>,
    /// Scratch for one row while its counterfactuals run: outcomes, then the flow counters.
    row_saved: Vec<f64>,
    flows_saved: Vec<u64>,
}

impl Worker {
    /// Each row's intake month in the last replicate (with an inflow; empty otherwise).
    pub fn entry_months(&self) -> &[u32] {
        &self.entry
    }
}

/// Tells simulators apart, for [`Worker::laid_out_for`].
static NEXT_SIMULATOR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How the replicate's participants are generated.
#[derive(Debug, Clone, PartialEq)]
enum Population {
    Fixed(Vec<u32>),
    Pool(u64),
}

/// A model prepared for simulation.
#[derive(Debug, Clone)]
pub struct Simulator<'m> {
    /// Unique per prepared model (clones share it: they lay out tables alike).
    id: u64,
    model: &'m TrialModel,
    vars: Vec<VarSampler>,
    pub(crate) arms: Vec<ArmPlan>,
    population: Population,
    pub(crate) horizon: u32,
    pub(crate) loss_c: f64,
    /// `keep[j]`: a uniform at or below it gives a job spell that outlasts `j` more months
    /// (exp(−loss_c · j), lowered by a relative 1e-9 so that it never decides a uniform the
    /// logarithm would decide otherwise); spares the logarithm for most spells.
    keep: Vec<f64>,
    pub(crate) loss: f64,
    pub(crate) hours: NumDist,
    wage: Option<NumDist>,
    layout: FlowLayout,
    strata_radix: Vec<(VarId, u32)>,
    /// How a fixed sample is split over the arms in each replicate.
    allocation: Allocation,
    /// The queue for caseload slots (capacity with the clock at randomisation).
    pub(crate) queue: Option<intake::QueuePlan>,
    /// Most paths of any arm (the stride of `Worker::cluster_c`).
    max_paths: usize,
    /// Per covariate: drawn (else left missing).
    draw_var: Vec<bool>,
    /// Per outcome: evaluated (else left missing).
    eval_outcome: Vec<bool>,
    /// Evaluated outcomes that can be non-zero for someone never in work (benefit ended, direct).
    not_work_outcomes: Vec<usize>,
    /// Evaluated outcomes with their measure in a copyable form, for someone who worked.
    eval_measures: Vec<(usize, Eval)>,
    /// The whole replicate in the simple kernel, when the model has no flows that need the
    /// general one (see [`SimpleMeasure`]).
    simple: Option<Vec<SimpleMeasure>>,
    /// Per outcome: the month it is measured in, for loss to follow-up (the measure's month;
    /// the window's end for `worked within`; the follow-up for a direct outcome).
    measured_at: Vec<u32>,
    /// Whether some analysis estimates a complier effect, so each participant's receipt is
    /// marked in the table ([`crate::table::flags::RECEIVED`]).
    mark_receipt: bool,
}

impl<'m> Simulator<'m> {
    /// Prepares `model` for simulation.
    pub fn new(model: &'m TrialModel, options: SimOptions) -> Result<Self, SimError> {
        if model.arms.is_empty() {
            return err("the model has no arms");
        }
        let n_arms = model.arms.len();
        // Covariates.
        let mut vars = Vec::with_capacity(model.population.variables.len());
        for (vi, var) in model.population.variables.iter().enumerate() {
            let criteria: Vec<_> = model
                .eligibility
                .criteria
                .iter()
                .filter(|c| c.variable == vi)
                .collect();
            match &var.distribution {
                Distribution::Binned { source, edges, .. } => {
                    // The source is declared, so it comes first and is prepared already.
                    let Some(VarSampler::Numeric {
                        dist, criteria: cr, ..
                    }) = vars.get(*source)
                    else {
                        return err(format!(
                            "`{}` bins a variable that is not a numeric covariate before it",
                            var.name
                        ));
                    };
                    if !criteria.is_empty() {
                        return err(format!("`{}` has bins, not criteria of its own", var.name));
                    }
                    let probs_elig = bin_probs(dist, cr, edges);
                    vars.push(VarSampler::Binned {
                        source: *source,
                        edges: edges.clone(),
                        probs_elig,
                    });
                }
                Distribution::Categorical { levels } => {
                    let mut admitted = vec![true; levels.len()];
                    for c in &criteria {
                        for (li, l) in levels.iter().enumerate() {
                            let ok = match &c.test {
                                CriterionTest::InSet { levels } => levels.contains(&li),
                                CriterionTest::Compare { op, value } => {
                                    l.value.is_some_and(|v| op.holds(v, *value))
                                }
                            };
                            admitted[li] &= ok;
                        }
                    }
                    let w: Vec<f64> = levels
                        .iter()
                        .zip(&admitted)
                        .map(|(l, a)| if *a { l.probability } else { 0.0 })
                        .collect();
                    let total: f64 = w.iter().sum();
                    if total <= 0.0 {
                        return err(format!(
                            "the criteria on `{}` admit no level with positive probability",
                            var.name
                        ));
                    }
                    vars.push(VarSampler::Categorical {
                        cum_all: cumulative(levels.iter().map(|l| l.probability)),
                        elig_lt: cumulative(w.iter().copied())
                            .into_iter()
                            .map(lt_bound)
                            .collect(),
                        admitted,
                        probs_elig: w.iter().map(|x| x / total).collect(),
                    });
                }
                d => {
                    let dist = NumDist::from_model(d, &var.name)?;
                    let mut cr = Vec::new();
                    for c in &criteria {
                        match &c.test {
                            CriterionTest::Compare { op, value } => cr.push((*op, *value)),
                            CriterionTest::InSet { .. } => {
                                return err(format!(
                                    "`{}` is numeric; a set criterion needs levels",
                                    var.name
                                ));
                            }
                        }
                    }
                    let (truncated, acceptance) = truncate(&dist, &cr);
                    if acceptance < 1e-4 {
                        return err(format!(
                            "the criteria on `{}` admit {:.4}% of its distribution; too few to \
                             sample",
                            var.name,
                            100.0 * acceptance
                        ));
                    }
                    vars.push(VarSampler::Numeric {
                        dist,
                        truncated,
                        criteria: cr,
                    });
                }
            }
        }
        // Population.
        let population = match (options.n_per_arm, &model.sample, model.population.pool) {
            (Some(0), _, _) => return err("--n-per-arm must be at least 1"),
            (Some(n), _, _) => Population::Fixed(vec![n; n_arms]),
            (None, Some(s), _) => {
                if s.len() != n_arms {
                    return err("the sample gives a size for a different number of arms");
                }
                Population::Fixed(s.clone())
            }
            (None, None, Some(pool)) => Population::Pool(pool),
            (None, None, None) => {
                return err(
                    "the model fixes neither a sample nor a pool; give `--n-per-arm N` or a \
                     `sample` in the spec",
                );
            }
        };
        let total = match &population {
            Population::Fixed(v) => v.iter().map(|&n| u64::from(n)).sum(),
            Population::Pool(p) => *p,
        };
        if total > MAX_PARTICIPANTS {
            return err(format!(
                "{total} participants per replicate is more than the engine's limit of \
                 {MAX_PARTICIPANTS}"
            ));
        }
        let emp = &model.employment;
        let loss = emp.job_loss_per_month;
        let hours = NumDist::from_model(&emp.hours, "hours")?;
        let wage = match &emp.wage {
            Some(w) => Some(NumDist::from_model(w, "wage")?),
            None => None,
        };
        // Arms.
        let mut arms = Vec::with_capacity(n_arms);
        for arm in &model.arms {
            if arm.paths.is_empty() {
                return err(format!("arm `{}` has no path", arm.name));
            }
            let mut paths = Vec::with_capacity(arm.paths.len());
            for p in &arm.paths {
                let cal = |prob: f64| {
                    calibrate(&p.work, prob, p.delay_months, loss, arm.baseline_employment)
                        .map(rate_c)
                };
                let (by, c) = match &p.work.by {
                    None => (
                        None,
                        vec![cal(p.work.probability).map_err(|e| {
                            SimError(format!("arm `{}`, path `{}`: {}", arm.name, p.name, e.0))
                        })?],
                    ),
                    Some(by) => {
                        let mut c = Vec::with_capacity(by.probabilities.len());
                        for q in &by.probabilities {
                            c.push(cal(q.unwrap_or(p.work.probability)).map_err(|e| {
                                SimError(format!("arm `{}`, path `{}`: {}", arm.name, p.name, e.0))
                            })?);
                        }
                        (Some(by.variable), c)
                    }
                };
                paths.push(PathPlan {
                    delay: p.delay_months,
                    by,
                    c,
                    no_start: Vec::new(),
                    no_start_lt: Vec::new(),
                    starts: Vec::new(),
                });
            }
            let check_ref = |r: &ProcessRef| -> Result<(), SimError> {
                let ok = r.arm < n_arms
                    && r.path
                        .is_none_or(|p| p < model.arms[r.arm].paths.len().max(1));
                if ok {
                    Ok(())
                } else {
                    err("a flow refers to an unknown arm or path")
                }
            };
            let dropout = match &arm.dropout {
                Some(d) => {
                    check_ref(&d.follows)?;
                    Some((d.share, d.follows.clone()))
                }
                None => None,
            };
            let crossover = match &arm.crossover {
                Some(x) => {
                    check_ref(&x.to)?;
                    Some((x.share, x.to.clone(), x.after_months))
                }
                None => None,
            };
            let exit_c = match &arm.non_work_exit {
                Some(e) if e.months > 0 && e.probability > 0.0 => {
                    rate_c(1.0 - (1.0 - e.probability).powf(1.0 / f64::from(e.months)))
                }
                _ => 0.0,
            };
            let mut direct = vec![None; model.outcomes.len()];
            for d in &arm.direct_outcomes {
                if d.outcome < direct.len() {
                    direct[d.outcome] = Some(match &d.value {
                        DirectValue::Binary { probability } => DirectSampler::Binary(*probability),
                        DirectValue::Continuous { distribution } => DirectSampler::Continuous(
                            NumDist::from_model(distribution, "direct outcome")?,
                        ),
                    });
                }
            }
            let ai = arms.len();
            let exits = match model.delivery.exits.iter().find(|e| e.arm == ai) {
                Some(e) => {
                    let sum: f64 = e.destinations.iter().map(|d| d.probability).sum();
                    if e.months == 0 || sum > 1.0 + 1e-9 {
                        return err(format!("arm `{}`: invalid competing exits", arm.name));
                    }
                    let total = if sum >= 1.0 {
                        f64::INFINITY
                    } else {
                        -(-sum).ln_1p() / f64::from(e.months)
                    };
                    Some(ExitPlan {
                        total,
                        never: 0,
                        cum: cumulative(e.destinations.iter().map(|d| d.probability)),
                        kinds: e.destinations.iter().map(|d| d.kind).collect(),
                    })
                }
                None => None,
            };
            let exit_outcome = model
                .outcomes
                .iter()
                .map(|o| match &o.measure {
                    Measure::ExitedTo { destination, .. } => model
                        .delivery
                        .exits
                        .iter()
                        .find(|e| e.arm == ai)
                        .and_then(|e| e.destinations.iter().position(|d| &d.name == destination)),
                    _ => None,
                })
                .collect();
            if model.delivery.clusters.is_some() && arm.paths.iter().any(|p| p.work.by.is_some()) {
                return err(format!(
                    "arm `{}`: rates by subgroup cannot be combined with clusters",
                    arm.name
                ));
            }
            let path_by = arm.paths.iter().find_map(|p| p.share_by.as_ref()).map(|b| {
                let shares: Vec<Vec<f64>> = (0..b.probabilities.len())
                    .map(|l| {
                        arm.paths
                            .iter()
                            .map(|p| {
                                p.share_by
                                    .as_ref()
                                    .filter(|pb| pb.variable == b.variable)
                                    .and_then(|pb| pb.probabilities.get(l).copied().flatten())
                                    .unwrap_or(p.share)
                            })
                            .collect()
                    })
                    .collect();
                PathBy {
                    var: b.variable,
                    cum: shares
                        .iter()
                        .map(|s| cumulative(s.iter().copied()))
                        .collect(),
                    shares,
                }
            });
            arms.push(ArmPlan {
                lost: arm.lost_to_follow_up.as_ref().map(LostPlan::new),
                exits,
                exit_outcome,
                path_by,
                path_cum: cumulative(arm.paths.iter().map(|p| p.share)),
                path_lt: cumulative(arm.paths.iter().map(|p| p.share))
                    .into_iter()
                    .map(lt_bound)
                    .collect(),
                path_shares: arm.paths.iter().map(|p| p.share).collect(),
                paths,
                baseline: arm.baseline_employment,
                dropout,
                exemption: arm
                    .exemption
                    .as_ref()
                    .filter(|e| e.max_months > 0)
                    .map(|e| (e.share, e.max_months)),
                exit_c,
                exit_never: 0,
                crossover,
                direct,
            });
        }
        // Horizon and the months of the flows report.
        let mut months = Vec::new();
        let mut horizon = model.follow_up_months;
        for o in &model.outcomes {
            let Some(m) = o.measure.read_month() else {
                continue;
            };
            horizon = horizon.max(m);
            if m > 0 && !months.contains(&m) {
                months.push(m);
            }
        }
        if model.follow_up_months > 0 && !months.contains(&model.follow_up_months) {
            months.push(model.follow_up_months);
        }
        months.sort_unstable();
        let paths: Vec<usize> = model.arms.iter().map(|a| a.paths.len()).collect();
        let mut offsets = Vec::with_capacity(n_arms);
        let mut len = 0;
        for p in &paths {
            offsets.push(len);
            len += counter::FIXED + p + 2 * months.len();
        }
        let layout = FlowLayout {
            arms: n_arms,
            paths,
            months,
            offsets,
            len,
        };
        // Strata for blocked assignment.
        let mut strata_radix = Vec::new();
        if let AssignmentRule::Blocked {
            strata,
            ratio,
            block_size,
        } = &model.assignment.rule
        {
            let w: u32 = ratio.iter().sum();
            if ratio.len() != n_arms || w == 0 || *block_size == 0 || block_size % w != 0 {
                return err(
                    "blocked assignment needs a ratio per arm and a block size that is a multiple of its sum",
                );
            }
            let mut cells: u64 = 1;
            for &v in strata {
                let levels = model
                    .population
                    .variables
                    .get(v)
                    .and_then(|x| x.levels())
                    .map_or(0, <[_]>::len);
                if levels == 0 {
                    return err("a stratification variable must be categorical");
                }
                cells = cells.saturating_mul(levels as u64);
                strata_radix.push((v, levels as u32));
            }
            if cells > 65_536 {
                return err("too many strata (more than 65,536 cells)");
            }
        }
        if let AssignmentRule::Complete { ratio } = &model.assignment.rule
            && (ratio.len() != n_arms || ratio.iter().sum::<u32>() == 0)
        {
            return err("complete randomisation needs a positive ratio per arm");
        }
        if let AssignmentRule::Parity { even, odd, .. } = model.assignment.rule
            && (even >= n_arms || odd >= n_arms)
        {
            return err("parity assignment refers to an unknown arm");
        }
        if let Some(c) = &model.delivery.clusters {
            if c.size == 0 || !(0.0..1.0).contains(&c.icc) {
                return err("clusters need a positive size and an ICC in [0, 1)");
            }
            if !matches!(population, Population::Fixed(_)) {
                return err(
                    "a cluster design needs a fixed sample: `sample K cohorts per arm` or `--n-per-arm`",
                );
            }
        }
        if let (Some(inflow), Population::Fixed(sizes)) = (&model.delivery.inflow, &population) {
            let n: u64 = sizes.iter().map(|&n| u64::from(n)).sum();
            let last = entry_months(inflow, n as usize)
                .last()
                .copied()
                .unwrap_or(0);
            if last >= inflow.analysis_month {
                return err(format!(
                    "the inflow takes the last of {n} participants in at month {last}, not before \
                     the analysis at month {}",
                    inflow.analysis_month
                ));
            }
        }
        let max_paths = model.arms.iter().map(|a| a.paths.len()).max().unwrap_or(1);
        // What a lean run draws.
        let n_vars = model.population.variables.len();
        let self_vars = &vars;
        let (draw_var, eval_outcome) = if options.lean {
            let mut vars = vec![false; n_vars];
            let mut outs = vec![false; model.outcomes.len()];
            for a in &model.analyses {
                if let Some(v) = a.within.filter(|&v| v < n_vars) {
                    vars[v] = true;
                }
                // A regression reads the covariates it adjusts for, inverse-probability
                // weighting those of its model of being observed.
                for &v in a
                    .adjust
                    .iter()
                    .flat_map(|x| &x.covariates)
                    .chain(&a.missing_covariates)
                {
                    if let Some(x) = vars.get_mut(v) {
                        *x = true;
                    }
                }
                for &o in &a.outcomes {
                    if let Some(x) = outs.get_mut(o) {
                        *x = true;
                    }
                }
            }
            for p in arms.iter().flat_map(|a| &a.paths) {
                if let Some(v) = p.by.filter(|&v| v < n_vars) {
                    vars[v] = true;
                }
            }
            for &(v, _) in &strata_radix {
                vars[v] = true;
            }
            // Bins are read from their source's drawn values.
            for (v, s) in self_vars.iter().enumerate() {
                if let VarSampler::Binned { source, .. } = s
                    && vars.get(v).copied().unwrap_or(false)
                    && let Some(x) = vars.get_mut(*source)
                {
                    *x = true;
                }
            }
            for b in arms.iter().filter_map(|a| a.path_by.as_ref()) {
                if let Some(x) = vars.get_mut(b.var) {
                    *x = true;
                }
            }
            // An outcome that depends on covariates reads them.
            for e in &model.covariate_effects {
                if let Some(x) = vars.get_mut(e.variable) {
                    *x = true;
                }
            }
            // Loss to follow-up reads its covariate and the outcome it depends on.
            for l in arms.iter().filter_map(|a| a.lost.as_ref()) {
                if let Some(x) = l.by.and_then(|v| vars.get_mut(v)) {
                    *x = true;
                }
                if let Some(x) = l.factor.and_then(|(o, _)| outs.get_mut(o)) {
                    *x = true;
                }
            }
            (vars, outs)
        } else {
            (vec![true; n_vars], vec![true; model.outcomes.len()])
        };
        for arm in &mut arms {
            arm.exit_never = never_within(arm.exit_c, horizon);
            if let Some(ex) = &mut arm.exits {
                ex.never = never_within(ex.total, horizon);
            }
            for p in &mut arm.paths {
                let active = f64::from(horizon.saturating_sub(p.delay));
                p.no_start = p.c.iter().map(|c| (-c * active).exp()).collect();
                p.no_start_lt = p.no_start.iter().map(|&q| lt_bound(q)).collect();
                // Beyond a few hundred months the tables would cost more than the logarithms
                // they save; without one the logarithm decides.
                let months = horizon.saturating_sub(p.delay);
                if months <= MAX_TABLE_MONTHS {
                    p.starts = p.c.iter().map(|&c| StartTable::new(c, months)).collect();
                }
            }
        }
        let eval_measures: Vec<(usize, Eval)> = model
            .outcomes
            .iter()
            .enumerate()
            .filter(|(o, _)| eval_outcome[*o])
            .map(|(o, x)| (o, Eval::of(&x.measure)))
            .collect();
        let queue = intake::QueuePlan::of(model, horizon)?;
        let simple_flows = queue.is_none()
            && model.delivery.inflow.is_none()
            && model.delivery.clusters.is_none()
            && wage.is_none()
            && arms.iter().all(|a| {
                a.baseline <= 0.0
                    && a.dropout.as_ref().is_none_or(|d| d.0 <= 0.0)
                    && a.exemption.is_none_or(|e| e.0 <= 0.0)
                    && a.crossover.as_ref().is_none_or(|c| c.0 <= 0.0)
                    && a.exit_c <= 0.0
                    && a.exits.as_ref().is_none_or(|x| x.total <= 0.0)
                    && a.path_by.is_none()
                    && a.lost.is_none()
                    && a.paths.iter().all(|p| p.by.is_none() && p.c.len() == 1)
            });
        let simple = eval_measures
            .iter()
            .map(|&(o, e)| SimpleMeasure::of(o, e, horizon))
            .collect::<Option<Vec<_>>>()
            .filter(|_| simple_flows);
        let allocation = match &population {
            Population::Fixed(_) => Allocation::of(model),
            Population::Pool(_) => Allocation::Exact,
        };
        Ok(Self {
            allocation,
            queue,
            id: NEXT_SIMULATOR.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            max_paths,
            model,
            vars,
            arms,
            population,
            horizon,
            loss_c: rate_c(loss),
            keep: (0..=horizon)
                .map(|j| (-rate_c(loss) * f64::from(j)).exp() * (1.0 - 1e-9))
                .collect(),
            loss,
            hours,
            wage,
            layout,
            strata_radix,
            not_work_outcomes: model
                .outcomes
                .iter()
                .enumerate()
                .filter(|(o, x)| {
                    eval_outcome[*o]
                        && matches!(
                            x.measure,
                            Measure::BenefitEnded { .. }
                                | Measure::ExitedTo { .. }
                                | Measure::DirectBinary
                                | Measure::DirectContinuous
                        )
                })
                .map(|(o, _)| o)
                .collect(),
            eval_measures,
            simple,
            draw_var,
            eval_outcome,
            measured_at: model
                .outcomes
                .iter()
                .map(|o| o.measure.read_month().unwrap_or(model.follow_up_months))
                .collect(),
            mark_receipt: model.analyses.iter().any(|a| a.complier_effect),
        })
    }

    /// The model being simulated.
    pub fn model(&self) -> &TrialModel {
        self.model
    }

    /// The layout of the flow counters.
    pub fn flow_layout(&self) -> &FlowLayout {
        &self.layout
    }

    /// Participants per arm, when the sample is fixed.
    pub fn fixed_sample(&self) -> Option<&[u32]> {
        match &self.population {
            Population::Fixed(v) => Some(v),
            Population::Pool(_) => None,
        }
    }

    /// The share of arm `arm`'s participants (dropouts aside) expected on path `path`: its
    /// declared share, or, when shares depend on a covariate's level, their average over the
    /// level distribution among the eligible.
    pub fn path_share(&self, arm: ArmId, path: usize) -> f64 {
        let Some(plan) = self.arms.get(arm) else {
            return f64::NAN;
        };
        let own = plan.path_shares.get(path).copied().unwrap_or(f64::NAN);
        match &plan.path_by {
            Some(b) => match self.eligible_level_probs(b.var) {
                Some(probs) if probs.len() == b.shares.len() => probs
                    .iter()
                    .zip(&b.shares)
                    .map(|(p, s)| p * s.get(path).copied().unwrap_or(0.0))
                    .sum(),
                _ => own,
            },
            None => own,
        }
    }

    /// Level probabilities of a categorical covariate among the eligible.
    pub(crate) fn eligible_level_probs(&self, v: VarId) -> Option<&[f64]> {
        match self.vars.get(v)? {
            VarSampler::Categorical { probs_elig, .. } | VarSampler::Binned { probs_elig, .. } => {
                Some(probs_elig)
            }
            VarSampler::Numeric { .. } => None,
        }
    }

    /// A fresh worker with buffers sized for this model.
    pub fn worker(&self) -> Worker {
        let cap = match &self.population {
            Population::Fixed(v) => v.iter().map(|&n| n as usize).sum(),
            Population::Pool(p) => (*p).min(1 << 20) as usize,
        };
        let mut table = ParticipantTable {
            id: Vec::with_capacity(cap),
            arm: Vec::with_capacity(cap),
            path: Vec::with_capacity(cap),
            flags: Vec::with_capacity(cap),
            covariates: Vec::new(),
            outcomes: Vec::new(),
            cluster: Vec::new(),
        };
        for v in &self.vars {
            table.covariates.push(match v {
                VarSampler::Categorical { .. } | VarSampler::Binned { .. } => {
                    CovariateColumn::Categorical(Vec::with_capacity(cap))
                }
                VarSampler::Numeric { .. } => CovariateColumn::Numeric(Vec::with_capacity(cap)),
            });
        }
        for _ in &self.model.outcomes {
            table.outcomes.push(Vec::with_capacity(cap));
        }
        Worker {
            cluster_c: Vec::new(),
            cluster_p: Vec::new(),
            entry: Vec::new(),
            table,
            flows: vec![0; self.layout.len],
            spells: Vec::with_capacity(16),
            cov: vec![0.0; self.vars.len()],
            labels: Vec::new(),
            blocks: Vec::new(),
            arm_start: Vec::new(),
            destination: Vec::new(),
            scratch_codes: Vec::new(),
            scratch_values: Vec::new(),
            laid_out_for: None,
            start_months: Vec::new(),
            queue: intake::QueueState::default(),
            lost_month: u32::MAX,
            potential: Vec::new(),
            receipt: Vec::new(),
            row_saved: Vec::new(),
            flows_saved: Vec::new(),
        }
    }
}

/// Intake months of `n` participants under an inflow: period k takes in `per_period[k]` (the
/// last count repeating), spread evenly over the period's months.
pub fn entry_months(inflow: &crate::model::Inflow, n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n);
    let len = inflow.period_months.max(1);
    let last = inflow.per_period.last().copied().unwrap_or(0);
    if last == 0 && inflow.per_period.iter().all(|&c| c == 0) {
        return vec![0; n];
    }
    let mut k = 0usize;
    while out.len() < n {
        let count = inflow.per_period.get(k).copied().unwrap_or(last);
        if count == 0 && k >= inflow.per_period.len() {
            // Nobody more comes in; the rest enter at the end of the last period.
            let m = (k as u32).saturating_mul(len);
            out.resize(n, m);
            break;
        }
        for j in 0..count {
            if out.len() == n {
                break;
            }
            let offset = (u64::from(j) * u64::from(len) / u64::from(count.max(1))) as u32;
            out.push((k as u32).saturating_mul(len).saturating_add(offset));
        }
        k += 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
