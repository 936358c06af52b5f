//! Inverse-probability weighting of a contrast (`missing ipw on age, educ`): in each arm (within
//! the subgroup level, if any) a logistic model of having the outcome observed given the
//! covariates, the observed weighted by 1/p̂ (the Hájek mean), and the difference tested by a z
//! test with the M-estimation sandwich standard error ([`crate::stats::ipw`]).
//!
//! Participants with a covariate missing are left out of both the model and the mean (counted
//! in the result). A categorical covariate enters as indicators of every level but the first.

use serde::Serialize;

use crate::model::{Analysis, TrialModel, VarId};
use crate::stats::dist::{norm_quantile, p_from_z};
use crate::stats::ipw::{EXTREME_WEIGHT, IpwArm, IpwScratch, weighted_mean};
use crate::stats::tests::TestOutcome;
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// What an inverse-probability weighted contrast reports beside the effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpwInfo {
    /// The covariates of the model of being observed, in the order written.
    pub covariates: Vec<String>,
    /// The treatment arm's weighted mean, its model and weights.
    pub treatment: IpwArmInfo,
    /// The control arm's.
    pub control: IpwArmInfo,
    /// Standard error of the weighted difference (M-estimation sandwich).
    pub se: f64,
    /// Participants of the two arms left out because a covariate is missing.
    pub covariate_missing: u64,
    /// Why the effect is undefined, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// One arm of an inverse-probability weighted contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpwArmInfo {
    /// Participants in the model.
    pub n: u64,
    /// Of them, those with the outcome observed.
    pub observed: u64,
    /// The weighted (Hájek) mean.
    pub mean: f64,
    /// Its standard error.
    pub se: f64,
    /// The largest weight 1/p̂.
    pub max_weight: f64,
    /// Whether that weight is above [`EXTREME_WEIGHT`].
    pub extreme_weight: bool,
    /// Terms of the model dropped as constant or collinear in this arm.
    pub dropped: Vec<String>,
    /// Participants without an outcome in a covariate pattern where nobody was observed
    /// (fitted probability 0): the weighted mean cannot stand for them.
    pub separated: u64,
}

/// Per-thread buffers.
#[derive(Default)]
pub(super) struct IpwBuffers {
    stats: IpwScratch,
    y: Vec<f64>,
    columns: Vec<Vec<f64>>,
    /// Per term: (covariate index, level or `u32::MAX` for a numeric term).
    terms: Vec<(usize, u32)>,
}

/// The fit of one contrast by inverse-probability weighting.
pub(super) struct IpwFit {
    pub difference: f64,
    pub ci: (f64, f64),
    pub test: TestOutcome,
    pub info: Option<IpwInfo>,
}

fn value(col: Option<&CovariateColumn>, level: u32, i: usize) -> f64 {
    match col {
        Some(CovariateColumn::Numeric(v)) => v.get(i).copied().unwrap_or(f64::NAN),
        Some(CovariateColumn::Categorical(c)) => match c.get(i) {
            Some(&code) if code != MISSING_CODE => f64::from(u8::from(code == level)),
            _ => f64::NAN,
        },
        None => f64::NAN,
    }
}

/// Weighted difference of `outcome` between the analysis' arms, over the rows `keep` admits.
#[allow(clippy::too_many_arguments)]
pub(super) fn ipw_contrast(
    model: &TrialModel,
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    keep: impl Fn(usize) -> bool,
    confidence: f64,
    with_info: bool,
    b: &mut IpwBuffers,
) -> IpwFit {
    let covariates: &[VarId] = &analysis.missing_covariates;
    let values = table.outcomes.get(outcome).map_or(&[][..], Vec::as_slice);
    b.terms.clear();
    for (k, &var) in covariates.iter().enumerate() {
        match model.population.variables.get(var).and_then(|v| v.levels()) {
            Some(levels) => b.terms.extend((1..levels.len() as u32).map(|l| (k, l))),
            None => b.terms.push((k, u32::MAX)),
        }
    }
    let mut covariate_missing = 0;
    let mut arm = |arm: u32, b: &mut IpwBuffers| -> IpwArm {
        b.y.clear();
        b.columns.resize_with(b.terms.len(), Vec::new);
        for c in &mut b.columns {
            c.clear();
        }
        for (i, &a) in table.arm.iter().enumerate() {
            if a != arm || !keep(i) {
                continue;
            }
            let complete = b
                .terms
                .iter()
                .all(|&(k, level)| !value(table.covariates.get(covariates[k]), level, i).is_nan());
            if !complete {
                covariate_missing += 1;
                continue;
            }
            b.y.push(values.get(i).copied().unwrap_or(f64::NAN));
            for (c, &(k, level)) in b.columns.iter_mut().zip(&b.terms) {
                c.push(value(table.covariates.get(covariates[k]), level, i));
            }
        }
        weighted_mean(&b.y, &b.columns, &mut b.stats)
    };
    let t = arm(analysis.treatment as u32, b);
    let c = arm(analysis.control as u32, b);
    let difference = t.mean - c.mean;
    let se = (t.variance + c.variance).sqrt();
    let z = difference / se;
    let test = if difference.is_nan() || se.is_nan() {
        TestOutcome {
            statistic: f64::NAN,
            p_value: f64::NAN,
        }
    } else {
        TestOutcome {
            statistic: z,
            p_value: p_from_z(z, analysis.sides),
        }
    };
    let q = norm_quantile(0.5 + confidence / 2.0);
    let ci = (difference - q * se, difference + q * se);
    let info = with_info.then(|| {
        let name = |k: usize| {
            model
                .population
                .variables
                .get(covariates[k])
                .map_or("", |v| v.name.as_str())
        };
        let term_name = |j: usize| {
            let (k, level) = b.terms[j];
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
        let arm_info = |a: &IpwArm| IpwArmInfo {
            n: a.n,
            observed: a.observed,
            mean: a.mean,
            se: a.variance.sqrt(),
            max_weight: a.max_weight,
            extreme_weight: a.max_weight > EXTREME_WEIGHT,
            dropped: a.dropped.iter().map(|&j| term_name(j)).collect(),
            separated: a.separated,
        };
        let arm_name = |arm: usize| model.arms.get(arm).map_or("", |a| a.name.as_str());
        let flag = [(&t, analysis.treatment), (&c, analysis.control)]
            .iter()
            .find_map(|(a, id)| a.flag.map(|f| format!("{} arm: {f}", arm_name(*id))));
        IpwInfo {
            covariates: (0..covariates.len()).map(|k| name(k).to_owned()).collect(),
            treatment: arm_info(&t),
            control: arm_info(&c),
            se,
            covariate_missing,
            flag,
        }
    });
    IpwFit {
        difference,
        ci,
        test,
        info,
    }
}
