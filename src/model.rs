//! The checked trial model: plain, resolved, span-free data.
//!
//! This is the contract between the checker (which builds it from a spec), the engine (which
//! simulates it), the data loader (which maps CSV columns onto it) and the analysis plan. It knows
//! no command line, no source text and no file system. Every name is resolved to an index, every
//! percentage is a probability in `[0, 1]`, every duration is in months and every amount of work is
//! in hours per month.

use serde::Serialize;

/// Index into [`TrialModel::arms`].
pub type ArmId = usize;
/// Index into [`Arm::paths`].
pub type PathId = usize;
/// Index into [`Population::variables`].
pub type VarId = usize;
/// Index into [`TrialModel::outcomes`].
pub type OutcomeId = usize;
/// Index into [`TrialModel::analyses`].
pub type AnalysisId = usize;

/// A whole trial, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialModel {
    /// The trial's title as written in the spec.
    pub name: String,
    /// Months of follow-up after each participant's own intake (t = 0).
    pub follow_up_months: u32,
    /// The date on which eligibility is assessed (ISO 8601), if stated.
    pub reference_date: Option<String>,
    /// Who could be recruited, and how their baseline characteristics are distributed.
    pub population: Population,
    /// Criteria and screening between the pool and randomisation.
    pub eligibility: Eligibility,
    /// How eligible people are allocated to arms and taken in.
    pub assignment: Assignment,
    /// How many participants each arm gets, when the design fixes it (`sample 180 per arm`).
    /// `None`: the arms are whatever the pool and the funnel yield.
    pub sample: Option<Vec<u32>>,
    /// The arms, in the order declared.
    pub arms: Vec<Arm>,
    /// The monthly employment process shared by all arms.
    pub employment: EmploymentProcess,
    /// Outcome measures, in the order declared.
    pub outcomes: Vec<Outcome>,
    /// The analysis plan, in the order declared.
    pub analyses: Vec<Analysis>,
    /// Claims about the design that `power` evaluates and gates on.
    pub expectations: Vec<Expectation>,
    /// How a real participant CSV maps onto this model, if declared.
    pub data: Option<DataMapping>,
    /// Parameters whose value is uncertain, with the distribution of belief about them; `power`
    /// reports assurance (power averaged over this uncertainty) beside power at the central values.
    pub uncertain: Vec<UncertainParameter>,
    /// How the programme is delivered beyond the individual flows: clusters, inflow over time,
    /// multi-category exits and costs (all optional; [`Delivery::default`] is none of them, and
    /// is left out of the JSON form).
    #[serde(skip_serializing_if = "Delivery::is_none")]
    pub delivery: Delivery,
    /// How the arms' baseline balance is judged (`balance { ... }`); the defaults when the spec
    /// has no `balance` block, which leaves it out of the JSON form.
    #[serde(skip_serializing_if = "BalancePlan::is_default")]
    pub balance: BalancePlan,
    /// The analysis marked `(primary)`, if one is: the one design questions, the balance table
    /// and the programme arm default to (else the first analysis). Left out of the JSON form
    /// when none is marked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<AnalysisId>,
    /// How baseline covariates shift continuous outcomes in the simulated population
    /// (`depends on`); left out of the JSON form when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub covariate_effects: Vec<CovariateEffect>,
}

impl TrialModel {
    /// Whether a participant can have level `level` of covariate `var`: the population gives it
    /// a positive probability and every eligibility criterion on the covariate admits it. A
    /// covariate that is not categorical admits every level.
    pub fn level_possible(&self, var: VarId, level: usize) -> bool {
        let Some(levels) = self
            .population
            .variables
            .get(var)
            .and_then(Variable::levels)
        else {
            return true;
        };
        let Some(l) = levels.get(level) else {
            return false;
        };
        l.probability > 0.0
            && self
                .eligibility
                .criteria
                .iter()
                .filter(|c| c.variable == var)
                .all(|c| match &c.test {
                    CriterionTest::InSet { levels } => levels.contains(&level),
                    CriterionTest::Compare { op, value } => {
                        l.value.is_none_or(|x| op.holds(x, *value))
                    }
                })
    }

