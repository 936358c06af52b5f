//! Sample-size search against a simulated power curve.
//!
//! Power estimated by Monte Carlo is noisy, so a plain bisection can stop at the wrong point.
//! [`search`] therefore works in three steps on a grid of whole numbers: bracket the answer with
//! cheap estimates, bisect the bracket with cheap estimates, then confirm with many replicates
//! that the answer reaches the target and that the grid point below it does not (galloping up
//! or down from the bisection's answer until both hold, and bisecting between them with many
//! replicates). Callers run every evaluation with the same seed (common random
//! numbers), which makes the estimated curve nearly monotone along the grid.
//!
//! The grid is what the design randomises: participants per arm, or clusters per arm for a
//! cluster design. An inflow with a fixed analysis date caps it at what comes in before that
//! date; [`SizeQuestion::move_analysis`] lets the date follow the intake instead. The same
//! search also finds the minimum detectable effect ([`super::mde`]) on a grid of parameter
//! values.

use serde::Serialize;

use super::DesignError;
use crate::model::{Inflow, TestKind, TrialModel};

/// Power estimated at one grid point of a search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridPoint {
    /// The grid point.
    pub at: u32,
    /// Estimated power.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// Replicates behind the estimate.
    pub replicates: u64,
}

/// Settings of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSearch {
    /// The power to reach.
    pub target: f64,
    /// Replicates per evaluation while bracketing and bisecting.
    pub coarse_replicates: u64,
    /// Replicates per evaluation when confirming.
    pub fine_replicates: u64,
    /// Smallest grid point considered.
    pub min: u32,
    /// Largest grid point considered.
    pub max: u32,
}

/// The answer of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct GridAnswer {
    /// The smallest grid point whose estimated power reaches the target.
    pub at: u32,
    /// The confirming estimate at the answer.
    pub at_answer: GridPoint,
    /// The confirming estimate one below the answer (absent when the answer is the minimum).
    pub below_answer: Option<GridPoint>,
    /// Every evaluation made, in order.
    pub evaluations: Vec<GridPoint>,
}

/// Why a search found no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum GridError {
    /// Even the largest grid point falls short of the target.
    Unreachable {
        /// The confirming estimate there.
        at_max: GridPoint,
        /// Every evaluation made, in order.
        evaluations: Vec<GridPoint>,
    },
}

/// Finds the smallest grid point at which `power_at(point, replicates)` (power and its MC SE)
/// reaches the target, starting from `guess` (e.g. a closed-form answer) when there is one.
pub fn search(
    settings: GridSearch,
    guess: Option<u32>,
    mut power_at: impl FnMut(u32, u64) -> (f64, f64),
) -> Result<GridAnswer, GridError> {
    let (min, max) = (settings.min, settings.max.max(settings.min));
    let mut evaluations = Vec::new();
    let mut eval = |at: u32, replicates: u64, evaluations: &mut Vec<GridPoint>| {
        let (power, mc_se) = power_at(at, replicates);
        let point = GridPoint {
            at,
            power,
            mc_se,
            replicates,
        };
        evaluations.push(point);
        point
    };
    let coarse = settings.coarse_replicates;
    let fine = settings.fine_replicates;
    let reaches = |p: &GridPoint| p.power >= settings.target;

    // 1. Bracket: `low` falls short (or lies below the grid), `high` reaches the target.
    let start = guess.unwrap_or(50).clamp(min, max);
    let first = eval(start, coarse, &mut evaluations);
    let (mut low, mut high) = if reaches(&first) {
        let mut high = start;
        loop {
            if high <= min {
                break (min.saturating_sub(1), high);
            }
            let low = (high / 2).max(min);
            if !reaches(&eval(low, coarse, &mut evaluations)) {
                break (low, high);
            }
            high = low;
        }
    } else {
        let mut low = start;
        loop {
            if low >= max {
                let at_max = eval(max, fine, &mut evaluations);
                if reaches(&at_max) {
                    break (max.saturating_sub(1).max(min), max);
                }
                return Err(GridError::Unreachable {
                    at_max,
                    evaluations,
                });
            }
            let high = low.saturating_mul(2).clamp(min + 1, max);
            if reaches(&eval(high, coarse, &mut evaluations)) {
                break (low, high);
            }
            low = high;
        }
    };

    // 2. Bisect with cheap estimates.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if reaches(&eval(middle, coarse, &mut evaluations)) {
            high = middle;
        } else {
            low = middle;
        }
    }

    // 3. Confirm with many replicates: a point that reaches the target and the point below it
    // that does not. From the bisection's answer, gallop (steps 1, 2, 4, ...) up to a point
    // that reaches or down to one that falls short, then bisect between the two, every
    // evaluation with many replicates.
    let mut hi = high.max(min);
    let mut at = eval(hi, fine, &mut evaluations);
    let mut below: Option<GridPoint> = None;
    let mut lo = hi;
    let mut step = 1u32;
    if reaches(&at) {
        while hi > min {
            let candidate = hi.saturating_sub(step).max(min);
            let point = eval(candidate, fine, &mut evaluations);
            if reaches(&point) {
                hi = candidate;
                at = point;
                step = step.saturating_mul(2);
            } else {
                lo = candidate;
                below = Some(point);
                break;
            }
        }
    } else {
        while !reaches(&at) {
            if hi >= max {
                return Err(GridError::Unreachable {
                    at_max: at,
                    evaluations,
                });
            }
            lo = hi;
            below = Some(at);
            hi = hi.saturating_add(step).min(max);
            at = eval(hi, fine, &mut evaluations);
            step = step.saturating_mul(2);
        }
    }
    if below.is_some() {
        while hi - lo > 1 {
            let middle = lo + (hi - lo) / 2;
            let point = eval(middle, fine, &mut evaluations);
            if reaches(&point) {
                hi = middle;
                at = point;
            } else {
                lo = middle;
                below = Some(point);
            }
        }
    }
    let at_point = hi;
    Ok(GridAnswer {
        at: at_point,
        at_answer: at,
        below_answer: below,
        evaluations,
    })
}

