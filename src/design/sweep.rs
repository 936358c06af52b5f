//! Parameter sweeps: power over a grid of values of one or more parameters addressed by path
//! (`--vary arm.experiment.team_zorg.share=20%..35%:5%`). Every point runs with the same seed and
//! scenario 0, so replicate r draws the same stream at every point (common random numbers), and a
//! point equals `trialsim power` on the spec with that value.

use miette::{NamedSource, SourceSpan};
use serde::Serialize;

use super::{DesignError, Evaluation, evaluate, focus};
use crate::model::{AnalysisId, TrialModel};
use crate::params::{self, ParamError, ParamKind};

/// Most points a sweep may have (over all axes).
pub const MAX_POINTS: usize = 10_000;

/// A bad `--vary` argument, pointing into the argument.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(trialsim::sweep::vary))]
pub struct VaryError {
    message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
}

impl VaryError {
    fn new(
        flag: &str,
        text: &str,
        range: std::ops::Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Box<Self> {
        Box::new(Self {
            message: message.into(),
            source_code: NamedSource::new(flag, text.to_string()),
            span: (range.start, range.end - range.start).into(),
            label: label.into(),
            help,
        })
    }
}

/// One varied parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Axis {
    /// Its path.
    pub path: String,
    /// The values, in canonical units (probabilities as fractions).
    pub values: Vec<f64>,
    /// Its value in the spec.
    pub spec_value: f64,
    /// Whether it is a probability (shown as a percentage).
    pub percent: bool,
    /// Its unit in words, for axis labels and table headers.
    pub unit: &'static str,
}

fn unit_of(param: &params::Param) -> &'static str {
    match param.kind {
        ParamKind::Probability | ParamKind::Alpha | ParamKind::Icc => "%",
        ParamKind::Count if param.path == "clusters.per_arm" => "clusters",
        ParamKind::Count if param.path.starts_with("inflow.period.") => "intakes",
        ParamKind::Count if param.path == "capacity.staff" => "staff",
        ParamKind::Count if param.path == "capacity.caseload" => "clients each",
        ParamKind::Count => "participants",
        ParamKind::Months => "months",
        ParamKind::Euro => "euro",
        ParamKind::Positive if param.path == "capacity.intakes_per_month" => "per month",
        ParamKind::Real | ParamKind::Positive => "",
        ParamKind::Ratio => "x",
    }
}

/// A number in a `--vary` range: `0.25`, `25%`, `180`.
fn number(text: &str) -> Option<(f64, bool)> {
    let t = text.trim();
    let (t, percent) = match t.strip_suffix('%') {
        Some(rest) => (rest.trim(), true),
        None => (t, false),
    };
    let v: f64 = t.parse().ok()?;
    v.is_finite()
        .then_some((if percent { v / 100.0 } else { v }, percent))
}

