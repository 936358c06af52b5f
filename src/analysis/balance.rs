//! Covariate balance between two arms: per-arm summaries and standardised differences with a
//! flag at the plan's threshold, a test per covariate (Pearson chi-square on a categorical
//! covariate's levels or a numeric covariate's bins, Welch t on a numeric covariate) and the
//! omnibus F test of the regression of the arm on every covariate.

use serde::Serialize;

use crate::model::{ArmId, TrialModel};
use crate::stats::Sides;
use crate::stats::balance::{OmnibusF, omnibus_f, pearson_chi2};
use crate::stats::tests::{welch_df, welch_t};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// Balance of the baseline covariates between two arms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceTable {
    /// Name of the first arm compared.
    pub treatment: String,
    /// Name of the second arm compared.
    pub control: String,
    /// One row per numeric covariate (followed by one per bin when the plan bins it), one per
    /// level of a categorical covariate, in model order.
    pub rows: Vec<BalanceRow>,
    /// A row is flagged when its |standardised difference| exceeds this (the plan's
    /// `flag smd above`, default 0.1).
    pub smd_threshold: f64,
    /// Level of the tests: a covariate with a test at p < alpha is a chance imbalance.
    pub alpha: f64,
    /// One test per categorical covariate (chi-square), one or two per numeric covariate (Welch
    /// t, and chi-square on its bins when the plan bins it), in model order.
    pub tests: Vec<BalanceTest>,
    /// The omnibus F test of the regression of the arm indicator (1 = treatment) on every
    /// covariate, over the participants with no covariate missing.
    pub omnibus: Omnibus,
    /// Covariates with no value in either arm (on data: declared but not mapped to a column),
    /// left out of the rows, the tests and the omnibus rather than reported as undefined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_values: Vec<String>,
}

/// One covariate's test of balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceTest {
    /// Covariate name.
    pub variable: String,
    /// `pearson_chi2` (no continuity correction) or `welch_t` (two-sided).
    pub test: &'static str,
    /// The bin edges, for a chi-square test of a binned numeric covariate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<Vec<f64>>,
    /// Chi-square or t.
    pub statistic: f64,
    /// Degrees of freedom (Welch–Satterthwaite for t).
    pub df: f64,
    /// p-value (two-sided for t); NaN when the test is undefined (a covariate with one level
    /// or one bin in the data, an arm without values).
    pub p_value: f64,
    /// Participants of the two arms with a value (inside the bins, when binned).
    pub n: u64,
    /// Participants with a value outside every bin (left out of the chi-square test).
    pub outside_bins: u64,
    /// Cells of the chi-square table whose expected count is below 5.
    pub small_expected: u32,
    /// Whether `p_value < alpha`.
    pub imbalanced: bool,
}

/// The omnibus test of balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Omnibus {
    /// What it is, in words.
    pub test: &'static str,
    /// The covariates in the regression (categorical ones as indicators of all levels but one).
    pub covariates: Vec<String>,
    /// Participants in the regression (those of the two arms with every covariate present).
    pub n: u64,
    /// The F test.
    #[serde(flatten)]
    pub f: OmnibusF,
    /// Whether `p_value < alpha`.
    pub imbalanced: bool,
}

/// Balance of one numeric covariate or one level of a categorical covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Covariate name.
    pub variable: String,
    /// Level name, for a categorical covariate (the row is then the share in that level).
    pub level: Option<String>,
    /// Treatment-arm summary of the non-missing values.
    pub treatment: BalanceCell,
    /// Control-arm summary of the non-missing values.
    pub control: BalanceCell,
    /// `(mean_t − mean_c) / √((sd_t² + sd_c²) / 2)`; for a level share `p` the sd is
    /// `√(p(1−p))`. 0 when both spreads are 0 and the means are equal, ±∞ when they differ;
    /// NaN when an arm has no value.
    pub standardized_difference: f64,
    /// Whether |standardised difference| exceeds the plan's threshold.
    pub flagged: bool,
}

/// One arm's summary of one covariate row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BalanceCell {
    /// Participants with a value.
    pub n: u64,
    /// Participants whose value is missing.
    pub missing: u64,
    /// Mean (share in the level, for a categorical row).
    pub mean: f64,
    /// Standard deviation (sample sd for numbers; `√(p(1−p))` for a share).
    pub sd: f64,
}

/// Balance between the arms of the plan's primary analysis (treatment, control); without an
/// analysis, between the second and the first arm declared.
pub fn balance(model: &TrialModel, table: &ParticipantTable) -> BalanceTable {
    let (treatment, control) = model
        .primary_analysis()
        .map_or((model.arms.len().min(2).saturating_sub(1), 0), |a| {
            (a.treatment, a.control)
        });
    balance_between(model, table, treatment, control)
}

