//! Numeric parameters of a checked model addressed by dotted paths, such as
//! `arm.experiment.team_zorg.share` or `n_per_arm`. Sweeps vary them, assurance draws them from
//! a distribution of belief, and both go through [`set`], which keeps the model valid: changing
//! a path's share moves the arm's `rest` path with it.

use std::fmt;

use crate::model::{DirectValue, Distribution, TrialModel};

/// Why a parameter path could not be read or set.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    /// No parameter has this path; `suggestion` is the closest one that exists.
    Unknown {
        /// The path as given.
        path: String,
        /// The nearest existing path, if any is close.
        suggestion: Option<String>,
    },
    /// The value is outside what the parameter admits.
    OutOfRange {
        /// The path.
        path: String,
        /// The value given.
        value: f64,
        /// What the parameter admits.
        expected: &'static str,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown {
                path,
                suggestion: Some(s),
            } => {
                write!(f, "no parameter `{path}` in this spec; did you mean `{s}`?")
            }
            Self::Unknown {
                path,
                suggestion: None,
            } => write!(
                f,
                "no parameter `{path}` in this spec; `trialsim sweep FILE --list` shows them"
            ),
            Self::OutOfRange {
                path,
                value,
                expected,
            } => {
                write!(f, "`{path}` cannot be {value}: it must be {expected}")
            }
        }
    }
}

impl std::error::Error for ParamError {}

/// What kind of value a parameter holds, which decides the admitted range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A probability or share in `[0, 1]`.
    Probability,
    /// A whole number of participants (≥ 1).
    Count,
    /// A whole number of months (≥ 0).
    Months,
    /// Any finite real number (a mean).
    Real,
    /// A positive real number (a standard deviation).
    Positive,
    /// A significance level in `(0, 0.5]`.
    Alpha,
}

/// One addressable parameter with its current value.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its path.
    pub path: String,
    /// Its value in the model (probabilities as fractions).
    pub value: f64,
    /// Its kind.
    pub kind: ParamKind,
}

/// The rest path's per-level shares once path `target`'s overall share becomes `value`:
/// `None` when the rest path's share does not vary by level.
fn rest_by_level(
    paths: &[crate::model::SubPath],
    rest: usize,
    target: usize,
    value: f64,
) -> Option<Vec<Option<f64>>> {
    let by = paths.get(rest)?.share_by.as_ref()?;
    Some(
        (0..by.probabilities.len())
            .map(|l| {
                let taken: f64 = paths
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != rest)
                    .map(|(i, p)| {
                        let own = if i == target { value } else { p.share };
                        p.share_by
                            .as_ref()
                            .and_then(|b| b.probabilities.get(l).copied().flatten())
                            .unwrap_or(own)
                    })
                    .sum();
                Some(1.0 - taken)
            })
            .collect(),
    )
}

/// Every numeric parameter of `model` that can be varied, in a stable order.
pub fn list(model: &TrialModel) -> Vec<Param> {
    let mut params = Vec::new();
    let mut push = |path: String, value: f64, kind| params.push(Param { path, value, kind });
    if let Some(sample) = &model.sample {
        let first = sample.first().copied().unwrap_or(0);
        if sample.iter().all(|&n| n == first) {
            push("n_per_arm".into(), f64::from(first), ParamKind::Count);
        }
        for (arm, n) in model.arms.iter().zip(sample) {
            push(
                format!("sample.{}", arm.name),
                f64::from(*n),
                ParamKind::Count,
            );
        }
    } else {
        push("n_per_arm".into(), f64::NAN, ParamKind::Count);
    }
    if let Some(pool) = model.population.pool {
        push("population.pool".into(), pool as f64, ParamKind::Count);
    }
    if let Some(screening) = &model.eligibility.screening {
        push(
            "eligibility.screening".into(),
            screening.planned_loss,
            ParamKind::Probability,
        );
    }
    push(
        "employment.job_loss".into(),
        model.employment.job_loss_per_month,
        ParamKind::Probability,
    );
    for arm in &model.arms {
        let prefix = format!("arm.{}", arm.name);
        let single = arm.paths.len() == 1 && arm.paths[0].name == arm.name;
        for path in &arm.paths {
            let base = if single {
                prefix.clone()
            } else {
                format!("{prefix}.{}", path.name)
            };
            if !single {
                push(format!("{base}.share"), path.share, ParamKind::Probability);
            }
            push(
                format!("{base}.work"),
                path.work.probability,
                ParamKind::Probability,
            );
            push(
                format!("{base}.delay"),
                f64::from(path.delay_months),
                ParamKind::Months,
            );
        }
        push(
            format!("{prefix}.baseline"),
            arm.baseline_employment,
            ParamKind::Probability,
        );
        if let Some(d) = &arm.dropout {
            push(format!("{prefix}.dropout"), d.share, ParamKind::Probability);
        }
        if let Some(e) = &arm.exemption {
            push(
                format!("{prefix}.exemption"),
                e.share,
                ParamKind::Probability,
            );
        }
        if let Some(x) = &arm.non_work_exit {
            push(
                format!("{prefix}.non_work_exit"),
                x.probability,
                ParamKind::Probability,
            );
        }
        if let Some(c) = &arm.crossover {
            push(
                format!("{prefix}.crossover"),
                c.share,
                ParamKind::Probability,
            );
        }
        for direct in &arm.direct_outcomes {
            let Some(outcome) = model.outcomes.get(direct.outcome) else {
                continue;
            };
            let name = format!("{prefix}.{}", outcome.name);
            match &direct.value {
                DirectValue::Binary { probability } => {
                    push(name, *probability, ParamKind::Probability);
                }
                DirectValue::Continuous {
                    distribution: Distribution::Normal { mean, sd },
                } => {
                    push(format!("{name}.mean"), *mean, ParamKind::Real);
                    push(format!("{name}.sd"), *sd, ParamKind::Positive);
                }
                DirectValue::Continuous { .. } => {}
            }
        }
    }
    for analysis in &model.analyses {
        push(
            format!("analysis.{}.alpha", analysis.name),
            analysis.alpha,
            ParamKind::Alpha,
        );
    }
    params
}

