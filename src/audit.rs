//! The assumption audit: every design assumption of the spec set against the data, with a 95 %
//! interval and a flag where the data contradict it, and the power the trial really had. It
//! stands after the loader and beside the analysis: it reads what the loader found and asks the
//! engine what the spec implies, so neither the loader nor the analysis needs to know the engine.
//!
//! Proportions get a Wilson score interval; means a normal-approximation interval
//! (mean ± 1.96·sd/√n). An assumption is *contradicted* when the planned value lies outside the
//! observed interval. An assumption the data cannot show (a flow without a column in the data
//! mapping, baseline employment without month-0 hours) is listed as `not observed`, never skipped.
//!
//! Flows are set against their flow columns (`dropout "column"` etc. in the data section) over
//! the participants the engine draws them for: dropout and non-work exit over the whole arm,
//! exemption and crossover over those who did not drop out (when the data record dropout; else
//! over the whole arm, with the planned share scaled by 1 − dropout). A planned non-work exit
//! `within m months: p` is compared as P(exit within the months followed). A flow that an arm does
//! not declare is planned at 0 %, so any observed case contradicts it.
//!
//! A work rate (`work within 12 months: 25%`) is stated for those out of work at intake on the
//! path; the share observed in the data also counts jobs held at intake, dropouts following
//! another process, crossovers and exits. So the planned value of a rate item is the share the
//! spec implies for the rate's measure over the whole arm (or the path), computed exactly by
//! [`crate::sim::Simulator::expected`]; the rate is measured by an outcome with the same window,
//! else from the monthly hours (worked within / employed at month m, ≥ 1 hour).

use serde::Serialize;

use crate::model::{
    AssignmentRule, Distribution, Flow, Measure, RateMeaning, TrialModel, Unit, WorkRate,
};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable, flags};

/// 97.5 % standard-normal quantile.
const Z975: f64 = 1.959_963_984_540_054;

/// One assumption set against the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditItem {
    /// What kind of assumption: `allocation`, `sample`, `rate`, `path_share`,
    /// `baseline_employment`, `outcome`, `covariate`, `dropout`, `crossover`, `exemption`,
    /// `non_work_exit`, `lost_to_follow_up`, `clusters`.
    pub kind: &'static str,
    /// The assumption in words, e.g. `arm control: work within 12 months`.
    pub assumption: String,
    /// The value the spec assumes (a probability, a mean, or a count for `sample`).
    pub planned: f64,
    /// The value in the data, if observable.
    pub observed: Option<f64>,
    /// Participants the observed value is computed over.
    pub n: u64,
    /// 95 % interval of the observed value (Wilson for proportions).
    pub ci: Option<(f64, f64)>,
    /// The verdict.
    pub status: AuditStatus,
    /// Why an item is not observed, or what to keep in mind reading it.
    pub note: Option<String>,
}

/// Verdict of one audit item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// The planned value lies inside the observed interval.
    Consistent,
    /// The planned value lies outside the observed interval (or the sample falls short).
    Contradicted,
    /// The data cannot show this assumption.
    NotObserved,
    /// A baseline covariate differs between the arms beyond the plan's balance level: a chance
    /// imbalance of the randomisation (kind `balance`), not a wrong assumption.
    Imbalanced,
}

/// Wilson score interval for `x` successes out of `n` at 95 % (the statistics module's).
pub fn wilson(x: u64, n: u64) -> (f64, f64) {
    crate::stats::intervals::wilson(x, n, 0.95)
}

fn proportion_item(
    kind: &'static str,
    assumption: String,
    planned: f64,
    x: u64,
    n: u64,
) -> AuditItem {
    if n == 0 {
        return not_observed(kind, assumption, planned, "no participants with a value");
    }
    let ci = wilson(x, n);
    AuditItem {
        kind,
        assumption,
        planned,
        observed: Some(x as f64 / n as f64),
        n,
        ci: Some(ci),
        status: verdict(planned, ci),
        note: None,
    }
}

fn mean_item(
    kind: &'static str,
    assumption: String,
    planned: f64,
    values: impl Iterator<Item = f64>,
) -> AuditItem {
    let (mut n, mut mean, mut m2) = (0u64, 0.0, 0.0);
    for v in values.filter(|v| !v.is_nan()) {
        n += 1;
        let d = v - mean;
        mean += d / n as f64;
        m2 += d * (v - mean);
    }
    if n < 2 {
        return not_observed(
            kind,
            assumption,
            planned,
            "fewer than two participants with a value",
        );
    }
    let se = (m2 / (n - 1) as f64 / n as f64).sqrt();
    let ci = (mean - Z975 * se, mean + Z975 * se);
    AuditItem {
        kind,
        assumption,
        planned,
        observed: Some(mean),
        n,
        ci: Some(ci),
        status: verdict(planned, ci),
        note: None,
    }
}

fn not_observed(kind: &'static str, assumption: String, planned: f64, why: &str) -> AuditItem {
    AuditItem {
        kind,
        assumption,
        planned,
        observed: None,
        n: 0,
        ci: None,
        status: AuditStatus::NotObserved,
        note: Some(why.to_owned()),
    }
}

fn verdict(planned: f64, (lo, hi): (f64, f64)) -> AuditStatus {
    // A tiny tolerance so that a planned 100 % against an all-ones sample is not "outside".
    if planned < lo - 1e-12 || planned > hi + 1e-12 {
        AuditStatus::Contradicted
    } else {
        AuditStatus::Consistent
    }
}

/// Mean of a distribution, if it has a finite one.
fn distribution_mean(d: &Distribution) -> Option<f64> {
    match *d {
        Distribution::Uniform { low, high } => Some((low + high) / 2.0),
        Distribution::Normal { mean, .. } => Some(mean),
        Distribution::LogNormal { median, sigma } => Some(median * (sigma * sigma / 2.0).exp()),
        Distribution::Fixed { value } => Some(value),
        Distribution::Categorical { .. } | Distribution::Binned { .. } => None,
    }
}

fn rate_words(rate: &WorkRate) -> String {
    match rate.meaning {
        RateMeaning::FoundWithin => format!("work within {} months", rate.months),
        RateMeaning::EmployedAt => format!("employed at month {}", rate.months),
    }
}