    /// The share of each level of categorical covariate `var` among those who can be
    /// randomised: the population's probabilities over the possible levels, renormalised (empty
    /// when `var` is not categorical or no level is possible).
    pub fn level_weights(&self, var: VarId) -> Vec<f64> {
        let Some(levels) = self
            .population
            .variables
            .get(var)
            .and_then(Variable::levels)
        else {
            return Vec::new();
        };
        let w: Vec<f64> = levels
            .iter()
            .enumerate()
            .map(|(l, level)| {
                if self.level_possible(var, l) {
                    level.probability
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = w.iter().sum();
        if total > 0.0 {
            w.into_iter().map(|x| x / total).collect()
        } else {
            Vec::new()
        }
    }
}

impl WorkRate {
    /// The probability at level `l` of covariate `var`: the level's own rate, or the rate before
    /// `by` for a level without one (and for a rate that does not vary by `var`).
    pub fn at_level(&self, var: VarId, l: usize) -> f64 {
        self.by
            .as_ref()
            .filter(|b| b.variable == var)
            .and_then(|b| b.probabilities.get(l).copied().flatten())
            .unwrap_or(self.probability)
    }

    /// The measure the rate states: worked within m months, or employed at month m, with at
    /// least one hour.
    pub fn measure(&self) -> Measure {
        match self.meaning {
            RateMeaning::FoundWithin => Measure::WorkedWithin {
                within: self.months,
                min_hours: 1.0,
            },
            RateMeaning::EmployedAt => Measure::EmployedAt {
                month: self.months,
                min_hours: 1.0,
            },
        }
    }
}

impl TrialModel {
    /// Months intake takes for `clients` of the arm that takes the caseload slots
    /// ([`TrialModel::capacity_arm`]) at the spec's intake rate: ⌈clients / rate⌉. `check`,
    /// `feasibility` and `power` all answer with this one function. `None` without a stated rate.
    pub fn intake_months(&self, clients: f64) -> Option<f64> {
        let rate = self
            .assignment
            .capacity
            .as_ref()?
            .intakes_per_month
            .filter(|r| *r > 0.0 && r.is_finite())?;
        Some((clients / rate).ceil())
    }

    /// The outcome that measures a work rate (lowest hours threshold first).
    pub fn outcome_for_rate(&self, rate: &WorkRate) -> Option<usize> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(o, out)| match (rate.meaning, &out.measure) {
                (RateMeaning::FoundWithin, Measure::WorkedWithin { within, min_hours })
                    if *within == rate.months =>
                {
                    Some((o, *min_hours))
                }
                (RateMeaning::EmployedAt, Measure::EmployedAt { month, min_hours })
                    if *month == rate.months =>
                {
                    Some((o, *min_hours))
                }
                _ => None,
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(o, _)| o)
    }

    /// The primary analysis: the one marked `(primary)`, else the first.
    pub fn primary_analysis(&self) -> Option<&Analysis> {
        self.primary
            .and_then(|i| self.analyses.get(i))
            .or_else(|| self.analyses.first())
    }

    /// Index of [`Self::primary_analysis`] (0 when the plan is empty).
    pub fn primary_index(&self) -> usize {
        self.primary
            .filter(|&i| i < self.analyses.len())
            .unwrap_or(0)
    }

    /// The arm whose participants take the caseload slots: the one `capacity ..., for ARM`
    /// names, else the primary analysis' treatment arm, else the first arm.
    pub fn capacity_arm(&self) -> ArmId {
        self.assignment
            .capacity
            .as_ref()
            .and_then(|c| c.arm)
            .or_else(|| self.primary_analysis().map(|a| a.treatment))
            .unwrap_or(0)
    }

    /// A work rate as the participants get it, for reports: `25%`, or where it varies by a
    /// covariate the rate of each level a participant can have (`30% (female), 15% (male)`),
    /// so that a rate before `by` that every level replaces is never shown. `pct` formats one
    /// probability.
    pub fn rate_in_words(&self, rate: &WorkRate, pct: impl Fn(f64) -> String) -> String {
        self.by_level_in_words(rate.probability, rate.by.as_ref(), pct)
    }

    /// A path's share as the participants get it, for reports: like
    /// [`TrialModel::rate_in_words`], per level where the share varies by a covariate.
    pub fn share_in_words(&self, path: &SubPath, pct: impl Fn(f64) -> String) -> String {
        self.by_level_in_words(path.share, path.share_by.as_ref(), pct)
    }

    fn by_level_in_words(
        &self,
        before: f64,
        by: Option<&RateByLevel>,
        pct: impl Fn(f64) -> String,
    ) -> String {
        let Some(by) = by else {
            return pct(before);
        };
        let Some(levels) = self
            .population
            .variables
            .get(by.variable)
            .and_then(Variable::levels)
        else {
            return pct(before);
        };
        let parts: Vec<String> = levels
            .iter()
            .enumerate()
            .filter(|(l, _)| self.level_possible(by.variable, *l))
            .map(|(l, level)| {
                let p = by.probabilities.get(l).copied().flatten().unwrap_or(before);
                format!("{} ({})", pct(p), level.name)
            })
            .collect();
        parts.join(", ")
    }

    /// Whether the spec expects outcomes to go missing: an arm loses them to follow-up, or an
    /// analysis states how it handles missing outcomes.
    pub fn plans_missing_outcomes(&self) -> bool {
        self.arms.iter().any(|a| a.lost_to_follow_up.is_some())
            || self.analyses.iter().any(|a| a.missing.is_some())
    }

    /// Whether an arm that `analysis` compares loses outcomes to follow-up: its analysed arm
    /// sizes are then random (and, when the loss depends on the outcome, its means change), so
    /// binomial closed forms at the assigned sizes do not describe it.
    pub fn loses_outcomes(&self, analysis: &Analysis) -> bool {
        [analysis.treatment, analysis.control].iter().any(|&a| {
            self.arms
                .get(a)
                .is_some_and(|arm| arm.lost_to_follow_up.is_some())
        })
    }
}

/// How the arms' baseline balance is judged: `balance { flag smd above 0.1  alpha 5%  educ bins
/// [0, 9, 12, 16, 99) }`. Balance is a property of the data, not of the simulated outcomes, so
/// the plan changes the balance table and the audit of `analyze`, and the chance-imbalance rates
/// `power` simulates for it, never an outcome or a power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalancePlan {
    /// A covariate row is flagged when its |standardised mean difference| exceeds this.
    pub smd_threshold: f64,
    /// Level of each covariate's balance test (chi-square or Welch t) and of the omnibus test;
    /// the audit reports a chance imbalance where p < alpha.
    pub alpha: f64,
    /// Numeric covariates binned for a Pearson chi-square test: the covariate and the edges
    /// `e0 < e1 < ... < ek` of the half-open bins `[e0, e1), ..., [e(k-1), ek)`, in the
    /// covariate's model unit.
    pub bins: Vec<(VarId, Vec<f64>)>,
    /// Whether the spec states a `balance` block: then `power` also simulates how often the
    /// audit flags a chance imbalance ([`crate::imbalance`]). Not part of the model's JSON,
    /// which shows the plan's values either way.
    #[serde(skip)]
    pub stated: bool,
}

impl Default for BalancePlan {
    fn default() -> Self {
        Self {
            smd_threshold: 0.1,
            alpha: 0.05,
            bins: Vec::new(),
            stated: false,
        }
    }
}

impl BalancePlan {
    /// Whether this is the plan a spec without a `balance` block gets.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The bin edges of covariate `var`, if the plan bins it.
    pub fn bins_of(&self, var: VarId) -> Option<&[f64]> {
        self.bins
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, e)| e.as_slice())
    }
}

/// Delivery features of group and municipal programmes (the seed gallery's approaches).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delivery {
    /// Participants come in clusters (groups, cohorts) that are randomised whole.
    pub clusters: Option<Clusters>,
    /// Participants enter over time and are all analysed on one fixed date.
    pub inflow: Option<Inflow>,
    /// Arms whose participants leave by competing destinations (work, another provision,
    /// non-work reasons), with the cumulative incidence of each.
    pub exits: Vec<ArmExits>,
    /// Programme costs and savings, for the cost per extra exit and the break-even effect.
    pub costs: Option<CostModel>,
}

