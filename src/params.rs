//! Numeric parameters of a checked model addressed by dotted paths, such as
//! `arm.experiment.team_zorg.share` or `n_per_arm`. Sweeps vary them, assurance draws them from
//! a distribution of belief, and both go through [`set`], which keeps the model valid: changing
//! a path's share moves the arm's `rest` path with it.
//!
//! Only parameters that take effect are offered. A value the spec states but no participant
//! uses (a rate before `by` when every level has its own rate, a `rest` share, the delay of a
//! path nobody leaves for work, the pool of a design with a fixed sample) is refused with
//! [`ParamError::Overridden`], which names the paths that do take effect.
//!
//! The catalogue is built in one place (`catalogue`): each parameter is a path, its value, its
//! kind and a `Target` saying where in the model it lives, and [`set`] writes through the
//! target. A new kind of parameter is one `Target` variant, one entry in `catalogue` (or an
//! inert one, with the reason, where it would change nothing) and one arm in `write`: the share
//! lost to follow-up, for instance, with its shares by level, its month and its outcome factor,
//! or the capacity figures, which are a queue only with the clock at randomisation.

use std::fmt;

use crate::model::{
    AnalysisId, ArmId, DirectValue, Distribution, Measure, OutcomeId, PathId, RateByLevel,
    TrialModel, VarId,
};

/// Why a parameter path could not be read or set.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    /// No parameter has this path; `suggestion` is the closest one that exists.
    Unknown {
        /// The path as given.
        path: String,
        /// The nearest existing path, if any is close.
        suggestion: Option<String>,
    },
    /// The value is outside what the parameter admits.
    OutOfRange {
        /// The path.
        path: String,
        /// The value given.
        value: f64,
        /// What the parameter admits.
        expected: &'static str,
    },
    /// The spec states this value, but no participant uses it: changing it would change
    /// nothing. `effective` names the parameters that do take effect in its place (empty when
    /// none does).
    Overridden {
        /// The path as given.
        path: String,
        /// Why it takes no effect, in words.
        reason: String,
        /// The paths that take effect instead.
        effective: Vec<String>,
    },
}

