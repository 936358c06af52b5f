//! Complier effects, simulated: what `estimate complier_effect` will show in trials of this
//! design. Each replicate is analysed as `analyze` analyses data
//! ([`crate::analysis::complier::complier_effects`], receipt as the engine marks it).
//!
//! The truth the estimates are held against is the complier effect the instrument identifies:
//! the true ITT effect of the contrast (exact, or simulated with its Monte Carlo error, as
//! `power` reports it) over the first stage, the difference in the share receiving the
//! programme (its mean over the replicates). Under monotonicity and the exclusion restriction
//! it is the effect among compliers; where the exclusion fails (control clients who cross over
//! into the programme late, so receipt does not mean the same programme in both arms) it is
//! what the estimator targets all the same, and the report says which effect it is.
//!
//! A just-identified instrumental-variable estimate has no finite mean in small samples, so its
//! centre is the median over the replicates (with the Monte Carlo SE of a median,
//! `1.2533 · σ̂ / √R`, σ̂ from the interquartile range over 1.349) and its bias the median
//! less the truth. Coverage is that of the 95 % interval around the truth.

use serde::Serialize;

use crate::analysis::CONFIDENCE;
use crate::analysis::complier::{ComplierScratch, complier_effects};
use crate::model::TrialModel;
use crate::power::{PowerReport, PowerSettings, simulate_chunks, validate};
use crate::sequential::Estimate;
use crate::sim::{SimError, SimOptions, Simulator};
use crate::table::{CovariateColumn, ParticipantTable, flags};

/// The simulated complier effects of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisCompliers {
    /// The analysis.
    pub analysis: String,
    /// One per contrast, in the analysis' order.
    pub contrasts: Vec<ContrastCompliers>,
}

/// The simulated complier effect of one contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastCompliers {
    /// Outcome name.
    pub outcome: String,
    /// `variable=level` of a subgroup contrast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<String>,
    /// Trials with a defined estimate.
    pub replicates: u64,
    /// Median of the estimates, with the Monte Carlo SE of a median.
    pub median: Estimate,
    /// The identified complier effect: the true ITT effect over the mean first stage, with its
    /// Monte Carlo SE (absent without a true ITT effect or with no first stage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_effect: Option<Estimate>,
    /// Median less the mean complier effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_bias: Option<f64>,
    /// Share of trials whose test of no complier effect rejects at the analysis' level.
    pub power: Estimate,
    /// Share of trials whose 95 % interval contains the identified complier effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Estimate>,
    /// Mean first stage (the difference in the share receiving the programme).
    pub first_stage: Estimate,
    /// Share of trials with a weak first stage (F below 10).
    pub weak: f64,
}

/// What one chunk of replicates gathers per contrast.
#[derive(Default, Clone)]
struct Gathered {
    estimates: Vec<f64>,
    intervals: Vec<(f64, f64)>,
    rejected: u64,
    /// Trials with both arms in the cell, Σ and Σ² of their difference in receipt.
    shares: u64,
    share_sum: f64,
    share_sum_sq: f64,
    weak: u64,
}

/// The difference in the share receiving the programme, treatment − control, in the cell of
/// analysis `a` at subgroup `level` (`None` with an arm empty).
fn receipt_difference(
    table: &ParticipantTable,
    a: &crate::model::Analysis,
    level: Option<u32>,
) -> Option<f64> {
    let codes = a.within.and_then(|v| match table.covariates.get(v) {
        Some(CovariateColumn::Categorical(c)) => Some(c.as_slice()),
        _ => None,
    });
    let mut counts = [[0.0f64; 2]; 2];
    for i in 0..table.len() {
        let arm = table.arm[i] as usize;
        let side = if arm == a.treatment {
            0
        } else if arm == a.control {
            1
        } else {
            continue;
        };
        if level.is_some() && codes.and_then(|c| c.get(i)).copied() != level {
            continue;
        }
        counts[side][0] += 1.0;
        counts[side][1] += f64::from(u8::from(table.flags[i] & flags::RECEIVED != 0));
    }
    (counts[0][0] > 0.0 && counts[1][0] > 0.0)
        .then(|| counts[0][1] / counts[0][0] - counts[1][1] / counts[1][0])
}