impl Delivery {
    /// Whether the model uses none of the delivery features.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }
}

/// Cluster randomisation: participants in clusters of `size`, whole clusters allocated to arms,
/// outcomes correlated within a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clusters {
    /// Participants per cluster (the last cluster of an arm may be smaller).
    pub size: u32,
    /// Intra-cluster correlation of binary outcomes, in `[0, 1)`: each cluster draws its own
    /// probability from a beta distribution with the stated mean and this ICC.
    pub icc: f64,
    /// What the spec calls a cluster (`cohort`, `group`), for reports.
    pub label: String,
    /// The participant CSV's column with each participant's cluster (`cluster "cohort_id"` in
    /// the data block), if declared.
    pub data_column: Option<String>,
}

/// Inflow over time: intakes per period (ramp-up, or intake rounds) and one analysis date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inflow {
    /// Intakes in each period, in order; the last count repeats until everyone is in.
    pub per_period: Vec<u32>,
    /// Length of a period in months (12 for `per year`, 1 for `per month`).
    pub period_months: u32,
    /// The analysis date, in months after the first intake. A participant who entered in month
    /// e is followed for `analysis_month - e` months; measures past that read the status on the
    /// analysis date.
    pub analysis_month: u32,
}

/// Competing exits of one arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmExits {
    /// The arm.
    pub arm: ArmId,
    /// Window of the stated cumulative incidences, in months.
    pub months: u32,
    /// Destinations with their cumulative incidence within the window.
    pub destinations: Vec<ExitDestination>,
}

/// One destination of a competing exit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExitDestination {
    /// Its name (`work`, `werkom`, `non_work`, ...).
    pub name: String,
    /// What leaving to it means.
    pub kind: ExitKind,
    /// Probability of leaving to it within the window (cumulative incidence), in `[0, 1]`.
    pub probability: f64,
}

/// What an exit destination means for the participant's other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// A job starts (benefit ends for work).
    Work,
    /// Benefit ends for a non-work reason.
    NonWork,
    /// The participant moves to another provision (e.g. Werkom) and stays on benefit.
    Provision,
}

/// Costs and savings of the programme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostModel {
    /// The analysis whose first contrast gives the extra exits.
    pub analysis: AnalysisId,
    /// Fixed programme cost (euro).
    pub fixed: f64,
    /// Cost per participant of the treatment arm (euro).
    pub per_participant: f64,
    /// Saving per benefit-year avoided (euro; €14,000 in the reports).
    pub saving_per_benefit_year: f64,
    /// Benefit-years avoided per extra exit.
    pub years_per_exit: f64,
}

/// A parameter given as a distribution of belief, e.g. a Team Zorg share between 20 % and 35 %.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UncertainParameter {
    /// The parameter's path, as accepted by `trialsim sweep --vary` (`arm.experiment.team_zorg.share`).
    pub parameter: String,
    /// Belief about its value (in canonical units: probabilities as fractions).
    pub distribution: Distribution,
}

/// The recruitment pool and the distribution of baseline covariates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Population {
    /// Size of the pool before eligibility (e.g. 440 clients in January 2017), if known.
    pub pool: Option<u64>,
    /// Baseline covariates, in the order declared.
    pub variables: Vec<Variable>,
}

/// One baseline covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// Name used in criteria, subgroups and data mappings.
    pub name: String,
    /// Unit of the numeric values (categorical variables have [`Unit::None`]).
    pub unit: Unit,
    /// How the covariate is distributed in the pool.
    pub distribution: Distribution,
}

impl Variable {
    /// The numeric variable this one bins, for a derived variable
    /// ([`Distribution::Binned`]); such a variable is not declared in the spec and is left out
    /// wherever the declared covariates are listed, drawn, audited or exported.
    pub fn binned_from(&self) -> Option<VarId> {
        match &self.distribution {
            Distribution::Binned { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// Level names, for a categorical variable.
    pub fn levels(&self) -> Option<&[Level]> {
        match &self.distribution {
            Distribution::Categorical { levels } | Distribution::Binned { levels, .. } => {
                Some(levels)
            }
            _ => None,
        }
    }
}

/// Units a quantity in a spec may carry. The checker converts years and weeks to months and hours
/// per week to hours per month; what remains here is the canonical unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A plain number or a category.
    None,
    /// Age in years.
    Years,
    /// Durations.
    Months,
    /// Hours of paid work per month.
    HoursPerMonth,
}

/// A probability distribution over a covariate or over hours worked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distribution {
    /// Named (or numeric) levels with probabilities summing to 1.
    Categorical {
        /// The levels, in the order declared.
        levels: Vec<Level>,
    },
    /// Continuous uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Log-normal given by its median and the sd of the log.
    LogNormal {
        /// Median (= exp(mu)).
        median: f64,
        /// Standard deviation of the log (> 0).
        sigma: f64,
    },
    /// A constant.
    Fixed {
        /// The value.
        value: f64,
    },
    /// A categorical covariate derived from a numeric one: its level is the half-open bin
    /// `[edges[k], edges[k + 1])` holding the source's value, none (missing) when the value is
    /// missing or outside all bins. Written `within educ bins [0, 9, 12, 16, 99)`; the checker
    /// appends one such variable per binning that analyses use, after the declared ones, named
    /// `educ bins [0, 9, 12, 16, 99)` (no declared name can look like that).
    Binned {
        /// The numeric covariate binned.
        source: VarId,
        /// `e0 < e1 < ... < ek`.
        edges: Vec<f64>,
        /// One level per bin, named `[e0, e1)` as the balance report prints a bin; its
        /// probability is the share of the population in the bin that the eligibility criteria
        /// on the source admit (the levels' sum falls short of 1 by the mass outside all bins
        /// or refused on the source).
        levels: Vec<Level>,
    },
}

impl Distribution {
    /// The bin `[edges[b], edges[b + 1])` holding `v`, if any (none for NaN).
    pub fn bin_of(edges: &[f64], v: f64) -> Option<usize> {
        edges.windows(2).position(|w| w[0] <= v && v < w[1])
    }