/// What a search stopped by Ctrl-C had found: the error's help holds the evaluations so far and
/// the bracket they give (the largest point that fell short, the smallest that reached).
pub fn interrupted_search(
    seen: &[GridPoint],
    target: f64,
    words: impl Fn(u32) -> String,
) -> DesignError {
    use std::fmt::Write as _;
    let mut text = format!(
        "interrupted: the search stopped after {} evaluation(s); no answer yet (target {})\n",
        seen.len(),
        super::pct(target)
    );
    for p in seen {
        let _ = writeln!(
            text,
            "  {:<32} power {:>7} ± {} ({} replicates)",
            words(p.at),
            super::pct(p.power),
            super::pct(p.mc_se),
            p.replicates
        );
    }
    let short = seen.iter().filter(|p| p.power < target).map(|p| p.at).max();
    let reached = seen
        .iter()
        .filter(|p| p.power >= target)
        .map(|p| p.at)
        .min();
    match (short, reached) {
        (Some(s), Some(r)) if s < r => {
            let _ = writeln!(
                text,
                "so far the answer lies above {} and at most {} (not confirmed)",
                words(s),
                words(r)
            );
        }
        _ => {
            let _ = writeln!(text, "so far no bracket for the answer");
        }
    }
    DesignError {
        message: "interrupted".into(),
        help: Some(text),
        no_answer: false,
    }
}

/// The largest size searched unless told otherwise (participants per ratio unit):
/// `trialsim size`'s default, and what `trialsim report` searches up to.
pub const DEFAULT_MAX_N: u32 = 100_000;

/// What `trialsim size` asks.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeQuestion {
    /// The analysis whose first contrast must reach the target.
    pub analysis: crate::model::AnalysisId,
    /// The power to reach.
    pub target: f64,
    /// Integer weight per arm, in declaration order (`[1, 1]` for equal arms).
    pub ratio: Vec<u32>,
    /// Master seed, the same for every size (common random numbers).
    pub seed: u64,
    /// Replicates per confirming evaluation; bracketing and bisection use a tenth (at least 500).
    pub replicates: u64,
    /// Largest number of participants per ratio unit considered (a cluster design searches
    /// whole clusters up to it).
    pub max_n: u32,
    /// With an inflow: let the analysis date move with the intake (to the last intake plus the
    /// follow-up, never before the spec's date) instead of capping the size at what comes in
    /// before the spec's date.
    pub move_analysis: bool,
}

/// Power estimated at one size of the search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerPoint {
    /// Participants per ratio unit (per arm for 1:1).
    pub n_per_arm: u32,
    /// Clusters per ratio unit, in a cluster design.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters_per_arm: Option<u32>,
    /// The analysis month simulated, when it moves with the intake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis_month: Option<u32>,
    /// Estimated power.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// Replicates behind the estimate.
    pub replicates: u64,
}