/// A rate as percent with one decimal.
fn pct1(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// The rate a path states, averaged over the levels of its `by` covariate among those who can
/// be randomised (the rate itself without `by`): what the spec says, not a value no one uses.
fn stated_rate(model: &TrialModel, rate: &WorkRate) -> f64 {
    match &rate.by {
        None => rate.probability,
        Some(by) => {
            let w = model.level_weights(by.variable);
            if w.is_empty() {
                return rate.probability;
            }
            w.iter()
                .enumerate()
                .map(|(l, w)| w * rate.at_level(by.variable, l))
                .sum()
        }
    }
}

/// The stated rate in words: `25.0%`, or per level where it varies (`30.0% (female), 15.0%
/// (male)`), listing only the levels a participant can have, each with the rate it uses.
fn stated_words(model: &TrialModel, rate: &WorkRate) -> String {
    model.rate_in_words(rate, pct1)
}

/// The share of an arm the spec states for `path` at level `l` of covariate `var` (the path's
/// share when its share does not vary by that covariate).
fn share_at(path: &crate::model::SubPath, var: usize, l: usize) -> f64 {
    path.share_by
        .as_ref()
        .filter(|b| b.variable == var)
        .and_then(|b| b.probabilities.get(l).copied().flatten())
        .unwrap_or(path.share)
}

/// The arm's stated rate over its paths, for those out of work at intake: shares times rates,
/// level by level where a share or a rate varies by a covariate, weighted by the levels' shares.
fn stated_arm_rate(model: &TrialModel, arm: &crate::model::Arm) -> f64 {
    let var = arm
        .paths
        .iter()
        .find_map(|p| p.share_by.as_ref().or(p.work.by.as_ref()))
        .map(|b| b.variable);
    let same_var = arm.paths.iter().all(|p| {
        p.share_by
            .iter()
            .chain(&p.work.by)
            .all(|b| Some(b.variable) == var)
    });
    let weights = var.map(|v| model.level_weights(v)).unwrap_or_default();
    let Some(v) = var.filter(|_| same_var && !weights.is_empty()) else {
        return arm
            .paths
            .iter()
            .map(|p| p.share * stated_rate(model, &p.work))
            .sum();
    };
    weights
        .iter()
        .enumerate()
        .map(|(l, w)| {
            w * arm
                .paths
                .iter()
                .map(|p| share_at(p, v, l) * p.work.at_level(v, l))
                .sum::<f64>()
        })
        .sum()
}

/// The exact expected share of `measure` in arm `a` under the spec (on path `p` alone, among
/// those who did not drop out, when given), or `None` when the engine cannot compute it.
fn implied_share(
    model: &TrialModel,
    a: usize,
    path: Option<usize>,
    measure: &Measure,
) -> Option<f64> {
    implied_share_in(model, a, path, measure, None)
}

/// [`implied_share`] within one level of a categorical covariate, when `subgroup` is given.
fn implied_share_in(
    model: &TrialModel,
    a: usize,
    path: Option<usize>,
    measure: &Measure,
    subgroup: Option<(usize, usize)>,
) -> Option<f64> {
    let mut m = model.clone();
    m.outcomes.push(crate::model::Outcome {
        name: "audited rate".into(),
        measure: measure.clone(),
    });
    if let Some(p) = path {
        let arm = m.arms.get_mut(a)?;
        let mut only = arm.paths.get(p)?.clone();
        only.share = 1.0;
        only.rest = false;
        only.share_by = None;
        arm.paths = vec![only];
        arm.dropout = None;
        // Other arms' dropouts and crossovers naming a path of this arm now find path 0.
        for other in &mut m.arms {
            for r in other
                .dropout
                .iter_mut()
                .map(|d| &mut d.follows)
                .chain(other.crossover.iter_mut().map(|c| &mut c.to))
            {
                if r.arm == a {
                    r.path = None;
                }
            }
        }
    }
    let sim = crate::sim::Simulator::new(&m, crate::sim::SimOptions::default()).ok()?;
    sim.expected(a, m.outcomes.len() - 1, subgroup)
        .map(|e| e.mean)
}

/// Values of the rate's measure per participant and what they are: the outcome measuring the
/// rate, else the measure computed from monthly hours.
fn rate_values<'t>(
    model: &TrialModel,
    table: &'t ParticipantTable,
    obs: &Observed<'t>,
    rate: &WorkRate,
) -> Option<(&'t [f64], String)> {
    if let Some(o) = model.outcome_for_rate(rate) {
        return Some((
            table.outcomes.get(o)?.as_slice(),
            format!("measured by outcome {}", model.outcomes[o].name),
        ));
    }
    let measure = rate.measure();
    obs.rate_measures
        .iter()
        .find(|(m, _)| *m == measure)
        .map(|(_, v)| {
            (
                v.as_slice(),
                "measured from the monthly hours (≥ 1 hour)".to_owned(),
            )
        })
}

/// Counts ones and non-missing values of a 0/1 column among rows passing `keep`.
fn count_binary(values: &[f64], keep: impl Fn(usize) -> bool) -> (u64, u64) {
    let (mut x, mut n) = (0, 0);
    for (i, v) in values.iter().enumerate() {
        if keep(i) && !v.is_nan() {
            n += 1;
            if *v >= 0.5 {
                x += 1;
            }
        }
    }
    (x, n)
}

pub use crate::data::Observed;

/// Sets every assumption of `model` against `table`. `baseline_hours` says whether the table's
/// baseline-employment flags were observed (month-0 hours in the data); flows are not observed.
pub fn audit(model: &TrialModel, table: &ParticipantTable, baseline_hours: bool) -> Vec<AuditItem> {
    audit_with(
        model,
        table,
        &Observed {
            baseline_hours,
            ..Observed::default()
        },
    )
}

/// The last month the engine simulates: the follow-up, or a later month a measure needs.
fn horizon(model: &TrialModel) -> u32 {
    model
        .outcomes
        .iter()
        .filter_map(|o| crate::data::measures::last_month(&o.measure))
        .chain(model.outcomes.iter().filter_map(|o| match o.measure {
            Measure::BenefitEnded { month } => Some(month),
            _ => None,
        }))
        .fold(model.follow_up_months, u32::max)
}

/// The share of `flow` the spec plans in arm `a`, over the participants the engine draws it
/// for (dropout and non-work exit: everyone; exemption and crossover: those who did not drop
/// out), and whether that denominator excludes dropouts.
fn planned_flow(model: &TrialModel, a: usize, flow: Flow) -> f64 {
    let arm = &model.arms[a];
    match flow {
        Flow::Dropout => arm.dropout.as_ref().map_or(0.0, |d| d.share),
        Flow::Exemption => arm.exemption.as_ref().map_or(0.0, |e| e.share),
        Flow::Crossover => arm.crossover.as_ref().map_or(0.0, |c| c.share),
        Flow::NonWorkExit => arm.non_work_exit.as_ref().map_or(0.0, |e| {
            if e.months == 0 {
                return 0.0;
            }
            // The engine's exit month is geometric with P(X <= m) = p; flagged within the horizon.
            let h = f64::from(horizon(model));
            1.0 - (1.0 - e.probability).powf(h / f64::from(e.months))
        }),
        // Receipt follows from the flows above; the audit does not plan it.
        Flow::Received => f64::NAN,
    }
}

fn flow_declared(model: &TrialModel, a: usize, flow: Flow) -> bool {
    let arm = &model.arms[a];
    match flow {
        Flow::Dropout => arm.dropout.is_some(),
        Flow::Exemption => arm.exemption.is_some(),
        Flow::Crossover => arm.crossover.is_some(),
        Flow::NonWorkExit => arm.non_work_exit.is_some(),
        Flow::Received => false,
    }
}

/// Observed (x, n) of `flow` in arm `a`: exemption and crossover among those known not to have
/// dropped out when dropout is observed; `None` when the data have no column for it.
fn observed_flow(
    table: &ParticipantTable,
    obs: &Observed<'_>,
    a: usize,
    flow: Flow,
) -> Option<(u64, u64)> {
    let bit = crate::data::flag_bit(flow);
    if obs.flow_bits & bit == 0 {
        return None;
    }
    let conditional =
        matches!(flow, Flow::Exemption | Flow::Crossover) && obs.flow_bits & flags::DROPOUT != 0;
    let (mut x, mut n) = (0, 0);
    for i in 0..table.len() {
        if table.arm[i] as usize != a || !obs.known(i, bit) {
            continue;
        }
        if conditional && (!obs.known(i, flags::DROPOUT) || table.flags[i] & flags::DROPOUT != 0) {
            continue;
        }
        n += 1;
        x += u64::from(table.flags[i] & bit != 0);
    }
    Some((x, n))
}

