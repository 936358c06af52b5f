//! The analysis plan: one piece of code that runs on a participant table, whether the table came
//! from the simulator or from a real CSV. It knows neither the engine nor the loader.

use serde::Serialize;

use crate::model::TrialModel;
use crate::table::ParticipantTable;

/// Results of every analysis of the plan, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanResult {
    /// One entry per [`crate::model::Analysis`], in the order declared.
    pub analyses: Vec<AnalysisResult>,
}

/// Results of one analysis: one contrast per (outcome, subgroup level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisResult {
    /// The analysis' name.
    pub name: String,
    /// Contrasts, outcome-major then subgroup level, in declaration order.
    pub contrasts: Vec<ContrastResult>,
}

/// One treatment-versus-control contrast on one outcome (within one subgroup level, if any).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastResult {
    /// Outcome name.
    pub outcome: String,
    /// Subgroup (variable, level) this contrast is restricted to.
    pub subgroup: Option<(String, String)>,
    /// Treatment-arm summary.
    pub treatment: ArmSummary,
    /// Control-arm summary.
    pub control: ArmSummary,
    /// Estimated effect: treatment mean (or proportion) minus control.
    pub difference: f64,
    /// 95 % confidence interval of the difference (Wald for means; Newcombe hybrid score for
    /// proportions).
    pub ci: (f64, f64),
    /// Test statistic of the declared test (z, or t; NaN for Fisher's exact test).
    pub statistic: f64,
    /// p-value of the declared test, in the declared direction.
    pub p_value: f64,
    /// p-value after the declared multiplicity correction.
    pub p_adjusted: f64,
    /// Whether H0 is rejected at the analysis' alpha after correction.
    pub reject: bool,
}

/// Per-arm summary of one outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Participants with a non-missing value.
    pub n: u64,
    /// Mean (the proportion, for a binary outcome).
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
}

/// Runs every analysis of the model's plan on `table`.
pub fn run_plan(model: &TrialModel, table: &ParticipantTable) -> PlanResult {
    let _ = (model, table);
    todo!("the analysis helper implements this")
}