/// Balance between two given arms.
pub fn balance_between(
    model: &TrialModel,
    table: &ParticipantTable,
    treatment: ArmId,
    control: ArmId,
) -> BalanceTable {
    let arm_name = |a: ArmId| {
        model
            .arms
            .get(a)
            .map_or_else(String::new, |a| a.name.clone())
    };
    let side = |arm: u32| {
        let arm = arm as usize;
        if arm == treatment {
            Some(0)
        } else if arm == control {
            Some(1)
        } else {
            None
        }
    };
    let plan = &model.balance;
    let mut rows = Vec::new();
    let mut tests = Vec::new();
    let chi2 = |variable: &str, bins: Option<Vec<f64>>, table: &[Vec<u64>], outside| {
        let t = pearson_chi2(table);
        BalanceTest {
            variable: variable.to_owned(),
            test: "pearson_chi2",
            bins,
            statistic: t.statistic,
            df: f64::from(t.df),
            p_value: t.p_value,
            n: table.iter().flatten().sum(),
            outside_bins: outside,
            small_expected: t.small_expected,
            imbalanced: t.p_value < plan.alpha,
        }
    };
    // The omnibus regression's columns, over every participant of the two arms (NaN = missing).
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut names = Vec::new();
    let mut without_values = Vec::new();
    for (var, variable) in model.population.variables.iter().enumerate() {
        // Bins a subgroup analysis derives repeat their source (the plan's `bins` test it).
        if variable.binned_from().is_some() {
            continue;
        }
        let in_arms = |i: usize| table.arm.get(i).is_some_and(|&a| side(a).is_some());
        let has_value = match table.covariates.get(var) {
            Some(CovariateColumn::Numeric(values)) => values
                .iter()
                .enumerate()
                .any(|(i, v)| !v.is_nan() && in_arms(i)),
            Some(CovariateColumn::Categorical(codes)) => codes
                .iter()
                .enumerate()
                .any(|(i, &c)| c != MISSING_CODE && in_arms(i)),
            None => true,
        };
        if !has_value {
            without_values.push(variable.name.clone());
            continue;
        }
        match table.covariates.get(var) {
            Some(CovariateColumn::Numeric(values)) => {
                let mut sums = [Moments::default(); 2];
                let mut column = Vec::new();
                for (&arm, &v) in table.arm.iter().zip(values) {
                    if let Some(s) = side(arm) {
                        sums[s].push(v);
                        column.push(v);
                    }
                }
                columns.push(column);
                names.push(variable.name.clone());
                let [t, c] = sums.map(|m| m.cell());
                rows.push(BalanceRow {
                    variable: variable.name.clone(),
                    level: None,
                    treatment: t,
                    control: c,
                    standardized_difference: standardized(&t, &c),
                    flagged: false,
                });
                let w = welch_t(t.mean, t.sd, t.n, c.mean, c.sd, c.n, Sides::TwoSided);
                tests.push(BalanceTest {
                    variable: variable.name.clone(),
                    test: "welch_t",
                    bins: None,
                    statistic: w.statistic,
                    df: welch_df(t.sd, t.n, c.sd, c.n),
                    p_value: w.p_value,
                    n: t.n + c.n,
                    outside_bins: 0,
                    small_expected: 0,
                    imbalanced: w.p_value < plan.alpha,
                });
                if let Some(edges) = plan.bins_of(var) {
                    let bins = edges.len().saturating_sub(1);
                    let mut counts = vec![vec![0u64; bins]; 2];
                    let mut outside = [0u64; 2];
                    let mut missing = [0u64; 2];
                    for (&arm, &v) in table.arm.iter().zip(values) {
                        let Some(s) = side(arm) else { continue };
                        if v.is_nan() {
                            missing[s] += 1;
                        } else if let Some(b) = bin_of(edges, v) {
                            counts[s][b] += 1;
                        } else {
                            outside[s] += 1;
                        }
                    }
                    let present = [0, 1].map(|s| counts[s].iter().sum::<u64>());
                    for b in 0..bins {
                        let [t, c] = [0, 1]
                            .map(|s| share_cell(counts[s][b], present[s], missing[s] + outside[s]));
                        rows.push(BalanceRow {
                            variable: variable.name.clone(),
                            level: Some(format!("[{}, {})", edges[b], edges[b + 1])),
                            treatment: t,
                            control: c,
                            standardized_difference: standardized(&t, &c),
                            flagged: false,
                        });
                    }
                    tests.push(chi2(
                        &variable.name,
                        Some(edges.to_vec()),
                        &counts,
                        outside[0] + outside[1],
                    ));
                }
            }
            Some(CovariateColumn::Categorical(codes)) => {
                let levels = variable.levels().unwrap_or_default();
                let mut counts = vec![[0u64; 2]; levels.len()];
                let mut present = [0u64; 2];
                let mut missing = [0u64; 2];
                let mut indicator: Vec<Vec<f64>> = vec![Vec::new(); levels.len()];
                for (&arm, &code) in table.arm.iter().zip(codes) {
                    let Some(s) = side(arm) else { continue };
                    match counts.get_mut(code as usize) {
                        Some(count) if code != MISSING_CODE => {
                            count[s] += 1;
                            present[s] += 1;
                        }
                        _ => missing[s] += 1,
                    }
                    for (l, column) in indicator.iter_mut().enumerate() {
                        column.push(if code == MISSING_CODE {
                            f64::NAN
                        } else {
                            f64::from(u8::from(code as usize == l))
                        });
                    }
                }
                for (level, count) in levels.iter().zip(&counts) {
                    let [t, c] = [0, 1].map(|s| share_cell(count[s], present[s], missing[s]));
                    rows.push(BalanceRow {
                        variable: variable.name.clone(),
                        level: Some(level.name.clone()),
                        treatment: t,
                        control: c,
                        standardized_difference: standardized(&t, &c),
                        flagged: false,
                    });
                }
                // All levels but the first present in the two arms (R's reference level is
                // the first; the F test does not depend on which one is left out).
                let reference = counts.iter().position(|c| c[0] + c[1] > 0);
                for (l, column) in indicator.into_iter().enumerate() {
                    if Some(l) != reference {
                        columns.push(column);
                        names.push(format!("{} = {}", variable.name, levels[l].name));
                    }
                }
                let by_arm: Vec<Vec<u64>> = [0, 1]
                    .iter()
                    .map(|&s| counts.iter().map(|c| c[s]).collect())
                    .collect();
                tests.push(chi2(&variable.name, None, &by_arm, 0));
            }
            None => {}
        }
    }
    for row in &mut rows {
        row.flagged = row.standardized_difference.abs() > plan.smd_threshold;
    }
    let y: Vec<f64> = table
        .arm
        .iter()
        .filter_map(|&a| side(a).map(|s| f64::from(u8::from(s == 0))))
        .collect();
    let complete: Vec<usize> = (0..y.len())
        .filter(|&i| {
            columns
                .iter()
                .all(|c| c.get(i).is_some_and(|v| !v.is_nan()))
        })
        .collect();
    // Every column holds a value at every complete row (a short column is missing beyond its end).
    let pick = |v: &[f64]| {
        complete
            .iter()
            .map(|&i| v.get(i).copied().unwrap_or(f64::NAN))
            .collect::<Vec<f64>>()
    };
    let x: Vec<Vec<f64>> = columns.iter().map(|c| pick(c)).collect();
    let f = omnibus_f(&pick(&y), &x);
    BalanceTable {
        treatment: arm_name(treatment),
        control: arm_name(control),
        rows,
        smd_threshold: plan.smd_threshold,
        alpha: plan.alpha,
        tests,
        omnibus: Omnibus {
            test: "F test of the regression of the arm (1 = treatment) on all covariates",
            covariates: names,
            n: complete.len() as u64,
            imbalanced: f.p_value < plan.alpha,
            f,
        },
        without_values,
    }
}