fn flow_item(
    model: &TrialModel,
    table: &ParticipantTable,
    obs: &Observed<'_>,
    a: usize,
    flow: Flow,
) -> Option<AuditItem> {
    let arm = &model.arms[a];
    let declared = flow_declared(model, a, flow);
    let mut planned = planned_flow(model, a, flow);
    let words = format!("arm {}: {}", arm.name, flow.name().replace('_', " "));
    let Some((x, n)) = observed_flow(table, obs, a, flow) else {
        return declared.then(|| {
            not_observed(
                flow.name(),
                words,
                planned,
                &format!(
                    "the data mapping has no column for it; add `{} \"column\"` to the data section",
                    flow.name()
                ),
            )
        });
    };
    let mut notes = Vec::new();
    if matches!(flow, Flow::Exemption | Flow::Crossover) {
        if obs.flow_bits & flags::DROPOUT != 0 {
            notes.push("share of those who did not drop out".to_owned());
        } else if let Some(d) = &arm.dropout {
            planned *= 1.0 - d.share;
            notes.push("share of the whole arm: the planned share × (1 − dropout), as dropouts take no exemption or crossover".to_owned());
        }
    }
    if flow == Flow::NonWorkExit
        && let Some(e) = &arm.non_work_exit
        && e.months != horizon(model)
    {
        notes.push(format!(
            "planned {:.1}% within {} months, scaled to the {} months followed",
            100.0 * e.probability,
            e.months,
            horizon(model)
        ));
    }
    if !declared {
        notes.push("the spec declares no such flow in this arm".to_owned());
    }
    let mut item = proportion_item(flow.name(), words, planned, x, n);
    if !notes.is_empty() && item.note.is_none() {
        item.note = Some(notes.join("; "));
    }
    Some(item)
}

/// Sets every assumption of `model` against `table`, with what `obs` says was observed.
pub fn audit_with(
    model: &TrialModel,
    table: &ParticipantTable,
    obs: &Observed<'_>,
) -> Vec<AuditItem> {
    let baseline_hours = obs.baseline_hours;
    let mut items = Vec::new();
    let total = table.len() as u64;
    let arm_n = |a: usize| table.arm.iter().filter(|&&x| x as usize == a).count() as u64;

    // Allocation.
    let shares: Option<Vec<f64>> = match &model.assignment.rule {
        AssignmentRule::Parity { even, odd, .. } => {
            let mut s = vec![0.0; model.arms.len()];
            if let Some(x) = s.get_mut(*even) {
                *x += 0.5;
            }
            if let Some(x) = s.get_mut(*odd) {
                *x += 0.5;
            }
            Some(s)
        }
        AssignmentRule::Complete { ratio } | AssignmentRule::Blocked { ratio, .. } => {
            let sum: u32 = ratio.iter().sum();
            (sum > 0).then(|| {
                ratio
                    .iter()
                    .map(|&r| f64::from(r) / f64::from(sum))
                    .collect()
            })
        }
    };
    if let Some(shares) = shares {
        for (a, arm) in model.arms.iter().enumerate() {
            let planned = shares.get(a).copied().unwrap_or(0.0);
            items.push(proportion_item(
                "allocation",
                format!("share allocated to arm {}", arm.name),
                planned,
                arm_n(a),
                total,
            ));
        }
    }
    if let Some(sample) = &model.sample {
        for (a, arm) in model.arms.iter().enumerate() {
            let planned = f64::from(sample.get(a).copied().unwrap_or(0));
            let n = arm_n(a);
            items.push(AuditItem {
                kind: "sample",
                assumption: format!("participants in arm {}", arm.name),
                planned,
                observed: Some(n as f64),
                n,
                ci: None,
                status: if (n as f64) < planned {
                    AuditStatus::Contradicted
                } else {
                    AuditStatus::Consistent
                },
                note: ((n as f64) < planned).then(|| "fewer participants than planned".to_owned()),
            });
        }
    }
    // A cluster design puts each cluster in one arm; the data can say otherwise.
    if model.delivery.clusters.is_some() && !table.cluster.is_empty() {
        let (mixed, clusters) = table.clusters_in_two_arms();
        items.push(AuditItem {
            kind: "clusters",
            assumption: "clusters in more than one arm".to_owned(),
            planned: 0.0,
            observed: Some(mixed as f64),
            n: clusters,
            ci: None,
            status: if mixed > 0 {
                AuditStatus::Contradicted
            } else {
                AuditStatus::Consistent
            },
            note: (mixed > 0).then(|| {
                "the design randomises whole clusters: a cluster-level test (cluster_t, the randomisation test) of two arms a cluster spans is undefined; CR2 standard errors use the clusters as they are".to_owned()
            }),
        });
    }

    for (a, arm) in model.arms.iter().enumerate() {
        let in_arm = |i: usize| table.arm[i] as usize == a;
        // Work rates: what the spec implies for the rate's measure in the arm, then on each path.
        if let Some(first) = arm.paths.first()
            && arm
                .paths
                .iter()
                .all(|p| p.work.months == first.work.months && p.work.meaning == first.work.meaning)
            && arm.direct_outcomes.is_empty()
        {
            let words = rate_words(&first.work);
            let nominal = stated_arm_rate(model, arm);
            let single_words = (arm.paths.len() == 1).then(|| stated_words(model, &first.work));
            let measure = first.work.measure();
            match rate_values(model, table, obs, &first.work) {
                Some((values, measured_by)) => {
                    let (x, n) = count_binary(values, in_arm);
                    let implied = implied_share(model, a, None, &measure);
                    let mut item = proportion_item(
                        "rate",
                        format!("arm {}: {words}", arm.name),
                        implied.unwrap_or(nominal),
                        x,
                        n,
                    );
                    let mut notes = Vec::new();
                    let by_level = arm.paths.iter().any(|p| p.work.by.is_some());
                    if by_level {
                        notes.push("rate varies by covariate level".to_owned());
                    }
                    let stated = match &single_words {
                        Some(w) => w.clone(),
                        None if by_level => {
                            format!("{} over the paths and levels", pct1(nominal))
                        }
                        None => pct1(nominal),
                    };
                    match implied {
                        Some(_) => notes.push(format!(
                            "planned: the share the spec implies for the whole arm (stated {stated} for those out of work at intake, with baseline employment and the flows)"
                        )),
                        None => notes.push(
                            "planned value ignores baseline employment and the flows".to_owned(),
                        ),
                    }
                    notes.push(measured_by);
                    item.note = Some(notes.join("; "));
                    items.push(item);
                    if arm.paths.len() > 1 {
                        for (p, path) in arm.paths.iter().enumerate() {
                            let (x, n) =
                                count_binary(values, |i| in_arm(i) && table.path[i] as usize == p);
                            let implied = implied_share(model, a, Some(p), &measure);
                            let mut item = proportion_item(
                                "rate",
                                format!(
                                    "arm {} path {}: {}",
                                    arm.name,
                                    path.name,
                                    rate_words(&path.work)
                                ),
                                implied.unwrap_or_else(|| stated_rate(model, &path.work)),
                                x,
                                n,
                            );
                            if implied.is_some() && item.note.is_none() {
                                item.note = Some(format!(
                                    "planned: the share the spec implies on the path (stated {}, with baseline employment, exemption, crossover and exits)",
                                    stated_words(model, &path.work)
                                ));
                            }
                            items.push(item);
                        }
                    }
                    // Where the rate varies by a covariate's level: the rate at each level the
                    // data can show, so that each level's own rate is set against its people.
                    let by_var = arm
                        .paths
                        .iter()
                        .find_map(|p| p.work.by.as_ref())
                        .map(|b| b.variable);
                    let codes = by_var.and_then(|v| match table.covariates.get(v) {
                        Some(CovariateColumn::Categorical(codes)) => Some((v, codes)),
                        _ => None,
                    });
                    if let Some((v, codes)) = codes {
                        let var = &model.population.variables[v];
                        for (l, level) in var.levels().unwrap_or_default().iter().enumerate() {
                            if !model.level_possible(v, l) {
                                continue;
                            }
                            let (x, n) = count_binary(values, |i| {
                                in_arm(i) && codes.get(i).is_some_and(|&c| c as usize == l)
                            });
                            let implied = implied_share_in(model, a, None, &measure, Some((v, l)));
                            let at_level: f64 = arm
                                .paths
                                .iter()
                                .map(|p| share_at(p, v, l) * p.work.at_level(v, l))
                                .sum();
                            let mut item = proportion_item(
                                "rate",
                                format!("arm {}, {} = {}: {words}", arm.name, var.name, level.name),
                                implied.unwrap_or(at_level),
                                x,
                                n,
                            );
                            if item.note.is_none() {
                                item.note = Some(match implied {
                                    Some(_) => format!(
                                        "planned: the share the spec implies at this level (stated {} for those out of work at intake)",
                                        pct1(at_level)
                                    ),
                                    None => {
                                        "planned value ignores baseline employment and the flows"
                                            .to_owned()
                                    }
                                });
                            }
                            items.push(item);
                        }
                    }
                }
                None => items.push(not_observed(
                    "rate",
                    format!("arm {}: {words}", arm.name),
                    nominal,
                    &format!(
                        "no outcome measures it; add e.g. `outcome x = {}`",
                        match first.work.meaning {
                            RateMeaning::FoundWithin =>
                                format!("worked within {} months", first.work.months),
                            RateMeaning::EmployedAt =>
                                format!("employed at month {}", first.work.months),
                        }
                    ),
                )),
            }
        }
        // Path shares.
        if arm.paths.len() > 1 {
            let known: Vec<usize> = (0..table.len())
                .filter(|&i| in_arm(i) && table.path[i] != MISSING_CODE)
                .collect();
            for (p, path) in arm.paths.iter().enumerate() {
                let assumption = format!("arm {}: share on path {}", arm.name, path.name);
                if known.is_empty() {
                    items.push(not_observed(
                        "path_share",
                        assumption,
                        path.share,
                        "no sub-path column in the data mapping",
                    ));
                } else {
                    let x = known
                        .iter()
                        .filter(|&&i| table.path[i] as usize == p)
                        .count() as u64;
                    items.push(proportion_item(
                        "path_share",
                        assumption,
                        path.share,
                        x,
                        known.len() as u64,
                    ));
                }
            }
        }
        // Baseline employment.
        let assumption = format!("arm {}: employed at intake", arm.name);
        if baseline_hours {
            let n = arm_n(a);
            let x = (0..table.len())
                .filter(|&i| in_arm(i) && table.flags[i] & flags::EMPLOYED_AT_BASELINE != 0)
                .count() as u64;
            items.push(proportion_item(
                "baseline_employment",
                assumption,
                arm.baseline_employment,
                x,
                n,
            ));
        } else if arm.baseline_employment > 0.0 {
            items.push(not_observed(
                "baseline_employment",
                assumption,
                arm.baseline_employment,
                "no month-0 hours column in the data",
            ));
        }
        // Directly declared outcomes.
        for d in &arm.direct_outcomes {
            let Some(outcome) = model.outcomes.get(d.outcome) else {
                continue;
            };
            let values = &table.outcomes[d.outcome];
            match &d.value {
                crate::model::DirectValue::Binary { probability } => {
                    let (x, n) = count_binary(values, in_arm);
                    items.push(proportion_item(
                        "outcome",
                        format!("arm {}: {}", arm.name, outcome.name),
                        *probability,
                        x,
                        n,
                    ));
                }
                crate::model::DirectValue::Continuous { distribution } => {
                    if let Some(mean) = distribution_mean(distribution) {
                        let it = values
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| in_arm(*i))
                            .map(|(_, v)| *v);
                        items.push(mean_item(
                            "outcome",
                            format!("arm {}: mean {}", arm.name, outcome.name),
                            mean,
                            it,
                        ));
                    }
                }
            }
        }
        // Flows: planned share against the flow column, when the data have one.
        for flow in Flow::ALL {
            if flow == Flow::Received {
                continue;
            }
            if let Some(item) = flow_item(model, table, obs, a, flow) {
                items.push(item);
            }
        }
    }

    // Covariate distributions (as they are in the randomised sample).
    for (v, var) in model.population.variables.iter().enumerate() {
        let Some(column) = table.covariates.get(v) else {
            continue;
        };
        // Bins of a covariate have no distribution of their own to audit.
        if var.binned_from().is_some() {
            continue;
        }
        let restricted = model.eligibility.criteria.iter().any(|c| c.variable == v);
        match (&var.distribution, column) {
            (Distribution::Categorical { levels }, CovariateColumn::Categorical(codes)) => {
                let known = codes.iter().filter(|&&c| c != MISSING_CODE).count() as u64;
                if known == 0 {
                    continue;
                }
                for (k, level) in levels.iter().enumerate() {
                    let x = codes.iter().filter(|&&c| c as usize == k).count() as u64;
                    let mut item = proportion_item(
                        "covariate",
                        format!("{} = {}", var.name, level.name),
                        level.probability,
                        x,
                        known,
                    );
                    if restricted {
                        item.note = Some("eligibility criteria restrict this variable; the spec gives the pool's distribution".into());
                    }
                    items.push(item);
                }
            }
            (d, CovariateColumn::Numeric(values)) => {
                if values.iter().all(|v| v.is_nan()) {
                    continue;
                }
                if let Some(mean) = distribution_mean(d) {
                    let unit = if var.unit == Unit::Years {
                        " (years)"
                    } else {
                        ""
                    };
                    let mut item = mean_item(
                        "covariate",
                        format!("mean {}{unit}", var.name),
                        mean,
                        values.iter().copied(),
                    );
                    if restricted {
                        item.note = Some("eligibility criteria restrict this variable; the spec gives the pool's distribution".into());
                    }
                    items.push(item);
                }
            }
            _ => {}
        }
    }
    items.extend(lost_items(model, table));
    items.extend(balance_items(model, table));
    items
}