/// `a`, `a` or `b`, `a`, `b` or `c`, with each name in backticks.
fn names(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What to do instead of varying an overridden parameter: vary `effective`, the paths that take
/// effect in its place (`None` when there are none).
pub fn vary_instead(effective: &[String]) -> Option<String> {
    (!effective.is_empty()).then(|| format!("vary {} instead", names(effective)))
}

impl ParamError {
    /// What to do instead, for an [`ParamError::Overridden`] parameter: vary the paths that take
    /// effect. `None` for the other errors, or when no path takes its place.
    pub fn instead(&self) -> Option<String> {
        match self {
            Self::Overridden { effective, .. } => vary_instead(effective),
            _ => None,
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown {
                path,
                suggestion: Some(s),
            } => {
                write!(f, "no parameter `{path}` in this spec; did you mean `{s}`?")
            }
            Self::Unknown {
                path,
                suggestion: None,
            } => write!(
                f,
                "no parameter `{path}` in this spec; `trialsim sweep FILE --list` shows them"
            ),
            Self::OutOfRange {
                path,
                value,
                expected,
            } => {
                write!(f, "`{path}` cannot be {value}: it must be {expected}")
            }
            Self::Overridden { path, reason, .. } => {
                write!(f, "`{path}` takes no effect in this spec: {reason}")?;
                match self.instead() {
                    Some(instead) => write!(f, "; {instead}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for ParamError {}

/// What kind of value a parameter holds, which decides the admitted range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A probability or share in `[0, 1]`.
    Probability,
    /// A whole number of participants (≥ 1).
    Count,
    /// A whole number of months (≥ 0).
    Months,
    /// Any finite real number (a mean).
    Real,
    /// A positive real number (a standard deviation).
    Positive,
    /// A significance level in `(0, 0.5]`.
    Alpha,
    /// An intra-cluster correlation in `[0, 1)`.
    Icc,
    /// An amount of money in euro (≥ 0).
    Euro,
    /// A ratio of hazards (≥ 0; 1 is no difference).
    Ratio,
}

impl ParamKind {
    /// Whether values are whole numbers (rounded when set).
    pub fn is_integer(self) -> bool {
        matches!(self, Self::Count | Self::Months)
    }

    /// Whether values are shown as percentages.
    pub fn is_percent(self) -> bool {
        matches!(self, Self::Probability | Self::Alpha | Self::Icc)
    }
}

/// One addressable parameter with its current value.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its path.
    pub path: String,
    /// Its value in the model (probabilities as fractions).
    pub value: f64,
    /// Its kind.
    pub kind: ParamKind,
}

/// Which figure of a [`crate::model::CostModel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CostField {
    Fixed,
    PerParticipant,
    Saving,
    YearsPerExit,
}

/// Where a parameter lives in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    NPerArm,
    Sample(ArmId),
    Pool,
    Screening,
    JobLoss,
    Alpha(AnalysisId),
    Share(ArmId, PathId),
    ShareLevel(ArmId, PathId, usize),
    Work(ArmId, PathId),
    WorkLevel(ArmId, PathId, usize),
    Delay(ArmId, PathId),
    Baseline(ArmId),
    Dropout(ArmId),
    Exemption(ArmId),
    NonWorkExit(ArmId),
    Crossover(ArmId),
    DirectBinary(ArmId, OutcomeId),
    DirectMean(ArmId, OutcomeId),
    DirectSd(ArmId, OutcomeId),
    /// Destination `.1` of the exits at index `.0` of `delivery.exits`.
    Exit(usize, usize),
    ClusterIcc,
    ClusterSize,
    ClustersPerArm,
    InflowPeriod(usize),
    AnalysisMonth,
    OutcomeMonth(OutcomeId),
    Cost(CostField),
    /// The share of an arm lost to follow-up (before `by`).
    Lost(ArmId),
    /// The share lost at a level of the `by` covariate.
    LostLevel(ArmId, usize),
    /// The month the share lost refers to.
    LostMonth(ArmId),
    /// The hazard ratio of loss for those whose outcome is 1.
    LostFactor(ArmId),
    CapacityStaff,
    CapacityCaseload,
    CapacityRate,
    CapacityGuidance,
}

/// A parameter that takes effect, and where it lives.
struct Entry {
    param: Param,
    target: Target,
}

/// A value the spec states that takes no effect.
struct Inert {
    path: String,
    reason: String,
    effective: Vec<String>,
}

/// Every parameter of a model: those that take effect, and those that do not.
#[derive(Default)]
struct Catalogue {
    live: Vec<Entry>,
    inert: Vec<Inert>,
}

impl Catalogue {
    fn push(&mut self, path: String, value: f64, kind: ParamKind, target: Target) {
        self.live.push(Entry {
            param: Param { path, value, kind },
            target,
        });
    }

    fn inert(&mut self, path: String, reason: impl Into<String>, effective: Vec<String>) {
        self.inert.push(Inert {
            path,
            reason: reason.into(),
            effective,
        });
    }
}

/// The name of covariate `var` and of its levels.
fn level_names(model: &TrialModel, var: VarId) -> (String, Vec<String>) {
    let v = model.population.variables.get(var);
    (
        v.map_or_else(String::new, |v| v.name.clone()),
        v.and_then(|v| v.levels())
            .map(|ls| ls.iter().map(|l| l.name.clone()).collect())
            .unwrap_or_default(),
    )
}

/// Per-level values of a `by`: the levels some participant can have, each with its own value
/// (`Some`) or the value before `by` (`None`).
struct Levels {
    variable: String,
    /// (level index, level name, own value), for the reachable levels.
    reachable: Vec<(usize, String, Option<f64>)>,
    /// Stated levels no participant can have.
    unreachable: Vec<String>,
}

impl Levels {
    fn of(model: &TrialModel, by: &RateByLevel) -> Self {
        let (variable, level_names) = level_names(model, by.variable);
        let mut reachable_levels = Vec::new();
        let mut unreachable = Vec::new();
        for (l, name) in level_names.into_iter().enumerate() {
            let own = by.probabilities.get(l).copied().flatten();
            if model.level_possible(by.variable, l) {
                reachable_levels.push((l, name, own));
            } else if own.is_some() {
                unreachable.push(name);
            }
        }
        Self {
            variable,
            reachable: reachable_levels,
            unreachable,
        }
    }

    /// Whether every level a participant can have states its own value, so that the value
    /// before `by` reaches no one.
    fn base_overridden(&self) -> bool {
        self.reachable.iter().all(|(_, _, own)| own.is_some())
    }
}

/// Whether some outcome is measured from the employment process (not declared per arm), so
/// that the process' parameters take effect.
fn process_read(model: &TrialModel) -> bool {
    model
        .outcomes
        .iter()
        .any(|o| !matches!(o.measure, Measure::DirectBinary | Measure::DirectContinuous))
}

/// Whether anyone on path `p` of arm `a` can start work: the rate before `by` (when some level
/// uses it) or some level's own rate is positive.
fn path_works(model: &TrialModel, a: ArmId, p: PathId) -> bool {
    let Some(path) = model.arms.get(a).and_then(|arm| arm.paths.get(p)) else {
        return false;
    };
    match &path.work.by {
        None => path.work.probability > 0.0,
        Some(by) => {
            let levels = Levels::of(model, by);
            levels
                .reachable
                .iter()
                .any(|(_, _, own)| own.unwrap_or(path.work.probability) > 0.0)
        }
    }
}

/// Whether anyone follows path `p` of arm `a`: its share is above 0 % (at some level a
/// participant can have, where the share varies by level), or a dropout or crossover names it.
fn path_taken(model: &TrialModel, a: ArmId, p: PathId) -> bool {
    let Some(path) = model.arms.get(a).and_then(|arm| arm.paths.get(p)) else {
        return false;
    };
    let named = model.arms.iter().any(|arm| {
        arm.dropout
            .iter()
            .map(|d| &d.follows)
            .chain(arm.crossover.iter().map(|c| &c.to))
            .any(|r| r.arm == a && r.path == Some(p))
    });
    let share = match &path.share_by {
        None => path.share > 0.0,
        Some(by) => Levels::of(model, by)
            .reachable
            .iter()
            .any(|(_, _, own)| own.unwrap_or(path.share) > 0.0),
    };
    named || share
}

/// Builds the catalogue of `model`'s parameters, in a stable order.
fn catalogue(model: &TrialModel) -> Catalogue {
    let mut c = Catalogue::default();
    let clusters = model.delivery.clusters.as_ref();
    if let Some(sample) = &model.sample {
        let first = sample.first().copied().unwrap_or(0);
        if sample.iter().all(|&n| n == first) {
            c.push(
                "n_per_arm".into(),
                f64::from(first),
                ParamKind::Count,
                Target::NPerArm,
            );
        }
        for (a, (arm, n)) in model.arms.iter().zip(sample).enumerate() {
            c.push(
                format!("sample.{}", arm.name),
                f64::from(*n),
                ParamKind::Count,
                Target::Sample(a),
            );
        }
    } else {
        c.push(
            "n_per_arm".into(),
            f64::NAN,
            ParamKind::Count,
            Target::NPerArm,
        );
    }
    // With a fixed sample the engine draws the sample itself: the pool and the screening loss
    // only enter `trialsim feasibility`.
    let fixed = "the spec fixes the sample, so the simulation draws it directly; the pool and \
                 screening only enter `trialsim feasibility`";
    if let Some(pool) = model.population.pool {
        if model.sample.is_some() {
            c.inert("population.pool".into(), fixed, vec!["n_per_arm".into()]);
        } else {
            c.push(
                "population.pool".into(),
                pool as f64,
                ParamKind::Count,
                Target::Pool,
            );
        }
    }
    if let Some(screening) = &model.eligibility.screening {
        if model.sample.is_some() {
            c.inert(
                "eligibility.screening".into(),
                fixed,
                vec!["n_per_arm".into()],
            );
        } else {
            c.push(
                "eligibility.screening".into(),
                screening.planned_loss,
                ParamKind::Probability,
                Target::Screening,
            );
        }
    }
    if let Some(cl) = clusters {
        // The engine clusters rates of work and direct binary outcomes, not competing exits.
        let clustered = model.arms.iter().enumerate().any(|(a, arm)| {
            (0..arm.paths.len()).any(|p| path_works(model, a, p))
                || arm
                    .direct_outcomes
                    .iter()
                    .any(|d| matches!(d.value, DirectValue::Binary { .. }))
        });
        if clustered {
            c.push(
                "clusters.icc".into(),
                cl.icc,
                ParamKind::Icc,
                Target::ClusterIcc,
            );
        } else {
            c.inert(
                "clusters.icc".into(),
                "the ICC applies to rates of work and direct binary outcomes, and this spec has \
                 neither (competing exits are not clustered)",
                Vec::new(),
            );
        }
        c.push(
            "clusters.size".into(),
            f64::from(cl.size),
            ParamKind::Count,
            Target::ClusterSize,
        );
        if let Some(k) = clusters_per_arm(model) {
            c.push(
                "clusters.per_arm".into(),
                f64::from(k),
                ParamKind::Count,
                Target::ClustersPerArm,
            );
        }
    }
    let process = process_read(model);
    let no_process = "no outcome is measured from the employment process (every outcome is \
                      declared per arm)";
    if let Some(inflow) = &model.delivery.inflow {
        // Intake months set each participant's follow-up by the analysis date, which only
        // measures of the employment process read.
        let push = |c: &mut Catalogue, path: String, value, kind, target| {
            if process {
                c.push(path, value, kind, target);
            } else {
                c.inert(path, no_process, Vec::new());
            }
        };
        for (k, n) in inflow.per_period.iter().enumerate() {
            push(
                &mut c,
                format!("inflow.period.{}", k + 1),
                f64::from(*n),
                ParamKind::Count,
                Target::InflowPeriod(k),
            );
        }
        push(
            &mut c,
            "inflow.analysis_month".into(),
            f64::from(inflow.analysis_month),
            ParamKind::Months,
            Target::AnalysisMonth,
        );
    }
    capacity_params(model, &mut c);
    let any_work = model.arms.iter().enumerate().any(|(a, arm)| {
        arm.baseline_employment > 0.0 || (0..arm.paths.len()).any(|p| path_works(model, a, p))
    }) || model.delivery.exits.iter().any(|e| {
        e.destinations
            .iter()
            .any(|d| d.kind == crate::model::ExitKind::Work && d.probability > 0.0)
    });
    if !process {
        c.inert("employment.job_loss".into(), no_process, Vec::new());
    } else if any_work {
        c.push(
            "employment.job_loss".into(),
            model.employment.job_loss_per_month,
            ParamKind::Probability,
            Target::JobLoss,
        );
    } else {
        c.inert(
            "employment.job_loss".into(),
            "nobody is in work at intake or starts a job, so no job can end",
            Vec::new(),
        );
    }
    for a in 0..model.arms.len() {
        arm_params(model, &mut c, a, process, no_process);
    }
    for (e, exits) in model.delivery.exits.iter().enumerate() {
        let Some(arm) = model.arms.get(exits.arm) else {
            continue;
        };
        for (d, dest) in exits.destinations.iter().enumerate() {
            let path = format!("arm.{}.exits.{}", arm.name, dest.name);
            if process {
                c.push(
                    path,
                    dest.probability,
                    ParamKind::Probability,
                    Target::Exit(e, d),
                );
            } else {
                c.inert(path, no_process, Vec::new());
            }
        }
    }
    for (o, outcome) in model.outcomes.iter().enumerate() {
        let Some(month) = outcome.measure.read_month() else {
            continue;
        };
        c.push(
            format!("outcome.{}.month", outcome.name),
            f64::from(month),
            ParamKind::Months,
            Target::OutcomeMonth(o),
        );
    }
    for (i, analysis) in model.analyses.iter().enumerate() {
        c.push(
            format!("analysis.{}.alpha", analysis.name),
            analysis.alpha,
            ParamKind::Alpha,
            Target::Alpha(i),
        );
    }
    if let Some(costs) = &model.delivery.costs {
        for (name, value, field) in [
            ("fixed", costs.fixed, CostField::Fixed),
            (
                "per_participant",
                costs.per_participant,
                CostField::PerParticipant,
            ),
            (
                "saving_per_benefit_year",
                costs.saving_per_benefit_year,
                CostField::Saving,
            ),
            (
                "years_per_exit",
                costs.years_per_exit,
                CostField::YearsPerExit,
            ),
        ] {
            let kind = if field == CostField::YearsPerExit {
                ParamKind::Positive
            } else {
                ParamKind::Euro
            };
            c.push(format!("costs.{name}"), value, kind, Target::Cost(field));
        }
    }
    c
}

/// The caseload slots and intake rate: a queue that delays intake when every clock starts at
/// randomisation; with the clock at intake they move calendar dates only, so they are inert.
fn capacity_params(model: &TrialModel, c: &mut Catalogue) {
    let Some(cap) = &model.assignment.capacity else {
        return;
    };
    let values = [
        (
            "capacity.staff",
            Some(f64::from(cap.staff)),
            ParamKind::Count,
            Target::CapacityStaff,
        ),
        (
            "capacity.caseload",
            Some(f64::from(cap.caseload)),
            ParamKind::Count,
            Target::CapacityCaseload,
        ),
        (
            "capacity.intakes_per_month",
            cap.intakes_per_month,
            ParamKind::Positive,
            Target::CapacityRate,
        ),
        (
            "capacity.guidance",
            cap.guidance_months.map(f64::from),
            ParamKind::Months,
            Target::CapacityGuidance,
        ),
    ];
    for (path, value, kind, target) in values {
        let Some(value) = value else { continue };
        if model.assignment.clock == crate::model::Clock::Randomisation {
            c.push(path.into(), value, kind, target);
        } else {
            c.inert(
                path.into(),
                "every clock starts at intake, so the caseload limit moves intake dates, not \
                 outcomes (with `clock from randomisation` it is a queue)",
                Vec::new(),
            );
        }
    }
}

/// The parameters of arm `a`'s loss to follow-up: its share (before `by`, where some level a
/// participant can have uses it), the shares by level, the month they refer to and the outcome
/// factor (where anyone can be lost).
fn lost_params(model: &TrialModel, c: &mut Catalogue, a: ArmId, prefix: &str) {
    let Some(l) = model
        .arms
        .get(a)
        .and_then(|arm| arm.lost_to_follow_up.as_ref())
    else {
        return;
    };
    let share_path = format!("{prefix}.lost_to_follow_up");
    let mut live_shares = Vec::new();
    let mut anyone = l.share > 0.0;
    match &l.by {
        None => {
            c.push(
                share_path.clone(),
                l.share,
                ParamKind::Probability,
                Target::Lost(a),
            );
            live_shares.push(share_path);
        }
        Some(by) => {
            let levels = Levels::of(model, by);
            let level_paths: Vec<String> = levels
                .reachable
                .iter()
                .filter(|(_, _, own)| own.is_some())
                .map(|(_, name, _)| format!("{share_path}.{name}"))
                .collect();
            anyone = levels
                .reachable
                .iter()
                .any(|(_, _, own)| own.unwrap_or(l.share) > 0.0);
            if levels.base_overridden() {
                c.inert(
                    share_path.clone(),
                    format!(
                        "every level of `{}` has its own share lost (`by {}`)",
                        levels.variable, levels.variable
                    ),
                    level_paths,
                );
            } else {
                c.push(
                    share_path.clone(),
                    l.share,
                    ParamKind::Probability,
                    Target::Lost(a),
                );
                live_shares.push(share_path.clone());
            }
            for (lv, name, own) in &levels.reachable {
                if let Some(v) = own {
                    let path = format!("{share_path}.{name}");
                    c.push(
                        path.clone(),
                        *v,
                        ParamKind::Probability,
                        Target::LostLevel(a, *lv),
                    );
                    live_shares.push(path);
                }
            }
            for name in &levels.unreachable {
                c.inert(
                    format!("{share_path}.{name}"),
                    format!("no participant has `{}` = {name}", levels.variable),
                    Vec::new(),
                );
            }
        }
    }
    let month = format!("{prefix}.lost_to_follow_up.month");
    let factor = format!("{prefix}.lost_to_follow_up.factor");
    if anyone {
        c.push(
            month,
            f64::from(l.by_month),
            ParamKind::Months,
            Target::LostMonth(a),
        );
        if let Some(f) = &l.outcome_factor {
            c.push(
                factor,
                f.hazard_ratio,
                ParamKind::Ratio,
                Target::LostFactor(a),
            );
        }
    } else {
        let reason = "the share lost is 0 %, so no one is lost";
        c.inert(month, reason, live_shares.clone());
        if l.outcome_factor.is_some() {
            c.inert(factor, reason, live_shares);
        }
    }
}

/// Clusters per arm, when the spec fixes a sample that is the same whole number of clusters in
/// every arm.
fn clusters_per_arm(model: &TrialModel) -> Option<u32> {
    let size = model.delivery.clusters.as_ref()?.size;
    let sample = model.sample.as_ref()?;
    let first = *sample.first()?;
    (size > 0 && first % size == 0 && sample.iter().all(|&n| n == first)).then(|| first / size)
}

/// The parameters of arm `a`.
fn arm_params(model: &TrialModel, c: &mut Catalogue, a: ArmId, process: bool, no_process: &str) {
    let Some(arm) = model.arms.get(a) else {
        return;
    };
    let prefix = format!("arm.{}", arm.name);
    let single = arm.paths.len() == 1 && arm.paths[0].name == arm.name;
    let base_of = |p: &crate::model::SubPath| {
        if single {
            prefix.clone()
        } else {
            format!("{prefix}.{}", p.name)
        }
    };
    let push_process = |c: &mut Catalogue, path: String, value, kind, target| {
        if process {
            c.push(path, value, kind, target);
        } else {
            c.inert(path, no_process, Vec::new());
        }
    };
    // Shares: a `rest` path takes what the others leave, and a share before `by` reaches only
    // the levels without their own share.
    let others_shares: Vec<String> = arm
        .paths
        .iter()
        .filter(|p| !p.rest)
        .map(|p| format!("{}.share", base_of(p)))
        .collect();
    if !single {
        let others = &others_shares;
        for (p, path) in arm.paths.iter().enumerate() {
            let base = base_of(path);
            if path.rest {
                c.inert(
                    format!("{base}.share"),
                    "it is what the other paths leave (`rest`)",
                    others.clone(),
                );
                continue;
            }
            match &path.share_by {
                None => push_process(
                    c,
                    format!("{base}.share"),
                    path.share,
                    ParamKind::Probability,
                    Target::Share(a, p),
                ),
                Some(by) => {
                    let levels = Levels::of(model, by);
                    let level_paths: Vec<String> = levels
                        .reachable
                        .iter()
                        .filter(|(_, _, own)| own.is_some())
                        .map(|(_, name, _)| format!("{base}.share.{name}"))
                        .collect();
                    if levels.base_overridden() {
                        c.inert(
                            format!("{base}.share"),
                            format!(
                                "every level of `{}` has its own share (`by {}`)",
                                levels.variable, levels.variable
                            ),
                            level_paths,
                        );
                    } else {
                        push_process(
                            c,
                            format!("{base}.share"),
                            path.share,
                            ParamKind::Probability,
                            Target::Share(a, p),
                        );
                    }
                    for (l, name, own) in &levels.reachable {
                        if let Some(v) = own {
                            push_process(
                                c,
                                format!("{base}.share.{name}"),
                                *v,
                                ParamKind::Probability,
                                Target::ShareLevel(a, p, *l),
                            );
                        }
                    }
                    for name in &levels.unreachable {
                        c.inert(
                            format!("{base}.share.{name}"),
                            format!("no participant has `{}` = {name}", levels.variable),
                            Vec::new(),
                        );
                    }
                }
            }
        }
    }
    for (p, path) in arm.paths.iter().enumerate() {
        let base = base_of(path);
        if process && !path_taken(model, a, p) {
            let reason = format!(
                "no participant takes path `{}` (its share is 0 %)",
                path.name
            );
            let share = if path.rest {
                others_shares.clone()
            } else {
                vec![format!("{base}.share")]
            };
            let levels = path.work.by.as_ref().map(|by| Levels::of(model, by));
            let level_names = levels.iter().flat_map(|l| {
                l.reachable
                    .iter()
                    .filter(|(_, _, own)| own.is_some())
                    .map(|(_, name, _)| name.clone())
                    .chain(l.unreachable.iter().cloned())
            });
            let mut inert: Vec<String> = vec![format!("{base}.work")];
            inert.extend(level_names.map(|name| format!("{base}.work.{name}")));
            inert.push(format!("{base}.delay"));
            for path in inert {
                c.inert(path, reason.clone(), share.clone());
            }
            continue;
        }
        match &path.work.by {
            None => push_process(
                c,
                format!("{base}.work"),
                path.work.probability,
                ParamKind::Probability,
                Target::Work(a, p),
            ),
            Some(by) => {
                let levels = Levels::of(model, by);
                let level_paths: Vec<String> = levels
                    .reachable
                    .iter()
                    .filter(|(_, _, own)| own.is_some())
                    .map(|(_, name, _)| format!("{base}.work.{name}"))
                    .collect();
                if levels.base_overridden() {
                    c.inert(
                        format!("{base}.work"),
                        format!(
                            "every level of `{}` has its own rate (`by {}`)",
                            levels.variable, levels.variable
                        ),
                        level_paths,
                    );
                } else {
                    push_process(
                        c,
                        format!("{base}.work"),
                        path.work.probability,
                        ParamKind::Probability,
                        Target::Work(a, p),
                    );
                }
                for (l, name, own) in &levels.reachable {
                    if let Some(v) = own {
                        push_process(
                            c,
                            format!("{base}.work.{name}"),
                            *v,
                            ParamKind::Probability,
                            Target::WorkLevel(a, p, *l),
                        );
                    }
                }
                for name in &levels.unreachable {
                    c.inert(
                        format!("{base}.work.{name}"),
                        format!("no participant has `{}` = {name}", levels.variable),
                        Vec::new(),
                    );
                }
            }
        }
        if !process || path_works(model, a, p) {
            push_process(
                c,
                format!("{base}.delay"),
                f64::from(path.delay_months),
                ParamKind::Months,
                Target::Delay(a, p),
            );
        } else {
            c.inert(
                format!("{base}.delay"),
                "the path's rate of work is 0 %, so nobody on it starts a job and its delay \
                 changes nothing",
                vec![format!("{base}.work")],
            );
        }
    }
    push_process(
        c,
        format!("{prefix}.baseline"),
        arm.baseline_employment,
        ParamKind::Probability,
        Target::Baseline(a),
    );
    if let Some(d) = &arm.dropout {
        push_process(
            c,
            format!("{prefix}.dropout"),
            d.share,
            ParamKind::Probability,
            Target::Dropout(a),
        );
    }
    if let Some(e) = &arm.exemption {
        push_process(
            c,
            format!("{prefix}.exemption"),
            e.share,
            ParamKind::Probability,
            Target::Exemption(a),
        );
    }
    if let Some(x) = &arm.non_work_exit {
        push_process(
            c,
            format!("{prefix}.non_work_exit"),
            x.probability,
            ParamKind::Probability,
            Target::NonWorkExit(a),
        );
    }
    if let Some(x) = &arm.crossover {
        push_process(
            c,
            format!("{prefix}.crossover"),
            x.share,
            ParamKind::Probability,
            Target::Crossover(a),
        );
    }
    lost_params(model, c, a, &prefix);
    for direct in &arm.direct_outcomes {
        let Some(outcome) = model.outcomes.get(direct.outcome) else {
            continue;
        };
        let name = format!("{prefix}.{}", outcome.name);
        match &direct.value {
            DirectValue::Binary { probability } => c.push(
                name,
                *probability,
                ParamKind::Probability,
                Target::DirectBinary(a, direct.outcome),
            ),
            DirectValue::Continuous {
                distribution: Distribution::Normal { mean, sd },
            } => {
                c.push(
                    format!("{name}.mean"),
                    *mean,
                    ParamKind::Real,
                    Target::DirectMean(a, direct.outcome),
                );
                c.push(
                    format!("{name}.sd"),
                    *sd,
                    ParamKind::Positive,
                    Target::DirectSd(a, direct.outcome),
                );
            }
            DirectValue::Continuous { .. } => {}
        }
    }
}

/// Every numeric parameter of `model` that takes effect, in a stable order.
pub fn list(model: &TrialModel) -> Vec<Param> {
    catalogue(model).live.into_iter().map(|e| e.param).collect()
}

/// Values the spec states that take no effect, each as the error that [`get`] and [`set`] give
/// for it (a [`ParamError::Overridden`]), in a stable order.
pub fn overridden(model: &TrialModel) -> Vec<ParamError> {
    catalogue(model)
        .inert
        .into_iter()
        .map(|i| ParamError::Overridden {
            path: i.path,
            reason: i.reason,
            effective: i.effective,
        })
        .collect()
}

fn find(model: &TrialModel, path: &str) -> Result<Entry, ParamError> {
    let c = catalogue(model);
    if let Some(i) = c.inert.into_iter().find(|i| i.path == path) {
        return Err(ParamError::Overridden {
            path: i.path,
            reason: i.reason,
            effective: i.effective,
        });
    }
    let params: Vec<Param> = c.live.iter().map(|e| e.param.clone()).collect();
    c.live
        .into_iter()
        .find(|e| e.param.path == path)
        .ok_or_else(|| unknown(path, &params))
}

/// The current value of the parameter at `path`.
pub fn get(model: &TrialModel, path: &str) -> Result<Param, ParamError> {
    find(model, path).map(|e| e.param)
}

/// Sets the parameter at `path` to `value`, keeping the model valid.
///
/// Either the whole change is made or, on an error, the model is left as it was.
pub fn set(model: &mut TrialModel, path: &str, value: f64) -> Result<(), ParamError> {
    handle(model, path)?.set(model, value)
}

/// A parameter resolved once on a model, to be set many times on copies of it: the points of a
/// sweep, the draws of assurance. Setting it does not ask again whether it takes effect, which
/// can depend on the values the other parameters take at that point (the delay of a path whose
/// rate a sweep sets to 0 %).
#[derive(Debug, Clone, PartialEq)]
pub struct Handle {
    param: Param,
    target: Target,
}

/// The parameter at `path` of `model`, resolved for setting on copies of `model`.
pub fn handle(model: &TrialModel, path: &str) -> Result<Handle, ParamError> {
    find(model, path).map(|e| Handle {
        param: e.param,
        target: e.target,
    })
}

impl Handle {
    /// The parameter, with its value in the model it was resolved on.
    pub fn param(&self) -> &Param {
        &self.param
    }

    /// Sets the parameter to `value` on `model` (the model it was resolved on, or a copy with
    /// other parameters changed), keeping the model valid. Either the whole change is made or,
    /// on an error, the model is left as it was.
    pub fn set(&self, model: &mut TrialModel, value: f64) -> Result<(), ParamError> {
        let path = self.param.path.as_str();
        check_range(path, value, self.param.kind)?;
        let value = if self.param.kind.is_integer() {
            value.round()
        } else {
            value
        };
        let mut changed = model.clone();
        write(&mut changed, self.target, path, value)?;
        *model = changed;
        Ok(())
    }
}

fn out_of_range(path: &str, value: f64, expected: &'static str) -> ParamError {
    ParamError::OutOfRange {
        path: path.to_string(),
        value,
        expected,
    }
}

/// Writes `value` (in range for its kind) at `target`.
fn write(model: &mut TrialModel, target: Target, path: &str, value: f64) -> Result<(), ParamError> {
    let whole = value as u32;
    let gone = || unknown(path, &[]);
    match target {
        Target::NPerArm => model.sample = Some(vec![whole; model.arms.len()]),
        Target::Sample(a) => {
            let arms = model.arms.len();
            let sample = model.sample.get_or_insert_with(Vec::new);
            sample.resize(arms, 0);
            *sample.get_mut(a).ok_or_else(gone)? = whole;
        }
        Target::Pool => model.population.pool = Some(u64::from(whole)),
        Target::Screening => {
            model
                .eligibility
                .screening
                .as_mut()
                .ok_or_else(gone)?
                .planned_loss = value;
        }
        Target::JobLoss => model.employment.job_loss_per_month = value,
        Target::Alpha(i) => model.analyses.get_mut(i).ok_or_else(gone)?.alpha = value,
        Target::Share(a, p) => set_share(model, a, p, path, value)?,
        Target::ShareLevel(a, p, l) => set_share_level(model, a, p, l, path, value)?,
        Target::Work(a, p) => path_mut(model, a, p).ok_or_else(gone)?.work.probability = value,
        Target::WorkLevel(a, p, l) => {
            let slot = path_mut(model, a, p)
                .and_then(|p| p.work.by.as_mut())
                .and_then(|by| by.probabilities.get_mut(l))
                .ok_or_else(gone)?;
            *slot = Some(value);
        }
        Target::Delay(a, p) => path_mut(model, a, p).ok_or_else(gone)?.delay_months = whole,
        Target::Baseline(a) => arm_mut(model, a).ok_or_else(gone)?.baseline_employment = value,
        Target::Dropout(a) => {
            arm_mut(model, a)
                .and_then(|arm| arm.dropout.as_mut())
                .ok_or_else(gone)?
                .share = value;
        }
        Target::Exemption(a) => {
            arm_mut(model, a)
                .and_then(|arm| arm.exemption.as_mut())
                .ok_or_else(gone)?
                .share = value;
        }
        Target::NonWorkExit(a) => {
            arm_mut(model, a)
                .and_then(|arm| arm.non_work_exit.as_mut())
                .ok_or_else(gone)?
                .probability = value;
        }
        Target::Crossover(a) => {
            arm_mut(model, a)
                .and_then(|arm| arm.crossover.as_mut())
                .ok_or_else(gone)?
                .share = value;
        }
        Target::DirectBinary(a, o) => match direct_mut(model, a, o).ok_or_else(gone)? {
            DirectValue::Binary { probability } => *probability = value,
            DirectValue::Continuous { .. } => return Err(gone()),
        },
        Target::DirectMean(a, o) => match direct_mut(model, a, o).ok_or_else(gone)? {
            DirectValue::Continuous {
                distribution: Distribution::Normal { mean, .. },
            } => *mean = value,
            _ => return Err(gone()),
        },
        Target::DirectSd(a, o) => match direct_mut(model, a, o).ok_or_else(gone)? {
            DirectValue::Continuous {
                distribution: Distribution::Normal { sd, .. },
            } => *sd = value,
            _ => return Err(gone()),
        },
        Target::Exit(e, d) => {
            let exits = model.delivery.exits.get_mut(e).ok_or_else(gone)?;
            let others: f64 = exits
                .destinations
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != d)
                .map(|(_, x)| x.probability)
                .sum();
            if others + value > 1.0 + 1e-12 {
                return Err(out_of_range(
                    path,
                    value,
                    "at most what the arm's other exit destinations leave (they add up to at most 100 %)",
                ));
            }
            exits.destinations.get_mut(d).ok_or_else(gone)?.probability = value;
        }
        Target::ClusterIcc => model.delivery.clusters.as_mut().ok_or_else(gone)?.icc = value,
        Target::ClusterSize => {
            // The number of clusters per arm stays; each cluster gets `value` participants.
            let old = model
                .delivery
                .clusters
                .as_ref()
                .ok_or_else(gone)?
                .size
                .max(1);
            if let Some(sample) = model.sample.as_mut() {
                for n in sample.iter_mut() {
                    *n = n.div_ceil(old).saturating_mul(whole);
                }
            }
            model.delivery.clusters.as_mut().ok_or_else(gone)?.size = whole;
        }
        Target::ClustersPerArm => {
            let size = model.delivery.clusters.as_ref().ok_or_else(gone)?.size;
            model.sample = Some(vec![whole.saturating_mul(size); model.arms.len()]);
        }
        Target::InflowPeriod(k) => {
            *model
                .delivery
                .inflow
                .as_mut()
                .and_then(|i| i.per_period.get_mut(k))
                .ok_or_else(gone)? = whole;
        }
        Target::AnalysisMonth => {
            model
                .delivery
                .inflow
                .as_mut()
                .ok_or_else(gone)?
                .analysis_month = whole;
        }
        Target::OutcomeMonth(o) => {
            let outcome = model.outcomes.get_mut(o).ok_or_else(gone)?;
            match &mut outcome.measure {
                Measure::WorkedWithin { within, .. } => {
                    if whole == 0 {
                        return Err(out_of_range(path, value, "at least 1 month"));
                    }
                    *within = whole;
                }
                Measure::Durable {
                    month, consecutive, ..
                } => {
                    if whole < *consecutive {
                        return Err(out_of_range(
                            path,
                            value,
                            "at least the length of the run of months in work",
                        ));
                    }
                    *month = whole;
                }
                Measure::EmployedAt { month, .. }
                | Measure::Hours { month }
                | Measure::Wage { month }
                | Measure::BenefitEnded { month }
                | Measure::ExitedTo { month, .. } => *month = whole,
                Measure::DirectBinary | Measure::DirectContinuous => return Err(gone()),
            }
        }
        Target::Lost(a) => lost_mut(model, a).ok_or_else(gone)?.share = value,
        Target::LostLevel(a, l) => {
            *lost_mut(model, a)
                .and_then(|x| x.by.as_mut())
                .and_then(|by| by.probabilities.get_mut(l))
                .ok_or_else(gone)? = Some(value);
        }
        Target::LostMonth(a) => {
            if whole == 0 {
                return Err(out_of_range(path, value, "at least 1 month"));
            }
            lost_mut(model, a).ok_or_else(gone)?.by_month = whole;
        }
        Target::LostFactor(a) => {
            lost_mut(model, a)
                .and_then(|x| x.outcome_factor.as_mut())
                .ok_or_else(gone)?
                .hazard_ratio = value;
        }
        Target::CapacityStaff => capacity_mut(model).ok_or_else(gone)?.staff = whole,
        Target::CapacityCaseload => capacity_mut(model).ok_or_else(gone)?.caseload = whole,
        Target::CapacityRate => {
            capacity_mut(model).ok_or_else(gone)?.intakes_per_month = Some(value);
        }
        Target::CapacityGuidance => {
            if whole == 0 {
                return Err(out_of_range(path, value, "at least 1 month"));
            }
            capacity_mut(model).ok_or_else(gone)?.guidance_months = Some(whole);
        }
        Target::Cost(field) => {
            let costs = model.delivery.costs.as_mut().ok_or_else(gone)?;
            match field {
                CostField::Fixed => costs.fixed = value,
                CostField::PerParticipant => costs.per_participant = value,
                CostField::Saving => costs.saving_per_benefit_year = value,
                CostField::YearsPerExit => costs.years_per_exit = value,
            }
        }
    }
    Ok(())
}

fn lost_mut(model: &mut TrialModel, a: ArmId) -> Option<&mut crate::model::LostToFollowUp> {
    model.arms.get_mut(a)?.lost_to_follow_up.as_mut()
}

fn capacity_mut(model: &mut TrialModel) -> Option<&mut crate::model::Capacity> {
    model.assignment.capacity.as_mut()
}

fn arm_mut(model: &mut TrialModel, a: ArmId) -> Option<&mut crate::model::Arm> {
    model.arms.get_mut(a)
}

fn path_mut(model: &mut TrialModel, a: ArmId, p: PathId) -> Option<&mut crate::model::SubPath> {
    model.arms.get_mut(a)?.paths.get_mut(p)
}

fn direct_mut(model: &mut TrialModel, a: ArmId, o: OutcomeId) -> Option<&mut DirectValue> {
    model
        .arms
        .get_mut(a)?
        .direct_outcomes
        .iter_mut()
        .find(|d| d.outcome == o)
        .map(|d| &mut d.value)
}

/// The rest path's per-level shares once path `target`'s overall share becomes `value`:
/// `None` when the rest path's share does not vary by level.
fn rest_by_level(
    paths: &[crate::model::SubPath],
    rest: usize,
    target: usize,
    value: f64,
) -> Option<Vec<Option<f64>>> {
    let by = paths.get(rest)?.share_by.as_ref()?;
    Some(
        (0..by.probabilities.len())
            .map(|l| {
                let taken: f64 = paths
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != rest)
                    .map(|(i, p)| {
                        let own = if i == target { value } else { p.share };
                        p.share_by
                            .as_ref()
                            .and_then(|b| b.probabilities.get(l).copied().flatten())
                            .unwrap_or(own)
                    })
                    .sum();
                Some(1.0 - taken)
            })
            .collect(),
    )
}

/// Sets path `p`'s share (before `by`) to `value`. Shares that differ by level keep their
/// proportions to the path's share (so a share of 0 removes the path at every level), and the
/// rest path follows at every level, too.
fn set_share(
    model: &mut TrialModel,
    a: ArmId,
    target: PathId,
    path: &str,
    value: f64,
) -> Result<(), ParamError> {
    let arm = arm_mut(model, a).ok_or_else(|| unknown(path, &[]))?;
    if target >= arm.paths.len() {
        return Err(unknown(path, &[]));
    }
    let rest = arm.paths.iter().position(|p| p.rest);
    let others: f64 = arm
        .paths
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != target && Some(*i) != rest)
        .map(|(_, p)| p.share)
        .sum();
    let old_share = arm.paths[target].share;
    if let Some(by) = arm.paths[target].share_by.as_mut() {
        for level in by.probabilities.iter_mut().flatten() {
            *level = if old_share > 0.0 {
                *level * value / old_share
            } else {
                value
            };
            if *level > 1.0 + 1e-12 {
                return Err(out_of_range(
                    path,
                    value,
                    "small enough that the share at every level of the covariate stays at most 100 %",
                ));
            }
        }
    }
    let rest_by = rest.and_then(|r| rest_by_level(&arm.paths, r, target, value));
    if rest_by
        .as_ref()
        .is_some_and(|v| v.iter().any(|x| x.is_some_and(|x| x < -1e-12)))
    {
        return Err(out_of_range(
            path,
            value,
            "at most what the other paths leave at every level of the covariate the shares depend on",
        ));
    }
    match rest {
        Some(r) if others + value <= 1.0 + 1e-12 => {
            arm.paths[target].share = value;
            arm.paths[r].share = (1.0 - others - value).max(0.0);
            if let (Some(by), Some(levels)) = (&mut arm.paths[r].share_by, rest_by) {
                by.probabilities = levels.into_iter().map(|x| x.map(|x| x.max(0.0))).collect();
            }
        }
        Some(_) => {
            return Err(out_of_range(
                path,
                value,
                "at most what the other paths leave",
            ));
        }
        None => {
            if (others + value - 1.0).abs() > 1e-9 {
                return Err(out_of_range(
                    path,
                    value,
                    "such that the arm's shares add up to 100 % (declare another path as `rest`)",
                ));
            }
            arm.paths[target].share = value;
        }
    }
    Ok(())
}

