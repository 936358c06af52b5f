//! The syntax tree: what the spec says, before names are resolved or units checked. Every node
//! keeps its source [`Span`]; spans never take part in equality.

use crate::source::Span;

/// A name as written, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A number with its unit as written (`25%`, `12 months`, `48 hours per week`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The number as written (25 for `25%`).
    pub value: f64,
    /// The unit as written.
    pub unit: UnitSpec,
    /// Belief about an uncertain value (`25% ~ uniform(20%, 35%)`), where the language allows it.
    pub belief: Option<Box<Distribution>>,
    /// Where it is written.
    pub span: Span,
}

/// Units as written in a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitSpec {
    /// No unit.
    None,
    /// `%`.
    Percent,
    /// `years`.
    Years,
    /// `months`.
    Months,
    /// `weeks`.
    Weeks,
    /// `hours` (per month unless `per week`).
    Hours,
    /// `hours per week`.
    HoursPerWeek,
    /// `euro`.
    Euro,
}

impl UnitSpec {
    /// How the unit reads in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::None => "a plain number",
            Self::Percent => "a percentage",
            Self::Years => "years",
            Self::Months => "months",
            Self::Weeks => "weeks",
            Self::Hours => "hours",
            Self::HoursPerWeek => "hours per week",
            Self::Euro => "euro",
        }
    }
}

/// A plain number (counts, months of measurement).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The value.
    pub value: f64,
    /// Where it is written.
    pub span: Span,
}

/// A share of an arm or a level: a quantity, or `rest`.
#[derive(Debug, Clone, PartialEq)]
pub enum Share {
    /// `rest`: whatever the others leave.
    Rest(Span),
    /// An explicit share.
    Value(Quantity),
}

impl Share {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::Rest(span) => *span,
            Self::Value(q) => q.span,
        }
    }
}

/// The whole spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The trial's title.
    pub title: String,
    /// Where the title is written.
    pub title_span: Span,
    /// The statements, in order.
    pub items: Vec<Item>,
    /// The whole `trial { }` block.
    pub span: Span,
}

/// A top-level statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `follow_up 18 months`
    FollowUp(Quantity, Span),
    /// `reference_date 2017-09-01`
    ReferenceDate(String, Span),
    /// `population { ... }`
    Population(Population),
    /// `eligibility { ... }`
    Eligibility(Eligibility),
    /// `assignment { ... }`
    Assignment(Assignment),
    /// `sample 180 per arm` / `sample experiment 203, control 199`
    Sample(Sample),
    /// `employment { ... }`
    Employment(Employment),
    /// `arm name { ... }`
    Arm(Arm),
    /// `outcome name = ...`
    Outcome(Outcome),
    /// `analysis name { ... }`
    Analysis(Analysis),
    /// `expect power(name) >= 80% at 180 per arm`
    Expect(Expect),
    /// `data { ... }`
    Data(Data),
    /// `inflow 80, 70, 50 per year, analysis at month 36`
    Inflow(Inflow),
    /// `balance { flag smd above 0.1  educ bins [0, 9, 12, 16, 99) }`
    Balance(Balance),
    /// `costs for primary { ... }`
    Costs(Costs),
}

/// `inflow 80, 70, 50 per year, analysis at month 36`
#[derive(Debug, Clone, PartialEq)]
pub struct Inflow {
    /// Intakes per period.
    pub counts: Vec<Number>,
    /// Whether the period is a year (otherwise a month).
    pub per_year: bool,
    /// The analysis month.
    pub analysis_month: Number,
    /// The statement.
    pub span: Span,
}

/// `costs for primary { fixed 90000 euro ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    /// The analysis whose first contrast gives the extra exits.
    pub analysis: Ident,
    /// `fixed N euro`
    pub fixed: Vec<Quantity>,
    /// `per participant N euro`
    pub per_participant: Vec<Quantity>,
    /// `saving N euro per benefit year`
    pub saving: Vec<Quantity>,
    /// `exit avoids N years`
    pub years_per_exit: Vec<Quantity>,
    /// The block.
    pub span: Span,
}

/// `exits within 12 months { work: 30%, werkom: 24% }`
#[derive(Debug, Clone, PartialEq)]
pub struct Exits {
    /// The window.
    pub window: Quantity,
    /// Destinations with their cumulative incidence.
    pub destinations: Vec<(Ident, Quantity)>,
    /// The statement.
    pub span: Span,
}

/// `population { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// `pool N` statements.
    pub pools: Vec<Number>,
    /// Covariates.
    pub variables: Vec<Variable>,
    /// The block.
    pub span: Span,
}