    /// The name of the bin `[lo, hi)`, as reports print it.
    pub fn bin_name(lo: f64, hi: f64) -> String {
        format!("[{lo}, {hi})")
    }

    /// The name of the variable that bins `source` at `edges`: `educ bins [0, 9, 12, 16, 99)`,
    /// as the spec writes it. A declared name is an identifier, so it never holds the space
    /// that tells [`subgroup_label`] a derived variable from a declared one.
    pub fn binned_name(source: &str, edges: &[String]) -> String {
        format!("{source} {BINS_INFIX}{})", edges.join(", "))
    }
}

/// What separates a binned variable's source from its edges in its name.
const BINS_INFIX: &str = "bins [";

/// A subgroup as every output labels it: `nodegree=1` for a level of a declared variable, and
/// `educ in [9, 12)` for a bin, rather than the derived variable's full name
/// (`educ bins [0, 9, 12, 16, 99)=[9, 12)`).
pub fn subgroup_label(variable: &str, level: &str) -> String {
    match variable.split_once(&format!(" {BINS_INFIX}")) {
        Some((source, _)) => format!("{source} in {level}"),
        None => format!("{variable}={level}"),
    }
}

/// One level of a categorical distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// The level's name (numeric levels such as ladder rung `3` keep their text).
    pub name: String,
    /// Its numeric value, when the name is a number (used by `in {3, 4}` and by hours).
    pub value: Option<f64>,
    /// Probability in `[0, 1]`.
    pub probability: f64,
}

/// The funnel between the pool and randomisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eligibility {
    /// All criteria must hold.
    pub criteria: Vec<Criterion>,
    /// Loss at paper screening, if declared.
    pub screening: Option<Screening>,
}

/// One eligibility criterion on a covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    /// The covariate it tests.
    pub variable: VarId,
    /// The test.
    pub test: CriterionTest,
    /// The bound this criterion replaced, when the spec records an amendment
    /// (Almere raised the upper age limit from 60 to 63).
    pub amended_from: Option<f64>,
}

/// The test of a criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CriterionTest {
    /// `variable <op> value`, on a numeric variable (or a categorical one with numeric levels).
    Compare {
        /// Comparison.
        op: Comparison,
        /// Bound, in the variable's canonical unit.
        value: f64,
    },
    /// `variable in {a, b}` on a categorical variable: the admitted level indices.
    InSet {
        /// Admitted level indices.
        levels: Vec<usize>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
}

impl Comparison {
    /// Does `lhs <op> rhs` hold?
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            Self::Lt => lhs < rhs,
            Self::Le => lhs <= rhs,
            Self::Gt => lhs > rhs,
            Self::Ge => lhs >= rhs,
            Self::Eq => lhs == rhs,
        }
    }
}

/// Paper screening: a share of eligible people removed before randomisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Screening {
    /// The loss assumed by the design (Almere: 25 %). The engine uses this one.
    pub planned_loss: f64,
    /// The loss really observed, if recorded (Almere: < 5 %).
    pub observed_loss: Option<f64>,
}

/// Allocation to arms and intake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    /// The allocation rule.
    pub rule: AssignmentRule,
    /// The order in which participants are taken in.
    pub intake_order: IntakeOrder,
    /// Staff capacity, if declared.
    pub capacity: Option<Capacity>,
    /// Paired calendar starts (`control starts paired with experiment`): client k of the
    /// follower arm takes the start date of client k of the leader arm in the intake order
    /// (Almere's volgnummer pairing). The clock of every participant still starts at t = 0, so
    /// this changes calendar dates, not outcomes.
    pub paired_start: Option<PairedStart>,
    /// Participants added mid-trial by the same rule and excluded from the analysis, if declared.
    pub top_up: Option<TopUp>,
    /// Where every participant's months count from (`clock from randomisation|intake`).
    pub clock: Clock,
}

/// Where a participant's months (rates' windows, measures' months, delays) count from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// From the participant's own intake (the default): a wait for a slot moves the calendar,
    /// not the outcomes.
    #[default]
    Intake,
    /// From randomisation: a wait for a caseload slot delays the programme, and outcomes read
    /// a fixed time after randomisation see the delay.
    Randomisation,
}

/// Calendar pairing of two arms' starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedStart {
    /// The arm whose clients take the other arm's start dates (Almere: control).
    pub follower: ArmId,
    /// The arm whose intakes set the dates (Almere: experiment).
    pub leader: ArmId,
}

/// A top-up cohort: more participants assigned by the same rule part-way through the trial, who
/// take intake capacity but are left out of the analysed table (Almere added ~30 per arm in
/// early 2019 and excluded them for contamination).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopUp {
    /// Participants added per arm.
    pub per_arm: u32,
    /// Month after the start of intake at which they are added.
    pub month: u32,
    /// Whether they are excluded from the analysis. The checker accepts only excluded top-ups
    /// (`(excluded from analysis)`); the field keeps that statement explicit in the model.
    pub excluded: bool,
}

/// How participants are allocated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssignmentRule {
    /// By the parity of the last digit of an ID number (Almere: even → experiment, odd → control).
    /// Each person's parity is a fair coin, so arm sizes vary.
    Parity {
        /// Arm for even IDs.
        even: ArmId,
        /// Arm for odd IDs.
        odd: ArmId,
        /// The ID's name as the spec writes it (`bsn`, `id`); documentation only.
        id: String,
    },
    /// Complete randomisation with fixed arm sizes in the given ratio.
    Complete {
        /// Integer weight per arm, indexed like [`TrialModel::arms`].
        ratio: Vec<u32>,
    },
    /// Permuted blocks of `block_size` within strata.
    Blocked {
        /// Integer weight per arm, indexed like [`TrialModel::arms`].
        ratio: Vec<u32>,
        /// Size of each block (a multiple of the ratio's sum).
        block_size: u32,
        /// Stratification variables (categorical).
        strata: Vec<VarId>,
    },
}

/// The order of intakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeOrder {
    /// A random sequence number orders intakes (Almere's volgnummer).
    Random,
    /// Everyone starts at once.
    Simultaneous,
}