/// Parses `PATH=FROM..TO[:STEP]`, `PATH=A,B,C` or `PATH=V` against `model`'s parameters.
/// Without a step, a range has 11 evenly spaced points (whole numbers for counts and months).
pub fn parse_vary(model: &TrialModel, text: &str) -> Result<Axis, Box<VaryError>> {
    let flag = "--vary";
    let Some(eq) = text.find('=') else {
        return Err(VaryError::new(
            flag,
            text,
            0..text.len(),
            "a `--vary` needs a path and values",
            "no `=` here",
            Some(
                "write PATH=FROM..TO[:STEP], e.g. arm.experiment.team_zorg.share=20%..35%:5%"
                    .into(),
            ),
        ));
    };
    let path = text[..eq].trim();
    let path_range = 0..eq.max(1);
    let param = match params::get(model, path) {
        Ok(p) => p,
        Err(ParamError::Unknown { suggestion, .. }) => {
            return Err(VaryError::new(
                flag,
                text,
                path_range,
                format!("no parameter `{path}` in this spec"),
                "unknown parameter",
                Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`trialsim sweep FILE --list` shows every parameter".into(),
                }),
            ));
        }
        Err(ParamError::Overridden {
            reason, effective, ..
        }) => {
            let help = params::vary_instead(&effective);
            return Err(VaryError::new(
                flag,
                text,
                path_range,
                format!("`{path}` takes no effect in this spec: {reason}"),
                "varying this changes nothing",
                help,
            ));
        }
        Err(e) => {
            return Err(VaryError::new(
                flag,
                text,
                path_range,
                e.to_string(),
                "here",
                None,
            ));
        }
    };
    let spec = &text[eq + 1..];
    let spec_range = eq + 1..text.len().max(eq + 2);
    let bad = |message: String, help: &str| {
        VaryError::new(
            flag,
            text,
            spec_range.clone(),
            message,
            "these values",
            Some(help.into()),
        )
    };
    let form =
        "write FROM..TO[:STEP] (e.g. 20%..35%:5% or 100..300:20), a list A,B,C, or one value";
    let mut percent_used = false;
    let mut num = |s: &str| -> Result<f64, Box<VaryError>> {
        let (v, p) =
            number(s).ok_or_else(|| bad(format!("`{}` is not a number", s.trim()), form))?;
        percent_used |= p;
        Ok(v)
    };
    let integer = param.kind.is_integer();
    let mut values: Vec<f64> = if let Some((from, rest)) = spec.split_once("..") {
        let (to, step) = match rest.split_once(':') {
            Some((to, step)) => (to, Some(step)),
            None => (rest, None),
        };
        let (from, to) = (num(from)?, num(to)?);
        let step = step.map(&mut num).transpose()?;
        if to < from {
            let shown = |v: f64| {
                if percent_used {
                    super::pct(v)
                } else {
                    format!("{v}")
                }
            };
            return Err(bad(
                format!(
                    "the range runs backwards (from {} down to {})",
                    shown(from),
                    shown(to)
                ),
                "give the smaller value first",
            ));
        }
        match step {
            Some(step) if step <= 0.0 => {
                return Err(bad("the step must be positive".into(), form));
            }
            Some(step) => {
                let count = ((to - from) / step + 1e-9).floor() + 1.0;
                if count > MAX_POINTS as f64 {
                    return Err(bad(
                        format!("{count} points are too many (at most {MAX_POINTS})"),
                        "use a larger step",
                    ));
                }
                (0..count as usize)
                    .map(|i| from + step * i as f64)
                    .collect()
            }
            None if to == from => vec![from],
            None => (0..=10)
                .map(|i| from + (to - from) * f64::from(i) / 10.0)
                .collect(),
        }
    } else {
        spec.split(',').map(&mut num).collect::<Result<_, _>>()?
    };
    if percent_used && !param.kind.is_percent() {
        return Err(bad(
            format!("`{path}` is not a probability, so it takes no percentages"),
            "give plain numbers",
        ));
    }
    // Clean up binary noise (0.1 + 0.05 × 3) and round whole-number parameters.
    for v in &mut values {
        *v = if integer {
            v.round()
        } else {
            (*v * 1e12).round() / 1e12
        };
    }
    let mut seen: Vec<f64> = Vec::with_capacity(values.len());
    values.retain(|v| {
        let new = !seen.contains(v);
        seen.push(*v);
        new
    });
    if values.is_empty() {
        return Err(bad("no values".into(), form));
    }
    for &v in &values {
        let mut probe = model.clone();
        if let Err(e) = params::set(&mut probe, path, v) {
            let shown = if param.kind.is_percent() {
                super::pct(v)
            } else {
                format!("{v}")
            };
            return Err(bad(
                format!("`{path}` cannot be {shown}"),
                &match e {
                    ParamError::OutOfRange { expected, .. } => format!("it must be {expected}"),
                    other => other.to_string(),
                },
            ));
        }
    }
    Ok(Axis {
        path: path.to_string(),
        values,
        spec_value: param.value,
        percent: param.kind.is_percent(),
        unit: unit_of(&param),
    })
}

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    /// The value of each axis, in axis order.
    pub values: Vec<f64>,
    /// Power and truth at this point.
    #[serde(flatten)]
    pub result: Evaluation,
}

/// A whole sweep. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// Trial name.
    pub spec: String,
    /// Analysis name.
    pub analysis: String,
    /// Outcome of its first contrast.
    pub outcome: String,
    /// Whether that outcome is binary (its true effect in percentage points) or continuous (in
    /// its own unit): for the text table only.
    #[serde(skip)]
    pub binary_outcome: bool,
    /// Master seed.
    pub seed: u64,
    /// Replicates per point.
    pub replicates: u64,
    /// The varied parameters.
    pub axes: Vec<Axis>,
    /// The grid, the last axis varying fastest.
    pub points: Vec<SweepPoint>,
    /// The spec's own design, with the same seed (null when the spec fixes neither a sample nor
    /// a pool).
    pub spec_point: Option<Evaluation>,
}

/// Every combination of the axes' values, the last axis varying fastest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |&v| {
                    let mut p = prefix.clone();
                    p.push(v);
                    p
                })
            })
            .collect();
    }
    out
}

