//! Regression analyses of a contrast: the treatment coefficient of a linear regression of the
//! outcome on a treatment indicator, with or without baseline covariates (`adjust for`), with
//! HC2 robust standard errors (`robust_t`) or CR2 cluster-robust ones (`cr2`).
//!
//! The design matrix, for the participants of the two arms (and the subgroup level) with the
//! outcome and every covariate observed (complete cases):
//! - an intercept and the treatment indicator `T` (1 in the treatment arm);
//! - each covariate's terms: a numeric covariate itself, a categorical one as indicators of
//!   every level but the first (R's treatment contrasts), each centred at its mean over these
//!   participants;
//! - under Lin (2013), the default, also `T ×` every centred term, so that the coefficient of
//!   `T` is the difference of the arms' regression-predicted means at the sample's covariate
//!   means (estimatr `lm_lin`); under ANCOVA the terms enter without interactions (estimatr
//!   `lm_robust(y ~ T + x)`).
//!
//! A binary outcome is regressed as 0/1 (a linear probability model): the coefficient is a
//! risk difference. A term that is constant among these participants (a covariate with one
//! value, a level nobody has) or a linear combination of earlier ones is dropped, as R's `lm`
//! drops it, and the result names it; an arm with nobody in it leaves the effect undefined (NaN,
//! never a rejection).

use serde::Serialize;

use crate::model::{AdjustMethod, Analysis, TestKind, TrialModel, VarId};
use crate::stats::regression::{CoefficientFit, Ols};
use crate::stats::tests::TestOutcome;
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// What a regression analysis of one contrast reports beside the effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionInfo {
    /// `lin`, `ancova`, or `none` (the treatment indicator alone).
    pub method: &'static str,
    /// The covariates adjusted for, in the order written.
    pub covariates: Vec<String>,
    /// `HC2` or `CR2`.
    pub se_type: &'static str,
    /// Participants in the regression (both arms, outcome and covariates observed).
    pub n: u64,
    /// Standard error of the effect.
    pub se: f64,
    /// Degrees of freedom of the t reference (`n − rank` for HC2, Bell–McCaffrey for CR2).
    pub df: f64,
    /// The difference of the arms' means among the same participants, unadjusted.
    pub unadjusted_difference: f64,
    /// Terms dropped as constant or collinear (`age`, `ethnicity=hispanic`, `treatment ×
    /// age`; `treatment` itself when an arm is empty).
    pub dropped: Vec<String>,
    /// Why the standard error is undefined, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// Per-thread buffers.
#[derive(Default)]
pub(super) struct RegressionScratch {
    ols: Ols,
    rows: Vec<usize>,
    y: Vec<f64>,
    clusters: Vec<u32>,
    /// Per term: (covariate index in the adjustment, level or `u32::MAX` for a numeric term).
    terms: Vec<(usize, u32)>,
}

/// The fit of one contrast by regression.
pub(super) struct RegressionFit {
    pub fit: CoefficientFit,
    pub test: TestOutcome,
    pub ci: (f64, f64),
    pub info: Option<RegressionInfo>,
}

/// One covariate's column in the table, if it is there.
fn column(table: &ParticipantTable, var: VarId) -> Option<&CovariateColumn> {
    table.covariates.get(var)
}

/// The value of term `(k, level)` for row `i`: the numeric value, or the level indicator.
#[inline]
pub(super) fn term_value(col: Option<&CovariateColumn>, level: u32, i: usize) -> f64 {
    match col {
        Some(CovariateColumn::Numeric(v)) => v.get(i).copied().unwrap_or(f64::NAN),
        Some(CovariateColumn::Categorical(c)) => match c.get(i) {
            Some(&code) if code != MISSING_CODE => f64::from(u8::from(code == level)),
            _ => f64::NAN,
        },
        None => f64::NAN,
    }
}

