//! The analysis plan: one piece of code that runs on a participant table, whether the table came
//! from the simulator or from a real CSV. It knows neither the engine nor the loader.
//!
//! Every analysis is by intention to treat: participants are grouped by their assigned arm
//! (`table.arm`), whatever their flags say. Missing outcome values (NaN: lost to follow-up, an
//! empty cell in real data, a wage out of work) are left out, which is the complete-case
//! analysis the plan states (`missing complete_cases`, the default), and the number analysed is
//! reported per arm. Binary outcomes (values 0/1; a value ≥ 0.5 counts as 1)
//! are compared as proportions, continuous ones as means. The contrasts of one analysis
//! (outcomes × subgroup levels) form one family for the declared multiplicity correction.
//!
//! [`run_plan_into`] reuses the result's allocations and a per-thread scratch, so that a Monte
//! Carlo replicate costs, per analysis, one pass that sorts the rows into cells, then one pass
//! per outcome (integer counts for binary outcomes), and no allocation once warm.

mod adjusted;
mod balance;
mod cluster;
pub mod complier;
mod ipw;
mod power;
mod randomisation;

use std::cell::RefCell;

use serde::Serialize;

use crate::model::{Analysis, ArmId, Correction, Level, TestKind, TrialModel, VarId};
use crate::stats::intervals::{
    OddsRatio, RiskRatio, newcombe_difference, odds_ratio, risk_ratio, student_difference_means,
    t_mean, wald_difference_proportions, welch_difference_means, wilson,
};
use crate::stats::multiplicity::{bonferroni_into, holm_into};
use crate::stats::randomisation::RandomisationTest;
use crate::stats::tests::{
    TestOutcome, fisher_exact, heterogeneity, student_t, two_proportion_z, welch_df, welch_t,
    yates_chi_square,
};
use crate::table::{CovariateColumn, ParticipantTable};

pub use adjusted::RegressionInfo;
pub use balance::{
    BalanceCell, BalanceRow, BalanceTable, BalanceTest, Omnibus, balance, balance_between,
};
pub use ipw::{IpwArmInfo, IpwInfo};
pub use power::{Effect, closed_form_power, exact_power};

/// Confidence level of every interval in the results.
pub const CONFIDENCE: f64 = 0.95;

/// Results of every analysis of the plan, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanResult {
    /// One entry per [`crate::model::Analysis`], in the order declared.
    pub analyses: Vec<AnalysisResult>,
}

/// Results of one analysis: one contrast per (outcome, subgroup level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisResult {
    /// The analysis' name.
    pub name: String,
    /// Contrasts, outcome-major then subgroup level, in declaration order.
    pub contrasts: Vec<ContrastResult>,
    /// For a subgroup analysis, one test of heterogeneity of the effect across the levels per
    /// outcome (in outcome order); empty otherwise.
    pub interactions: Vec<InteractionResult>,
}

/// One treatment-versus-control contrast on one outcome (within one subgroup level, if any).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastResult {
    /// Outcome name.
    pub outcome: String,
    /// Subgroup (variable, level) this contrast is restricted to.
    pub subgroup: Option<(String, String)>,
    /// Treatment-arm summary.
    pub treatment: ArmSummary,
    /// Control-arm summary.
    pub control: ArmSummary,
    /// Estimated effect: treatment mean (or proportion) minus control.
    pub difference: f64,
    /// 95 % confidence interval of the difference (Wald for means; Newcombe hybrid score for
    /// proportions).
    pub ci: (f64, f64),
    /// Test statistic of the declared test (z, or t; NaN for Fisher's exact test).
    pub statistic: f64,
    /// p-value of the declared test, in the declared direction.
    pub p_value: f64,
    /// p-value after the declared multiplicity correction.
    pub p_adjusted: f64,
    /// Whether H0 is rejected at the analysis' alpha after correction.
    pub reject: bool,
    /// 95 % Wald interval of the difference (unpooled standard error; for means the same as
    /// `ci`, with the t quantile at the Welch degrees of freedom).
    pub wald_ci: (f64, f64),
    /// Degrees of freedom of Welch's t test, when that is the test.
    pub df: Option<f64>,
    /// Risk ratio treatment / control with its 95 % log interval, for binary outcomes.
    pub risk_ratio: Option<RiskRatio>,
    /// How the randomisation test's p-value was obtained (exactly or by Monte Carlo, over how
    /// many assignments, with its Monte Carlo error), when that is the test; the statistic is
    /// then the observed difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub randomisation: Option<RandomisationTest>,
    /// For a regression analysis (`robust_t`, `cr2`, `adjust for`): the method, covariates,
    /// standard error and what was dropped; the effect, interval and test above are the
    /// regression's. Left out of the JSON otherwise (and in power runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionInfo>,
    /// Odds ratio with its Woolf interval, for binary outcomes (left out of the JSON
    /// otherwise, and in power runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odds_ratio: Option<OddsRatio>,
    /// The chi-square p-value with Yates' continuity correction (R `prop.test`), in the
    /// analysis' direction, for binary outcomes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yates_p: Option<f64>,
    /// Student's t test (pooled variance) beside Welch's, for continuous outcomes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentComparison>,
    /// Under `missing ipw`: the weighted means, the model of being observed and its weights;
    /// the effect, interval and test above are the weighted ones (a z test with the sandwich
    /// standard error). Left out of the JSON otherwise (and in power runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipw: Option<IpwInfo>,
    /// For a cluster-level test (`cluster_t`, the randomisation test of a cluster design) on
    /// data in which clusters hold participants of both arms: how many, of how many clusters.
    /// The test is then undefined (it has no units); left out of the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters_in_two_arms: Option<ClustersInTwoArms>,
}