/// `model` with the axes set to `values`. The axes are resolved on `model` itself, so that an
/// axis that takes no effect at this point only because of another axis' value (a delay at a
/// 0 % rate) is still set; [`run_sweep`] refuses an axis that takes effect at no point.
pub fn apply(model: &TrialModel, axes: &[Axis], values: &[f64]) -> Result<TrialModel, DesignError> {
    let handles = axes
        .iter()
        .map(|a| params::handle(model, &a.path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut m = model.clone();
    for (h, &v) in handles.iter().zip(values) {
        h.set(&mut m, v)?;
    }
    Ok(m)
}

/// Refuses an axis that takes effect at no point of the grid, because another axis overrides it
/// (varying `n_per_arm` fixes the sample, so the pool of a pool design takes no effect).
fn check_axes_take_effect(model: &TrialModel, axes: &[Axis]) -> Result<(), DesignError> {
    let points = grid(axes);
    for axis in axes {
        let mut last = None;
        let mut effective = false;
        for values in &points {
            match params::get(&apply(model, axes, values)?, &axis.path) {
                Ok(_) => {
                    effective = true;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let (false, Some(e)) = (effective, last) {
            return Err(e.into());
        }
    }
    Ok(())
}

/// Runs the sweep: power of `analysis` at every grid point and at the spec's own values.
pub fn run_sweep(
    model: &TrialModel,
    analysis: AnalysisId,
    axes: &[Axis],
    seed: u64,
    replicates: u64,
    progress: &dyn Fn(usize, usize),
) -> Result<SweepReport, DesignError> {
    let a = model
        .analyses
        .get(analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    if total > MAX_POINTS {
        return Err(DesignError::with_help(
            format!("the grid has {total} points (at most {MAX_POINTS})"),
            "use fewer values per --vary",
        ));
    }
    let focused = focus(model, analysis);
    check_axes_take_effect(&focused, axes)?;
    let mut points = Vec::with_capacity(total);
    // Stopped by Ctrl-C ([`super::stopped`]): the points done so far, without the spec's own.
    let mut stopped = false;
    for (i, values) in grid(axes).into_iter().enumerate() {
        let m = apply(&focused, axes, &values)?;
        let result = match evaluate(&m, analysis, seed, replicates) {
            Ok(r) => r,
            Err(_) if super::stopped() => {
                stopped = true;
                break;
            }
            Err(e) => return Err(e),
        };
        points.push(SweepPoint { values, result });
        progress(i + 1, total);
    }
    let spec_point = if stopped {
        None
    } else if focused.sample.is_some() || focused.population.pool.is_some() {
        match evaluate(&focused, analysis, seed, replicates) {
            Ok(e) => Some(e),
            Err(_) if super::stopped() => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    Ok(SweepReport {
        spec: model.name.clone(),
        analysis: a.name.clone(),
        outcome: a
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .map_or_else(String::new, |o| o.name.clone()),
        binary_outcome: a
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .is_none_or(|o| o.is_binary()),
        seed,
        replicates,
        axes: axes.to_vec(),
        points,
        spec_point,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn almere_plan() -> TrialModel {
        let source = crate::source::SourceFile::new(
            "almere-45plus.trial",
            include_str!("../../specs/almere-45plus.trial"),
        );
        crate::check::compile(&source)
            .expect("the shipped spec checks")
            .model
    }

    #[test]
    fn ranges_lists_and_percentages() {
        let model = almere_plan();
        let a = parse_vary(&model, "arm.experiment.team_zorg.share=20%..35%:5%").expect("valid");
        assert_eq!(a.values, vec![0.2, 0.25, 0.3, 0.35]);
        assert!(a.percent);
        assert_eq!(a.spec_value, 0.25);
        let b = parse_vary(&model, "n_per_arm=100..200").expect("valid");
        assert_eq!(b.values.len(), 11);
        assert_eq!(b.values[1], 110.0);
        let c = parse_vary(&model, "n_per_arm=150,180,150.4").expect("valid");
        assert_eq!(c.values, vec![150.0, 180.0]);
        let d = parse_vary(&model, "arm.control.work=0.1").expect("valid");
        assert_eq!(d.values, vec![0.1]);
    }

    #[test]
    fn bad_arguments_are_refused() {
        let model = almere_plan();
        for bad in [
            "n_per_arm",
            "n_per_arm=",
            "n_per_arm=a..b",
            "n_per_arm=200..100",
            "n_per_arm=100..200:0",
            "n_per_arm=100..200:-5",
            "n_per_arm=0..10",
            "n_per_arm=1..100000000:1",
            "arm.experiment.team_zorg.share=120%",
            "arm.nobody.work=10%",
            // Values that take no effect: the rest path's share, the pool of a fixed sample.
            "arm.experiment.guided.share=50%",
            "population.pool=300..500:100",
            "=1",
        ] {
            assert!(parse_vary(&model, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_varies_the_last_axis_fastest() {
        let axis = |path: &str, values: Vec<f64>| Axis {
            path: path.into(),
            values,
            spec_value: 0.0,
            percent: false,
            unit: "",
        };
        let g = grid(&[axis("a", vec![1.0, 2.0]), axis("b", vec![3.0, 4.0, 5.0])]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![1.0, 3.0]);
        assert_eq!(g[1], vec![1.0, 4.0]);
        assert_eq!(g[5], vec![2.0, 5.0]);
    }
}