/// Staff capacity for intake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// Number of case managers.
    pub staff: u32,
    /// Maximum caseload per case manager.
    pub caseload: u32,
    /// Intakes per month across all staff, if stated.
    pub intakes_per_month: Option<f64>,
    /// The longest a client holds a slot (`, guidance N months`); `None`: until their benefit
    /// ends, or to the end of the follow-up.
    pub guidance_months: Option<u32>,
    /// The arm whose participants take the slots (`, for ARM`); `None`: the first analysis'
    /// treatment arm (see [`TrialModel::capacity_arm`]).
    pub arm: Option<ArmId>,
    /// The process someone waiting for a slot follows (`, waiting follows ARM[.PATH]`); `None`:
    /// the first analysis' control arm (business as usual while waiting).
    pub waiting: Option<ProcessRef>,
}

/// One arm of the trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    /// Arm name.
    pub name: String,
    /// Sub-paths with shares summing to 1 (an arm without declared paths has one path named
    /// after the arm, with share 1).
    pub paths: Vec<SubPath>,
    /// Share baseline-employed (≥ 1 h in month 0) at intake.
    pub baseline_employment: f64,
    /// Dropout before intake (still analysed by intention to treat).
    pub dropout: Option<Dropout>,
    /// Temporary exemption pausing participation.
    pub exemption: Option<Exemption>,
    /// Competing exit from benefit for a non-work reason; no job starts after it.
    pub non_work_exit: Option<EventRate>,
    /// Crossover into another arm's process (analysed by intention to treat).
    pub crossover: Option<Crossover>,
    /// Directly declared outcomes (for designs without an employment process), by outcome.
    pub direct_outcomes: Vec<DirectOutcome>,
    /// Outcomes that go unobserved after a participant is lost to follow-up, if declared
    /// (`lost_to_follow_up 20% by month 12`); left out of the JSON form when not declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_to_follow_up: Option<LostToFollowUp>,
}

/// Loss to follow-up: outcomes that go unobserved, unlike dropout before intake (whose outcomes
/// are still observed and analysed).
///
/// Each participant of the arm (dropouts included) is lost in month L (L ≥ 1), drawn from a
/// constant monthly hazard c: P(L > m) = exp(−c·m), calibrated so that P(L ≤ `by_month`) =
/// `share` (c = −ln(1 − share) / `by_month`). An outcome measured in month m (the month of the
/// measure; `worked within W` is measured at W; a direct outcome at the end of the follow-up;
/// with an inflow, the month read on the analysis date) is missing when m ≥ L and observed when
/// m < L. So `share` is exactly the share of month-`by_month` outcomes that are missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostToFollowUp {
    /// Probability of being lost by month `by_month`, in `[0, 1]` (with an outcome factor: for
    /// participants whose outcome is 0).
    pub share: f64,
    /// The month `share` refers to (≥ 1; the follow-up when the spec does not say).
    pub by_month: u32,
    /// Shares that differ by the level of one categorical covariate (levels without a value take
    /// [`LostToFollowUp::share`]): missing at random given that covariate.
    pub by: Option<RateByLevel>,
    /// Loss that depends on the value of a binary outcome (missing not at random), if declared.
    pub outcome_factor: Option<LossFactor>,
}

/// Outcome-dependent loss: for participants whose value of `outcome` is 1 the monthly hazard of
/// loss is `hazard_ratio` times as high, so 1 − (1 − share)^ratio of them are lost by the month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossFactor {
    /// The binary outcome whose value the loss depends on.
    pub outcome: OutcomeId,
    /// The ratio of the hazards of loss, outcome 1 against outcome 0 (≥ 0).
    pub hazard_ratio: f64,
}

impl LostToFollowUp {
    /// The probability of being lost by `by_month` at covariate level `level` (the overall
    /// share when there are no shares by level), for a participant whose factor outcome is 0.
    pub fn share_at(&self, level: Option<usize>) -> f64 {
        match (&self.by, level) {
            (Some(b), Some(l)) => b
                .probabilities
                .get(l)
                .copied()
                .flatten()
                .unwrap_or(self.share),
            _ => self.share,
        }
    }
}

/// A branch within an arm, such as Team Zorg, with its own outflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubPath {
    /// Path name (`team_zorg`, `guided`).
    pub name: String,
    /// Share of the arm taking this path, in `[0, 1]`.
    pub share: f64,
    /// Whether the share was declared as `rest` (what the other paths leave), so that it follows
    /// when a sweep or an uncertain parameter changes another path's share.
    pub rest: bool,
    /// Shares that differ by the level of one categorical covariate
    /// (`path team_zorg 30% by background { non_western: 25% }`); levels without a value take
    /// [`SubPath::share`]. When one path of an arm has it, the checker gives the arm's `rest`
    /// path the per-level remainder, so the per-level shares of an arm always add up to 1.
    pub share_by: Option<RateByLevel>,
    /// Months after intake before the path's process starts (e.g. a 3-month capacity assessment).
    pub delay_months: u32,
    /// The path's rate of work.
    pub work: WorkRate,
}

/// A rate of work as users state it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkRate {
    /// The probability, in `[0, 1]`.
    pub probability: f64,
    /// The window it refers to, in months after intake.
    pub months: u32,
    /// Which quantity the probability is.
    pub meaning: RateMeaning,
    /// Per-level probabilities for one categorical covariate (subgroup effects), if declared.
    pub by: Option<RateByLevel>,
}

/// What a work rate means once jobs can end again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateMeaning {
    /// `work within 12 months: 25%`: a first job starts at some point in months 1..=m.
    FoundWithin,
    /// `employed at month 12: 25%`: in work in month m.
    EmployedAt,
}

/// Rates (or path shares) that differ by the level of one categorical covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateByLevel {
    /// The categorical covariate.
    pub variable: VarId,
    /// Probability per level index; `None` levels use the rate's default probability.
    pub probabilities: Vec<Option<f64>>,
}

/// Dropout before intake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropout {
    /// Share of the arm.
    pub share: f64,
    /// Whose process the dropouts follow instead (e.g. the control arm's).
    pub follows: ProcessRef,
}

/// Temporary exemption from participation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exemption {
    /// Share of the arm exempted.
    pub share: f64,
    /// Maximum length of the exemption in months (Almere: 12).
    pub max_months: u32,
}