/// Clusters of a contrast with participants in both of its arms, out of all its clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClustersInTwoArms {
    /// Clusters with participants in both arms.
    pub mixed: u64,
    /// Clusters with a participant in either arm.
    pub clusters: u64,
}

/// Student's two-sample t test of a contrast, shown beside Welch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StudentComparison {
    /// t statistic.
    pub statistic: f64,
    /// Degrees of freedom, `n_t + n_c − 2`.
    pub df: f64,
    /// p-value in the analysis' direction.
    pub p_value: f64,
    /// 95 % interval of the difference with the pooled standard deviation.
    pub ci: (f64, f64),
}

/// The F test of the treatment × subgroup interaction of a continuous outcome in the linear
/// model `y ~ treatment * subgroup` over the analysed levels (R `anova(lm(y ~ treat * g))`,
/// its `treat:g` row): the residual sums of squares with and without the interaction terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InteractionF {
    /// F statistic.
    pub statistic: f64,
    /// Numerator degrees of freedom (interaction terms estimated).
    pub df1: f64,
    /// Denominator degrees of freedom (`n` − rank of the full model).
    pub df2: f64,
    /// p-value.
    pub p_value: f64,
}

/// Per-arm summary of one outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Participants with a non-missing value.
    pub n: u64,
    /// Mean (the proportion, for a binary outcome).
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Number of participants with the outcome, for a binary outcome.
    pub events: Option<u64>,
    /// 95 % interval of the mean: Wilson score for a proportion, t for a mean.
    pub ci: (f64, f64),
}

/// The test of heterogeneity of one outcome's effect across the levels of a subgroup variable:
/// Cochran's Q on the level-specific differences weighted by their inverse (unpooled)
/// variances, chi-square with (levels − 1) degrees of freedom. Levels whose difference has no
/// positive finite variance (an empty arm, 0 % or 100 % in both arms) are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InteractionResult {
    /// Outcome name.
    pub outcome: String,
    /// Subgroup variable name.
    pub variable: String,
    /// Q statistic (NaN with fewer than two usable levels).
    pub statistic: f64,
    /// Degrees of freedom (usable levels − 1).
    pub df: usize,
    /// p-value (NaN with fewer than two usable levels).
    pub p_value: f64,
    /// For a continuous outcome, the interaction F test of the linear model beside Cochran's
    /// Q; left out of the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f_test: Option<InteractionF>,
}

/// Running sums of one outcome in one (subgroup level, arm) cell. A binary outcome fills only
/// the integer counts `n` and `events`. A continuous one takes sums around the cell's first
/// value (`shift`), which keeps the variance accurate for hours-like outcomes without a
/// division per participant (`events` stays unused).
#[derive(Debug, Clone, Copy, Default)]
struct Accumulator {
    n: u64,
    events: u64,
    shift: f64,
    sum: f64,
    sum_squares: f64,
}

impl Accumulator {
    #[inline]
    fn push(&mut self, value: f64) {
        if self.n == 0 {
            self.shift = value;
        }
        self.n += 1;
        let d = value - self.shift;
        self.sum += d;
        self.sum_squares += d * d;
    }

    fn mean(&self) -> f64 {
        self.shift + self.sum / self.n as f64
    }