/// What an inflow means for the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntakeReport {
    /// The spec's analysis date, in months after the first intake.
    pub spec_analysis_month: u32,
    /// Participants (all arms) the inflow takes in before the spec's analysis date (null when
    /// it takes in any number).
    pub capacity: Option<u64>,
    /// Whether the analysis date moves with the intake (`--move-analysis`).
    pub analysis_moves: bool,
    /// Months the intake of the answer takes (its last intake month plus one).
    pub intake_months: u32,
    /// The analysis month at the answer: the spec's, or the moved one.
    pub analysis_month: u32,
}

/// The answer of `trialsim size`. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeReport {
    /// Trial name.
    pub spec: String,
    /// Analysis name.
    pub analysis: String,
    /// Outcome of its first contrast.
    pub outcome: String,
    /// The target power.
    pub target: f64,
    /// Weights per arm (declaration order).
    pub ratio: Vec<u32>,
    /// Arm names (declaration order).
    pub arms: Vec<String>,
    /// Master seed.
    pub seed: u64,
    /// The simulated answer: participants per ratio unit (per arm for 1:1).
    pub n_per_arm: u32,
    /// Participants in each arm at the answer.
    pub arm_sizes: Vec<u32>,
    /// In a cluster design: the simulated answer in clusters per ratio unit (per arm for 1:1).
    pub clusters_per_arm: Option<u32>,
    /// In a cluster design: clusters in each arm at the answer.
    pub arm_clusters: Option<Vec<u32>>,
    /// In a cluster design: participants per cluster.
    pub cluster_size: Option<u32>,
    /// What the cluster design calls a cluster (`cohort`, `group`).
    pub cluster_label: Option<String>,
    /// Simulated power at the answer.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval of that power.
    pub power_ci: (f64, f64),
    /// Simulated power one step below the answer (one participant, or one cluster, per ratio
    /// unit fewer).
    pub power_below: Option<f64>,
    /// Normal-approximation answer in participants per ratio unit, rounded up (in a cluster
    /// design: the clusters of `closed_form_clusters_per_arm` times their size; null where no
    /// formula applies).
    pub closed_form_n_per_arm: Option<u32>,
    /// Normal-approximation answer before rounding (in a cluster design: participants per arm
    /// with the design effect `1 + (m − 1) ICC`).
    pub closed_form_n_unrounded: Option<f64>,
    /// In a cluster design with the cluster-level t test: clusters per arm from the normal
    /// approximation with the design effect, plus one for the t test (Hayes & Moulton), rounded
    /// up.
    pub closed_form_clusters_per_arm: Option<u32>,
    /// The same before rounding up.
    pub closed_form_clusters_unrounded: Option<f64>,
    /// First n per arm at which the exact power of the z test reaches the target (null where
    /// none is computed: not a two-proportion z test, or unequal arms).
    pub exact_n_per_arm: Option<u32>,
    /// True treatment and control means (exact, or simulated from the design: see `truth`).
    pub true_treatment: Option<f64>,
    /// See `true_treatment`.
    pub true_control: Option<f64>,
    /// `exact` or `simulated`: how the true means were found.
    pub truth: &'static str,
    /// With an inflow: the intake the answer takes and the analysis date it is simulated with.
    pub intake: Option<IntakeReport>,
    /// Every evaluation of the search, in order.
    pub evaluations: Vec<PowerPoint>,
    /// For an analysis with interim looks: how many, since every power above is then that of the
    /// group-sequential design (efficacy at any look) and the answer is its maximum sample size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub looks: Option<usize>,
}

/// Participants (all arms) `inflow` takes in before its analysis date, by the intake schedule of
/// [`crate::sim::entry_months`]; `None` when it takes in any number (every intake at month 0,
/// or an inflow that stops and puts the rest in before the analysis).
pub fn intake_capacity(inflow: &Inflow) -> Option<u64> {
    let len = u64::from(inflow.period_months.max(1));
    let end = u64::from(inflow.analysis_month);
    let counts = &inflow.per_period;
    let last = u64::from(counts.last().copied().unwrap_or(0));
    if counts.iter().all(|&c| c == 0) {
        return (end == 0).then_some(0);
    }
    // Intakes of a period of `count` whose month (offset ⌊j·len/count⌋) falls before `end`.
    let in_period = |start: u64, count: u64| -> u64 {
        let room = end.saturating_sub(start);
        if room >= len {
            count
        } else {
            (room * count).div_ceil(len)
        }
    };
    let mut total = 0u64;
    for (k, &count) in counts.iter().enumerate() {
        let start = k as u64 * len;
        if start >= end {
            return Some(total);
        }
        total += in_period(start, u64::from(count));
    }
    let start = counts.len() as u64 * len;
    if start >= end {
        return Some(total);
    }
    if last == 0 {
        // The engine puts everyone left in at the end of the last period, before the analysis.
        return None;
    }
    let full = (end - start) / len;
    total += full * last;
    Some(total + in_period(start + full * len, last))
}