/// One item per balance test of the first analysis' arms: the randomisation balances every
/// baseline covariate in expectation; `planned` is 0 (no difference), `observed` the test's p
/// and the verdict [`AuditStatus::Imbalanced`] where p < the plan's balance alpha.
fn balance_items(model: &TrialModel, table: &ParticipantTable) -> Vec<AuditItem> {
    let b = crate::analysis::balance(model, table);
    b.tests
        .iter()
        .map(|t| {
            let what = match (&t.bins, t.test) {
                (Some(edges), _) => format!(
                    "Pearson chi-square on {} bins",
                    edges.len().saturating_sub(1)
                ),
                (None, "welch_t") => "Welch t".to_owned(),
                (None, _) => "Pearson chi-square".to_owned(),
            };
            let statistic = if t.test == "welch_t" {
                if t.df.is_finite() {
                    format!("t = {:.3}, df {:.1}", t.statistic, t.df)
                } else {
                    format!(
                        "t = {:.3}, df undefined (no spread in either arm)",
                        t.statistic
                    )
                }
            } else {
                format!("chi-square = {:.3} on {} df", t.statistic, t.df)
            };
            let defined = !t.p_value.is_nan();
            AuditItem {
                kind: "balance",
                assumption: format!("balance of {} ({what})", t.variable),
                planned: 0.0,
                observed: defined.then_some(t.p_value),
                n: t.n,
                ci: None,
                status: if !defined {
                    AuditStatus::NotObserved
                } else if t.imbalanced {
                    AuditStatus::Imbalanced
                } else {
                    AuditStatus::Consistent
                },
                note: Some(if defined {
                    statistic
                } else {
                    "the test is undefined: one level or bin, or an arm without values".to_owned()
                }),
            }
        })
        .collect()
}