    fn variance(&self) -> f64 {
        let n = self.n as f64;
        ((self.sum_squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }

    /// The arm's summary; its own interval only when `with_ci`.
    fn summary(&self, binary: bool, with_ci: bool) -> ArmSummary {
        let n = self.n;
        let mean = if n == 0 {
            f64::NAN
        } else if binary {
            self.events as f64 / n as f64
        } else {
            self.mean()
        };
        let sd = if n < 2 {
            f64::NAN
        } else if binary {
            let p = mean;
            (p * (1.0 - p) * n as f64 / (n - 1) as f64).sqrt()
        } else {
            self.variance().sqrt()
        };
        let ci = match (with_ci, binary) {
            (false, _) => (f64::NAN, f64::NAN),
            (true, true) => wilson(self.events, n, CONFIDENCE),
            (true, false) => t_mean(mean, sd, n, CONFIDENCE),
        };
        let events = binary.then_some(self.events);
        ArmSummary {
            n,
            mean,
            sd,
            events,
            ci,
        }
    }
}

/// Per-thread buffers reused from replicate to replicate.
#[derive(Default)]
struct Scratch {
    /// `[treatment, control]` accumulators per subgroup slot.
    cells: Vec<[Accumulator; 2]>,
    /// The cell of each level code for a treatment row (first half) and a control row (second
    /// half): `slot * 2 + side`, or [`NO_CELL`] for a level not analysed.
    cell_of_level: Vec<u32>,
    /// Cell of each row (`slot * 2 + side`, or [`NO_CELL`]), for the current analysis.
    cell_of_row: Vec<u32>,
    /// Runs `(first row, end row, cell)` of consecutive rows in one cell (empty when
    /// `interleaved`).
    runs: Vec<(usize, usize, u32)>,
    /// The cells interleave: rows are counted one by one, not by runs.
    interleaved: bool,
    /// What `cell_of_row` and `runs` were sorted for in this call of [`run_plan_into_with`]:
    /// treatment, control, subgroup variable and its analysed levels. An analysis with the same
    /// arms and subgroup reuses them.
    classified_for: Option<(ArmId, ArmId, Option<VarId>)>,
    classified_levels: Vec<usize>,
    /// `[participants, events]` per cell (and one spare), for interleaved binary counting.
    counts: Vec<[u64; 2]>,
    p: Vec<f64>,
    adjusted: Vec<f64>,
    order: Vec<usize>,
    estimates: Vec<f64>,
    variances: Vec<f64>,
    cluster: cluster::ClusterScratch,
    regression: adjusted::RegressionScratch,
    ipw: ipw::IpwBuffers,
    /// Per outcome of the current analysis, the interaction F test (continuous outcomes).
    f_tests: Vec<Option<InteractionF>>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// How much of each contrast [`run_plan_into_with`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything a report shows.
    Full,
    /// What a power run aggregates: per contrast the arm means, the difference, its confidence
    /// interval, the p-values and decisions. The arms' own intervals, the Wald interval, the
    /// risk ratio and the heterogeneity tests are left undefined (NaN or None); every number
    /// that is computed is the one [`Detail::Full`] gives.
    Decisions,
}

/// Runs every analysis of the model's plan on `table`.
pub fn run_plan(model: &TrialModel, table: &ParticipantTable) -> PlanResult {
    let mut result = PlanResult::default();
    run_plan_into(model, table, &mut result);
    result
}

/// [`run_plan`] into an existing result, reusing its allocations (names are rewritten only when
/// they differ): the entry point for the simulator's per-replicate loop.
pub fn run_plan_into(model: &TrialModel, table: &ParticipantTable, result: &mut PlanResult) {
    run_plan_into_with(model, table, result, Detail::Full);
}

/// [`run_plan_into`] computing only what `detail` asks for.
pub fn run_plan_into_with(
    model: &TrialModel,
    table: &ParticipantTable,
    result: &mut PlanResult,
    detail: Detail,
) {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        // A new table: nothing is sorted into cells yet.
        scratch.classified_for = None;
        result.analyses.truncate(model.analyses.len());
        for (index, analysis) in model.analyses.iter().enumerate() {
            if result.analyses.len() <= index {
                result.analyses.push(AnalysisResult {
                    name: String::new(),
                    contrasts: Vec::new(),
                    interactions: Vec::new(),
                });
            }
            run_analysis(
                model,
                analysis,
                table,
                &mut result.analyses[index],
                &mut scratch,
                detail,
            );
        }
    });
}

/// The subgroup of an analysis: the variable's name and levels, the analysed level indices
/// (all when the list is empty) and the table's column of level codes.
struct Subgroup<'a> {
    variable: &'a str,
    names: &'a [Level],
    levels: &'a [usize],
    column: Option<&'a [u32]>,
}

impl Subgroup<'_> {
    fn count(&self) -> usize {
        if self.levels.is_empty() {
            self.names.len()
        } else {
            self.levels.len()
        }
    }

    fn level(&self, slot: usize) -> usize {
        if self.levels.is_empty() {
            slot
        } else {
            self.levels[slot]
        }
    }

    fn level_name(&self, slot: usize) -> &str {
        self.names
            .get(self.level(slot))
            .map_or("", |l| l.name.as_str())
    }
}

/// Per contrast of `a` (outcome-major, then subgroup level, as the plan orders them), each
/// arm's values in its cell (NaN missing; a binary outcome as 0/1): what Lee bounds read.
pub fn contrast_values(a: &crate::model::Analysis, table: &ParticipantTable) -> Vec<[Vec<f64>; 2]> {
    let codes = a.within.and_then(|v| match table.covariates.get(v) {
        Some(CovariateColumn::Categorical(c)) => Some(c.as_slice()),
        _ => None,
    });
    let levels: Vec<Option<u32>> = match (a.within, codes) {
        (None, _) => vec![None],
        (Some(_), Some(c)) if a.levels.is_empty() => {
            let top = c.iter().filter(|&&x| x != crate::table::MISSING_CODE).max();
            (0..top.map_or(0, |&x| x + 1)).map(Some).collect()
        }
        (Some(_), _) => a.levels.iter().map(|&l| Some(l as u32)).collect(),
    };
    let mut out = Vec::new();
    for &o in &a.outcomes {
        let values = table.outcomes.get(o);
        for level in &levels {
            let mut cell = [Vec::new(), Vec::new()];
            for (i, &arm) in table.arm.iter().enumerate() {
                let side = if arm as usize == a.treatment {
                    0
                } else if arm as usize == a.control {
                    1
                } else {
                    continue;
                };
                if level.is_some() && codes.and_then(|c| c.get(i)) != level.as_ref() {
                    continue;
                }
                cell[side].push(values.and_then(|v| v.get(i)).copied().unwrap_or(f64::NAN));
            }
            out.push(cell);
        }
    }
    out
}