/// Simulates the replicates of `settings` (the same streams as `power`) and estimates the
/// complier effect of every contrast of every analysis that states `estimate complier_effect`.
/// Empty when none does.
pub fn run_compliers(
    model: &TrialModel,
    settings: &PowerSettings,
    report: &PowerReport,
) -> Result<Vec<AnalysisCompliers>, SimError> {
    let wanted: Vec<usize> = (0..model.analyses.len())
        .filter(|&i| model.analyses[i].complier_effect)
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
    // Per wanted analysis, its contrasts' (outcome, level).
    let cells: Vec<Vec<(usize, Option<u32>)>> = wanted
        .iter()
        .map(|&ai| {
            let a = &model.analyses[ai];
            let levels: Vec<Option<u32>> = match a.within {
                None => vec![None],
                Some(_) => a.levels.iter().map(|&l| Some(l as u32)).collect(),
            };
            a.outcomes
                .iter()
                .flat_map(|&o| levels.iter().map(move |&l| (o, l)))
                .collect()
        })
        .collect();
    let parts = simulate_chunks(
        &sim,
        settings,
        || {
            let acc: Vec<Vec<Gathered>> = cells
                .iter()
                .map(|k| vec![Gathered::default(); k.len()])
                .collect();
            (acc, ComplierScratch::default())
        },
        |(acc, scratch), w, _| {
            for (k, &ai) in wanted.iter().enumerate() {
                let a = &model.analyses[ai];
                let effects = complier_effects(model, a, &w.table, &|_| true, CONFIDENCE, scratch);
                for (j, e) in effects.iter().enumerate().take(cells[k].len()) {
                    let Some(e) = e.as_ref().filter(|e| e.estimate.is_finite()) else {
                        continue;
                    };
                    let g = &mut acc[k][j];
                    g.estimates.push(e.estimate);
                    g.intervals.push(e.ci);
                    g.rejected += u64::from(e.p_value < a.alpha);
                    g.weak += u64::from(e.weak);
                    if let Some(d) = receipt_difference(&w.table, a, cells[k][j].1) {
                        g.shares += 1;
                        g.share_sum += d;
                        g.share_sum_sq += d * d;
                    }
                }
            }
        },
    );
    // Gathered in chunk order: the same figures for any number of threads.
    let mut total: Vec<Vec<Gathered>> = cells
        .iter()
        .map(|k| vec![Gathered::default(); k.len()])
        .collect();
    for (part, _) in parts {
        for (t, p) in total.iter_mut().zip(part) {
            for (a, b) in t.iter_mut().zip(p) {
                a.estimates.extend(b.estimates);
                a.intervals.extend(b.intervals);
                a.rejected += b.rejected;
                a.shares += b.shares;
                a.share_sum += b.share_sum;
                a.share_sum_sq += b.share_sum_sq;
                a.weak += b.weak;
            }
        }
    }
    Ok(wanted
        .iter()
        .zip(total)
        .map(|(&ai, gathered)| {
            let contrasts = report
                .analyses
                .get(ai)
                .map_or(&[][..], |a| &a.contrasts[..]);
            AnalysisCompliers {
                analysis: model.analyses[ai].name.clone(),
                contrasts: gathered
                    .into_iter()
                    .zip(contrasts)
                    .map(|(mut g, c)| {
                        let n = g.estimates.len() as u64;
                        g.estimates.sort_by(f64::total_cmp);
                        let median = Estimate {
                            value: quantile(&g.estimates, 0.5),
                            mc_se: 1.2533
                                * (quantile(&g.estimates, 0.75) - quantile(&g.estimates, 0.25))
                                / 1.349
                                / (n as f64).sqrt(),
                        };
                        let first = Estimate::of(g.share_sum, g.share_sum_sq, g.shares as f64);
                        // ITT / first stage, its MC SE by the delta method.
                        let truth = c.true_effect.filter(|_| first.value != 0.0).map(|itt| {
                            let itt_se = c.true_effect_mc_se.unwrap_or(0.0);
                            let f = first.value;
                            Estimate {
                                value: itt / f,
                                mc_se: ((itt_se / f).powi(2)
                                    + (itt * first.mc_se / (f * f)).powi(2))
                                .sqrt(),
                            }
                        });
                        let covered = truth.map(|t| {
                            let k = g
                                .intervals
                                .iter()
                                .filter(|(lo, hi)| *lo <= t.value && t.value <= *hi)
                                .count() as u64;
                            Estimate::share(k, n)
                        });
                        ContrastCompliers {
                            outcome: c.outcome.clone(),
                            subgroup: c
                                .subgroup
                                .as_ref()
                                .map(|s| crate::model::subgroup_label(&s.variable, &s.level)),
                            replicates: n,
                            median_bias: truth.map(|t| median.value - t.value),
                            true_effect: truth,
                            median,
                            power: Estimate::share(g.rejected, n),
                            coverage: covered,
                            first_stage: first,
                            weak: g.weak as f64 / n as f64,
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}

/// The `q` quantile of sorted values (linear between order statistics); NaN when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let at = q * (n - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
        }
    }
}