/// Loss to follow-up against the outcomes missing in the data: per arm that declares it and per
/// analysed outcome measured in a month m ≥ 1, the planned share missing, 1 − (1 − P)^(m / M)
/// for P lost by month M (with shares by level: averaged over the arm's participants with a
/// known level), against the share of the arm without a value. Loss that depends on the outcome
/// has no planned share without the outcome's values, so it is listed as not observed; so is an
/// inflow design, whose months are read on the analysis date.
fn lost_items(model: &TrialModel, table: &ParticipantTable) -> Vec<AuditItem> {
    let mut items = Vec::new();
    let mut analysed: Vec<usize> = Vec::new();
    for o in model.analyses.iter().flat_map(|a| &a.outcomes) {
        if !analysed.contains(o) {
            analysed.push(*o);
        }
    }
    for (a, arm) in model.arms.iter().enumerate() {
        let Some(l) = &arm.lost_to_follow_up else {
            continue;
        };
        let rows: Vec<usize> = (0..table.len())
            .filter(|&i| table.arm[i] as usize == a)
            .collect();
        // The share lost by month M, averaged over the arm's known levels when it differs.
        let by_month = match (
            &l.by,
            l.by.as_ref().and_then(|b| table.covariates.get(b.variable)),
        ) {
            (Some(_), Some(CovariateColumn::Categorical(codes))) => {
                let known: Vec<u32> = rows
                    .iter()
                    .filter_map(|&i| codes.get(i).copied())
                    .filter(|&c| c != MISSING_CODE)
                    .collect();
                (!known.is_empty()).then(|| {
                    known
                        .iter()
                        .map(|&c| l.share_at(Some(c as usize)))
                        .sum::<f64>()
                        / known.len() as f64
                })
            }
            (Some(_), _) => None,
            (None, _) => Some(l.share),
        };
        for &o in &analysed {
            let Some(outcome) = model.outcomes.get(o) else {
                continue;
            };
            // A wage is missing for everyone out of work, lost or not.
            if matches!(outcome.measure, Measure::Wage { .. }) {
                continue;
            }
            let month = outcome
                .measure
                .read_month()
                .unwrap_or(model.follow_up_months);
            if month == 0 {
                continue;
            }
            let words = format!(
                "arm {}: {} missing (lost to follow-up by month {month})",
                arm.name, outcome.name
            );
            let planned = by_month
                .map(|p| 1.0 - (1.0 - p).powf(f64::from(month) / f64::from(l.by_month.max(1))));
            let why = if l.outcome_factor.is_some() {
                Some("the loss depends on an outcome, so the share missing follows from its values")
            } else if model.delivery.inflow.is_some() {
                Some("with an inflow the months followed differ by participant")
            } else if planned.is_none() {
                Some("the loss differs by a covariate the data do not record")
            } else {
                None
            };
            let planned = planned.unwrap_or(l.share);
            if let Some(why) = why {
                items.push(not_observed("lost_to_follow_up", words, planned, why));
                continue;
            }
            let missing = rows
                .iter()
                .filter(|&&i| {
                    table
                        .outcomes
                        .get(o)
                        .and_then(|v| v.get(i))
                        .is_none_or(|v| v.is_nan())
                })
                .count() as u64;
            items.push(proportion_item(
                "lost_to_follow_up",
                words,
                planned,
                missing,
                rows.len() as u64,
            ));
        }
    }
    items
}

/// The spec with the flows observed in the data, for re-simulating the power the trial really
/// had: arm sizes as observed (a fixed sample), sub-path shares and baseline employment as
/// observed (when the data show them), and each comparator arm's directly declared outcomes at
/// their observed level, with every other arm kept at the *planned* difference from it. The
/// effect stays the planned one: power at the observed effect ("post-hoc power") says nothing the
/// p-value does not. The employment process is recalibrated as in [`observed_model_with`];
/// flows stay as planned (this entry point sees no flow columns).
pub fn observed_model(
    model: &TrialModel,
    table: &ParticipantTable,
    baseline_hours: bool,
) -> TrialModel {
    observed_model_with(
        model,
        table,
        &Observed {
            baseline_hours,
            ..Observed::default()
        },
    )
    .0
}