fn subgroup<'a>(
    model: &'a TrialModel,
    analysis: &'a Analysis,
    table: &'a ParticipantTable,
) -> Option<Subgroup<'a>> {
    let var = analysis.within?;
    let variable = model.population.variables.get(var)?;
    let column = match table.covariates.get(var) {
        Some(CovariateColumn::Categorical(codes)) => Some(codes.as_slice()),
        _ => None,
    };
    Some(Subgroup {
        variable: &variable.name,
        names: variable.levels().unwrap_or_default(),
        levels: &analysis.levels,
        column,
    })
}

fn run_analysis(
    model: &TrialModel,
    analysis: &Analysis,
    table: &ParticipantTable,
    out: &mut AnalysisResult,
    scratch: &mut Scratch,
    detail: Detail,
) {
    if out.name != analysis.name {
        out.name.clone_from(&analysis.name);
    }
    let subgroup = subgroup(model, analysis, table);
    let slots = subgroup.as_ref().map_or(1, Subgroup::count);
    let contrasts = analysis.outcomes.len() * slots;
    out.contrasts.truncate(contrasts);

    // Level code → cell on each side, for the variable's declared levels only (a level index
    // beyond them cannot match any participant and must not size the buffer).
    scratch.cell_of_level.clear();
    if let Some(s) = &subgroup {
        let levels = s.names.len();
        scratch.cell_of_level.resize(2 * levels, NO_CELL);
        for slot in 0..slots {
            let level = s.level(slot);
            if level < levels {
                scratch.cell_of_level[level] = slot as u32 * 2;
                scratch.cell_of_level[levels + level] = slot as u32 * 2 + 1;
            }
        }
    }

    let key = (analysis.treatment, analysis.control, analysis.within);
    if scratch.classified_for != Some(key) || scratch.classified_levels != analysis.levels {
        classify(analysis, table, subgroup.as_ref(), scratch);
        scratch.classified_for = Some(key);
        scratch.classified_levels.clone_from(&analysis.levels);
    }
    let mut next = 0;
    scratch.f_tests.clear();
    let whole = analysis;
    for &outcome_id in &whole.outcomes {
        // An outcome with its own test or sidedness (`test ... for OUTCOME`).
        let own = if whole.per_outcome.is_empty() {
            None
        } else {
            whole.for_outcome(outcome_id)
        };
        let analysis = own.as_ref().unwrap_or(whole);
        let outcome = model.outcomes.get(outcome_id);
        let binary = outcome.is_none_or(|o| o.is_binary());
        let name = outcome.map_or("", |o| o.name.as_str());
        let f_test = match (&subgroup, detail) {
            (Some(s), Detail::Full) if !binary && !analysis.test.is_regression() => {
                s.column.map(|codes| {
                    let levels: Vec<u32> = (0..slots).map(|k| s.level(k) as u32).collect();
                    adjusted::interaction_f(
                        analysis,
                        table,
                        outcome_id,
                        codes,
                        &levels,
                        &mut scratch.regression,
                    )
                })
            }
            _ => None,
        };
        scratch.f_tests.push(f_test);
        accumulate(table, outcome_id, binary, slots, scratch);
        for slot in 0..slots {
            let label = subgroup.as_ref().map(|s| (s.variable, s.level_name(slot)));
            let [t, c] = scratch.cells[slot];
            let mut contrast = contrast(analysis, binary, &t, &c, detail);
            if analysis.test == TestKind::ClusterT {
                let codes = subgroup.as_ref().and_then(|s| s.column);
                let wanted = subgroup.as_ref().map(|s| s.level(slot) as u32);
                let keep = |i: usize| match (codes, wanted) {
                    (Some(col), Some(level)) => col.get(i) == Some(&level),
                    _ => true,
                };
                let ct = cluster::cluster_test(
                    analysis,
                    table,
                    outcome_id,
                    keep,
                    CONFIDENCE,
                    &mut scratch.cluster,
                );
                contrast.test = ct.test;
                contrast.difference = ct.difference;
                contrast.ci = ct.ci;
                contrast.wald_ci = ct.ci;
                contrast.df = Some(ct.df);
                contrast.clusters_in_two_arms = ct.clusters_in_two_arms;
                // Participant-level tests beside a cluster-level one would count correlated
                // people as independent: not shown.
                contrast.student = None;
                contrast.yates_p = None;
            }
            if analysis.test == TestKind::Randomisation {
                let codes = subgroup.as_ref().and_then(|s| s.column);
                let wanted = subgroup.as_ref().map(|s| s.level(slot) as u32);
                let keep = |i: usize| match (codes, wanted) {
                    (Some(col), Some(level)) => col.get(i) == Some(&level),
                    _ => true,
                };
                match randomisation::contrast_test(model, analysis, table, outcome_id, binary, keep)
                {
                    Ok(r) => {
                        contrast.test = TestOutcome {
                            statistic: r.statistic,
                            p_value: r.p_value,
                        };
                        contrast.randomisation = Some(r);
                    }
                    Err(mixed) => {
                        contrast.test = TestOutcome::UNDEFINED;
                        contrast.clusters_in_two_arms = Some(mixed);
                    }
                }
                contrast.df = None;
                if model.delivery.clusters.is_some() && !table.cluster.is_empty() {
                    contrast.student = None;
                    contrast.yates_p = None;
                }
            }
            if analysis.test.is_regression() {
                let codes = subgroup.as_ref().and_then(|s| s.column);
                let wanted = subgroup.as_ref().map(|s| s.level(slot) as u32);
                let keep = |i: usize| match (codes, wanted) {
                    (Some(col), Some(level)) => col.get(i) == Some(&level),
                    _ => true,
                };
                let r = adjusted::regression(
                    model,
                    analysis,
                    table,
                    outcome_id,
                    keep,
                    CONFIDENCE,
                    detail == Detail::Full,
                    &mut scratch.regression,
                );
                contrast.test = r.test;
                contrast.difference = r.fit.estimate;
                contrast.ci = r.ci;
                contrast.wald_ci = r.ci;
                contrast.df = Some(r.fit.df);
                contrast.regression = r.info;
            }
            if analysis.missing == Some(crate::model::MissingHandling::Ipw) {
                let codes = subgroup.as_ref().and_then(|s| s.column);
                let wanted = subgroup.as_ref().map(|s| s.level(slot) as u32);
                let keep = |i: usize| match (codes, wanted) {
                    (Some(col), Some(level)) => col.get(i) == Some(&level),
                    _ => true,
                };
                let r = ipw::ipw_contrast(
                    model,
                    analysis,
                    table,
                    outcome_id,
                    keep,
                    CONFIDENCE,
                    detail == Detail::Full,
                    &mut scratch.ipw,
                );
                contrast.test = r.test;
                contrast.difference = r.difference;
                contrast.ci = r.ci;
                contrast.wald_ci = r.ci;
                contrast.df = None;
                contrast.ipw = r.info;
            }
            set_contrast(&mut out.contrasts, next, name, label, contrast);
            next += 1;
        }
    }

    adjust(analysis, &mut out.contrasts, scratch);
    match detail {
        Detail::Full => interactions(analysis, subgroup.as_ref(), slots, out, scratch),
        Detail::Decisions => out.interactions.clear(),
    }
}