/// Runs the regression of `outcome` for the rows `keep` admits.
#[allow(clippy::too_many_arguments)]
pub(super) fn regression(
    model: &TrialModel,
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    keep: impl Fn(usize) -> bool,
    confidence: f64,
    with_info: bool,
    scratch: &mut RegressionScratch,
) -> RegressionFit {
    let (covariates, method): (&[VarId], Option<AdjustMethod>) = match &analysis.adjust {
        Some(a) => (&a.covariates, Some(a.method)),
        None => (&[], None),
    };
    let values = table.outcomes.get(outcome).map_or(&[][..], Vec::as_slice);
    let (treatment, control) = (analysis.treatment as u32, analysis.control as u32);
    // Terms: every numeric covariate, every level but the first of a categorical one.
    scratch.terms.clear();
    for (k, &var) in covariates.iter().enumerate() {
        match model.population.variables.get(var).and_then(|v| v.levels()) {
            Some(levels) => scratch
                .terms
                .extend((1..levels.len() as u32).map(|level| (k, level))),
            None => scratch.terms.push((k, u32::MAX)),
        }
    }
    // Complete cases.
    scratch.rows.clear();
    for (i, (&arm, &y)) in table.arm.iter().zip(values).enumerate() {
        if (arm != treatment && arm != control) || y.is_nan() || !keep(i) {
            continue;
        }
        let complete = covariates.iter().all(|&v| match column(table, v) {
            Some(CovariateColumn::Numeric(x)) => x.get(i).is_some_and(|x| !x.is_nan()),
            Some(CovariateColumn::Categorical(c)) => c.get(i).is_some_and(|&c| c != MISSING_CODE),
            None => false,
        });
        if complete {
            scratch.rows.push(i);
        }
    }
    let n = scratch.rows.len();
    let interacted = method == Some(AdjustMethod::Lin);
    let n_terms = scratch.terms.len();
    let p = 2 + n_terms * (1 + usize::from(interacted));
    let RegressionScratch {
        ols,
        rows,
        y,
        clusters,
        terms,
    } = scratch;
    ols.start(n, p);
    y.clear();
    y.extend(rows.iter().map(|&i| values[i]));
    ols.column_mut(0).fill(1.0);
    let (mut n_t, mut sum_t, mut sum_c) = (0u64, 0.0, 0.0);
    for (r, &i) in rows.iter().enumerate() {
        let t = table.arm[i] == treatment;
        ols.column_mut(1)[r] = f64::from(u8::from(t));
        if t {
            n_t += 1;
            sum_t += y[r];
        } else {
            sum_c += y[r];
        }
    }
    for (j, &(k, level)) in terms.iter().enumerate() {
        let col = column(table, covariates[k]);
        let mut mean = 0.0;
        {
            let c = ols.column_mut(2 + j);
            for (r, &i) in rows.iter().enumerate() {
                c[r] = term_value(col, level, i);
                mean += c[r];
            }
            mean /= n.max(1) as f64;
            for v in c.iter_mut() {
                *v -= mean;
            }
        }
        if interacted {
            for r in 0..n {
                let (x, t) = (ols.column_mut(2 + j)[r], ols.column_mut(1)[r]);
                ols.column_mut(2 + n_terms + j)[r] = x * t;
            }
        }
    }
    let fit = if analysis.test == TestKind::Cr2 {
        clusters.clear();
        if table.cluster.len() == table.arm.len() {
            clusters.extend(rows.iter().map(|&i| table.cluster[i]));
        }
        ols.fit_cr2(y, 1, clusters)
    } else {
        ols.fit_hc2(y, 1)
    };
    let test = fit.test(analysis.sides);
    let ci = fit.interval(confidence);
    let info = with_info.then(|| {
        let n_c = n as u64 - n_t;
        let name = |k: usize| {
            model
                .population
                .variables
                .get(covariates[k])
                .map_or("", |v| v.name.as_str())
        };
        let term_name = |j: usize| {
            let (k, level) = terms[j];
            match model
                .population
                .variables
                .get(covariates[k])
                .and_then(|v| v.levels())
            {
                Some(levels) => format!(
                    "{}={}",
                    name(k),
                    levels.get(level as usize).map_or("", |l| l.name.as_str())
                ),
                None => name(k).to_owned(),
            }
        };
        let dropped = ols
            .dropped()
            .iter()
            .map(|&c| match c {
                0 => "intercept".to_owned(),
                1 => "treatment".to_owned(),
                c if c < 2 + n_terms => term_name(c - 2),
                c => format!("treatment × {}", term_name(c - 2 - n_terms)),
            })
            .collect();
        let flag = if fit.leverage_one {
            Some(match analysis.test {
                TestKind::Cr2 => {
                    "a cluster is fitted exactly (leverage 1): its CR2 adjustment is undefined"
                        .to_owned()
                }
                _ => "a participant is fitted exactly (leverage 1): the HC2 weight is undefined"
                    .to_owned(),
            })
        } else if fit.estimate.is_nan() {
            Some("an arm has nobody with the outcome and covariates observed".to_owned())
        } else if analysis.test == TestKind::Cr2 && fit.se.is_nan() {
            Some("fewer than two clusters with the outcome observed".to_owned())
        } else if fit.se.is_nan() {
            Some("no residual degrees of freedom".to_owned())
        } else {
            None
        };
        RegressionInfo {
            method: method.map_or("none", AdjustMethod::name),
            covariates: (0..covariates.len()).map(|k| name(k).to_owned()).collect(),
            se_type: if analysis.test == TestKind::Cr2 {
                "CR2"
            } else {
                "HC2"
            },
            n: n as u64,
            se: fit.se,
            df: fit.df,
            unadjusted_difference: if n_t == 0 || n_c == 0 {
                f64::NAN
            } else {
                sum_t / n_t as f64 - sum_c / n_c as f64
            },
            dropped,
            flag,
        }
    });
    RegressionFit {
        fit,
        test,
        ci,
        info,
    }
}

