//! The assumption audit: every design assumption of the spec set against the data, with a 95 %
//! interval and a flag where the data contradict it.
//!
//! Proportions get a Wilson score interval; means a normal-approximation interval
//! (mean ± 1.96·sd/√n). An assumption is *contradicted* when the planned value lies outside the
//! observed interval. Some assumptions cannot be observed in a participant table (dropout and
//! crossover have no column in the mapping yet); they are listed as `not observed`, never skipped.

use serde::Serialize;

use crate::model::{
    AssignmentRule, Distribution, Measure, RateMeaning, TrialModel, Unit, WorkRate,
};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable, flags};

/// 97.5 % standard-normal quantile.
const Z975: f64 = 1.959_963_984_540_054;

/// One assumption set against the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditItem {
    /// What kind of assumption: `allocation`, `sample`, `rate`, `path_share`,
    /// `baseline_employment`, `outcome`, `covariate`, `dropout`, `crossover`, `exemption`,
    /// `non_work_exit`.
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
        Distribution::Categorical { .. } => None,
    }
}

fn rate_words(rate: &WorkRate) -> String {
    match rate.meaning {
        RateMeaning::FoundWithin => format!("work within {} months", rate.months),
        RateMeaning::EmployedAt => format!("employed at month {}", rate.months),
    }
}

/// The outcome that measures a work rate (lowest hours threshold first).
fn outcome_for_rate(model: &TrialModel, rate: &WorkRate) -> Option<usize> {
    model
        .outcomes
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

/// Sets every assumption of `model` against `table`. `baseline_hours` says whether the table's
/// baseline-employment flags were observed (month-0 hours in the data).
pub fn audit(model: &TrialModel, table: &ParticipantTable, baseline_hours: bool) -> Vec<AuditItem> {
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

    for (a, arm) in model.arms.iter().enumerate() {
        let in_arm = |i: usize| table.arm[i] as usize == a;
        // Work rates: the arm's nominal rate (shares × path rates), then each path.
        if let Some(first) = arm.paths.first()
            && arm
                .paths
                .iter()
                .all(|p| p.work.months == first.work.months && p.work.meaning == first.work.meaning)
            && arm.direct_outcomes.is_empty()
        {
            let words = rate_words(&first.work);
            let planned: f64 = arm.paths.iter().map(|p| p.share * p.work.probability).sum();
            match outcome_for_rate(model, &first.work) {
                Some(o) => {
                    let (x, n) = count_binary(&table.outcomes[o], in_arm);
                    let mut item = proportion_item(
                        "rate",
                        format!("arm {}: {words}", arm.name),
                        planned,
                        x,
                        n,
                    );
                    let mut notes = Vec::new();
                    if arm.paths.iter().any(|p| p.work.by.is_some()) {
                        notes.push(
                            "rate varies by covariate level; the default rate is shown".to_owned(),
                        );
                    }
                    if arm.dropout.is_some()
                        || arm.crossover.is_some()
                        || arm.non_work_exit.is_some()
                    {
                        notes.push(
                            "planned value ignores dropout, crossover and non-work exits"
                                .to_owned(),
                        );
                    }
                    notes.push(format!("measured by outcome {}", model.outcomes[o].name));
                    item.note = Some(notes.join("; "));
                    items.push(item);
                    if arm.paths.len() > 1 {
                        for (p, path) in arm.paths.iter().enumerate() {
                            let (x, n) = count_binary(&table.outcomes[o], |i| {
                                in_arm(i) && table.path[i] as usize == p
                            });
                            items.push(proportion_item(
                                "rate",
                                format!(
                                    "arm {} path {}: {}",
                                    arm.name,
                                    path.name,
                                    rate_words(&path.work)
                                ),
                                path.work.probability,
                                x,
                                n,
                            ));
                        }
                    }
                }
                None => items.push(not_observed(
                    "rate",
                    format!("arm {}: {words}", arm.name),
                    planned,
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
        // Flows without a column in the data.
        let flows = [
            ("dropout", arm.dropout.as_ref().map(|d| d.share)),
            ("crossover", arm.crossover.as_ref().map(|c| c.share)),
            ("exemption", arm.exemption.as_ref().map(|e| e.share)),
            (
                "non_work_exit",
                arm.non_work_exit.as_ref().map(|e| e.probability),
            ),
        ];
        for (kind, planned) in flows {
            if let Some(planned) = planned {
                items.push(not_observed(
                    kind,
                    format!("arm {}: {}", arm.name, kind.replace('_', " ")),
                    planned,
                    "the data mapping has no column for it",
                ));
            }
        }
    }

    // Covariate distributions (as they are in the randomised sample).
    for (v, var) in model.population.variables.iter().enumerate() {
        let Some(column) = table.covariates.get(v) else {
            continue;
        };
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
    items
}

/// The spec with the flows observed in the data, for re-simulating the power the trial really
/// had: arm sizes as observed (a fixed sample), sub-path shares and baseline employment as
/// observed (when the data show them), and each comparator arm's directly declared outcomes at
/// their observed level, with every other arm kept at the *planned* difference from it. The
/// effect stays the planned one: power at the observed effect ("post-hoc power") says nothing the
/// p-value does not.
pub fn observed_model(
    model: &TrialModel,
    table: &ParticipantTable,
    baseline_hours: bool,
) -> TrialModel {
    use crate::model::DirectValue;
    let mut m = model.clone();
    let n_arm = |a: usize| table.arm.iter().filter(|&&x| x as usize == a).count();
    m.sample = Some((0..model.arms.len()).map(|a| n_arm(a) as u32).collect());
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
    m
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
            Distribution::Categorical { .. } => {}
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
    let observed = observed_model(model, table, baseline_hours);
    let settings = crate::power::PowerSettings {
        seed,
        replicates,
        n_per_arm: None,
        scenario: 0,
    };
    let report = crate::power::run_power(&observed, &settings, &|_| {})?;
    let note = "observed arm sizes, sub-path shares, baseline employment and comparator levels; planned effects";
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

    #[test]
    fn verdict_flags_only_values_outside_the_interval() {
        assert_eq!(verdict(0.5, (0.4, 0.6)), AuditStatus::Consistent);
        assert_eq!(verdict(0.39, (0.4, 0.6)), AuditStatus::Contradicted);
        assert_eq!(verdict(1.0, (0.74, 1.0)), AuditStatus::Consistent);
    }
}