/// Marks a row that no cell of the analysis takes (another arm, an unanalysed level).
const NO_CELL: u32 = u32::MAX;

/// Sorts the rows into the analysis' cells once, for all its outcomes: `slot * 2 + side`
/// (side 0 treatment, 1 control) per row in `scratch.cell_of_row`, and the same as runs of
/// consecutive rows in one cell in `scratch.runs` (a simulated table keeps each arm together,
/// so an analysis without subgroups has one run per arm).
fn classify(
    analysis: &Analysis,
    table: &ParticipantTable,
    subgroup: Option<&Subgroup<'_>>,
    scratch: &mut Scratch,
) {
    scratch.cell_of_row.clear();
    scratch.runs.clear();
    // Subgroup levels interleave; so may arms in real data, and then the rows are counted one
    // by one instead (finding many short runs costs a mispredicted branch per row).
    scratch.interleaved = subgroup.is_some();
    let (treatment, control) = (analysis.treatment as u64, analysis.control as u64);
    let side_of = |arm: u32| {
        let arm = u64::from(arm);
        if arm == treatment {
            0
        } else if arm == control {
            1
        } else {
            NO_CELL
        }
    };
    match subgroup {
        None => {
            // Runs straight from the arm column; the cell of every row only if the arms
            // interleave.
            let arms = &table.arm;
            let n = arms.len();
            let mut start = 0;
            while let Some(&arm) = arms.get(start) {
                let end = table.arm_run_end(start);
                let cell = side_of(arm);
                if cell != NO_CELL {
                    scratch.runs.push((start, end, cell));
                    if end < n && scratch.runs.len() * 8 > n {
                        scratch.runs.clear();
                        scratch.interleaved = true;
                        scratch
                            .cell_of_row
                            .extend(arms.iter().map(|&arm| side_of(arm)));
                        return;
                    }
                }
                start = end;
            }
        }
        Some(s) => {
            let Some(codes) = s.column else {
                return;
            };
            // Run by run of one arm, each row's cell looked up by its level code (rows beyond a
            // short column of codes have none, as a zip of the two would stop there).
            let (arms, lookup) = (&table.arm, &scratch.cell_of_level);
            let half = lookup.len() / 2;
            let mut start = 0;
            while start < arms.len().min(codes.len()) {
                let end = table.arm_run_end(start).min(codes.len());
                let rows = &codes[start..end];
                match side_of(arms[start]) {
                    NO_CELL => scratch
                        .cell_of_row
                        .extend(std::iter::repeat_n(NO_CELL, rows.len())),
                    side => {
                        let cells = &lookup[side as usize * half..][..half];
                        scratch.cell_of_row.extend(
                            rows.iter()
                                .map(|&code| cells.get(code as usize).copied().unwrap_or(NO_CELL)),
                        );
                    }
                }
                start = end;
            }
        }
    }
}