/// The intake month of the last of `participants` under `inflow`: the last entry of
/// [`crate::sim::entry_months`], computed without listing everyone (0 for nobody).
pub fn last_intake_month(inflow: &Inflow, participants: u64) -> u32 {
    let len = u64::from(inflow.period_months.max(1));
    let counts = &inflow.per_period;
    let last = u64::from(counts.last().copied().unwrap_or(0));
    if participants == 0 || counts.iter().all(|&c| c == 0) {
        return 0;
    }
    let month = |k: u64, j: u64, count: u64| k * len + j * len / count.max(1);
    let mut remaining = participants;
    for (k, &count) in counts.iter().enumerate() {
        let count = u64::from(count);
        if remaining <= count {
            return clamp_month(month(k as u64, remaining - 1, count));
        }
        remaining -= count;
    }
    let k = counts.len() as u64;
    if last == 0 {
        // Nobody more comes in; the rest enter at the end of the last period.
        return clamp_month(k * len);
    }
    let full = (remaining - 1) / last;
    clamp_month(month(k + full, remaining - 1 - full * last, last))
}

fn clamp_month(m: u64) -> u32 {
    u32::try_from(m).unwrap_or(u32::MAX)
}

/// The analysis month for `participants` when the date moves with the intake: the last intake
/// plus the follow-up (at least one month after it), never before the spec's date.
pub fn moved_analysis_month(inflow: &Inflow, participants: u64, follow_up: u32) -> u32 {
    let last = last_intake_month(inflow, participants);
    inflow
        .analysis_month
        .max(last.saturating_add(follow_up.max(1)))
}

/// Clusters per arm for a cluster-level t test on a binary outcome at `target` power (equal
/// arms): the normal approximation with each arm's variance of a cluster mean
/// `p(1 − p)(1 + (m − 1)ρ)/m`, plus one cluster for the t test (Hayes & Moulton 2009, §7.3).
fn cluster_closed_form(
    model: &TrialModel,
    analysis: crate::model::AnalysisId,
    target: f64,
    ratio: &[u32],
) -> Option<(f64, f64)> {
    use crate::stats::dist::{norm_quantile, z_critical};
    let a = model.analyses.get(analysis)?;
    let c = model.delivery.clusters.as_ref()?;
    let binary = model.outcomes.get(*a.outcomes.first()?)?.is_binary();
    let equal = ratio.iter().all(|&w| Some(&w) == ratio.first());
    if !binary || a.test != TestKind::ClusterT || a.outcomes.len() != 1 || !equal {
        return None;
    }
    let [pt, pc, ..] = super::exact_means(model, analysis)?;
    let m = f64::from(c.size.max(1));
    let deff = 1.0 + (m - 1.0) * c.icc;
    let z = z_critical(a.alpha, a.sides) + norm_quantile(target);
    let d = pt - pc;
    let wrong_way = match a.sides {
        crate::model::Sides::Greater => d <= 0.0,
        crate::model::Sides::Less => d >= 0.0,
        crate::model::Sides::TwoSided => d == 0.0,
    };
    if wrong_way {
        return None;
    }
    let per_arm = z * z * (pt * (1.0 - pt) + pc * (1.0 - pc)) * deff / (d * d);
    per_arm.is_finite().then_some((per_arm, 1.0 + per_arm / m))
}

/// How the search's grid maps onto the design.
struct Grid<'a> {
    focused: TrialModel,
    ratio: &'a [u32],
    /// Participants per grid step and ratio unit (the cluster size, or 1).
    unit: u32,
    move_analysis: bool,
}

