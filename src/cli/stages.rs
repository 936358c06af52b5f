//! The stages a command runs before it renders: each function here computes a result from the
//! checked model (and the data) and hands it, complete, to a pure renderer in [`crate::report`],
//! so that a renderer never needs to know how a result is made.

use serde_json::Value;

use crate::audit::audit_with;
use crate::data::Loaded;
use crate::model::TrialModel;
use crate::report::analysis::{AnalysisReport, DataSummary, Inputs, PlanInfo};
use crate::table::{CovariateColumn, ParticipantTable};

/// Runs the model's analysis plan (the shared [`crate::analysis::run_plan`]), the balance table
/// and the assumption audit on loaded data: everything `analyze` reports but the realised power.
/// `file` is the data file as typed (for the text); `inputs` identifies spec and data by content.
pub fn analysis_report(
    model: &TrialModel,
    file: &str,
    inputs: Inputs,
    loaded: &Loaded,
) -> AnalysisReport {
    let table = &loaded.table;
    let arms = model
        .arms
        .iter()
        .enumerate()
        .map(|(a, arm)| {
            (
                arm.name.clone(),
                table.arm.iter().filter(|&&x| x as usize == a).count() as u64,
            )
        })
        .collect();
    AnalysisReport {
        trial: model.name.clone(),
        inputs,
        data: DataSummary {
            file: file.to_owned(),
            rows: loaded.rows,
            participants: table.len() as u64,
            excluded: loaded.excluded.clone(),
            missing: loaded.missing.clone(),
            delimiter: match loaded.delimiter {
                b'\t' => "tab".to_owned(),
                d => char::from(d).to_string(),
            },
            decimal_comma: loaded.decimal_comma,
            arms,
        },
        plan_info: plan_info(model),
        plan: crate::analysis::run_plan(model, table),
        missing_outcomes: model
            .analyses
            .iter()
            .map(|a| missing_outcomes(a, table))
            .collect(),
        outside_bins: model
            .analyses
            .iter()
            .map(|a| outside_bins(model, a, table))
            .collect(),
        balance: serde_json::to_value(crate::analysis::balance(model, table))
            .unwrap_or(Value::Null),
        lee_bounds: model
            .analyses
            .iter()
            .map(|a| {
                if a.missing == Some(crate::model::MissingHandling::LeeBounds) {
                    lee_bounds(a, table)
                } else {
                    Vec::new()
                }
            })
            .collect(),
        complier_effects: model
            .analyses
            .iter()
            .map(|a| {
                if !a.complier_effect {
                    return Ok(Vec::new());
                }
                let observed = loaded.observed();
                if observed.flow_bits & crate::table::flags::RECEIVED == 0 {
                    return Err("the data mapping has no `received` column; add `received \"column\"` (1 when the participant received the programme, 0 when not) to the data section".to_owned());
                }
                let known = |i: usize| observed.known(i, crate::table::flags::RECEIVED);
                Ok(crate::analysis::complier::complier_effects(
                    model,
                    a,
                    table,
                    &known,
                    crate::analysis::CONFIDENCE,
                    &mut crate::analysis::complier::ComplierScratch::default(),
                ))
            })
            .collect(),
        audit: audit_with(model, table, &loaded.observed()),
        realised_power: Value::Null,
    }
}

/// The participants of `a`'s two arms in none of its bins, when it compares within bins of a
/// numeric covariate and left someone out.
fn outside_bins(
    model: &TrialModel,
    a: &crate::model::Analysis,
    table: &ParticipantTable,
) -> Option<crate::report::analysis::OutsideBins> {
    let v = a.within?;
    let crate::model::Distribution::Binned { source, edges, .. } =
        &model.population.variables.get(v)?.distribution
    else {
        return None;
    };
    let Some(CovariateColumn::Categorical(codes)) = table.covariates.get(v) else {
        return None;
    };
    let mut out = [0u64; 2];
    for (&arm, &code) in table.arm.iter().zip(codes) {
        let side = if arm as usize == a.treatment {
            0
        } else if arm as usize == a.control {
            1
        } else {
            continue;
        };
        out[side] += u64::from(code == crate::table::MISSING_CODE);
    }
    if out == [0, 0] {
        return None;
    }
    Some(crate::report::analysis::OutsideBins {
        variable: model.population.variables.get(*source)?.name.clone(),
        range: crate::model::Distribution::bin_name(*edges.first()?, *edges.last()?),
        treatment: out[0],
        control: out[1],
    })
}

/// The declarations of every analysis of `model`, in plan order.
pub fn plan_info(model: &TrialModel) -> Vec<PlanInfo> {
    model
        .analyses
        .iter()
        .enumerate()
        .map(|(i, a)| PlanInfo {
            primary: model.primary == Some(i),
            per_outcome: a
                .per_outcome
                .iter()
                .map(|&(o, t, s)| {
                    let name = model.outcomes.get(o).map_or("", |o| o.name.as_str());
                    (
                        name.to_owned(),
                        crate::report::words::test(t).to_owned(),
                        crate::report::words::sides_keyword(s).to_owned(),
                    )
                })
                .collect(),
            test: a.test,
            sides: a.sides,
            alpha: a.alpha,
            correction: a.correction,
            binary: a
                .outcomes
                .iter()
                .filter_map(|&o| model.outcomes.get(o))
                .map(|o| (o.name.clone(), o.is_binary()))
                .collect(),
            missing: a.missing_handling().name().to_owned(),
            missing_planned: a.missing.is_some()
                || [a.treatment, a.control].iter().any(|&x| {
                    model
                        .arms
                        .get(x)
                        .is_some_and(|arm| arm.lost_to_follow_up.is_some())
                }),
        })
        .collect()
}

/// Per contrast of `a` (as [`missing_outcomes`]), the Lee bounds of its cell.
fn lee_bounds(
    a: &crate::model::Analysis,
    table: &ParticipantTable,
) -> Vec<Option<crate::stats::lee::LeeBounds>> {
    crate::analysis::contrast_values(a, table)
        .into_iter()
        .map(|[t, c]| crate::stats::lee::lee_bounds(&t, &c, crate::analysis::CONFIDENCE))
        .collect()
}

/// Per contrast of `a` (outcome-major, then subgroup level, as the plan orders them): the
/// participants of the treatment and the control arm in the contrast's cell without a value.
fn missing_outcomes(a: &crate::model::Analysis, table: &ParticipantTable) -> Vec<[u64; 2]> {
    let missing = |v: &[f64]| v.iter().filter(|x| x.is_nan()).count() as u64;
    crate::analysis::contrast_values(a, table)
        .iter()
        .map(|[t, c]| [missing(t), missing(c)])
        .collect()
}