/// Participants with a value and, of them, values ≥ 0.5 (events), in `values`.
#[inline]
fn count_binary(values: &[f64]) -> (u64, u64) {
    let (mut n, mut events) = (0u64, 0u64);
    for &v in values {
        n += u64::from(!v.is_nan());
        events += u64::from(v >= 0.5);
    }
    (n, events)
}

/// `[participants, events]` of cells 0..K (rows of other cells are skipped), in one pass.
#[inline]
fn count_cells<const K: usize>(cell_of_row: &[u32], values: &[f64]) -> [[u64; 2]; 8] {
    let mut n = [0u64; K];
    let mut events = [0u64; K];
    for (&cell, &v) in cell_of_row.iter().zip(values) {
        let (present, event) = (!v.is_nan(), v >= 0.5);
        for k in 0..K {
            let here = cell == k as u32;
            n[k] += u64::from(here & present);
            events[k] += u64::from(here & event);
        }
    }
    let mut out = [[0; 2]; 8];
    for k in 0..K {
        out[k] = [n[k], events[k]];
    }
    out
}

/// One pass over one outcome's column, filling the `[treatment, control]` cells of every
/// subgroup slot from the rows sorted by [`classify`]. A binary outcome only counts
/// (participants and events, integers); a continuous one takes shifted sums, row by row in
/// table order.
fn accumulate(
    table: &ParticipantTable,
    outcome: usize,
    binary: bool,
    slots: usize,
    scratch: &mut Scratch,
) {
    scratch.cells.clear();
    scratch.cells.resize(slots, [Accumulator::default(); 2]);
    let Some(values) = table.outcomes.get(outcome) else {
        return;
    };
    // Rows beyond a short column have no value, as a zip over the columns would stop there.
    let clip = |(start, end, cell): (usize, usize, u32)| {
        let end = end.min(values.len());
        (start.min(end), end, cell as usize)
    };
    let Scratch {
        cells,
        runs,
        cell_of_row,
        counts,
        interleaved,
        ..
    } = scratch;
    if !binary && *interleaved {
        // Row by row, so each cell still takes its values in table order.
        for (&cell, &v) in cell_of_row.iter().zip(values) {
            if cell != NO_CELL && !v.is_nan() {
                let cell = cell as usize;
                cells[cell / 2][cell % 2].push(v);
            }
        }
    } else if !binary {
        for &run in runs.iter() {
            let (start, end, cell) = clip(run);
            let acc = &mut cells[cell / 2][cell % 2];
            for &v in &values[start..end] {
                if !v.is_nan() {
                    acc.push(v);
                }
            }
        }
    } else if !*interleaved {
        // Long runs: count each run's slice in one tight loop.
        for &run in runs.iter() {
            let (start, end, cell) = clip(run);
            let (n, events) = count_binary(&values[start..end]);
            let acc = &mut cells[cell / 2][cell % 2];
            acc.n += n;
            acc.events += events;
        }
    } else if slots <= 4 {
        // Interleaved cells (subgroups), few of them: one branch-free pass that keeps every
        // cell's counts in registers (a counter per cell in memory would make each row wait for
        // the previous row's increment).
        let counted = match slots {
            1 => count_cells::<2>(cell_of_row, values),
            2 => count_cells::<4>(cell_of_row, values),
            3 => count_cells::<6>(cell_of_row, values),
            _ => count_cells::<8>(cell_of_row, values),
        };
        for (k, [n, events]) in counted.into_iter().take(2 * slots).enumerate() {
            let acc = &mut cells[k / 2][k % 2];
            acc.n = n;
            acc.events = events;
        }
    } else {
        // Interleaved cells (subgroups): one counter pair per cell, and one for the rows no cell
        // takes, so that the loop has no branch.
        counts.clear();
        counts.resize(2 * slots + 1, [0; 2]);
        let spare = 2 * slots;
        for (&cell, &v) in cell_of_row.iter().zip(values) {
            let k = if cell == NO_CELL {
                spare
            } else {
                cell as usize
            };
            if let Some(c) = counts.get_mut(k) {
                c[0] += u64::from(!v.is_nan());
                c[1] += u64::from(v >= 0.5);
            }
        }
        for (k, c) in counts[..spare].iter().enumerate() {
            let acc = &mut cells[k / 2][k % 2];
            acc.n = c[0];
            acc.events = c[1];
        }
    }
}