/// An event with a probability of happening within a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRate {
    /// Probability in `[0, 1]`.
    pub probability: f64,
    /// Window in months.
    pub months: u32,
}

/// Crossover into another process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crossover {
    /// Share of the arm crossing over.
    pub share: f64,
    /// The process they join.
    pub to: ProcessRef,
    /// Months after intake at which they cross.
    pub after_months: u32,
}

/// Reference to an arm's process, or one of its paths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessRef {
    /// The arm.
    pub arm: ArmId,
    /// A specific path of it; `None` draws the path by the arm's shares.
    pub path: Option<PathId>,
}

/// An outcome declared directly for an arm, without the employment process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectOutcome {
    /// The outcome it gives values for.
    pub outcome: OutcomeId,
    /// Its distribution in this arm.
    pub value: DirectValue,
}

/// Distribution of a directly declared outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DirectValue {
    /// A binary outcome with this probability of 1.
    Binary {
        /// Probability.
        probability: f64,
    },
    /// A continuous outcome drawn from this distribution.
    Continuous {
        /// The distribution.
        distribution: Distribution,
    },
}

/// The monthly employment process that turns rates into participant-months.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmploymentProcess {
    /// Probability per month that a job ends (default 0: jobs last).
    pub job_loss_per_month: f64,
    /// Hours per month of a job, drawn once per job spell.
    pub hours: Distribution,
    /// Hourly wage of a job (euro), drawn once per job spell, if declared.
    pub wage: Option<Distribution>,
}

/// One outcome measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Name used by analyses and data mappings.
    pub name: String,
    /// How it is measured.
    pub measure: Measure,
}

impl Outcome {
    /// Binary outcomes are analysed as proportions, the others as means.
    pub fn is_binary(&self) -> bool {
        self.measure.is_binary()
    }
}

/// How an outcome is measured on a participant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    /// In work with at least `min_hours` in month `month` (month 0 = intake).
    EmployedAt {
        /// Month after intake.
        month: u32,
        /// Hours threshold per month (1 or 48 in Almere).
        min_hours: f64,
    },
    /// In work with at least `min_hours` in some month of `1..=within`.
    WorkedWithin {
        /// Window end.
        within: u32,
        /// Hours threshold per month.
        min_hours: f64,
    },
    /// In work with at least `min_hours` in each of the `consecutive` months ending at `month`.
    Durable {
        /// Last month of the run.
        month: u32,
        /// Length of the run (3 in Almere).
        consecutive: u32,
        /// Hours threshold per month.
        min_hours: f64,
    },
    /// Hours worked in month `month` (0 when not in work).
    Hours {
        /// Month after intake.
        month: u32,
    },
    /// Hourly wage (euro) of the job held in month `month`: missing (NaN) when not in work, so
    /// it is analysed as a mean among those in work, a conditional quantity, not an
    /// intention-to-treat one (the checker warns when an analysis compares it).
    Wage {
        /// Month after intake.
        month: u32,
    },
    /// Benefit ended (for work or another reason) by month `month`.
    BenefitEnded {
        /// Month after intake.
        month: u32,
    },
    /// Left to the competing-exit destination `destination` (an index into the arm's
    /// [`ArmExits::destinations`], matched by name across arms) by month `month`.
    ExitedTo {
        /// Destination name.
        destination: String,
        /// Month after intake.
        month: u32,
    },
    /// A binary outcome given directly per arm or read from data.
    DirectBinary,
    /// A continuous outcome given directly per arm or read from data.
    DirectContinuous,
}

impl Measure {
    /// The month after intake this measure reads (the end of the window for `worked within`);
    /// `None` for an outcome declared per arm, which has no month of its own.
    pub fn read_month(&self) -> Option<u32> {
        match *self {
            Self::EmployedAt { month, .. }
            | Self::Durable { month, .. }
            | Self::Hours { month }
            | Self::Wage { month }
            | Self::BenefitEnded { month }
            | Self::ExitedTo { month, .. } => Some(month),
            Self::WorkedWithin { within, .. } => Some(within),
            Self::DirectBinary | Self::DirectContinuous => None,
        }
    }

    /// Binary measures are analysed as proportions.
    pub fn is_binary(&self) -> bool {
        !matches!(
            self,
            Self::Hours { .. } | Self::Wage { .. } | Self::DirectContinuous
        )
    }
}

/// One analysis of the plan: a contrast between two arms on one or more outcomes, possibly
/// within subgroups. All contrasts of one analysis form one family for multiplicity correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Name used by expectations and reports.
    pub name: String,
    /// Outcomes compared (one contrast each, per subgroup level).
    pub outcomes: Vec<OutcomeId>,
    /// The arm whose effect is estimated.
    pub treatment: ArmId,
    /// The comparator.
    pub control: ArmId,
    /// The test.
    pub test: TestKind,
    /// Direction of the alternative.
    pub sides: Sides,
    /// Significance level in `(0, 0.5]`.
    pub alpha: f64,
    /// Subgroup variable (categorical), if the contrast is made within its levels.
    pub within: Option<VarId>,
    /// Subgroup levels analysed (all levels when the spec does not restrict them).
    pub levels: Vec<usize>,
    /// Multiplicity correction over the analysis' contrasts.
    pub correction: Correction,
    /// How missing outcome values are handled, as the plan states it (`missing complete_cases`);
    /// `None` when the plan does not say, which means complete cases
    /// ([`Analysis::missing_handling`]). Left out of the JSON form when not stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingHandling>,
    /// The covariates of the model of being observed, under `missing ipw on ...` (empty
    /// otherwise, and then left out of the JSON form).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_covariates: Vec<VarId>,
    /// `estimate complier_effect`: the complier effect (Wald / two-stage least squares with the
    /// assigned arm as instrument for receipt) beside every ITT contrast. Left out of the JSON
    /// form when not stated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub complier_effect: bool,
    /// Outcomes whose test or sidedness differ from [`Analysis::test`] and
    /// [`Analysis::sides`], which are those of the first outcome (`test welch_t, two_sided for
    /// hours_12m`): (outcome, test, sides). Left out of the JSON form when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_outcome: Vec<(OutcomeId, TestKind, Sides)>,
    /// Regression adjustment for baseline covariates (`adjust for ...`), if stated. Left out of
    /// the JSON form when not stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjust: Option<Adjustment>,
    /// Interim looks with stopping boundaries (a group-sequential design), if the plan states
    /// them; left out of the JSON form otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialPlan>,
}