/// `name ~ distribution`
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// The covariate.
    pub name: Ident,
    /// Its distribution.
    pub distribution: Distribution,
    /// The statement.
    pub span: Span,
}

/// A distribution as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// `categorical { a: 40%, b: rest }`
    Categorical(Vec<Level>, Span),
    /// `uniform(45, 66)`, `lognormal(median 48 months, sigma 0.9)`
    Call {
        /// Distribution name.
        name: Ident,
        /// Arguments.
        args: Vec<DistArg>,
        /// The call.
        span: Span,
    },
}

impl Distribution {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::Categorical(_, span) | Self::Call { span, .. } => *span,
        }
    }
}

/// One argument of a distribution, possibly named.
#[derive(Debug, Clone, PartialEq)]
pub struct DistArg {
    /// `median` in `median 48 months`.
    pub name: Option<Ident>,
    /// The value.
    pub value: Quantity,
}

/// A level with its share (`dutch: 43%`).
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The level.
    pub name: Ident,
    /// Its share.
    pub share: Share,
}

/// `eligibility { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Eligibility {
    /// Criteria, in order (`a and b` gives two).
    pub criteria: Vec<Criterion>,
    /// `screening removes ...` statements.
    pub screenings: Vec<Screening>,
    /// The block.
    pub span: Span,
}

/// One criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// The covariate.
    pub variable: Ident,
    /// The test.
    pub test: CriterionTest,
    /// `(amended from 60 years)`
    pub amended_from: Option<Quantity>,
    /// The criterion.
    pub span: Span,
}

/// The test of a criterion.
#[derive(Debug, Clone, PartialEq)]
pub enum CriterionTest {
    /// `>= 45 years`
    Compare(String, Quantity),
    /// `in {3, 4}`
    InSet(Vec<Ident>),
}

/// `screening removes 25% (observed 5%)`
#[derive(Debug, Clone, PartialEq)]
pub struct Screening {
    /// Planned loss.
    pub planned: Quantity,
    /// Observed loss.
    pub observed: Option<Quantity>,
    /// The statement.
    pub span: Span,
}

/// `assignment { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Allocation rules (exactly one is valid).
    pub rules: Vec<Rule>,
    /// `intake order random|simultaneous`
    pub intake: Vec<(bool, Span)>,
    /// `capacity 4 staff x 25 caseload, 20 intakes per month`
    pub capacity: Vec<Capacity>,
    /// `top_up 30 per arm at month 16 (excluded from analysis)`
    pub top_ups: Vec<TopUp>,
    /// `control starts paired with experiment`
    pub paired: Vec<PairedStart>,
    /// `clock from randomisation` (true) or `clock from intake` (false).
    pub clock: Vec<(bool, Span)>,
    /// The block.
    pub span: Span,
}

/// `top_up 30 per arm at month 16 (excluded from analysis)`
#[derive(Debug, Clone, PartialEq)]
pub struct TopUp {
    /// Participants added per arm.
    pub per_arm: Number,
    /// Month they are added.
    pub month: Number,
    /// Whether `(excluded from analysis)` is written.
    pub excluded: bool,
    /// The statement.
    pub span: Span,
}

/// `control starts paired with experiment`
#[derive(Debug, Clone, PartialEq)]
pub struct PairedStart {
    /// The arm taking the other's start dates.
    pub follower: Ident,
    /// The arm whose intakes set the dates.
    pub leader: Ident,
    /// The statement.
    pub span: Span,
}

/// An allocation rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `parity of id: even -> a, odd -> b`
    Parity {
        /// The ID variable name (documentation only).
        id: Ident,
        /// Arm for even IDs.
        even: Ident,
        /// Arm for odd IDs.
        odd: Ident,
        /// The statement.
        span: Span,
    },
    /// `randomise 2:1 in blocks of 6 within sex, background`
    Randomise {
        /// Ratio in arm order.
        ratio: Option<(Vec<Number>, Span)>,
        /// Block size.
        blocks: Option<Number>,
        /// Strata.
        strata: Vec<Ident>,
        /// The statement.
        span: Span,
    },
    /// `randomise 1:1 by cohort of 22, icc 5%`
    Cluster {
        /// Ratio in arm order.
        ratio: Option<(Vec<Number>, Span)>,
        /// What a cluster is called.
        label: Ident,
        /// Participants per cluster.
        size: Number,
        /// Intra-cluster correlation.
        icc: Quantity,
        /// The statement.
        span: Span,
    },
}

impl Rule {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::Parity { span, .. }
            | Self::Randomise { span, .. }
            | Self::Cluster { span, .. } => *span,
        }
    }
}