/// The numbers of one contrast (labels and corrections are filled in by the caller).
struct Numbers {
    treatment: ArmSummary,
    control: ArmSummary,
    difference: f64,
    ci: (f64, f64),
    wald_ci: (f64, f64),
    test: TestOutcome,
    df: Option<f64>,
    risk_ratio: Option<RiskRatio>,
    randomisation: Option<RandomisationTest>,
    regression: Option<RegressionInfo>,
    odds_ratio: Option<OddsRatio>,
    yates_p: Option<f64>,
    student: Option<StudentComparison>,
    ipw: Option<IpwInfo>,
    clusters_in_two_arms: Option<ClustersInTwoArms>,
}

fn contrast(
    analysis: &Analysis,
    binary: bool,
    t: &Accumulator,
    c: &Accumulator,
    detail: Detail,
) -> Numbers {
    let full = detail == Detail::Full;
    let treatment = t.summary(binary, full);
    let control = c.summary(binary, full);
    let difference = treatment.mean - control.mean;
    let sides = analysis.sides;
    let welch = || {
        let test = welch_t(
            treatment.mean,
            treatment.sd,
            t.n,
            control.mean,
            control.sd,
            c.n,
            sides,
        );
        (test, Some(welch_df(treatment.sd, t.n, control.sd, c.n)))
    };
    let student = || {
        let test = student_t(
            treatment.mean,
            treatment.sd,
            t.n,
            control.mean,
            control.sd,
            c.n,
            sides,
        );
        // The test needs two participants in each arm; its df is not defined without them.
        let df = (t.n >= 2 && c.n >= 2).then(|| (t.n + c.n) as f64 - 2.0);
        (test, df)
    };
    if binary {
        let (x_t, n_t, x_c, n_c) = (t.events, t.n, c.events, c.n);
        let (test, df) = match analysis.test {
            // The cluster-level test, the regressions and the randomisation test replace the
            // statistic afterwards (see `cluster`, `adjusted` and `randomisation`).
            TestKind::PooledZ
            | TestKind::ClusterT
            | TestKind::RobustT
            | TestKind::Cr2
            | TestKind::Randomisation => (two_proportion_z(x_t, n_t, x_c, n_c, true, sides), None),
            TestKind::UnpooledZ => (two_proportion_z(x_t, n_t, x_c, n_c, false, sides), None),
            TestKind::FisherExact => {
                // With an arm empty there is nothing to compare: undefined, as the other tests
                // say, not the p = 1 of the one possible table.
                let test = if n_t == 0 || n_c == 0 {
                    TestOutcome::UNDEFINED
                } else {
                    fisher_exact(x_t, n_t, x_c, n_c, sides)
                };
                (
                    TestOutcome {
                        statistic: f64::NAN,
                        p_value: test.p_value,
                    },
                    None,
                )
            }
            TestKind::WelchT => welch(),
            TestKind::StudentT => student(),
        };
        Numbers {
            treatment,
            control,
            difference,
            ci: newcombe_difference(x_t, n_t, x_c, n_c, CONFIDENCE),
            wald_ci: if full {
                wald_difference_proportions(x_t, n_t, x_c, n_c, CONFIDENCE)
            } else {
                (f64::NAN, f64::NAN)
            },
            test,
            df,
            risk_ratio: full.then(|| risk_ratio(x_t, n_t, x_c, n_c, CONFIDENCE)),
            randomisation: None,
            regression: None,
            odds_ratio: full.then(|| odds_ratio(x_t, n_t, x_c, n_c, CONFIDENCE)),
            yates_p: full.then(|| yates_chi_square(x_t, n_t, x_c, n_c, sides).p_value),
            student: None,
            ipw: None,
            clusters_in_two_arms: None,
        }
    } else {
        // Means are compared with Welch's t, or Student's when the plan says so (the checker
        // pairs the z and Fisher tests with binary outcomes only).
        let (test, df, ci) = if analysis.test == TestKind::StudentT {
            let (test, df) = student();
            let ci = student_difference_means(
                treatment.mean,
                treatment.sd,
                t.n,
                control.mean,
                control.sd,
                c.n,
                CONFIDENCE,
            );
            (test, df, ci)
        } else {
            let (test, df) = welch();
            let ci = welch_difference_means(
                treatment.mean,
                treatment.sd,
                t.n,
                control.mean,
                control.sd,
                c.n,
                CONFIDENCE,
            );
            (test, df, ci)
        };
        Numbers {
            treatment,
            control,
            difference,
            ci,
            wald_ci: ci,
            test,
            df,
            risk_ratio: None,
            randomisation: None,
            regression: None,
            odds_ratio: None,
            yates_p: None,
            student: full.then(|| {
                let (test, df) = student();
                StudentComparison {
                    statistic: test.statistic,
                    df: df.unwrap_or(f64::NAN),
                    p_value: test.p_value,
                    ci: student_difference_means(
                        treatment.mean,
                        treatment.sd,
                        t.n,
                        control.mean,
                        control.sd,
                        c.n,
                        CONFIDENCE,
                    ),
                }
            }),
            ipw: None,
            clusters_in_two_arms: None,
        }
    }
}