/// The F test of the treatment × subgroup interaction of `outcome` (continuous) over the
/// analysed `levels` of the subgroup column `codes`: `y ~ T + G + T:G` against `y ~ T + G`, as
/// the `T:G` row of R's `anova(lm(y ~ T * G))` (the interaction is the last term, so its
/// sequential sum of squares is this comparison). Terms that cannot be estimated (an arm empty
/// in a level) lower the degrees of freedom, as in R.
pub(super) fn interaction_f(
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    codes: &[u32],
    levels: &[u32],
    scratch: &mut RegressionScratch,
) -> crate::analysis::InteractionF {
    let values = table.outcomes.get(outcome).map_or(&[][..], Vec::as_slice);
    let (treatment, control) = (analysis.treatment as u32, analysis.control as u32);
    let RegressionScratch { ols, rows, y, .. } = scratch;
    rows.clear();
    for (i, (&arm, &v)) in table.arm.iter().zip(values).enumerate() {
        if (arm == treatment || arm == control)
            && !v.is_nan()
            && codes.get(i).is_some_and(|c| levels.contains(c))
        {
            rows.push(i);
        }
    }
    let n = rows.len();
    y.clear();
    y.extend(rows.iter().map(|&i| values[i]));
    let g = levels.len().saturating_sub(1);
    let mut fit = |interacted: bool| {
        let p = 2 + g * (1 + usize::from(interacted));
        ols.start(n, p);
        ols.column_mut(0).fill(1.0);
        for (r, &i) in rows.iter().enumerate() {
            let t = f64::from(u8::from(table.arm[i] == treatment));
            ols.column_mut(1)[r] = t;
            for (k, &level) in levels.iter().skip(1).enumerate() {
                let d = f64::from(u8::from(codes[i] == level));
                ols.column_mut(2 + k)[r] = d;
                if interacted {
                    ols.column_mut(2 + g + k)[r] = d * t;
                }
            }
        }
        let fit = ols.fit_hc2(y, 0);
        (ols.residual_sum_of_squares(), fit.rank as f64)
    };
    let (rss_full, rank_full) = fit(true);
    let (rss_reduced, rank_reduced) = fit(false);
    let df1 = rank_full - rank_reduced;
    let df2 = n as f64 - rank_full;
    let statistic = if df1 > 0.0 && df2 > 0.0 && rss_full > 0.0 {
        ((rss_reduced - rss_full) / df1) / (rss_full / df2)
    } else {
        f64::NAN
    };
    crate::analysis::InteractionF {
        statistic,
        df1,
        df2,
        p_value: crate::stats::dist::f_sf(statistic, df1, df2),
    }
}
