//! The complier effect (CACE, LATE) of a contrast, `estimate complier_effect`: the effect of
//! receiving the programme among those who receive it because they were assigned to it, with
//! the assigned arm as the instrument for receipt.
//!
//! Two-stage least squares, as estimatr `iv_robust(y ~ d + x | z + x)` computes it: for the
//! participants of the two arms (and the subgroup level) with the outcome, the receipt and every
//! covariate known, the first stage regresses receipt `d` on an intercept, the assignment `z`
//! (1 in the treatment arm) and the covariates of `adjust for` (a numeric one as it is, a
//! categorical one as indicators of every level but the first); the second regresses the
//! outcome on an intercept, the fitted receipt and the covariates. Its HC2 standard error uses
//! the structural residuals `y − Xβ` (the actual receipt in X) and the leverages of the fitted
//! design, with `n − k` degrees of freedom. Without covariates the estimate is the Wald ratio
//! (difference in outcomes over difference in receipt). Under `test cr2` both stages have CR2
//! cluster-robust errors with Bell–McCaffrey degrees of freedom instead (estimatr
//! `iv_robust(..., clusters = )`).
//!
//! The first stage is reported with its robust F statistic (the squared robust t of `z`): below
//! [`WEAK_F`] the instrument is flagged as weak, and where receipt does not differ between the
//! arms the effect is undefined and flagged, never a silent NaN.

use serde::Serialize;

use super::adjusted::term_value;
use crate::model::{Analysis, TestKind, TrialModel, VarId};
use crate::stats::regression::Ols;
use crate::table::{CovariateColumn, ParticipantTable, flags};

/// A first-stage F below this flags a weak instrument (Staiger and Stock's rule of thumb).
pub const WEAK_F: f64 = 10.0;

/// The complier effect of one contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplierEffect {
    /// The two-stage least-squares estimate.
    pub estimate: f64,
    /// Its HC2 standard error (CR2 under `test cr2`).
    pub se: f64,
    /// Degrees of freedom of the t reference (`n − k`; Bell–McCaffrey under CR2).
    pub df: f64,
    /// The t test's p-value in the analysis' direction.
    pub p_value: f64,
    /// 95 % interval.
    pub ci: (f64, f64),
    /// Participants in the regressions.
    pub n: u64,
    /// The first stage: the (adjusted) difference in the share receiving the programme,
    /// treatment − control.
    pub first_stage: f64,
    /// Its robust F statistic (the squared HC2 or CR2 t).
    pub first_stage_f: f64,
    /// Whether the F statistic is below [`WEAK_F`].
    pub weak: bool,
    /// The covariates in both stages.
    pub covariates: Vec<String>,
    /// Why the effect is undefined or to be read with care, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Participants with the outcome left out for an unknown receipt.
    pub receipt_unknown: u64,
    /// Participants with the outcome and receipt left out for a missing covariate.
    pub covariate_missing: u64,
}

/// Per-thread buffers.
#[derive(Default)]
pub struct ComplierScratch {
    ols: Ols,
    rows: Vec<usize>,
    y: Vec<f64>,
    d: Vec<f64>,
    fitted: Vec<f64>,
    clusters: Vec<u32>,
    terms: Vec<(VarId, u32)>,
}

