//! The dilution waterfall: how the effect among the clients the programme is meant for shrinks to
//! the intention-to-treat effect the analysis sees.
//!
//! The first step is a model in which every arm's participants take only its main path (the
//! `rest` path, or else the largest), nobody drops out, is exempted, leaves for a non-work reason
//! or crosses over, nobody is in work at intake and no outcome is lost to follow-up. Each later
//! step switches one mechanism back on as the spec declares it, in this order: sub-paths (e.g.
//! Team Zorg), dropout before intake, exemptions, competing non-work exits, crossover, baseline
//! employment, loss to follow-up (which leaves the full-data effect as it is and costs power).
//! After the last step the model is the spec's own, so the last bar is the ITT effect. Steps the spec does not declare are
//! left out. The effect at every step is exact (see [`crate::sim::truth`]); the power at every step
//! is simulated at the spec's sample size with the same seed, with the normal-approximation power
//! from the exact proportions beside it where a formula applies.

use serde::Serialize;

use super::{DesignError, closed_form_power, evaluate, exact_means, focus, pct};
use crate::model::{AnalysisId, Arm, TrialModel};

/// One step of the waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Label with the declared values (`team zorg 25% (10% work)`).
    pub label: String,
    /// The mechanism in a word or two, for figures (`team zorg`, `dropout`).
    pub short_label: String,
    /// What the step switches on, in a sentence.
    pub description: String,
    /// Exact treatment-arm proportion (or mean) after this step.
    pub treatment: f64,
    /// Exact control-arm proportion (or mean) after this step.
    pub control: f64,
    /// Exact effect after this step.
    pub effect: f64,
    /// Simulated power after this step.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// Normal-approximation power from the exact proportions, where a formula applies.
    pub closed_form_power: Option<f64>,
}

/// The waterfall. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waterfall {
    /// Trial name.
    pub spec: String,
    /// Analysis name.
    pub analysis: String,
    /// Outcome of its first contrast.
    pub outcome: String,
    /// Treatment and control arm names.
    pub arms: (String, String),
    /// Arm sizes at which power is computed (treatment, control); `None` when the pool decides.
    pub sizes: Option<(u32, u32)>,
    /// Master seed.
    pub seed: u64,
    /// Replicates per step.
    pub replicates: u64,
    /// The steps, from the main path to the ITT effect.
    pub steps: Vec<Step>,
}

/// Index of an arm's main path: the `rest` path, or else the one with the largest share.
fn main_path(arm: &Arm) -> usize {
    arm.paths.iter().position(|p| p.rest).unwrap_or_else(|| {
        arm.paths
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.share.total_cmp(&b.1.share))
            .map_or(0, |(i, _)| i)
    })
}

fn only_main_path(arm: &mut Arm) {
    let main = main_path(arm);
    for (i, p) in arm.paths.iter_mut().enumerate() {
        p.share = if i == main { 1.0 } else { 0.0 };
        // Shares that differ by level go too: everyone takes the main path at every level.
        p.share_by = None;
    }
}