/// `capacity 4 staff x 25 caseload, 20 intakes per month`
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Staff.
    pub staff: Number,
    /// Caseload per staff member.
    pub caseload: Number,
    /// Intakes per month.
    pub intakes_per_month: Option<Number>,
    /// `, guidance 12 months`: the longest a client holds a slot.
    pub guidance: Option<Quantity>,
    /// `, for experiment`: the arm that takes the slots.
    pub arm: Option<Ident>,
    /// `, waiting follows control`: the process while waiting for a slot.
    pub waiting: Option<ProcessRef>,
    /// The statement.
    pub span: Span,
}

/// `sample ...`
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// `sample 180 per arm`
    PerArm(Number, Span),
    /// `sample experiment 203, control 199`
    Arms(Vec<(Ident, Number)>, Span),
    /// `sample 4 cohorts per arm`
    Clusters(Number, Ident, Span),
}

impl Sample {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::PerArm(_, span) | Self::Arms(_, span) | Self::Clusters(_, _, span) => *span,
        }
    }
}

/// `employment { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Employment {
    /// `job_loss 2% per month`
    pub job_loss: Vec<Quantity>,
    /// `hours ~ ...`
    pub hours: Vec<Distribution>,
    /// `wage ~ ...`
    pub wage: Vec<Distribution>,
    /// The block.
    pub span: Span,
}

/// `arm name { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// The arm.
    pub name: Ident,
    /// Sub-paths.
    pub paths: Vec<Path>,
    /// Arm-level rates (for arms without paths) and `employed at intake`.
    pub rates: Vec<Rate>,
    /// `dropout 7% before intake follows control`
    pub dropouts: Vec<Dropout>,
    /// `lost_to_follow_up 20% by month 12, ...`
    pub lost: Vec<LostToFollowUp>,
    /// `exemption 2% up to 12 months`
    pub exemptions: Vec<(Quantity, Quantity, Span)>,
    /// `exit without work within 18 months: 10%`
    pub exits: Vec<(Quantity, Quantity, Span)>,
    /// `crossover 7% -> experiment.guided after 6 months`
    pub crossovers: Vec<Crossover>,
    /// `employed: 30%`, `score ~ normal(52, 10)`
    pub direct: Vec<DirectOutcome>,
    /// `exits within 12 months { ... }`
    pub competing: Vec<Exits>,
    /// The block.
    pub span: Span,
}

/// `path name share [after N months] { rates }`
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The path.
    pub name: Ident,
    /// Its share of the arm.
    pub share: Share,
    /// `by background { non_western: 25% }`: shares per level.
    pub share_by: Option<RateBy>,
    /// `after 3 months`
    pub delay: Option<Quantity>,
    /// Its rates.
    pub rates: Vec<Rate>,
    /// The block.
    pub span: Span,
}

/// A rate of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// What is counted.
    pub kind: RateKind,
    /// The probability.
    pub value: Quantity,
    /// `by background { dutch: 30%, ... }`
    pub by: Option<RateBy>,
    /// The statement.
    pub span: Span,
}

/// Which quantity a rate gives.
#[derive(Debug, Clone, PartialEq)]
pub enum RateKind {
    /// `work within 12 months`
    WorkWithin(Quantity),
    /// `employed at month 12`
    EmployedAt(Number),
    /// `employed at intake`
    EmployedAtIntake,
}

/// `by variable { level: rate, ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct RateBy {
    /// The categorical covariate.
    pub variable: Ident,
    /// Rates per level.
    pub levels: Vec<Level>,
}

/// `dropout 7% before intake follows control`
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    /// Share.
    pub share: Quantity,
    /// The process followed instead.
    pub follows: Option<ProcessRef>,
    /// The statement.
    pub span: Span,
}

/// `lost_to_follow_up 20% by month 12, by background { non_western: 25% }, 1.5 x if work_12m`
#[derive(Debug, Clone, PartialEq)]
pub struct LostToFollowUp {
    /// Share lost by the month.
    pub share: Quantity,
    /// `by month 12` (the month the share refers to), if written.
    pub by_month: Option<Number>,
    /// `by background { ... }`: shares per level of a covariate.
    pub by: Option<RateBy>,
    /// `1.5 x if work_12m`: the factor on the hazard of loss, and the binary outcome it applies to.
    pub factor: Option<(Number, Ident)>,
    /// The statement.
    pub span: Span,
}

/// `crossover 7% -> experiment.guided after 6 months`
#[derive(Debug, Clone, PartialEq)]
pub struct Crossover {
    /// Share.
    pub share: Quantity,
    /// Target process.
    pub to: ProcessRef,
    /// `after N months`
    pub after: Option<Quantity>,
    /// The statement.
    pub span: Span,
}