/// [`observed_model`] with the flows `obs` says were observed, and the employment process
/// recalibrated to the observed comparator level. Returns the model and one note per change
/// beyond sizes, shares, baseline employment and direct outcomes.
///
/// - **Flows** with a data column take their observed share: dropout, and exemption and
///   crossover (among those who did not drop out, when dropout is recorded; else the whole-arm
///   share divided by 1 − dropout); non-work exit becomes `within H months: observed share`,
///   H the months followed (also added to an arm that did not declare it). A dropout, exemption
///   or crossover seen in an arm that does not declare it cannot be added (the spec does not say
///   whose process dropouts follow, how long exemptions last, or where crossovers go): a note
///   says so.
/// - **Employment process.** The design's effect is a multiplier of the monthly job-start hazard:
///   every path's rate is calibrated to a hazard, and a treatment path at 25 % against a control
///   at 12 % is the control's hazard times a ratio. "The power the trial really had" keeps that
///   planned ratio and puts the background level where the data put it: one common factor t
///   multiplies every path's hazard (in every arm, so dropouts and crossovers follow the same
///   rescaled processes), with t chosen so that the primary comparator's expected value of the
///   outcome measuring its rate (else the first analysis' first outcome) equals its observed
///   share, given all the observed flows above. Paths at 0 % stay at 0 %. A hazard ratio is used
///   rather than a difference of proportions because arms state rates over different windows
///   (`work within 12 months` against `within 18 months`), where a difference is undefined, and
///   because a weaker labour market lowers everyone's chances in proportion.
pub fn observed_model_with(
    model: &TrialModel,
    table: &ParticipantTable,
    obs: &Observed<'_>,
) -> (TrialModel, Vec<String>) {
    use crate::model::DirectValue;
    let baseline_hours = obs.baseline_hours;
    let mut notes = Vec::new();
    // The arm sizes the trial really had are data: the re-simulation keeps them fixed rather
    // than drawing them again by the assignment rule.
    let mut m = crate::sim::assignment::with_fixed_sizes(model);
    let n_arm = |a: usize| table.arm.iter().filter(|&&x| x as usize == a).count();
    m.sample = Some((0..model.arms.len()).map(|a| n_arm(a) as u32).collect());
    let h = horizon(model);
    for (a, arm) in m.arms.iter_mut().enumerate() {
        let in_arm = |i: usize| table.arm[i] as usize == a;
        if arm.paths.len() > 1 {
            let known: Vec<usize> = (0..table.len())
                .filter(|&i| in_arm(i) && table.path[i] != MISSING_CODE)
                .collect();
            if !known.is_empty() {
                for (p, path) in arm.paths.iter_mut().enumerate() {
                    let x = known
                        .iter()
                        .filter(|&&i| table.path[i] as usize == p)
                        .count();
                    path.share = x as f64 / known.len() as f64;
                    // The observed overall share replaces the planned shares by level.
                    path.share_by = None;
                }
            }
        }
        if baseline_hours {
            let n = n_arm(a);
            if n > 0 {
                let x = (0..table.len())
                    .filter(|&i| in_arm(i) && table.flags[i] & flags::EMPLOYED_AT_BASELINE != 0)
                    .count();
                arm.baseline_employment = x as f64 / n as f64;
            }
        }
        // Flows.
        let share = |flow: Flow| {
            observed_flow(table, obs, a, flow)
                .and_then(|(x, n)| (n > 0).then(|| x as f64 / n as f64))
        };
        let dropout_seen = obs.flow_bits & flags::DROPOUT != 0;
        if let Some(d) = share(Flow::Dropout) {
            match &mut arm.dropout {
                Some(dropout) => dropout.share = d,
                None if d > 0.0 => notes.push(format!(
                    "arm {}: {:.1}% dropped out, but the spec declares no dropout (whose process they follow is unknown); not simulated",
                    arm.name,
                    100.0 * d
                )),
                None => {}
            }
        }
        let dropout_share = arm.dropout.as_ref().map_or(0.0, |d| d.share);
        let conditional = |x: f64| {
            if dropout_seen || dropout_share >= 1.0 {
                x
            } else {
                (x / (1.0 - dropout_share)).min(1.0)
            }
        };
        if let Some(e) = share(Flow::Exemption) {
            match &mut arm.exemption {
                Some(ex) => ex.share = conditional(e),
                None if e > 0.0 => notes.push(format!(
                    "arm {}: {:.1}% exempted, but the spec declares no exemption (its length is unknown); not simulated",
                    arm.name,
                    100.0 * e
                )),
                None => {}
            }
        }
        if let Some(c) = share(Flow::Crossover) {
            match &mut arm.crossover {
                Some(x) => x.share = conditional(c),
                None if c > 0.0 => notes.push(format!(
                    "arm {}: {:.1}% crossed over, but the spec declares no crossover (its target is unknown); not simulated",
                    arm.name,
                    100.0 * c
                )),
                None => {}
            }
        }
        if let Some(x) = share(Flow::NonWorkExit)
            && (x > 0.0 || arm.non_work_exit.is_some())
        {
            arm.non_work_exit = Some(crate::model::EventRate {
                probability: x,
                months: h,
            });
        }
    }
    // Comparators: the control arm of every analysis.
    let mut comparators: Vec<usize> = model.analyses.iter().map(|a| a.control).collect();
    comparators.sort_unstable();
    comparators.dedup();
    let observed_mean = |o: usize, a: usize| {
        let (mut s, mut n) = (0.0, 0u64);
        for (i, v) in table.outcomes.get(o).into_iter().flatten().enumerate() {
            if table.arm[i] as usize == a && !v.is_nan() {
                s += v;
                n += 1;
            }
        }
        (n > 0).then(|| s / n as f64)
    };
    let planned_mean = |d: &DirectValue| match d {
        DirectValue::Binary { probability } => Some(*probability),
        DirectValue::Continuous { distribution } => distribution_mean(distribution),
    };
    for &c in &comparators {
        let Some(control) = model.arms.get(c) else {
            continue;
        };
        for d in &control.direct_outcomes {
            let (Some(obs), Some(plan_c)) = (observed_mean(d.outcome, c), planned_mean(&d.value))
            else {
                continue;
            };
            let shift = obs - plan_c;
            for (a, arm) in m.arms.iter_mut().enumerate() {
                if a != c && comparators.contains(&a) {
                    continue;
                }
                for od in arm
                    .direct_outcomes
                    .iter_mut()
                    .filter(|od| od.outcome == d.outcome)
                {
                    shift_value(&mut od.value, shift);
                }
            }
        }
    }
    if let Some(note) = recalibrate_hazards(model, table, obs, &mut m) {
        notes.push(note);
    }
    (m, notes)
}

/// Scales the monthly job-start hazard of `rate` by `t`, given the path's delay, the job loss and
/// the arm's baseline employment; returns the new rate's probability (and per-level ones).
fn scale_rate(rate: &mut WorkRate, t: f64, delay: u32, job_loss: f64, baseline: f64) -> bool {
    let scale = |p: f64| -> Option<f64> {
        if p <= 0.0 || p >= 1.0 {
            return Some(p);
        }
        match rate.meaning {
            // h = 1 − (1 − p)^(1/(m − d)): scaling −ln(1 − h) by t gives 1 − (1 − p)^t.
            RateMeaning::FoundWithin => Some(1.0 - (1.0 - p).powf(t)),
            RateMeaning::EmployedAt => {
                let h = crate::sim::calibrate(rate, p, delay, job_loss, baseline).ok()?;
                let h2 = 1.0 - (1.0 - h).powf(t);
                Some(crate::sim::employed_at_prob(
                    h2,
                    job_loss,
                    baseline,
                    delay,
                    rate.months,
                ))
            }
        }
    };
    let Some(p) = scale(rate.probability) else {
        return false;
    };
    let mut by = rate.by.clone();
    if let Some(b) = &mut by {
        for q in b.probabilities.iter_mut().flatten() {
            match scale(*q) {
                Some(x) => *q = x,
                None => return false,
            }
        }
    }
    rate.probability = p;
    rate.by = by;
    true
}

/// `model` with every path's hazard multiplied by `t`, or `None` when a rate cannot be scaled.
fn scaled(model: &TrialModel, t: f64) -> Option<TrialModel> {
    let mut m = model.clone();
    let loss = m.employment.job_loss_per_month;
    for arm in &mut m.arms {
        let b = arm.baseline_employment;
        for p in &mut arm.paths {
            if !scale_rate(&mut p.work, t, p.delay_months, loss, b) {
                return None;
            }
        }
    }
    Some(m)
}

/// Sets the common hazard factor of [`observed_model_with`] on `m` (already carrying the observed
/// flows); returns a note saying what was matched, or `None` when nothing could be.
fn recalibrate_hazards(
    model: &TrialModel,
    table: &ParticipantTable,
    obs: &Observed<'_>,
    m: &mut TrialModel,
) -> Option<String> {
    let first = model.primary_analysis()?;
    let c = first.control;
    let control = model.arms.get(c)?;
    if !control.direct_outcomes.is_empty() || control.paths.is_empty() {
        return None;
    }
    let rate = &control.paths[0].work;
    let same_rate = control
        .paths
        .iter()
        .all(|p| p.work.months == rate.months && p.work.meaning == rate.meaning);
    // What the comparator's level is matched on: the outcome measuring its rate, else that rate
    // measured from monthly hours (added to the model as an extra outcome for the exact
    // expectation), else the first analysis' first binary employment outcome.
    let mut base = m.clone();
    let from_outcome = |o: usize| (table.outcomes.get(o).map(Vec::as_slice), o);
    let (values, o) = match same_rate.then(|| model.outcome_for_rate(rate)).flatten() {
        Some(o) => from_outcome(o),
        None => {
            let measure = rate.measure();
            match obs.rate_measures.iter().find(|(x, _)| *x == measure) {
                Some((_, v)) if same_rate => {
                    base.outcomes.push(crate::model::Outcome {
                        name: match rate.meaning {
                            RateMeaning::FoundWithin => {
                                format!("work within {} months", rate.months)
                            }
                            RateMeaning::EmployedAt => format!("employed at month {}", rate.months),
                        },
                        measure,
                    });
                    (Some(v.as_slice()), base.outcomes.len() - 1)
                }
                _ => from_outcome(first.outcomes.iter().copied().find(|&o| {
                    model.outcomes.get(o).is_some_and(|out| {
                        out.is_binary()
                            && !matches!(
                                out.measure,
                                Measure::DirectBinary | Measure::DirectContinuous
                            )
                    })
                })?),
            }
        }
    };
    let what = base.outcomes.get(o)?.name.clone();
    let (x, n) = count_binary(values?, |i| table.arm[i] as usize == c);
    if n == 0 {
        return None;
    }
    let target = x as f64 / n as f64;
    let expected = |t: f64| -> Option<f64> {
        let mt = scaled(&base, t)?;
        let sim = crate::sim::Simulator::new(&mt, crate::sim::SimOptions::default()).ok()?;
        sim.expected(c, o, None).map(|e| e.mean)
    };
    let at_one = expected(1.0)?;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    if at_one < target {
        // Grow until the comparator reaches the target (or the hazards cannot grow further).
        lo = 1.0;
        hi = 2.0;
        loop {
            match expected(hi) {
                Some(v) if v < target && hi < 1e4 => {
                    lo = hi;
                    hi *= 2.0;
                }
                Some(_) => break,
                None => return None,
            }
        }
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        match expected(mid) {
            Some(v) if v < target => lo = mid,
            Some(_) => hi = mid,
            None => return None,
        }
    }
    let t = 0.5 * (lo + hi);
    let reached = expected(t)?;
    *m = scaled(m, t)?;
    Some(format!(
        "job-start hazards of every path × {t:.3}, so that arm {}'s expected {what} is {:.1}% as observed ({x} of {n}; {:.1}% under the planned rates and observed flows); planned hazard ratios between arms kept",
        control.name,
        100.0 * reached,
        100.0 * at_one
    ))
}