/// The bin `[edges[b], edges[b + 1])` holding `v`, if any.
fn bin_of(edges: &[f64], v: f64) -> Option<usize> {
    edges.windows(2).position(|w| w[0] <= v && v < w[1])
}

#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: u64,
    missing: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn push(&mut self, v: f64) {
        if v.is_nan() {
            self.missing += 1;
            return;
        }
        self.n += 1;
        let delta = v - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (v - self.mean);
    }

    fn cell(&self) -> BalanceCell {
        BalanceCell {
            n: self.n,
            missing: self.missing,
            mean: if self.n == 0 { f64::NAN } else { self.mean },
            sd: if self.n < 2 {
                f64::NAN
            } else {
                (self.m2 / (self.n - 1) as f64).sqrt()
            },
        }
    }
}

fn share_cell(count: u64, n: u64, missing: u64) -> BalanceCell {
    let p = if n == 0 {
        f64::NAN
    } else {
        count as f64 / n as f64
    };
    BalanceCell {
        n,
        missing,
        mean: p,
        sd: (p * (1.0 - p)).sqrt(),
    }
}

fn standardized(t: &BalanceCell, c: &BalanceCell) -> f64 {
    let difference = t.mean - c.mean;
    // A single observation has no sd; treat its spread as 0 rather than losing the row.
    let var = |cell: &BalanceCell| if cell.n == 1 { 0.0 } else { cell.sd * cell.sd };
    let pooled = ((var(t) + var(c)) / 2.0).sqrt();
    if difference.is_nan() || pooled.is_nan() {
        f64::NAN
    } else if pooled == 0.0 {
        if difference == 0.0 {
            0.0
        } else {
            difference.signum() * f64::INFINITY
        }
    } else {
        difference / pooled
    }
}