impl Grid<'_> {
    fn participants(&self, at: u32) -> u32 {
        at.saturating_mul(self.unit)
    }

    /// The analysis month at `at`, when it moves with the intake.
    fn moved_month(&self, at: u32) -> Option<u32> {
        let inflow = self.focused.delivery.inflow.as_ref()?;
        if !self.move_analysis {
            return None;
        }
        let total: u64 = self
            .ratio
            .iter()
            .map(|&w| u64::from(w) * u64::from(self.participants(at)))
            .sum();
        Some(moved_analysis_month(
            inflow,
            total,
            self.focused.follow_up_months,
        ))
    }

    fn model(&self, at: u32) -> TrialModel {
        let mut m = super::with_sizes(&self.focused, self.participants(at), self.ratio);
        if let (Some(month), Some(inflow)) = (self.moved_month(at), m.delivery.inflow.as_mut()) {
            inflow.analysis_month = month;
        }
        m
    }

    fn point(&self, p: &GridPoint) -> PowerPoint {
        PowerPoint {
            n_per_arm: self.participants(p.at),
            clusters_per_arm: (self.unit > 1 || self.focused.delivery.clusters.is_some())
                .then_some(p.at),
            analysis_month: self.moved_month(p.at),
            power: p.power,
            mc_se: p.mc_se,
            replicates: p.replicates,
        }
    }

    /// `at` in words: `14 per arm`, or `3 cohorts of 21 per arm`.
    fn words(&self, at: u32) -> String {
        let per = if self.ratio.iter().all(|&w| w == 1) {
            "per arm"
        } else {
            "per ratio unit"
        };
        match &self.focused.delivery.clusters {
            Some(c) => format!("{at} {}s of {} {per}", c.label, c.size),
            None => format!("{at} {per}"),
        }
    }
}