/// Sets path `p`'s own share at level `l` to `value`; the rest path takes what the paths leave
/// at that level.
fn set_share_level(
    model: &mut TrialModel,
    a: ArmId,
    target: PathId,
    l: usize,
    path: &str,
    value: f64,
) -> Result<(), ParamError> {
    let arm = arm_mut(model, a).ok_or_else(|| unknown(path, &[]))?;
    let variable = arm
        .paths
        .get(target)
        .and_then(|p| p.share_by.as_ref())
        .map(|b| b.variable)
        .ok_or_else(|| unknown(path, &[]))?;
    *arm.paths[target]
        .share_by
        .as_mut()
        .and_then(|b| b.probabilities.get_mut(l))
        .ok_or_else(|| unknown(path, &[]))? = Some(value);
    let level_share = |p: &crate::model::SubPath| {
        p.share_by
            .as_ref()
            .and_then(|b| b.probabilities.get(l).copied().flatten())
            .unwrap_or(p.share)
    };
    let rest = arm.paths.iter().position(|p| p.rest);
    let taken: f64 = arm
        .paths
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != rest)
        .map(|(_, p)| level_share(p))
        .sum();
    match rest {
        Some(r) if taken <= 1.0 + 1e-12 => {
            let n = arm.paths[target]
                .share_by
                .as_ref()
                .map_or(0, |b| b.probabilities.len());
            let by = arm.paths[r].share_by.get_or_insert_with(|| RateByLevel {
                variable,
                probabilities: vec![None; n],
            });
            if let Some(slot) = by.probabilities.get_mut(l) {
                *slot = Some((1.0 - taken).max(0.0));
            }
        }
        Some(_) => {
            return Err(out_of_range(
                path,
                value,
                "at most what the other paths leave at this level",
            ));
        }
        None => {
            if (taken - 1.0).abs() > 1e-9 {
                return Err(out_of_range(
                    path,
                    value,
                    "such that the arm's shares at this level add up to 100 % (declare another path as `rest`)",
                ));
            }
        }
    }
    Ok(())
}

