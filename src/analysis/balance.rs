//! Covariate balance between two arms: per-arm summaries and standardised differences.

use serde::Serialize;

use crate::model::{ArmId, TrialModel};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// Balance of the baseline covariates between two arms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceTable {
    /// Name of the first arm compared.
    pub treatment: String,
    /// Name of the second arm compared.
    pub control: String,
    /// One row per numeric covariate, one per level of a categorical covariate, in model order.
    pub rows: Vec<BalanceRow>,
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

/// Balance between the arms of the plan's first analysis (treatment, control); without an
/// analysis, between the second and the first arm declared.
pub fn balance(model: &TrialModel, table: &ParticipantTable) -> BalanceTable {
    let (treatment, control) = model
        .analyses
        .first()
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
    let mut rows = Vec::new();
    for (var, variable) in model.population.variables.iter().enumerate() {
        match table.covariates.get(var) {
            Some(CovariateColumn::Numeric(values)) => {
                let mut sums = [Moments::default(); 2];
                for (&arm, &v) in table.arm.iter().zip(values) {
                    if let Some(s) = side(arm) {
                        sums[s].push(v);
                    }
                }
                let [t, c] = sums.map(|m| m.cell());
                rows.push(BalanceRow {
                    variable: variable.name.clone(),
                    level: None,
                    treatment: t,
                    control: c,
                    standardized_difference: standardized(&t, &c),
                });
            }
            Some(CovariateColumn::Categorical(codes)) => {
                let levels = variable.levels().unwrap_or_default();
                let mut counts = vec![[0u64; 2]; levels.len()];
                let mut present = [0u64; 2];
                let mut missing = [0u64; 2];
                for (&arm, &code) in table.arm.iter().zip(codes) {
                    let Some(s) = side(arm) else { continue };
                    match counts.get_mut(code as usize) {
                        Some(count) if code != MISSING_CODE => {
                            count[s] += 1;
                            present[s] += 1;
                        }
                        _ => missing[s] += 1,
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
                    });
                }
            }
            None => {}
        }
    }
    BalanceTable {
        treatment: arm_name(treatment),
        control: arm_name(control),
        rows,
    }
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