/// The current value of the parameter at `path`.
pub fn get(model: &TrialModel, path: &str) -> Result<Param, ParamError> {
    let params = list(model);
    match params.iter().find(|p| p.path == path) {
        Some(param) => Ok(param.clone()),
        None => Err(unknown(path, &params)),
    }
}

/// Sets the parameter at `path` to `value`, keeping the model valid.
///
/// Either the whole change is made or, on an error, the model is left as it was.
pub fn set(model: &mut TrialModel, path: &str, value: f64) -> Result<(), ParamError> {
    let mut changed = model.clone();
    apply(&mut changed, path, value)?;
    *model = changed;
    Ok(())
}

fn apply(model: &mut TrialModel, path: &str, value: f64) -> Result<(), ParamError> {
    let param = get(model, path)?;
    check_range(path, value, param.kind)?;
    let out_of_range = |expected| ParamError::OutOfRange {
        path: path.to_string(),
        value,
        expected,
    };
    let segments: Vec<&str> = path.split('.').collect();
    match segments.as_slice() {
        ["n_per_arm"] => {
            let n = value.round() as u32;
            model.sample = Some(vec![n; model.arms.len()]);
        }
        ["sample", arm] => {
            let index = arm_index(model, arm).ok_or_else(|| unknown(path, &[]))?;
            let sample = model.sample.get_or_insert_with(Vec::new);
            sample.resize(model.arms.len(), 0);
            sample[index] = value.round() as u32;
        }
        ["population", "pool"] => model.population.pool = Some(value.round() as u64),
        ["eligibility", "screening"] => {
            if let Some(s) = model.eligibility.screening.as_mut() {
                s.planned_loss = value;
            }
        }
        ["employment", "job_loss"] => model.employment.job_loss_per_month = value,
        ["analysis", name, "alpha"] => {
            if let Some(a) = model.analyses.iter_mut().find(|a| a.name == *name) {
                a.alpha = value;
            }
        }
        ["arm", arm, rest @ ..] => {
            let index = arm_index(model, arm).ok_or_else(|| unknown(path, &[]))?;
            let outcome_names: Vec<String> =
                model.outcomes.iter().map(|o| o.name.clone()).collect();
            let arm = &mut model.arms[index];
            let single = arm.paths.len() == 1 && arm.paths[0].name == arm.name;
            match rest {
                ["baseline"] => arm.baseline_employment = value,
                ["dropout"] => set_some(arm.dropout.as_mut().map(|d| &mut d.share), value),
                ["exemption"] => set_some(arm.exemption.as_mut().map(|e| &mut e.share), value),
                ["non_work_exit"] => {
                    set_some(
                        arm.non_work_exit.as_mut().map(|x| &mut x.probability),
                        value,
                    );
                }
                ["crossover"] => set_some(arm.crossover.as_mut().map(|c| &mut c.share), value),
                ["work"] if single => arm.paths[0].work.probability = value,
                ["delay"] if single => arm.paths[0].delay_months = value.round() as u32,
                [path_name, "work"] => {
                    if let Some(p) = arm.paths.iter_mut().find(|p| p.name == *path_name) {
                        p.work.probability = value;
                    }
                }
                [path_name, "delay"] => {
                    if let Some(p) = arm.paths.iter_mut().find(|p| p.name == *path_name) {
                        p.delay_months = value.round() as u32;
                    }
                }
                [path_name, "share"] => {
                    let Some(target) = arm.paths.iter().position(|p| p.name == *path_name) else {
                        return Err(unknown(path, &[]));
                    };
                    let rest = arm
                        .paths
                        .iter()
                        .position(|p| p.rest && p.name != *path_name);
                    let others: f64 = arm
                        .paths
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != target && Some(*i) != rest)
                        .map(|(_, p)| p.share)
                        .sum();
                    // Shares that differ by level keep their proportions to the path's share
                    // (so a share of 0 removes the path at every level), and the rest path
                    // follows at every level, too.
                    let old_share = arm.paths[target].share;
                    if let Some(by) = arm.paths[target].share_by.as_mut() {
                        for level in by.probabilities.iter_mut().flatten() {
                            *level = if old_share > 0.0 {
                                *level * value / old_share
                            } else {
                                value
                            };
                            if *level > 1.0 + 1e-12 {
                                return Err(out_of_range(
                                    "small enough that the share at every level of the covariate stays at most 100 %",
                                ));
                            }
                        }
                    }
                    let rest_by = match rest {
                        Some(r) => rest_by_level(&arm.paths, r, target, value),
                        None => None,
                    };
                    if rest_by
                        .as_ref()
                        .is_some_and(|v| v.iter().any(|x| x.is_some_and(|x| x < -1e-12)))
                    {
                        return Err(out_of_range(
                            "at most what the other paths leave at every level of the covariate the shares depend on",
                        ));
                    }
                    match rest {
                        Some(r) if others + value <= 1.0 + 1e-12 => {
                            arm.paths[target].share = value;
                            arm.paths[r].share = (1.0 - others - value).max(0.0);
                            if let (Some(by), Some(levels)) = (&mut arm.paths[r].share_by, rest_by)
                            {
                                by.probabilities =
                                    levels.into_iter().map(|x| x.map(|x| x.max(0.0))).collect();
                            }
                        }
                        Some(_) => return Err(out_of_range("at most what the other paths leave")),
                        None => {
                            if (others + value - 1.0).abs() > 1e-9 {
                                return Err(out_of_range(
                                    "such that the arm's shares add up to 100 % (declare another path as `rest`)",
                                ));
                            }
                            arm.paths[target].share = value;
                        }
                    }
                }
                [outcome, field @ ..] => {
                    let Some(outcome_index) = outcome_names.iter().position(|o| o == outcome)
                    else {
                        return Err(unknown(path, &[]));
                    };
                    let Some(direct) = arm
                        .direct_outcomes
                        .iter_mut()
                        .find(|d| d.outcome == outcome_index)
                    else {
                        return Err(unknown(path, &[]));
                    };
                    match (&mut direct.value, field) {
                        (DirectValue::Binary { probability }, []) => *probability = value,
                        (
                            DirectValue::Continuous {
                                distribution: Distribution::Normal { mean, .. },
                            },
                            ["mean"],
                        ) => *mean = value,
                        (
                            DirectValue::Continuous {
                                distribution: Distribution::Normal { sd, .. },
                            },
                            ["sd"],
                        ) => *sd = value,
                        _ => return Err(unknown(path, &[])),
                    }
                }
                [] => return Err(unknown(path, &[])),
            }
        }
        _ => return Err(unknown(path, &[])),
    }
    Ok(())
}