/// The complier effect of every contrast of `analysis` (outcome-major, then subgroup level, as
/// the plan orders them), for the participants whose receipt `known` admits. `None` for a
/// contrast with nobody in an arm.
pub fn complier_effects(
    model: &TrialModel,
    analysis: &Analysis,
    table: &ParticipantTable,
    known: &dyn Fn(usize) -> bool,
    level: f64,
    scratch: &mut ComplierScratch,
) -> Vec<Option<ComplierEffect>> {
    let codes = analysis.within.and_then(|v| match table.covariates.get(v) {
        Some(CovariateColumn::Categorical(c)) => Some(c.as_slice()),
        _ => None,
    });
    let levels: Vec<Option<u32>> = match analysis.within {
        None => vec![None],
        Some(_) => analysis.levels.iter().map(|&l| Some(l as u32)).collect(),
    };
    let covariates: &[VarId] = analysis.adjust.as_ref().map_or(&[], |a| &a.covariates);
    scratch.terms.clear();
    for &var in covariates {
        match model.population.variables.get(var).and_then(|v| v.levels()) {
            Some(l) => scratch
                .terms
                .extend((1..l.len() as u32).map(|level| (var, level))),
            None => scratch.terms.push((var, u32::MAX)),
        }
    }
    let names: Vec<String> = covariates
        .iter()
        .filter_map(|&v| model.population.variables.get(v).map(|x| x.name.clone()))
        .collect();
    let mut out = Vec::with_capacity(analysis.outcomes.len() * levels.len());
    for &o in &analysis.outcomes {
        for &cell in &levels {
            let in_cell =
                |i: usize| cell.is_none() || codes.and_then(|c| c.get(i)).copied() == cell;
            out.push(one(
                analysis, table, o, &in_cell, known, level, &names, scratch,
            ));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn one(
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    in_cell: &dyn Fn(usize) -> bool,
    known: &dyn Fn(usize) -> bool,
    level: f64,
    names: &[String],
    s: &mut ComplierScratch,
) -> Option<ComplierEffect> {
    let values = table.outcomes.get(outcome)?;
    let (treatment, control) = (analysis.treatment as u32, analysis.control as u32);
    s.rows.clear();
    let (mut n_t, mut n_c) = (0u64, 0u64);
    let (mut receipt_unknown, mut covariate_missing) = (0u64, 0u64);
    for (i, (&arm, &y)) in table.arm.iter().zip(values).enumerate() {
        if (arm != treatment && arm != control) || y.is_nan() || !in_cell(i) {
            continue;
        }
        if !known(i) {
            receipt_unknown += 1;
            continue;
        }
        let complete = s
            .terms
            .iter()
            .all(|&(var, level)| term_value(table.covariates.get(var), level, i).is_finite());
        if !complete {
            covariate_missing += 1;
            continue;
        }
        if arm == treatment {
            n_t += 1;
        } else {
            n_c += 1;
        }
        s.rows.push(i);
    }
    if n_t == 0 || n_c == 0 {
        return None;
    }
    let n = s.rows.len();
    let p = 2 + s.terms.len();
    s.y.clear();
    s.d.clear();
    for &i in &s.rows {
        s.y.push(values[i]);
        s.d.push(f64::from(u8::from(table.flags[i] & flags::RECEIVED != 0)));
    }
    // The design: intercept, the regressor of interest (assignment, then fitted receipt), the
    // covariate terms.
    let fill = |ols: &mut Ols, rows: &[usize], terms: &[(VarId, u32)], second: Option<&[f64]>| {
        ols.start(n, p);
        ols.column_mut(0).fill(1.0);
        match second {
            None => {
                for (x, &i) in ols.column_mut(1).iter_mut().zip(rows) {
                    *x = f64::from(u8::from(table.arm[i] == treatment));
                }
            }
            Some(fitted) => ols.column_mut(1).copy_from_slice(fitted),
        }
        for (k, &(var, level)) in terms.iter().enumerate() {
            let column = table.covariates.get(var);
            for (x, &i) in ols.column_mut(2 + k).iter_mut().zip(rows) {
                *x = term_value(column, level, i);
            }
        }
    };
    // Cluster-robust (CR2) errors in both stages when the analysis' test is `cr2`.
    let cr2 = analysis.test == TestKind::Cr2 && table.cluster.len() == table.arm.len();
    s.clusters.clear();
    if cr2 {
        s.clusters.extend(s.rows.iter().map(|&i| table.cluster[i]));
    }
    fill(&mut s.ols, &s.rows, &s.terms, None);
    let first = if cr2 {
        s.ols.fit_cr2(&s.d, 1, &s.clusters)
    } else {
        s.ols.fit_hc2(&s.d, 1)
    };
    let first_stage_f = (first.estimate / first.se).powi(2);
    s.fitted.clear();
    let residuals = s.ols.residuals();
    if residuals.len() == n {
        s.fitted
            .extend(s.d.iter().zip(residuals).map(|(d, e)| d - e));
    } else {
        s.fitted.resize(n, f64::NAN);
    }
    let fitted = std::mem::take(&mut s.fitted);
    fill(&mut s.ols, &s.rows, &s.terms, Some(&fitted));
    let second = if cr2 {
        s.ols.fit_cr2_two_stage(&s.y, 1, &s.d, &s.clusters)
    } else {
        s.ols.fit_hc2_two_stage(&s.y, 1, &s.d)
    };
    s.fitted = fitted;
    let test = second.test(analysis.sides);
    // An undefined F (NaN) is weak too.
    let weak = first_stage_f.is_nan() || first_stage_f < WEAK_F;
    let flag = if !first.estimate.is_finite() || first.estimate.abs() < 1e-12 {
        Some("receipt does not differ between the arms: no complier effect is identified".into())
    } else if !second.estimate.is_finite() || !second.se.is_finite() {
        Some("the second stage is undefined (a covariate explains receipt fully, or a row has leverage 1)".into())
    } else if weak {
        Some(format!(
            "weak instrument: first-stage F {first_stage_f:.1} < {WEAK_F}; the estimate is biased towards the ITT-scaled OLS and its interval unreliable"
        ))
    } else {
        None
    };
    Some(ComplierEffect {
        estimate: second.estimate,
        se: second.se,
        df: second.df,
        p_value: test.p_value,
        ci: second.interval(level),
        n: n as u64,
        first_stage: first.estimate,
        first_stage_f,
        weak,
        covariates: names.to_vec(),
        flag,
        receipt_unknown,
        covariate_missing,
    })
}