/// Answers a [`SizeQuestion`] for `model` by simulation, with the closed forms beside it.
pub fn size_for_model(
    model: &TrialModel,
    question: &SizeQuestion,
) -> Result<SizeReport, DesignError> {
    use super::{closed_form, evaluate, focus};
    if !(question.target > 0.0 && question.target < 1.0) {
        return Err(DesignError::with_help(
            format!("a target power of {} cannot be reached", question.target),
            "give it as a fraction or percentage strictly between 0 and 1, e.g. 0.8 or 80%",
        ));
    }
    if question.ratio.len() != model.arms.len() || question.ratio.contains(&0) {
        return Err(DesignError::with_help(
            format!(
                "the ratio has {} weights but the spec has {} arms",
                question.ratio.len(),
                model.arms.len()
            ),
            "give one positive whole weight per arm in declaration order, e.g. --ratio 1:1",
        ));
    }
    let analysis = model
        .analyses
        .get(question.analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    let grid = Grid {
        focused: focus(model, question.analysis),
        ratio: &question.ratio,
        unit: model
            .delivery
            .clusters
            .as_ref()
            .map_or(1, |c| c.size.max(1)),
        move_analysis: question.move_analysis,
    };
    let clustered = model.delivery.clusters.is_some();
    // Closed forms: per participant for individual randomisation, in clusters for a cluster
    // design (a participant-level formula would ignore the clustering).
    let closed = if clustered {
        None
    } else {
        closed_form(
            &grid.focused,
            question.analysis,
            question.target,
            &question.ratio,
        )
    };
    let cluster_closed = cluster_closed_form(
        &grid.focused,
        question.analysis,
        question.target,
        &question.ratio,
    );
    super::check_resolvable(
        question.target,
        question.replicates,
        closed.map(|c| match (c.exact_n, c.normal_n) {
            (Some(e), _) => format!("the exact z test needs {e} per arm"),
            (None, Some(n)) => format!("the normal approximation gives {n} per ratio unit"),
            (None, None) => "none applies to this design".into(),
        }),
    )?;
    let guess = if clustered {
        cluster_closed.map(|(_, k)| k.ceil().min(1e9) as u32)
    } else {
        closed.and_then(|c| c.normal_n)
    };
    // An inflow with a fixed analysis date caps the size at what comes in before that date.
    let weight: u64 = question.ratio.iter().map(|&w| u64::from(w)).sum();
    let capacity = model
        .delivery
        .inflow
        .as_ref()
        .filter(|_| !question.move_analysis)
        .and_then(intake_capacity);
    let cap = capacity
        .map(|c| u32::try_from(c / (weight * u64::from(grid.unit)).max(1)).unwrap_or(u32::MAX));
    // `max_n` counts participants; a cluster design searches whole clusters up to it.
    let max_units = (question.max_n / grid.unit).max(2);
    let max = max_units.min(cap.unwrap_or(u32::MAX));
    let min = 2;
    let capped = cap.is_some_and(|c| c < max_units);
    if let (Some(inflow), Some(c), true) = (&model.delivery.inflow, capacity, max < min) {
        return Err(inflow_error(
            model,
            question,
            &grid,
            inflow,
            c,
            format!(
                "the inflow takes in only {c} participants before the analysis at month {}: \
                 too few for {}",
                inflow.analysis_month,
                grid.words(min),
            ),
        ));
    }
    let settings = GridSearch {
        target: question.target,
        coarse_replicates: (question.replicates / 10).max(500).min(question.replicates),
        fine_replicates: question.replicates,
        min,
        max,
    };
    let mut failure = None;
    let mut seen: Vec<GridPoint> = Vec::new();
    let answer = search(settings, guess, |at, reps| {
        if failure.is_some() {
            return (f64::NAN, f64::NAN);
        }
        match evaluate(&grid.model(at), question.analysis, question.seed, reps) {
            Ok(e) => {
                super::progress(&format!(
                    "{}: power {} ({reps} replicates)",
                    grid.words(at),
                    super::pct(e.power)
                ));
                seen.push(GridPoint {
                    at,
                    power: e.power,
                    mc_se: e.mc_se,
                    replicates: reps,
                });
                (e.power, e.mc_se)
            }
            Err(e) => {
                failure.get_or_insert(e);
                (f64::NAN, f64::NAN)
            }
        }
    });
    if let Some(e) = failure {
        if super::stopped() {
            return Err(interrupted_search(&seen, question.target, |at| {
                grid.words(at)
            }));
        }
        return Err(e);
    }
    let answer = match answer {
        Ok(a) => a,
        Err(GridError::Unreachable { at_max, .. }) => {
            let message = format!(
                "{}{} reach{} only {} power (target {})",
                if capped { "" } else { "even " },
                grid.words(at_max.at),
                if at_max.at == 1 { "es" } else { "" },
                super::pct(at_max.power),
                super::pct(question.target)
            );
            return Err(match (&model.delivery.inflow, capacity) {
                (Some(inflow), Some(c)) if capped => {
                    let message = format!(
                        "the inflow takes in {c} participants before the analysis at month {}, \
                         at most {}, and {message}",
                        inflow.analysis_month,
                        grid.words(at_max.at),
                    );
                    inflow_error(model, question, &grid, inflow, c, message)
                }
                _ => DesignError::no_answer(
                    message,
                    "the effect may be too small or in the other direction; try `trialsim explain`",
                ),
            });
        }
    };
    let at_answer = grid.model(answer.at);
    let fine = evaluate(
        &at_answer,
        question.analysis,
        question.seed,
        question.replicates,
    )?;
    let n_per_arm = grid.participants(answer.at);
    let cluster = model.delivery.clusters.as_ref();
    let intake = at_answer.delivery.inflow.as_ref().map(|inflow| {
        let total: u64 = question
            .ratio
            .iter()
            .map(|&w| u64::from(w) * u64::from(n_per_arm))
            .sum();
        let months = last_intake_month(inflow, total).saturating_add(1);
        IntakeReport {
            spec_analysis_month: model
                .delivery
                .inflow
                .as_ref()
                .map_or(inflow.analysis_month, |i| i.analysis_month),
            capacity: model.delivery.inflow.as_ref().and_then(intake_capacity),
            analysis_moves: question.move_analysis,
            intake_months: months,
            analysis_month: inflow.analysis_month,
        }
    });
    Ok(SizeReport {
        spec: model.name.clone(),
        analysis: analysis.name.clone(),
        outcome: analysis
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .map_or_else(String::new, |o| o.name.clone()),
        target: question.target,
        ratio: question.ratio.clone(),
        arms: model.arms.iter().map(|a| a.name.clone()).collect(),
        seed: question.seed,
        n_per_arm,
        arm_sizes: question
            .ratio
            .iter()
            .map(|w| w.saturating_mul(n_per_arm))
            .collect(),
        clusters_per_arm: cluster.map(|_| answer.at),
        arm_clusters: cluster.map(|_| {
            question
                .ratio
                .iter()
                .map(|w| w.saturating_mul(answer.at))
                .collect()
        }),
        cluster_size: cluster.map(|c| c.size),
        cluster_label: cluster.map(|c| c.label.clone()),
        power: fine.power,
        mc_se: fine.mc_se,
        power_ci: fine.power_ci,
        power_below: answer.below_answer.map(|p| p.power),
        closed_form_n_per_arm: match cluster_closed {
            Some((_, k)) => Some((k.ceil().min(1e9) as u32).saturating_mul(grid.unit)),
            None => closed.and_then(|c| c.normal_n),
        },
        closed_form_n_unrounded: match cluster_closed {
            Some((n, _)) => Some(n),
            None => closed.map(|c| c.normal_n_unrounded),
        },
        closed_form_clusters_per_arm: cluster_closed.map(|(_, k)| k.ceil().min(1e9) as u32),
        closed_form_clusters_unrounded: cluster_closed.map(|(_, k)| k),
        exact_n_per_arm: closed.and_then(|c| c.exact_n),
        true_treatment: fine.true_treatment,
        true_control: fine.true_control,
        truth: fine.truth,
        intake,
        evaluations: answer.evaluations.iter().map(|p| grid.point(p)).collect(),
        looks: analysis
            .sequential
            .as_ref()
            .map(|plan| plan.planned_fractions.len()),
    })
}

/// The error of a size the inflow cannot bring in before the spec's analysis date, with what
/// would reach it: the answer when the analysis date moves with the intake, or a higher inflow.
fn inflow_error(
    model: &TrialModel,
    question: &SizeQuestion,
    grid: &Grid<'_>,
    inflow: &Inflow,
    capacity: u64,
    message: String,
) -> DesignError {
    // Looks at calendar months stay where they are when the analysis date moves: no later date
    // helps, and searching for one would simulate ever larger trials for nothing.
    let calendar_looks = model.analyses.get(question.analysis).is_some_and(|a| {
        a.sequential
            .as_ref()
            .is_some_and(|p| matches!(p.looks, crate::model::LookSchedule::Months(_)))
    });
    if calendar_looks {
        return DesignError::no_answer(
            message,
            format!(
                "the looks are at fixed calendar months, which a later analysis date does not \
                 move: state them as information fractions (`looks at 33%, 67%, 100% \
                 information`) to let them follow the intake, or a higher inflow, taking in \
                 more than {capacity} participants before month {}",
                inflow.analysis_month
            ),
        );
    }
    let moved = size_for_model(
        model,
        &SizeQuestion {
            move_analysis: true,
            ..question.clone()
        },
    );
    let later = match moved {
        Ok(r) => {
            let at = r.clusters_per_arm.unwrap_or(r.n_per_arm);
            format!(
                "a later analysis date reaches it: with the date moving with the intake (`trialsim \
                 size --move-analysis`), {} reach{} {} with the analysis at month {} (intake over \
                 {} months)",
                grid.words(at),
                if at == 1 { "es" } else { "" },
                super::pct(question.target),
                r.intake.as_ref().map_or(0, |i| i.analysis_month),
                r.intake.as_ref().map_or(0, |i| i.intake_months),
            )
        }
        Err(e) => format!(
            "even with the analysis date moving with the intake (`trialsim size --move-analysis`): {}",
            e.message
        ),
    };
    DesignError::no_answer(
        message,
        format!(
            "{later}; or a higher inflow, taking in more than {capacity} participants before \
             month {}",
            inflow.analysis_month
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, strictly increasing stand-in for a power curve that reaches 0.8 between 181
    /// and 182: `1 - exp(-n / c)` with `c = 181.5 / ln 5`.
    fn curve(n: u32) -> f64 {
        1.0 - (-f64::from(n) * 5f64.ln() / 181.5).exp()
    }

    fn settings() -> GridSearch {
        GridSearch {
            target: 0.8,
            coarse_replicates: 100,
            fine_replicates: 1000,
            min: 2,
            max: 100_000,
        }
    }

    fn exact(n: u32, _replicates: u64) -> (f64, f64) {
        (curve(n), 0.0)
    }

    #[test]
    fn finds_the_crossing_from_below_above_and_without_a_guess() {
        for guess in [None, Some(3), Some(150), Some(182), Some(5000)] {
            let answer = search(settings(), guess, exact).expect("reachable");
            assert_eq!(answer.at, 182, "guess {guess:?}");
            assert!(answer.at_answer.power >= 0.8);
            assert!(answer.below_answer.expect("n > 2").power < 0.8);
        }
    }

    #[test]
    fn corrects_a_bisection_misled_by_noise() {
        // Coarse estimates are biased upwards by 0.02, so bisection stops too low; the fine
        // confirmation must step back up to the true crossing.
        let noisy = |n: u32, reps: u64| (curve(n) + if reps < 1000 { 0.02 } else { 0.0 }, 0.0);
        assert_eq!(
            search(settings(), Some(100), noisy).expect("reachable").at,
            182
        );
    }

    /// A bisection misled far from the crossing, either way: the confirmation gallops there
    /// with many replicates instead of stepping one point at a time.
    #[test]
    fn gallops_to_the_crossing_when_the_bisection_is_far_off() {
        for bias in [0.15, -0.15] {
            let mut fine_evaluations = 0;
            let noisy = |n: u32, reps: u64| {
                if reps == 1000 {
                    fine_evaluations += 1;
                }
                (curve(n) + if reps < 1000 { bias } else { 0.0 }, 0.0)
            };
            let answer = search(settings(), Some(100), noisy).expect("reachable");
            assert_eq!(answer.at, 182, "bias {bias}");
            assert!(
                answer
                    .below_answer
                    .is_some_and(|b| b.at == 181 && b.power < 0.8)
            );
            assert!(fine_evaluations <= 16, "bias {bias}: {fine_evaluations}");
        }
    }

    #[test]
    fn reports_an_unreachable_target() {
        let flat = |_: u32, _: u64| (0.5, 0.0);
        let settings = GridSearch {
            max: 1000,
            ..settings()
        };
        match search(settings, None, flat) {
            Err(GridError::Unreachable { at_max, .. }) => assert_eq!(at_max.at, 1000),
            other => panic!("expected unreachable, got {other:?}"),
        }
    }

    #[test]
    fn respects_a_cap_below_the_guess_and_answers_at_the_minimum() {
        // A cap below the crossing: unreachable at the cap, confirmed there.
        let capped = GridSearch {
            max: 24,
            ..settings()
        };
        match search(capped, Some(50), exact) {
            Err(GridError::Unreachable { at_max, .. }) => {
                assert_eq!(at_max.at, 24);
                assert_eq!(at_max.replicates, 1000);
            }
            other => panic!("expected unreachable, got {other:?}"),
        }
        // Power above the target everywhere: the answer is the minimum, with nothing below.
        let high = |_: u32, _: u64| (0.95, 0.0);
        for min in [1, 2, 5] {
            let answer = search(GridSearch { min, ..settings() }, Some(40), high).expect("ok");
            assert_eq!(answer.at, min);
            assert!(answer.below_answer.is_none());
        }
    }

    /// The intake before the analysis date follows `entry_months` exactly: the count of
    /// participants whose intake month falls before the analysis month.
    #[test]
    fn intake_capacity_counts_the_intakes_before_the_analysis() {
        let inflow = |per_period: Vec<u32>, period_months: u32, analysis_month: u32| Inflow {
            per_period,
            period_months,
            analysis_month,
        };
        for i in [
            inflow(vec![2], 1, 24),
            inflow(vec![1], 1, 28),
            inflow(vec![80, 70, 50], 12, 36),
            inflow(vec![80, 70, 50], 12, 41),
            inflow(vec![3], 12, 5),
            inflow(vec![5, 0, 7], 12, 30),
            inflow(vec![7], 3, 1),
        ] {
            let cap = intake_capacity(&i).expect("bounded");
            let months = crate::sim::entry_months(&i, 5_000);
            let before = months.iter().filter(|&&m| m < i.analysis_month).count() as u64;
            assert_eq!(cap, before, "{i:?}");
        }
        assert_eq!(intake_capacity(&inflow(vec![2], 1, 24)), Some(48));
        // The last intake month, without listing everyone, is the last of `entry_months`.
        for i in [
            inflow(vec![2], 1, 24),
            inflow(vec![80, 70, 50], 12, 36),
            inflow(vec![3], 12, 5),
            inflow(vec![5, 0, 7], 12, 30),
            inflow(vec![5, 0], 12, 30),
            inflow(vec![7], 3, 1),
        ] {
            for n in [1usize, 2, 3, 5, 7, 12, 79, 80, 81, 150, 151, 200, 201, 999] {
                let months = crate::sim::entry_months(&i, n);
                assert_eq!(
                    Some(last_intake_month(&i, n as u64)),
                    months.last().copied(),
                    "{i:?}, {n}"
                );
            }
        }
        // An inflow that stops puts the rest in at the end of its last period.
        assert_eq!(intake_capacity(&inflow(vec![5, 0], 12, 30)), None);
        assert_eq!(intake_capacity(&inflow(vec![5, 0], 12, 20)), Some(5));
    }
}