fn set_contrast(
    contrasts: &mut Vec<ContrastResult>,
    index: usize,
    outcome: &str,
    subgroup: Option<(&str, &str)>,
    n: Numbers,
) {
    if contrasts.len() <= index {
        contrasts.push(ContrastResult {
            outcome: String::new(),
            subgroup: None,
            treatment: ArmSummary::default(),
            control: ArmSummary::default(),
            difference: f64::NAN,
            ci: (f64::NAN, f64::NAN),
            statistic: f64::NAN,
            p_value: f64::NAN,
            p_adjusted: f64::NAN,
            reject: false,
            wald_ci: (f64::NAN, f64::NAN),
            df: None,
            risk_ratio: None,
            randomisation: None,
            regression: None,
            odds_ratio: None,
            yates_p: None,
            student: None,
            ipw: None,
            clusters_in_two_arms: None,
        });
    }
    let c = &mut contrasts[index];
    if c.outcome != outcome {
        c.outcome = outcome.to_owned();
    }
    let same_subgroup = match (&c.subgroup, subgroup) {
        (None, None) => true,
        (Some((v, l)), Some((v2, l2))) => v == v2 && l == l2,
        _ => false,
    };
    if !same_subgroup {
        c.subgroup = subgroup.map(|(v, l)| (v.to_owned(), l.to_owned()));
    }
    c.treatment = n.treatment;
    c.control = n.control;
    c.difference = n.difference;
    c.ci = n.ci;
    c.wald_ci = n.wald_ci;
    c.statistic = n.test.statistic;
    c.p_value = n.test.p_value;
    c.df = n.df;
    c.risk_ratio = n.risk_ratio;
    c.randomisation = n.randomisation;
    c.regression = n.regression;
    c.odds_ratio = n.odds_ratio;
    c.yates_p = n.yates_p;
    c.student = n.student;
    c.ipw = n.ipw;
    c.clusters_in_two_arms = n.clusters_in_two_arms;
}

/// Multiplicity correction over the analysis' contrasts and the rejection decisions.
fn adjust(analysis: &Analysis, contrasts: &mut [ContrastResult], scratch: &mut Scratch) {
    scratch.p.clear();
    scratch.p.extend(contrasts.iter().map(|c| c.p_value));
    scratch.adjusted.clear();
    scratch.adjusted.resize(contrasts.len(), f64::NAN);
    match analysis.correction {
        Correction::None => scratch.adjusted.copy_from_slice(&scratch.p),
        Correction::Bonferroni => bonferroni_into(&scratch.p, &mut scratch.adjusted),
        Correction::Holm => holm_into(&scratch.p, &mut scratch.adjusted, &mut scratch.order),
    }
    for (c, &p) in contrasts.iter_mut().zip(&scratch.adjusted) {
        c.p_adjusted = p;
        c.reject = p <= analysis.alpha;
    }
}

/// Variance of a contrast's difference (unpooled; the squared robust standard error of a
/// regression contrast), for the heterogeneity test.
fn difference_variance(c: &ContrastResult) -> f64 {
    if let Some(r) = &c.regression {
        // A regression contrast's own (robust) variance.
        return r.se * r.se;
    }
    let part = |a: &ArmSummary| {
        if a.events.is_some() {
            a.mean * (1.0 - a.mean) / a.n as f64
        } else {
            a.sd * a.sd / a.n as f64
        }
    };
    part(&c.treatment) + part(&c.control)
}

fn interactions(
    analysis: &Analysis,
    subgroup: Option<&Subgroup<'_>>,
    slots: usize,
    out: &mut AnalysisResult,
    scratch: &mut Scratch,
) {
    let Some(s) = subgroup else {
        out.interactions.clear();
        return;
    };
    let outcomes = if slots == 0 {
        0
    } else {
        analysis.outcomes.len()
    };
    out.interactions.truncate(outcomes);
    for (k, chunk) in out.contrasts.chunks(slots.max(1)).enumerate() {
        scratch.estimates.clear();
        scratch.variances.clear();
        for c in chunk {
            scratch.estimates.push(c.difference);
            scratch.variances.push(difference_variance(c));
        }
        let (test, df) = heterogeneity(&scratch.estimates, &scratch.variances);
        let outcome = chunk.first().map_or("", |c| c.outcome.as_str());
        if out.interactions.len() <= k {
            out.interactions.push(InteractionResult {
                outcome: outcome.to_owned(),
                variable: s.variable.to_owned(),
                statistic: f64::NAN,
                df: 0,
                p_value: f64::NAN,
                f_test: None,
            });
        }
        let i = &mut out.interactions[k];
        if i.outcome != outcome {
            i.outcome = outcome.to_owned();
        }
        if i.variable != s.variable {
            i.variable = s.variable.to_owned();
        }
        i.statistic = test.statistic;
        i.df = df;
        i.p_value = test.p_value;
        i.f_test = scratch.f_tests.get(k).copied().flatten();
    }
}