/// Regression adjustment of an analysis for baseline covariates: the treatment coefficient of
/// a linear regression of the outcome (a linear probability model for a binary one) on the
/// treatment indicator and the covariates, with HC2 robust standard errors (CR2 under
/// `test cr2`). A categorical covariate enters as indicators of every level but the first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    /// The covariates, in the order written.
    pub covariates: Vec<VarId>,
    /// Lin's interacted estimator or classic ANCOVA.
    pub method: AdjustMethod,
}

/// How the covariates enter the regression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustMethod {
    /// Lin (2013): covariates centred at their sample means and interacted with treatment
    /// (estimatr `lm_lin`); the default.
    #[default]
    Lin,
    /// Analysis of covariance: covariates added without interactions (estimatr `lm_robust`).
    Ancova,
}

impl AdjustMethod {
    /// The name used in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lin => "lin",
            Self::Ancova => "ancova",
        }
    }
}

/// The interim looks of a group-sequential analysis (docs/sequential.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialPlan {
    /// When the looks are taken.
    pub looks: LookSchedule,
    /// The efficacy boundary.
    pub efficacy: crate::stats::sequential::Efficacy,
    /// The futility rule, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub futility: Option<FutilityRule>,
    /// Information fractions the design plans: the share of the participants whose primary
    /// outcome is due by each look (from the intake schedule for calendar looks).
    pub planned_fractions: Vec<f64>,
    /// Boundaries on the planned fractions.
    pub boundaries: crate::stats::sequential::Boundaries,
}

impl TrialModel {
    /// The month after intake at which the first outcome of `analysis` is due (the follow-up
    /// for an outcome without a month of its own): when a look can see it.
    pub fn due_month(&self, analysis: &Analysis) -> u32 {
        analysis
            .outcomes
            .first()
            .and_then(|&o| self.outcomes.get(o))
            .and_then(|o| o.measure.read_month())
            .unwrap_or(self.follow_up_months)
    }
}

impl SequentialPlan {
    /// The design on information fractions `fractions` (the planned ones, or those a replicate
    /// or a data set observed).
    pub fn design(
        &self,
        alpha: f64,
        sides: Sides,
        fractions: Vec<f64>,
    ) -> crate::stats::sequential::Design {
        crate::stats::sequential::Design {
            fractions,
            alpha,
            two_sided: sides == Sides::TwoSided,
            efficacy: self.efficacy,
            futility: match self.futility {
                Some(FutilityRule::BetaSpending(b)) => Some(b),
                _ => None,
            },
        }
    }
}

/// How a baseline covariate shifts a continuous outcome in the simulated population
/// (`outcome re78 = continuous, depends on re75 0.8`): the value drawn for the participant's arm
/// plus the shift, centred so that the arm's stated distribution keeps its mean over the
/// population as declared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CovariateEffect {
    /// The outcome shifted.
    pub outcome: OutcomeId,
    /// The covariate.
    pub variable: VarId,
    /// The shift: per unit of a numeric covariate, or per level of a categorical one.
    pub shift: CovariateShift,
    /// The mean shift over the declared population distribution, subtracted from every
    /// participant's shift (the covariate's declared mean times the coefficient; the share-weighted
    /// mean of the level shifts).
    pub centre: f64,
}

/// The shift of an outcome by one covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CovariateShift {
    /// `coefficient × x` for a numeric covariate `x`.
    PerUnit {
        /// The outcome's change per unit of the covariate.
        coefficient: f64,
    },
    /// A shift per level of a categorical covariate (0 for a level not listed).
    PerLevel {
        /// Shift of each level, in the variable's level order.
        shifts: Vec<f64>,
    },
}

impl CovariateEffect {
    /// The centred shift of a participant with numeric value `x` or level `level` (0 when the
    /// value is missing).
    pub fn shift(&self, x: f64, level: u32) -> f64 {
        let raw = match &self.shift {
            CovariateShift::PerUnit { coefficient } => coefficient * x,
            CovariateShift::PerLevel { shifts } => match shifts.get(level as usize) {
                Some(&s) => s,
                None => return 0.0,
            },
        };
        if raw.is_finite() {
            raw - self.centre
        } else {
            0.0
        }
    }
}

/// When the interim looks are taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "at")]
pub enum LookSchedule {
    /// Calendar months since the first intake.
    Months(Vec<u32>),
    /// Information fractions: a look is taken when that share of the participants' primary
    /// outcomes is due.
    Information(Vec<f64>),
}

/// Stopping for futility.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FutilityRule {
    /// A boundary from beta spending at the design's power.
    BetaSpending(crate::stats::sequential::BetaSpending),
    /// Stop at an interim look when the conditional power under the current trend is below
    /// `below` (non-binding: the efficacy boundary does not count on it).
    ConditionalPower {
        /// The threshold.
        below: f64,
    },
}

impl Analysis {
    /// The analysis as it applies to `outcome`, when its test or sidedness differ from the
    /// analysis-wide ones (`None`: the analysis as it is).
    pub fn for_outcome(&self, outcome: OutcomeId) -> Option<Self> {
        let &(_, test, sides) = self.per_outcome.iter().find(|(o, ..)| *o == outcome)?;
        Some(Self {
            test,
            sides,
            per_outcome: Vec::new(),
            ..self.clone()
        })
    }

    /// How missing outcome values are handled: as stated, or complete cases.
    pub fn missing_handling(&self) -> MissingHandling {
        self.missing.unwrap_or_default()
    }
}