/// `arm` or `arm.path`
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRef {
    /// The arm.
    pub arm: Ident,
    /// The path.
    pub path: Option<Ident>,
    /// The reference.
    pub span: Span,
}

/// A directly declared outcome of an arm.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectOutcome {
    /// The outcome.
    pub outcome: Ident,
    /// Its value.
    pub value: DirectValue,
    /// The statement.
    pub span: Span,
}

/// Value of a direct outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectValue {
    /// `employed: 30%`
    Probability(Quantity),
    /// `score ~ normal(52, 10)`
    Distribution(Distribution),
}

/// `outcome name = measure`
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The outcome.
    pub name: Ident,
    /// How it is measured.
    pub measure: Measure,
    /// The measure's text.
    pub measure_span: Span,
    /// `depends on ...` terms: how covariates shift the outcome.
    pub depends: Vec<Dependence>,
    /// The statement.
    pub span: Span,
}

/// One term of `depends on`: `re75 0.8` (per unit) or `ethnicity { hispanic: 500 }` (per level).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependence {
    /// The covariate.
    pub variable: Ident,
    /// The shift per unit of a numeric covariate.
    pub per_unit: Option<Number>,
    /// The shift per level of a categorical covariate (levels not listed shift by 0).
    pub per_level: Vec<(Ident, Number)>,
    /// The term.
    pub span: Span,
}

/// A measure as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// `worked within 12 months, hours >= 1`
    WorkedWithin(Quantity, Option<Quantity>),
    /// `employed at month 12, hours >= 48`
    EmployedAt(Number, Option<Quantity>),
    /// `durable at month 12 for 3 months, hours >= 48`
    Durable(Number, Quantity, Option<Quantity>),
    /// `hours at month 12`
    Hours(Number),
    /// `wage at month 12`
    Wage(Number),
    /// `benefit ended by month 18`
    BenefitEnded(Number),
    /// `exited to werkom by month 12`
    ExitedTo(Ident, Number),
    /// `binary`
    Binary,
    /// `continuous`
    Continuous,
}

/// `analysis name { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The analysis.
    pub name: Ident,
    /// `compare` statements (exactly one is valid).
    pub compares: Vec<Compare>,
    /// `test` statements.
    pub tests: Vec<Test>,
    /// `correction` statements.
    pub corrections: Vec<Ident>,
    /// `missing` statements (how missing outcomes are handled).
    pub missing: Vec<Missing>,
    /// `(primary)` after the name: where it is written.
    pub primary: Option<Span>,
    /// `adjust for` statements.
    pub adjust: Vec<Adjust>,
    /// `estimate` statements (estimands beside the ITT effect).
    pub estimates: Vec<Ident>,
    /// `looks at ...` statements.
    pub looks: Vec<Looks>,
    /// `efficacy ...` statements.
    pub efficacy: Vec<SpendingFn>,
    /// `futility ...` statements.
    pub futility: Vec<Futility>,
    /// The block.
    pub span: Span,
}

/// `missing ipw on age, educ`
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// The handling (`complete_cases`, `lee_bounds`, `ipw`).
    pub how: Ident,
    /// The covariates after `on`, if written.
    pub on: Vec<Ident>,
    /// Where `on` and its covariates are written, if they are.
    pub on_span: Option<Span>,
    /// The statement.
    pub span: Span,
}

/// `adjust for age, educ, re75 (ancova)`
#[derive(Debug, Clone, PartialEq)]
pub struct Adjust {
    /// The covariates.
    pub covariates: Vec<Ident>,
    /// The method, if written (`lin` or `ancova`).
    pub method: Option<Ident>,
    /// The statement.
    pub span: Span,
}

/// `looks at 18, 27, 36 months` or `looks at 30%, 65%, 100% information`
#[derive(Debug, Clone, PartialEq)]
pub struct Looks {
    /// The values as written (the unit usually only on the last).
    pub values: Vec<Quantity>,
    /// Ends in `information`.
    pub information: bool,
    /// The statement.
    pub span: Span,
}

/// A spending function as written: `obrien_fleming`, `hsd(-4)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendingFn {
    /// Its name.
    pub name: Ident,
    /// Its parameter, if written.
    pub parameter: Option<Number>,
    /// Where it is written.
    pub span: Span,
}

/// A futility rule as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Futility {
    /// `beta_spending <function>, power P%, binding|non_binding`
    BetaSpending {
        /// The spending function applied to beta.
        spending: SpendingFn,
        /// The design's power.
        power: Quantity,
        /// `binding` (true) or `non_binding`.
        binding: bool,
        /// The statement.
        span: Span,
    },
    /// `conditional_power below P%`
    ConditionalPower {
        /// The threshold.
        below: Quantity,
        /// The statement.
        span: Span,
    },
}

