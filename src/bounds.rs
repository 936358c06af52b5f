//! Lee bounds, simulated: what the sensitivity analysis of `missing lee_bounds` will show in
//! trials of this design. Each replicate is analysed as `analyze` analyses real data: the same
//! cells ([`crate::analysis::contrast_values`]) and the same bounds, standard errors and
//! Imbens–Manski interval ([`crate::stats::lee::lee_bounds`]).
//!
//! Reported per contrast: the mean of each bound over the trials (the bounds a trial of this
//! design can expect, and so how wide the loss leaves them), the mean trimmed share, how often
//! the Imbens–Manski interval excludes no effect (the power of the sensitivity analysis: an
//! effect that survives the worst case of the loss), and how often it contains the true effect
//! of all participants. That last equals the always-observed effect, which the bounds
//! target, when the effect is the same for everyone (as in every shipped spec); with effects
//! that vary with what also drives the loss, the two differ and the rate is no coverage.

use serde::Serialize;

use crate::analysis::{CONFIDENCE, contrast_values};
use crate::model::{MissingHandling, TrialModel};
use crate::power::{PowerReport, PowerSettings, simulate_chunks, validate};
use crate::sequential::Estimate;
use crate::sim::{SimError, SimOptions, Simulator};
use crate::stats::lee::lee_bounds;

/// The simulated Lee bounds of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisBounds {
    /// The analysis.
    pub analysis: String,
    /// One per contrast, in the analysis' order.
    pub contrasts: Vec<ContrastBounds>,
}

/// The simulated Lee bounds of one contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastBounds {
    /// Outcome name.
    pub outcome: String,
    /// `variable=level` of a subgroup contrast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<String>,
    /// Trials in which the bounds and their interval were defined (both arms with at least two
    /// observed values).
    pub replicates: u64,
    /// Mean lower bound.
    pub lower: Estimate,
    /// Mean upper bound.
    pub upper: Estimate,
    /// Mean share of the trimmed arm's observed outcomes trimmed.
    pub trimmed_share: f64,
    /// Mean lower end of the Imbens–Manski interval.
    pub ci_lower: f64,
    /// Mean upper end.
    pub ci_upper: f64,
    /// Share of trials whose Imbens–Manski interval excludes 0.
    pub excludes_zero: Estimate,
    /// Share of trials whose interval contains the true effect of all participants (see the
    /// module's note); absent without a true effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains_true_effect: Option<Estimate>,
}

/// Per contrast: defined trials, Σ lower, Σ lower², Σ upper, Σ upper², Σ share, Σ ci lo,
/// Σ ci hi, excludes 0, contains the truth.
type Sums = [f64; 10];

/// Simulates the replicates of `settings` (the same streams as `power`) and computes the Lee
/// bounds of every contrast of every analysis that states `missing lee_bounds`. Empty when
/// none does. The true effects are read from `report`'s contrasts.
pub fn run_bounds(
    model: &TrialModel,
    settings: &PowerSettings,
    report: &PowerReport,
) -> Result<Vec<AnalysisBounds>, SimError> {
    let wanted: Vec<usize> = (0..model.analyses.len())
        .filter(|&i| model.analyses[i].missing == Some(MissingHandling::LeeBounds))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    validate(settings)?;
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: true,
        },
    )?;
    let truths: Vec<Vec<Option<f64>>> = wanted
        .iter()
        .map(|&i| {
            report.analyses.get(i).map_or_else(Vec::new, |a| {
                a.contrasts.iter().map(|c| c.true_effect).collect()
            })
        })
        .collect();
    let width: Vec<usize> = truths.iter().map(Vec::len).collect();
    let parts = simulate_chunks(
        &sim,
        settings,
        || -> Vec<Vec<Sums>> { width.iter().map(|&k| vec![[0.0; 10]; k]).collect() },
        |acc, w, _| {
            for (k, &ai) in wanted.iter().enumerate() {
                let cells = contrast_values(&model.analyses[ai], &w.table);
                for (j, [t, ctl]) in cells.iter().enumerate().take(width[k]) {
                    // A trial counts when its bounds and their interval are defined (an arm
                    // with fewer than 2 observed values has no interval).
                    let Some(b) = lee_bounds(t, ctl, CONFIDENCE)
                        .filter(|b| b.ci.0.is_finite() && b.ci.1.is_finite())
                    else {
                        continue;
                    };
                    let s = &mut acc[k][j];
                    s[0] += 1.0;
                    s[1] += b.lower;
                    s[2] += b.lower * b.lower;
                    s[3] += b.upper;
                    s[4] += b.upper * b.upper;
                    s[5] += b.trimmed_share;
                    s[6] += b.ci.0;
                    s[7] += b.ci.1;
                    s[8] += f64::from(u8::from(b.ci.0 > 0.0 || b.ci.1 < 0.0));
                    if let Some(truth) = truths[k][j] {
                        s[9] += f64::from(u8::from(b.ci.0 <= truth && truth <= b.ci.1));
                    }
                }
            }
        },
    );
    // Folded in chunk order: the same sums for any number of threads.
    let mut total: Vec<Vec<Sums>> = width.iter().map(|&k| vec![[0.0; 10]; k]).collect();
    for part in &parts {
        for (t, p) in total.iter_mut().zip(part) {
            for (a, b) in t.iter_mut().zip(p) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
    }
    Ok(wanted
        .iter()
        .zip(&total)
        .enumerate()
        .map(|(k, (&ai, sums))| {
            let contrasts = report
                .analyses
                .get(ai)
                .map_or(&[][..], |a| &a.contrasts[..]);
            AnalysisBounds {
                analysis: model.analyses[ai].name.clone(),
                contrasts: sums
                    .iter()
                    .zip(contrasts)
                    .enumerate()
                    .map(|(j, (s, c))| {
                        let n = s[0];
                        let defined = n as u64;
                        let mean = |x: f64| if n > 0.0 { x / n } else { f64::NAN };
                        ContrastBounds {
                            outcome: c.outcome.clone(),
                            subgroup: c
                                .subgroup
                                .as_ref()
                                .map(|g| crate::model::subgroup_label(&g.variable, &g.level)),
                            replicates: defined,
                            lower: Estimate::of(s[1], s[2], n),
                            upper: Estimate::of(s[3], s[4], n),
                            trimmed_share: mean(s[5]),
                            ci_lower: mean(s[6]),
                            ci_upper: mean(s[7]),
                            excludes_zero: Estimate::share(s[8] as u64, defined),
                            contains_true_effect: truths[k][j]
                                .map(|_| Estimate::share(s[9] as u64, defined)),
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}