/// Moves a directly declared outcome's mean by `shift` (probabilities clamped to [0, 1]).
fn shift_value(v: &mut crate::model::DirectValue, shift: f64) {
    use crate::model::DirectValue;
    match v {
        DirectValue::Binary { probability } => {
            *probability = (*probability + shift).clamp(0.0, 1.0)
        }
        DirectValue::Continuous { distribution } => match distribution {
            Distribution::Normal { mean, .. } => *mean += shift,
            Distribution::Uniform { low, high } => {
                *low += shift;
                *high += shift;
            }
            Distribution::Fixed { value } => *value += shift,
            Distribution::LogNormal { median, sigma } => {
                // Scale so that the mean moves by `shift` (the mean is median·e^{σ²/2}).
                let mean = *median * (*sigma * *sigma / 2.0).exp();
                if mean > 0.0 && mean + shift > 0.0 {
                    *median *= (mean + shift) / mean;
                }
            }
            Distribution::Categorical { .. } | Distribution::Binned { .. } => {}
        },
    }
}

/// The power the trial really had: the plan re-simulated on [`observed_model`] with `replicates`
/// seeded replicates. JSON: per analysis `analysis`, `power` (of its first contrast), `mc_se`,
/// `any_power` (at least one contrast of the family rejects), plus `seed`, `replicates` and a
/// `note` saying what was observed and what was planned.
pub fn realised_power(
    model: &TrialModel,
    table: &ParticipantTable,
    baseline_hours: bool,
    seed: u64,
    replicates: u64,
) -> Result<serde_json::Value, crate::sim::SimError> {
    realised_power_with(
        model,
        table,
        &Observed {
            baseline_hours,
            ..Observed::default()
        },
        seed,
        replicates,
        &|_| {},
    )
}