/// How an analysis handles missing outcome values (NaN in the participant table: lost to
/// follow-up, an empty cell in real data, or a wage of someone not in work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingHandling {
    /// Complete cases: a participant without a value of an outcome is left out of that
    /// outcome's contrasts (the default); the number analysed and missing per arm is reported.
    #[default]
    CompleteCases,
    /// Complete cases, and Lee (2009) trimming bounds with their Imbens–Manski interval beside
    /// every contrast of `analyze` ([`crate::stats::lee`]); `power` simulates the complete-case
    /// test, which decides.
    LeeBounds,
    /// Inverse-probability weighting (`missing ipw on age, educ`): per arm a logistic model of
    /// being observed given [`Analysis::missing_covariates`], the Hájek mean of the observed
    /// weighted by 1/p̂, and the difference tested by a z test with the M-estimation sandwich
    /// standard error ([`crate::stats::ipw`]), in `analyze` and in simulation.
    Ipw,
}

impl MissingHandling {
    /// The name used in specs and reports (`complete_cases`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CompleteCases => "complete_cases",
            Self::LeeBounds => "lee_bounds",
            Self::Ipw => "ipw",
        }
    }
}

/// A hypothesis test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Two-proportion z test with pooled variance.
    PooledZ,
    /// Two-proportion z test with unpooled (Wald) variance.
    UnpooledZ,
    /// Fisher's exact test (conditional on the margins); `fisher` in the spec and the JSON.
    #[serde(rename = "fisher")]
    FisherExact,
    /// Welch's unequal-variance t test for means.
    WelchT,
    /// Cluster-level analysis: the outcome's mean per cluster, compared between arms with
    /// Student's two-sample t test on the cluster means (clusters − 2 degrees of freedom).
    ClusterT,
    /// Randomisation inference: the p-value of the difference in means over the assignments
    /// the spec's own rule could have made (participants permuted within strata, or whole
    /// clusters), exactly or by seeded Monte Carlo ([`crate::stats::randomisation`]).
    Randomisation,
    /// The t test of the treatment coefficient of a linear regression (on the covariates of
    /// `adjust for`, if any) with HC2 robust standard errors and `n − k` degrees of freedom
    /// (estimatr `lm_robust` / `lm_lin`).
    RobustT,
    /// The same regression with cluster-robust CR2 standard errors and Bell–McCaffrey
    /// (Satterthwaite) degrees of freedom, for cluster-randomised designs (estimatr
    /// `lm_robust(..., clusters = )`).
    Cr2,
    /// Student's two-sample t test with pooled variance, for means.
    StudentT,
}

impl TestKind {
    /// Whether the test is that of a regression coefficient (adjustable for covariates).
    pub fn is_regression(self) -> bool {
        matches!(self, Self::RobustT | Self::Cr2)
    }
}

/// Sidedness of the alternative hypothesis: a statistics notion, defined in [`crate::stats`].
pub use crate::stats::Sides;

/// Multiplicity correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// None.
    None,
    /// Bonferroni.
    Bonferroni,
    /// Holm's step-down.
    Holm,
}

/// A claim the design must meet, e.g. `expect power(primary) >= 80% at 180 per arm`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    /// The analysis it is about.
    pub analysis: AnalysisId,
    /// The quantity.
    pub metric: Metric,
    /// The comparison the quantity must satisfy.
    pub op: Comparison,
    /// The bound (a probability for power).
    pub value: f64,
    /// The sample size per arm at which it is evaluated, if not the spec's own.
    pub n_per_arm: Option<u32>,
}

/// Quantities an expectation can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Simulated power of the analysis' first contrast.
    Power,
    /// Coverage of the 95 % interval of the first contrast.
    Coverage,
}

/// How the columns of a participant CSV map onto the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DataMapping {
    /// Column with the participant ID.
    pub id: String,
    /// Column with the assigned arm.
    pub arm: String,
    /// Values of the arm column, with the arm each one means.
    pub arm_values: Vec<(String, ArmId)>,
    /// Covariate columns: (variable, column).
    pub covariates: Vec<(VarId, String)>,
    /// Outcome columns: (outcome, column).
    pub outcomes: Vec<(OutcomeId, String)>,
    /// Pattern for monthly hours columns, with `{m}` for the month (`hours_m{m}`), from which
    /// the employment measures are computed.
    pub monthly_hours: Option<String>,
    /// Column with the sub-path taken, if the data record it.
    pub path: Option<PathColumn>,
    /// Field delimiter, if declared (otherwise detected from the header).
    pub delimiter: Option<u8>,
    /// Whether numbers use a decimal comma, if declared (otherwise detected).
    pub decimal_comma: Option<bool>,
    /// Whether rows with missing or invalid values may be excluded (reported) instead of failing.
    pub allow_exclusions: bool,
    /// Flow columns (0/1 or true/false per participant): which participants went through each
    /// flow, e.g. `(Flow::Dropout, "left_before_intake")`. At most one column per flow.
    pub flows: Vec<(Flow, String)>,
}

/// A flow of the process that a data column can record per participant (the arm statements
/// `dropout`, `exemption`, `crossover` and `exit without work`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Left before intake.
    Dropout,
    /// Temporarily exempted from participation.
    Exemption,
    /// Crossed over into another arm's process.
    Crossover,
    /// Left benefit for a non-work reason within the follow-up.
    NonWorkExit,
    /// Received the programme (the primary analysis' treatment arm's process), whatever the
    /// arm: D in a complier analysis (`estimate complier_effect`).
    Received,
}

impl Flow {
    /// Every flow, in this order.
    pub const ALL: [Flow; 5] = [
        Flow::Dropout,
        Flow::Exemption,
        Flow::Crossover,
        Flow::NonWorkExit,
        Flow::Received,
    ];

    /// The name used in the `data` section and in reports (`non_work_exit`).
    pub fn name(self) -> &'static str {
        match self {
            Flow::Dropout => "dropout",
            Flow::Exemption => "exemption",
            Flow::Crossover => "crossover",
            Flow::NonWorkExit => "non_work_exit",
            Flow::Received => "received",
        }
    }

    /// The flow with this name.
    pub fn from_name(name: &str) -> Option<Flow> {
        Flow::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A data column recording which sub-path each participant took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathColumn {
    /// The column's name.
    pub column: String,
    /// Each value of the column with the (arm, path) it means.
    pub values: Vec<PathValue>,
}

/// One value of a [`PathColumn`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathValue {
    /// The value as written in the data.
    pub value: String,
    /// The arm.
    pub arm: ArmId,
    /// The path within that arm.
    pub path: PathId,
}
