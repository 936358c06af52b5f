//! Everything the design report shows, computed once: power at the spec's sample, the sample size
//! for a target power with the power curve around it, assurance over the uncertain parameters,
//! the dilution waterfall and the feasibility of the funnel. Rendering is in
//! [`crate::report::design`].

use serde::Serialize;

use super::assurance::{AssuranceReport, run_assurance};
use super::explain::{Waterfall, explain};
use super::feasibility::{Feasibility, feasibility};
use super::size::{SizeQuestion, SizeReport, size_for_model};
use super::sweep::{Axis, SweepReport, run_sweep};
use super::{DesignError, Evaluation, closed_form_power, evaluate, focus};
use crate::model::{AnalysisId, TrialModel, UncertainParameter};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettings {
    /// The analysis the design is for.
    pub analysis: AnalysisId,
    /// Master seed of every simulated figure.
    pub seed: u64,
    /// Replicates per simulated figure.
    pub replicates: u64,
    /// Target power for the sample size.
    pub target: f64,
    /// Uncertain parameters (the spec's and any given on the command line).
    pub uncertain: Vec<UncertainParameter>,
}

/// The computed content of a design report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignReport {
    /// Analysis name.
    pub analysis: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates per simulated figure.
    pub replicates: u64,
    /// Target power.
    pub target: f64,
    /// Power at the spec's own sample, simulated.
    pub power_at_spec: Evaluation,
    /// Normal-approximation and exact power at the spec's sample, where formulas apply.
    pub closed_form_at_spec: Option<(f64, Option<f64>)>,
    /// Sample size for the target (equal arms), if reachable.
    pub size: Option<SizeReport>,
    /// Why no sample size was found, if none was.
    pub size_error: Option<String>,
    /// Power over participants per arm around the answer.
    pub curve: SweepReport,
    /// Assurance, when some parameter is uncertain.
    pub assurance: Option<AssuranceReport>,
    /// Dilution waterfall (null where the model's exact effects cannot be computed).
    pub waterfall: Option<Waterfall>,
    /// Why there is no waterfall, if there is none.
    pub waterfall_error: Option<String>,
    /// Feasibility of the funnel at the spec's sample (or the sample-size answer).
    pub feasibility: Feasibility,
    /// The random generator and how its streams are derived (for the reproducibility section).
    pub generator: String,
    /// Which spec, by its exact bytes, and which trialsim made the report (filled in by the
    /// command, which read the file).
    pub spec: SpecRecord,
}

/// What ties a registered report to its spec: the file's name, the sha256 of its exact bytes as
/// registered, and the trialsim version that computed the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpecRecord {
    /// The spec file's base name.
    pub file: String,
    /// sha256 of the spec file's bytes.
    pub sha256: String,
    /// The trialsim version.
    pub trialsim_version: String,
}

/// Computes a design report.
pub fn build(model: &TrialModel, s: &ReportSettings) -> Result<DesignReport, DesignError> {
    let a = model
        .analyses
        .get(s.analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    let question = SizeQuestion {
        analysis: s.analysis,
        target: s.target,
        ratio: vec![1; model.arms.len()],
        seed: s.seed,
        replicates: s.replicates,
        max_n: super::size::DEFAULT_MAX_N,
        move_analysis: false,
    };
    let (size, size_error) = match size_for_model(model, &question) {
        Ok(r) => (Some(r), None),
        Err(e) => (
            None,
            Some(match e.help {
                Some(h) => format!("{}; {h}", e.message),
                None => e.message,
            }),
        ),
    };
    // A spec that fixes neither a sample nor a pool is shown at the sample-size answer.
    let sized;
    let model = if model.sample.is_none() && model.population.pool.is_none() {
        let n = size.as_ref().map_or(100, |r| r.n_per_arm);
        sized = super::with_sizes(model, n, &[]);
        &sized
    } else {
        model
    };
    let focused = focus(model, s.analysis);
    let power_at_spec = evaluate(&focused, s.analysis, s.seed, s.replicates)?;
    let closed_form_at_spec = model.sample.as_ref().and_then(|v| {
        closed_form_power(
            &focused,
            s.analysis,
            v.get(a.treatment).copied()?,
            v.get(a.control).copied()?,
        )
    });
    let centre = size
        .as_ref()
        .map(|r| r.n_per_arm)
        .or_else(|| model.sample.as_ref().and_then(|v| v.first().copied()))
        .unwrap_or(100);
    // The curve's points: whole clusters in a cluster design, and no more than an inflow takes
    // in before the analysis date.
    let unit = model
        .delivery
        .clusters
        .as_ref()
        .map_or(1, |c| c.size.max(1));
    let cap = model
        .delivery
        .inflow
        .as_ref()
        .and_then(super::size::intake_capacity)
        .map(|c| {
            u32::try_from(c / (model.arms.len().max(1) as u64 * u64::from(unit)))
                .unwrap_or(u32::MAX)
        });
    let centre_units = (centre / unit).max(2);
    let step = (centre_units / 10).max(1);
    let low = centre_units.saturating_sub(5 * step).max(2);
    let mut units: Vec<u32> = (0..=10).map(|i| low + i * step).collect();
    if let Some(cap) = cap {
        units.retain(|&k| k <= cap);
        if units.is_empty() {
            units.push(cap.max(1));
        }
    }
    let axis = Axis {
        path: "n_per_arm".into(),
        values: units.iter().map(|&k| f64::from(k * unit)).collect(),
        spec_value: crate::params::get(model, "n_per_arm").map_or(f64::NAN, |p| p.value),
        percent: false,
        unit: "participants",
    };
    // Arms of unequal size have no `n_per_arm`; the curve then starts from equal arms.
    let equal;
    let curve_model = if crate::params::get(model, "n_per_arm").is_ok() {
        model
    } else {
        equal = super::with_sizes(model, centre, &[]);
        &equal
    };
    let curve = run_sweep(
        curve_model,
        s.analysis,
        &[axis],
        s.seed,
        s.replicates,
        &|_, _| {},
    )?;
    let assurance = if s.uncertain.is_empty() {
        None
    } else {
        Some(run_assurance(
            model,
            s.analysis,
            &s.uncertain,
            s.seed,
            s.replicates,
        )?)
    };
    // The waterfall needs exact effects at every step; a design without them (an inflow, a
    // cluster effect on a process measure, competing exits) still gets the rest of the report.
    let (waterfall, waterfall_error) = match explain(model, s.analysis, s.seed, s.replicates) {
        Ok(w) => (Some(w), None),
        Err(e) => (None, Some(e.message)),
    };
    let required = match (&model.sample, &size) {
        (Some(v), _) => Some(v.clone()),
        (None, Some(r)) => Some(r.arm_sizes.clone()),
        (None, None) => None,
    };
    let feasibility = feasibility(model, required, model.capacity_arm());
    Ok(DesignReport {
        analysis: a.name.clone(),
        seed: s.seed,
        replicates: s.replicates,
        target: s.target,
        power_at_spec,
        closed_form_at_spec,
        size,
        size_error,
        curve,
        assurance,
        waterfall,
        waterfall_error,
        feasibility,
        generator: crate::sim::rng::GENERATOR.to_owned(),
        spec: SpecRecord::default(),
    })
}