/// [`realised_power`] on [`observed_model_with`]: observed flows and the recalibrated employment
/// process too; the note lists those changes after the usual text. `progress` gets the number
/// of replicates done, as in [`crate::power::run_power`].
pub fn realised_power_with(
    model: &TrialModel,
    table: &ParticipantTable,
    obs: &Observed<'_>,
    seed: u64,
    replicates: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<serde_json::Value, crate::sim::SimError> {
    let (observed, changes) = observed_model_with(model, table, obs);
    let settings = crate::power::PowerSettings {
        seed,
        replicates,
        n_per_arm: None,
        scenario: 0,
    };
    let report = crate::power::run_power(&observed, &settings, progress)?;
    let mut note = "observed arm sizes, sub-path shares, baseline employment and comparator levels; planned effects".to_owned();
    if obs.flow_bits != 0 {
        note.push_str("; observed flows");
    }
    for c in &changes {
        note.push_str("; ");
        note.push_str(c);
    }
    Ok(serde_json::Value::Array(
        report
            .analyses
            .iter()
            .map(|a| {
                serde_json::json!({
                    "analysis": a.name,
                    "power": a.power,
                    "mc_se": a.mc_se,
                    "any_power": a.any_power,
                    "seed": seed,
                    "replicates": replicates,
                    "note": note,
                })
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: statsmodels 0.14 `proportion_confint(x, n, method="wilson")`.
    #[test]
    fn wilson_matches_statsmodels() {
        let (lo, hi) = wilson(140, 185);
        assert!((lo - 0.6901187839717682).abs() < 1e-12, "{lo}");
        assert!((hi - 0.8129487129289148).abs() < 1e-12, "{hi}");
        let (lo, hi) = wilson(11, 11);
        assert!((lo - 0.7411670330319682).abs() < 1e-12, "{lo}");
        assert_eq!(hi, 1.0);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (lo, _) = wilson(0, 10);
        assert_eq!(lo, 0.0);
    }

    use crate::model::{Dropout, EventRate, Exemption, ProcessRef};
    use crate::sim::fixtures::{CONTROL, EXPERIMENT, almere_plan};

    /// Ten experiment and ten control participants; outcome 0 (`work_12m`) is 1 for the first
    /// `control_work` control participants, other outcomes 0.
    fn table(flags_of: impl Fn(usize) -> u8, control_work: usize) -> ParticipantTable {
        let model = almere_plan();
        let arm: Vec<u32> = (0..20).map(|i| if i < 10 { 0 } else { 1 }).collect();
        ParticipantTable {
            id: (1..=20).collect(),
            arm,
            path: (0..20).map(|i| if i < 10 { 1 } else { 0 }).collect(),
            flags: (0..20).map(flags_of).collect(),
            covariates: Vec::new(),
            outcomes: (0..model.outcomes.len())
                .map(|o| {
                    (0..20)
                        .map(|i| f64::from(u8::from(o == 0 && i >= 10 && i < 10 + control_work)))
                        .collect()
                })
                .collect(),
            ..ParticipantTable::default()
        }
    }

    fn with_flows() -> TrialModel {
        let mut m = almere_plan();
        m.arms[EXPERIMENT].dropout = Some(Dropout {
            share: 0.10,
            follows: ProcessRef {
                arm: CONTROL,
                path: None,
            },
        });
        m.arms[EXPERIMENT].exemption = Some(Exemption {
            share: 0.20,
            max_months: 6,
        });
        m.arms[CONTROL].non_work_exit = Some(EventRate {
            probability: 0.10,
            months: 12,
        });
        m
    }

    fn flow_flags(i: usize) -> u8 {
        match i {
            0 | 1 => flags::DROPOUT,
            2 | 3 => flags::EXEMPT,
            5 => flags::CROSSOVER,
            10..=13 => flags::NON_WORK_EXIT,
            _ => 0,
        }
    }

    fn find<'a>(items: &'a [AuditItem], assumption: &str) -> &'a AuditItem {
        items
            .iter()
            .find(|i| i.assumption == assumption)
            .unwrap_or_else(|| panic!("no audit item `{assumption}`"))
    }

    // Wilson bounds: the score-interval formula evaluated in Python (z = 1.959963984540054),
    // e.g. (4, 10) -> (0.16818032970623614, 0.6873262302663417).
    #[test]
    fn flows_are_audited_over_the_engine_denominators() {
        let model = with_flows();
        let t = table(flow_flags, 0);
        let mut unknown = vec![0u8; 20];
        unknown[4] = flags::EXEMPT;
        let obs = Observed {
            baseline_hours: false,
            flow_bits: flags::DROPOUT | flags::EXEMPT | flags::CROSSOVER | flags::NON_WORK_EXIT,
            flow_unknown: &unknown,
            rate_measures: &[],
        };
        let items = audit_with(&model, &t, &obs);

        let d = find(&items, "arm experiment: dropout");
        assert_eq!((d.planned, d.observed, d.n), (0.10, Some(0.2), 10));
        assert_eq!(d.status, AuditStatus::Consistent);
        // Exemption among the 8 who did not drop out, one of them unknown: 2 of 7.
        let e = find(&items, "arm experiment: exemption");
        assert_eq!((e.planned, e.n), (0.20, 7));
        let (lo, hi) = e.ci.expect("interval");
        assert!(
            (lo - 0.08221892400405678).abs() < 1e-12 && (hi - 0.6410655481673808).abs() < 1e-12
        );
        // Crossover is not declared in the experiment arm: planned 0 %, one case contradicts it.
        let c = find(&items, "arm experiment: crossover");
        assert_eq!((c.planned, c.observed, c.n), (0.0, Some(0.125), 8));
        assert_eq!(c.status, AuditStatus::Contradicted);
        // Non-work exit: 10 % within 12 months is 1 − 0.9^(18/12) within the 18 months followed.
        let x = find(&items, "arm control: non work exit");
        assert!(
            (x.planned - 0.14618503175453756).abs() < 1e-12,
            "{}",
            x.planned
        );
        assert_eq!((x.observed, x.n), (Some(0.4), 10));
        assert_eq!(x.status, AuditStatus::Contradicted);
        let x = find(&items, "arm experiment: non work exit");
        assert_eq!(
            (x.planned, x.observed, x.status),
            (0.0, Some(0.0), AuditStatus::Consistent)
        );
        // The old entry point sees no flow columns: declared flows are "not observed".
        let old = audit(&model, &t, false);
        assert_eq!(
            find(&old, "arm experiment: dropout").status,
            AuditStatus::NotObserved
        );
        assert!(
            !old.iter()
                .any(|i| i.assumption == "arm experiment: crossover")
        );
    }

    #[test]
    fn without_a_dropout_column_exemption_is_a_share_of_the_whole_arm() {
        let model = with_flows();
        let t = table(flow_flags, 0);
        let obs = Observed {
            baseline_hours: false,
            flow_bits: flags::EXEMPT,
            flow_unknown: &[],
            rate_measures: &[],
        };
        let items = audit_with(&model, &t, &obs);
        let e = find(&items, "arm experiment: exemption");
        assert!((e.planned - 0.18).abs() < 1e-15);
        assert_eq!((e.observed, e.n), (Some(0.2), 10));
        assert_eq!(
            find(&items, "arm experiment: dropout").status,
            AuditStatus::NotObserved
        );
    }

    #[test]
    fn observed_model_takes_the_observed_flows() {
        let model = with_flows();
        let t = table(flow_flags, 2);
        let obs = Observed {
            baseline_hours: false,
            flow_bits: flags::DROPOUT | flags::EXEMPT | flags::CROSSOVER | flags::NON_WORK_EXIT,
            flow_unknown: &[],
            rate_measures: &[],
        };
        let (m, notes) = observed_model_with(&model, &t, &obs);
        let exp = &m.arms[EXPERIMENT];
        assert_eq!(exp.dropout.as_ref().map(|d| d.share), Some(0.2));
        assert_eq!(exp.exemption.as_ref().map(|e| e.share), Some(0.25));
        assert_eq!(exp.exemption.as_ref().map(|e| e.max_months), Some(6));
        // No exit observed in the experiment arm, none declared: stays undeclared.
        assert!(exp.non_work_exit.is_none());
        assert_eq!(
            m.arms[CONTROL].non_work_exit,
            Some(EventRate {
                probability: 0.4,
                months: 18
            })
        );
        assert!(
            notes.iter().any(|n| n.contains("crossed over")),
            "{notes:?}"
        );
        // The control arm's expected work_12m now equals the observed 2 of 10, with the observed
        // exits competing.
        let sim =
            crate::sim::Simulator::new(&m, crate::sim::SimOptions::default()).expect("simulates");
        let e = sim.expected(CONTROL, 0, None).expect("exact").mean;
        assert!((e - 0.2).abs() < 1e-9, "{e}");
        assert!(
            notes.iter().any(|n| n.contains("hazards of every path")),
            "{notes:?}"
        );
    }

    // With no flows, no baseline employment and no job loss, the control arm's expected
    // "worked within 12 months" is its path rate itself, so the recalibrated rate must be the
    // observed share, and every other path's hazard is scaled by the same factor
    // t = ln(1 − 0.2) / ln(1 − 0.1167): 25 % → 1 − 0.75^t, 10 % → 1 − 0.9^t (computed in Python:
    // t = 1.79823401223815, 0.4038838136609748, 0.17259655622829118).
    #[test]
    fn observed_model_recalibrates_the_comparator_and_keeps_hazard_ratios() {
        let model = almere_plan();
        let t = table(|_| 0, 2);
        let m = observed_model(&model, &t, false);
        let rate = |a: usize, p: usize| m.arms[a].paths[p].work.probability;
        assert!(
            (rate(CONTROL, 0) - 0.2).abs() < 1e-9,
            "{}",
            rate(CONTROL, 0)
        );
        assert!((rate(EXPERIMENT, 1) - 0.4038838136609748).abs() < 1e-9);
        assert!((rate(EXPERIMENT, 0) - 0.17259655622829118).abs() < 1e-9);
        assert_eq!(m.sample, Some(vec![10, 10]));
        // Path shares as observed: everyone in the experiment arm on `guided`.
        assert_eq!(m.arms[EXPERIMENT].paths[1].share, 1.0);
    }

    // The planned value of a rate is the share the spec implies for the whole arm: with 5 %
    // employed at intake (a job held at intake counts as work within 12 months, and jobs last),
    // control's 11.67 % becomes 0.05 + 0.95 × 0.1167 = 0.160865 (by hand).
    #[test]
    fn rate_audit_plans_the_share_the_spec_implies() {
        let mut model = almere_plan();
        model.arms[CONTROL].baseline_employment = 0.05;
        let t = table(|_| 0, 3);
        let items = audit(&model, &t, false);
        let r = find(&items, "arm control: work within 12 months");
        assert!((r.planned - 0.160865).abs() < 1e-9, "{}", r.planned);
        assert_eq!((r.observed, r.n), (Some(0.3), 10));
        // Rates no outcome measures are measured from hours when the loader computed them.
        let mut model = almere_plan();
        model.outcomes.remove(0);
        model.analyses.truncate(0);
        let mut t = table(|_| 0, 0);
        t.outcomes.remove(0);
        let values: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i == 10))).collect();
        let measures = [(
            Measure::WorkedWithin {
                within: 12,
                min_hours: 1.0,
            },
            values,
        )];
        let obs = Observed {
            rate_measures: &measures,
            ..Observed::default()
        };
        let items = audit_with(&model, &t, &obs);
        let r = find(&items, "arm control: work within 12 months");
        assert!((r.planned - 0.1167).abs() < 1e-9, "{}", r.planned);
        assert_eq!((r.observed, r.n), (Some(0.1), 10));
        assert!(
            r.note
                .as_deref()
                .is_some_and(|n| n.contains("monthly hours"))
        );
    }

    #[test]
    fn verdict_flags_only_values_outside_the_interval() {
        assert_eq!(verdict(0.5, (0.4, 0.6)), AuditStatus::Consistent);
        assert_eq!(verdict(0.39, (0.4, 0.6)), AuditStatus::Contradicted);
        assert_eq!(verdict(1.0, (0.74, 1.0)), AuditStatus::Consistent);
    }
}