fn check_range(path: &str, value: f64, kind: ParamKind) -> Result<(), ParamError> {
    let (ok, expected) = match kind {
        ParamKind::Probability => ((0.0..=1.0).contains(&value), "between 0 % and 100 %"),
        ParamKind::Count => (
            (1.0..=1e9).contains(&value),
            "a whole number from 1 to 10^9",
        ),
        ParamKind::Months => (
            (0.0..=1200.0).contains(&value),
            "a number of months from 0 to 1200",
        ),
        ParamKind::Real => (value.is_finite(), "a finite number"),
        ParamKind::Positive => (value.is_finite() && value > 0.0, "a positive number"),
        ParamKind::Alpha => (value > 0.0 && value <= 0.5, "in (0, 0.5]"),
        ParamKind::Icc => ((0.0..1.0).contains(&value), "at least 0 % and below 100 %"),
        ParamKind::Euro => (
            (0.0..=1e12).contains(&value),
            "an amount from 0 to 10^12 euro",
        ),
        ParamKind::Ratio => ((0.0..=1e6).contains(&value), "a ratio from 0 to 10^6"),
    };
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(out_of_range(path, value, expected))
    }
}

fn unknown(path: &str, params: &[Param]) -> ParamError {
    let suggestion = params
        .iter()
        .map(|p| (strsim::jaro_winkler(path, &p.path), &p.path))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p.clone());
    ParamError::Unknown {
        path: path.to_string(),
        suggestion,
    }
}