/// Builds the cumulative models of the waterfall with their labels.
fn stages(model: &TrialModel, treatment: usize) -> Vec<(String, String, String, TrialModel)> {
    let spec = model.clone();
    let mut m = model.clone();
    for arm in &mut m.arms {
        only_main_path(arm);
        arm.dropout = None;
        arm.exemption = None;
        arm.non_work_exit = None;
        arm.crossover = None;
        arm.baseline_employment = 0.0;
        arm.lost_to_follow_up = None;
    }
    let t = &spec.arms[treatment];
    let main = &t.paths[main_path(t)];
    let first_label = if t.paths.len() > 1 {
        format!("{} clients", main.name)
    } else {
        format!("{} as planned", t.name)
    };
    let mut out = vec![(
        first_label.clone(),
        first_label,
        format!(
            "everyone in each arm takes its main path ({} in {}), with no dropout, exemption, \
             non-work exit, crossover, baseline employment or loss to follow-up",
            main.name, t.name
        ),
        m.clone(),
    )];
    // Sub-paths.
    if spec.arms.iter().any(|a| a.paths.len() > 1) {
        let mut labels = Vec::new();
        let mut names = Vec::new();
        for (arm, declared) in m.arms.iter_mut().zip(&spec.arms) {
            if declared.paths.len() > 1 {
                let main = main_path(declared);
                for (i, p) in declared.paths.iter().enumerate() {
                    if i != main {
                        names.push(p.name.replace('_', " "));
                        let by = p
                            .share_by
                            .as_ref()
                            .and_then(|b| spec.population.variables.get(b.variable))
                            .map_or_else(String::new, |v| format!(" by {}", v.name));
                        labels.push(format!(
                            "{} {}{by} ({} work)",
                            p.name.replace('_', " "),
                            pct(p.share),
                            spec.rate_in_words(&p.work, pct)
                        ));
                    }
                }
                arm.paths = declared.paths.clone();
            }
        }
        out.push((
            names.join(", "),
            labels.join(", "),
            "the other sub-paths take their declared shares and rates".into(),
            m.clone(),
        ));
    }
    type Switch = (
        &'static str,
        &'static str,
        fn(&Arm) -> Option<f64>,
        fn(&mut Arm, &Arm),
    );
    let switches: [Switch; 6] = [
        (
            "dropout",
            "dropout before intake (analysed in the assigned arm)",
            |a| a.dropout.as_ref().map(|d| d.share),
            |m, s| m.dropout = s.dropout.clone(),
        ),
        (
            "exemption",
            "temporary exemptions pause participation",
            |a| a.exemption.as_ref().map(|e| e.share),
            |m, s| m.exemption = s.exemption.clone(),
        ),
        (
            "non-work exit",
            "competing exits from benefit without work",
            |a| a.non_work_exit.as_ref().map(|x| x.probability),
            |m, s| m.non_work_exit = s.non_work_exit.clone(),
        ),
        (
            "crossover",
            "crossover into another arm's process (analysed in the assigned arm)",
            |a| a.crossover.as_ref().map(|c| c.share),
            |m, s| m.crossover = s.crossover.clone(),
        ),
        (
            "in work at intake",
            "baseline employment in both arms",
            |a| (a.baseline_employment > 0.0).then_some(a.baseline_employment),
            |m, s| m.baseline_employment = s.baseline_employment,
        ),
        (
            "lost to follow-up",
            "outcomes lost to follow-up, analysed by complete cases (the effect shown is the \
             full-data one; the power is that of the complete cases)",
            |a| a.lost_to_follow_up.as_ref().map(|l| l.share),
            |m, s| m.lost_to_follow_up = s.lost_to_follow_up.clone(),
        ),
    ];
    for (name, description, get, set) in switches {
        let present: Vec<String> = spec
            .arms
            .iter()
            .filter_map(|a| get(a).map(|v| format!("{} {}", a.name, pct(v))))
            .collect();
        if present.is_empty() {
            continue;
        }
        for (arm, declared) in m.arms.iter_mut().zip(&spec.arms) {
            set(arm, declared);
        }
        out.push((
            name.to_string(),
            format!("{name} ({})", present.join(", ")),
            description.into(),
            m.clone(),
        ));
    }
    out
}

/// The waterfall of `analysis`'s first contrast.
pub fn explain(
    model: &TrialModel,
    analysis: AnalysisId,
    seed: u64,
    replicates: u64,
) -> Result<Waterfall, DesignError> {
    let a = model
        .analyses
        .get(analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?
        .clone();
    let focused = focus(model, analysis);
    let sizes = focused
        .sample
        .as_ref()
        .and_then(|s| Some((s.get(a.treatment).copied()?, s.get(a.control).copied()?)));
    // The engine's own refusal (a sample beyond its limit) is the reason there is no waterfall,
    // not that the exact effect cannot be computed.
    crate::sim::Simulator::new(&focused, crate::sim::SimOptions::default())?;
    let mut steps = Vec::new();
    for (short_label, label, description, m) in stages(&focused, a.treatment) {
        let [t, c, ..] = exact_means(&m, analysis)
            .ok_or_else(|| DesignError::new("the exact effect of this model cannot be computed"))?;
        let e = evaluate(&m, analysis, seed, replicates)?;
        steps.push(Step {
            label,
            short_label,
            description,
            treatment: t,
            control: c,
            effect: t - c,
            power: e.power,
            mc_se: e.mc_se,
            closed_form_power: sizes
                .and_then(|(nt, nc)| closed_form_power(&m, analysis, nt, nc))
                .map(|p| p.0),
        });
    }
    if let Some(last) = steps.last().cloned() {
        steps.push(Step {
            label: "ITT effect".into(),
            short_label: "ITT effect".into(),
            description: "the spec as written: the effect the analysis estimates".into(),
            ..last
        });
    }
    Ok(Waterfall {
        spec: model.name.clone(),
        analysis: a.name.clone(),
        outcome: a
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .map_or_else(String::new, |o| o.name.clone()),
        arms: (
            model.arms[a.treatment].name.clone(),
            model.arms[a.control].name.clone(),
        ),
        sizes,
        seed,
        replicates,
        steps,
    })
}