impl Futility {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::BetaSpending { span, .. } | Self::ConditionalPower { span, .. } => *span,
        }
    }
}

/// `compare a, b: treatment vs control within background {dutch, non_western}`
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    /// Outcomes.
    pub outcomes: Vec<Ident>,
    /// Treatment arm.
    pub treatment: Ident,
    /// Comparator arm.
    pub control: Ident,
    /// Subgroup variable and levels.
    pub within: Option<(Ident, Vec<Ident>)>,
    /// `within educ bins [0, 9, 12, 16, 99)`: the subgroups are the bins of the (numeric)
    /// variable, with these edges as written (then the levels are empty); and the span of
    /// `bins [...)`.
    pub within_bins: Option<(Vec<Number>, Span)>,
    /// The statement.
    pub span: Span,
}

/// `test pooled_z, one_sided greater, alpha 5%`
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// Test names.
    pub names: Vec<Ident>,
    /// Sidedness options.
    pub sides: Vec<Sides>,
    /// Alpha options.
    pub alphas: Vec<Quantity>,
    /// `for o1, o2`: the outcomes this test is for (empty: every outcome of the analysis).
    pub outcomes: Vec<Ident>,
    /// The statement.
    pub span: Span,
}

/// Sidedness as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Sides {
    /// `one_sided` (true) or `two_sided`.
    pub one_sided: bool,
    /// `greater` (true) / `less` (false), if stated.
    pub greater: Option<bool>,
    /// The option.
    pub span: Span,
}

/// `balance { flag smd above 0.1  alpha 5%  educ bins [0, 9, 12, 16, 99) }`
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// `flag smd above X` statements.
    pub flags: Vec<Quantity>,
    /// `alpha P` statements.
    pub alphas: Vec<Quantity>,
    /// `VAR bins [e0, e1, ..., ek)` statements.
    pub bins: Vec<Bins>,
    /// The block.
    pub span: Span,
}

/// `educ bins [0, 9, 12, 16, 99)`: half-open bins `[e0, e1), [e1, e2), ...` of a numeric covariate.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    /// The covariate.
    pub variable: Ident,
    /// The edges, as written.
    pub edges: Vec<Number>,
    /// The statement.
    pub span: Span,
}

/// `expect metric(analysis) op value at N per arm`
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// `power`
    pub metric: Ident,
    /// The analysis.
    pub analysis: Ident,
    /// Comparison operator as written.
    pub op: (String, Span),
    /// Bound.
    pub value: Quantity,
    /// `at N per arm`
    pub n_per_arm: Option<Number>,
    /// The statement.
    pub span: Span,
}

/// `data { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Statements, in order.
    pub items: Vec<DataItem>,
    /// The block.
    pub span: Span,
}

/// A string literal with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    /// The text between the quotes.
    pub text: String,
    /// Where it is written (quotes included).
    pub span: Span,
}

/// One statement of `data { }`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataItem {
    /// `id "client"`
    Id(Str, Span),
    /// `arm "group" { "E" -> experiment, "C" -> control }`
    Arm(Str, Vec<(Str, Ident)>, Span),
    /// `covariate age "age"`
    Covariate(Ident, Str, Span),
    /// `outcome work_12m "work12"`
    Outcome(Ident, Str, Span),
    /// `monthly_hours "hours_m{m}"`
    MonthlyHours(Str, Span),
    /// `path "route" { "TZ" -> experiment.team_zorg }`
    Path(Str, Vec<(Str, ProcessRef)>, Span),
    /// `delimiter ";"`
    Delimiter(Str, Span),
    /// `decimal comma` (true) / `decimal point`
    Decimal(bool, Span),
    /// `allow exclusions`
    AllowExclusions(Span),
    /// `cluster "column"`: each participant's cluster, for a cluster-randomised design
    Cluster(Str, Span),
    /// `dropout "left_before_intake"`: a flow's 0/1 column (the flow name is checked later).
    Flow(Ident, Str, Span),
}

impl DataItem {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Self::Id(_, s)
            | Self::Arm(_, _, s)
            | Self::Covariate(_, _, s)
            | Self::Outcome(_, _, s)
            | Self::MonthlyHours(_, s)
            | Self::Path(_, _, s)
            | Self::Delimiter(_, s)
            | Self::Decimal(_, s)
            | Self::AllowExclusions(s)
            | Self::Cluster(_, s)
            | Self::Flow(_, _, s) => *s,
        }
    }
}