fn set_some(slot: Option<&mut f64>, value: f64) {
    if let Some(slot) = slot {
        *slot = value;
    }
}

fn arm_index(model: &TrialModel, name: &str) -> Option<usize> {
    model.arms.iter().position(|a| a.name == name)
}

fn check_range(path: &str, value: f64, kind: ParamKind) -> Result<(), ParamError> {
    let (ok, expected) = match kind {
        ParamKind::Probability => ((0.0..=1.0).contains(&value), "between 0 % and 100 %"),
        ParamKind::Count => (
            (1.0..=1e9).contains(&value),
            "a whole number from 1 to 10^9",
        ),
        ParamKind::Months => (
            (0.0..=1200.0).contains(&value),
            "a number of months from 0 to 1200",
        ),
        ParamKind::Real => (value.is_finite(), "a finite number"),
        ParamKind::Positive => (value.is_finite() && value > 0.0, "a positive number"),
        ParamKind::Alpha => (value > 0.0 && value <= 0.5, "in (0, 0.5]"),
    };
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(ParamError::OutOfRange {
            path: path.to_string(),
            value,
            expected,
        })
    }
}

fn unknown(path: &str, params: &[Param]) -> ParamError {
    let suggestion = params
        .iter()
        .map(|p| (strsim::jaro_winkler(path, &p.path), &p.path))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p.clone());
    ParamError::Unknown {
        path: path.to_string(),
        suggestion,
    }
}
