//! Minimum detectable effect by simulation: the value of one parameter (a rate, a share, a mean)
//! at which the power of an analysis first reaches the target, and the effect it implies.
//!
//! The parameter moves the effect of the analysis' first contrast (treatment − control). The
//! search runs on a grid of values that starts where that effect is zero (or, when no value
//! makes it zero, at the end of the parameter's range where it is smallest) and steps towards a
//! larger effect in the tested direction: up for `one_sided greater`, down for `one_sided less`,
//! and, two-sided, the direction of the spec's own effect. Along that grid the power rises from
//! about α, so [`super::size::search`] finds the first grid value that reaches the target with
//! the same seed at every value (common random numbers), confirmed with many replicates. Beside
//! it: the value where the normal approximation (and, for two proportions, the exact power of
//! the test) reaches the target, at the same arm sizes.

use serde::Serialize;

use super::size::{GridError, GridSearch, search};
use super::{DesignError, closed_form_power, evaluate, exact_means, focus, pct};
use crate::model::{AnalysisId, Sides, TrialModel};
use crate::params::{self, ParamKind};

/// What `trialsim mde` asks.
#[derive(Debug, Clone, PartialEq)]
pub struct MdeQuestion {
    /// The analysis whose first contrast must reach the target.
    pub analysis: AnalysisId,
    /// The parameter varied (a path of `trialsim sweep --list`).
    pub path: String,
    /// The power to reach.
    pub target: f64,
    /// Master seed, the same at every value (common random numbers).
    pub seed: u64,
    /// Replicates per confirming evaluation; bracketing and bisection use a tenth (at least 500).
    pub replicates: u64,
}

/// Power at one value of the parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MdePoint {
    /// The parameter's value.
    pub value: f64,
    /// Estimated power.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// Replicates behind the estimate.
    pub replicates: u64,
}

/// The answer of `trialsim mde`. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MdeReport {
    /// Trial name.
    pub spec: String,
    /// Analysis name.
    pub analysis: String,
    /// Outcome of its first contrast.
    pub outcome: String,
    /// Treatment and control arm names.
    pub arms: (String, String),
    /// Participants in the treatment and control arms (null when the pool decides).
    pub arm_sizes: Option<(u32, u32)>,
    /// The parameter varied.
    pub path: String,
    /// Whether it is a probability (shown as a percentage).
    pub percent: bool,
    /// The target power.
    pub target: f64,
    /// Master seed.
    pub seed: u64,
    /// The parameter's value in the spec.
    pub spec_value: f64,
    /// Where the search starts: the value at which the effect is zero (or the end of the range
    /// where it is smallest).
    pub null_value: f64,
    /// Whether the effect is zero at `null_value` (else no value makes it zero, and the search
    /// starts at the end of the range where it is smallest).
    pub null_is_zero: bool,
    /// Whether the effect grows with the parameter (the answer is then a smallest value; else a
    /// largest one).
    pub increasing: bool,
    /// The grid's step.
    pub resolution: f64,
    /// The simulated answer: the first value on the grid, from `null_value` towards a larger
    /// effect, whose power reaches the target.
    pub value: f64,
    /// The effect (treatment − control) at the answer: exact where the model allows, else the
    /// mean simulated estimate.
    pub effect: f64,
    /// Whether `effect` is exact.
    pub effect_exact: bool,
    /// Whether the outcome is binary (the effect is then a difference of proportions).
    pub binary: bool,
    /// Treatment-arm mean (proportion) at the answer, exact where computable.
    pub treatment: Option<f64>,
    /// Control-arm mean at the answer, exact where computable.
    pub control: Option<f64>,
    /// Simulated power at the answer.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval of that power.
    pub power_ci: (f64, f64),
    /// The grid value one step before the answer, and the simulated power there.
    pub below: Option<MdePoint>,
    /// Where the normal-approximation power reaches the target: the value and its effect (null
    /// where no formula applies).
    pub closed_form_value: Option<f64>,
    /// See `closed_form_value`.
    pub closed_form_effect: Option<f64>,
    /// Where the exact power of the test reaches the target (two proportions).
    pub exact_value: Option<f64>,
    /// See `exact_value`.
    pub exact_effect: Option<f64>,
    /// Every evaluation of the search, in order.
    pub evaluations: Vec<MdePoint>,
}

/// The parameter's line: values, the model at a value, and the effect there.
struct Line<'a> {
    focused: &'a TrialModel,
    analysis: AnalysisId,
    path: &'a str,
    seed: u64,
    replicates: u64,
}

impl Line<'_> {
    fn model(&self, value: f64) -> Result<TrialModel, DesignError> {
        let mut m = self.focused.clone();
        params::set(&mut m, self.path, value)?;
        Ok(m)
    }

    /// Whether the parameter admits `value`.
    fn admits(&self, value: f64) -> bool {
        value.is_finite() && self.model(value).is_ok()
    }

    /// The effect at `value`: exact where the model allows, else the mean simulated estimate
    /// (the same seed at every value, so the estimates move smoothly).
    fn effect(&self, value: f64) -> Result<(f64, bool), DesignError> {
        let m = self.model(value)?;
        if let Some([t, c, ..]) = exact_means(&m, self.analysis) {
            return Ok((t - c, true));
        }
        let report = crate::power::run_power(
            &m,
            &crate::power::PowerSettings {
                seed: self.seed,
                replicates: (self.replicates / 10).clamp(200, 2_000),
                n_per_arm: None,
                scenario: 0,
            },
            &|_| {},
        )?;
        report
            .analyses
            .get(self.analysis)
            .and_then(|a| a.contrasts.first())
            .and_then(|c| c.true_effect.or(c.mean_estimate))
            .filter(|e| e.is_finite())
            .map(|e| (e, false))
            .ok_or_else(|| DesignError::new("the effect of this analysis cannot be estimated"))
    }
}

/// The range a parameter kind admits (an unbounded end is infinite).
fn range_of(kind: ParamKind) -> (f64, f64) {
    match kind {
        ParamKind::Probability => (0.0, 1.0),
        ParamKind::Months => (0.0, 1200.0),
        ParamKind::Positive => (0.0, f64::INFINITY),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Finds, by simulation, the value of `question.path` at which the power reaches the target.
pub fn mde_for_model(model: &TrialModel, question: &MdeQuestion) -> Result<MdeReport, DesignError> {
    if !(question.target > 0.0 && question.target < 1.0) {
        return Err(DesignError::with_help(
            format!("a target power of {} cannot be reached", question.target),
            "give it as a fraction or percentage strictly between 0 and 1, e.g. 0.8 or 80%",
        ));
    }
    super::check_resolvable(question.target, question.replicates, None)?;
    let a = model
        .analyses
        .get(question.analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    let param = params::get(model, &question.path)?;
    match param.kind {
        ParamKind::Count => {
            return Err(DesignError::with_help(
                format!(
                    "`{}` is a number of participants, which changes the power but not the effect",
                    question.path
                ),
                "`trialsim size` finds the number of participants that reaches the target",
            ));
        }
        ParamKind::Alpha => {
            return Err(DesignError::with_help(
                format!(
                    "`{}` is the test's level, which changes the power but not the effect",
                    question.path
                ),
                "vary a rate or share of the treatment or control arm, e.g. `arm.NAME.work`",
            ));
        }
        _ => {}
    }
    let binary = a
        .outcomes
        .first()
        .and_then(|&o| model.outcomes.get(o))
        .is_some_and(|o| o.is_binary());
    let focused = focus(model, question.analysis);
    let line = Line {
        focused: &focused,
        analysis: question.analysis,
        path: &question.path,
        seed: question.seed,
        replicates: question.replicates,
    };
    let spec_value = param.value;
    if !spec_value.is_finite() {
        return Err(DesignError::new(format!(
            "`{}` has no value in this spec to start from",
            question.path
        )));
    }
    let (lo, hi) = range_of(param.kind);
    let months = param.kind == ParamKind::Months;

    // Which way along the parameter the effect grows in the tested direction.
    let (e_spec, _) = line.effect(spec_value)?;
    let want = match a.sides {
        Sides::Greater => 1.0,
        Sides::Less => -1.0,
        Sides::TwoSided if e_spec < 0.0 => -1.0,
        Sides::TwoSided => 1.0,
    };
    let scale = if spec_value.abs() > 0.0 {
        spec_value.abs()
    } else {
        1.0
    };
    let h = match param.kind {
        ParamKind::Probability => 0.01,
        _ if months => 1.0,
        _ => 0.01 * scale,
    };
    let (v_minus, v_plus) = {
        let minus = if line.admits(spec_value - h) {
            spec_value - h
        } else {
            spec_value
        };
        let plus = if line.admits(spec_value + h) {
            spec_value + h
        } else {
            spec_value
        };
        (minus, plus)
    };
    let slope = line.effect(v_plus)?.0 - line.effect(v_minus)?.0;
    if slope.abs() < 1e-12 || v_plus == v_minus {
        return Err(DesignError::with_help(
            format!(
                "`{}` does not change the effect of analysis `{}` (treatment − control)",
                question.path, a.name
            ),
            "vary a rate, share or mean of the analysis' treatment or control arm (`trialsim \
             sweep FILE --list` shows the parameters)",
        ));
    }
    let dir = if slope * want > 0.0 { 1.0 } else { -1.0 };
    // The far ends of the line: the range's ends, or for an unbounded parameter a point far
    // enough out (doubling the distance from the spec's value).
    let end = |sign: f64| -> f64 {
        let bound = if sign > 0.0 { hi } else { lo };
        if bound.is_finite() {
            return bound;
        }
        let mut step = scale;
        let mut v = spec_value;
        for _ in 0..60 {
            let next = spec_value + sign * step;
            if !line.admits(next) {
                break;
            }
            v = next;
            step *= 2.0;
            if line
                .effect(v)
                .is_ok_and(|(e, _)| (e - e_spec).abs() > 1e3 * (e_spec.abs() + 1.0))
            {
                break;
            }
        }
        v
    };
    let (far_bad, far_good) = (end(-dir), end(dir));
    let favourable = |v: f64| -> Result<f64, DesignError> { Ok(want * line.effect(v)?.0) };
    if favourable(far_good)? <= 0.0 {
        return Err(DesignError::no_answer(
            format!(
                "no value of `{}` gives an effect in the tested direction ({})",
                question.path,
                direction_words(a.sides)
            ),
            "check the test's direction, or vary the other arm's rate",
        ));
    }
    // The null: where the effect crosses zero, by bisection (or the bad end when it never does).
    let null_is_zero = favourable(far_bad)? <= 0.0;
    let null_value = if !null_is_zero {
        far_bad
    } else {
        let (mut bad, mut good) = (far_bad, far_good);
        let iterations = if line.effect(spec_value)?.1 { 80 } else { 30 };
        for _ in 0..iterations {
            let mid = 0.5 * (bad + good);
            if mid == bad || mid == good {
                break;
            }
            if favourable(mid)? > 0.0 {
                good = mid;
            } else {
                bad = mid;
            }
        }
        if months { bad.round() } else { bad }
    };
    let resolution = match param.kind {
        ParamKind::Probability => 0.001,
        _ if months => 1.0,
        _ => {
            let spread = (spec_value - null_value).abs();
            if spread > 0.0 {
                spread / 200.0
            } else {
                1e-3 * scale
            }
        }
    };
    // The grid: multiples of the resolution, from the last one at or before the null.
    let base = if months {
        null_value
    } else if dir > 0.0 {
        (null_value / resolution).floor() * resolution
    } else {
        (null_value / resolution).ceil() * resolution
    };
    let steps = ((far_good - base).abs() / resolution + 1e-9).floor();
    let max = steps.min(1e6) as u32;
    if max < 1 {
        return Err(DesignError::no_answer(
            format!(
                "`{}` has no room between {} (no effect) and the end of its range",
                question.path,
                show(null_value, param.kind)
            ),
            "vary another parameter",
        ));
    }
    let value_at = |i: u32| -> f64 {
        let v = base + dir * f64::from(i) * resolution;
        let v = if months { v.round() } else { v };
        // Rounded to the grid's decimals, so that printed values are the simulated ones.
        let v = if param.kind == ParamKind::Probability {
            (v * 1e6).round() / 1e6
        } else {
            v
        };
        v.clamp(lo, hi)
    };
    let index_of = |v: f64| -> u32 { ((v - base).abs() / resolution).round().min(1e6) as u32 };

    // Closed forms at the spec's arm sizes.
    let sizes = model
        .sample
        .as_ref()
        .and_then(|s| Some((*s.get(a.treatment)?, *s.get(a.control)?)));
    let closed_at = |v: f64| -> Option<(f64, Option<f64>)> {
        let (nt, nc) = sizes?;
        let m = line.model(v).ok()?;
        let binary = m.outcomes.get(*a.outcomes.first()?)?.is_binary();
        if binary {
            closed_form_power(&m, question.analysis, nt, nc)
        } else {
            let [t, c, sdt, sdc] = exact_means(&m, question.analysis)?;
            let effect = crate::analysis::Effect::Means {
                delta: t - c,
                sd_t: sdt,
                sd_c: sdc,
            };
            crate::analysis::closed_form_power(a, effect, f64::from(nc), f64::from(nt))
                .map(|p| (p, None))
        }
    };
    let crossing = |pick: &dyn Fn(f64) -> Option<f64>| -> Option<f64> {
        // Continuous bisection between the null and the far end, where the power there reaches
        // the target.
        if pick(far_good)? < question.target {
            return None;
        }
        let (mut short, mut reach) = (null_value, far_good);
        for _ in 0..60 {
            let mid = 0.5 * (short + reach);
            if mid == short || mid == reach {
                break;
            }
            if pick(mid)? >= question.target {
                reach = mid;
            } else {
                short = mid;
            }
        }
        Some(reach)
    };
    let closed_form_value = if months {
        None
    } else {
        crossing(&|v| closed_at(v).map(|p| p.0))
    };
    let exact_value = if months || sizes.is_none_or(|(nt, nc)| nt.max(nc) > 2_000) {
        None
    } else {
        crossing(&|v| closed_at(v).and_then(|p| p.1))
    };
    let effect_of = |v: Option<f64>| -> Option<f64> {
        let v = v?;
        let (e, exact) = line.effect(v).ok()?;
        exact.then_some(e)
    };

    let settings = GridSearch {
        target: question.target,
        coarse_replicates: (question.replicates / 10).max(500).min(question.replicates),
        fine_replicates: question.replicates,
        min: 1,
        max,
    };
    let mut failure = None;
    let answer = search(
        settings,
        closed_form_value.map(&index_of).map(|i| i.clamp(1, max)),
        |i, reps| match line
            .model(value_at(i))
            .and_then(|m| evaluate(&m, question.analysis, question.seed, reps))
        {
            Ok(e) => (e.power, e.mc_se),
            Err(e) => {
                failure.get_or_insert(e);
                (f64::NAN, f64::NAN)
            }
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let point = |p: &super::size::GridPoint| MdePoint {
        value: value_at(p.at),
        power: p.power,
        mc_se: p.mc_se,
        replicates: p.replicates,
    };
    let answer = match answer {
        Ok(a) => a,
        Err(GridError::Unreachable { at_max, .. }) => {
            let edge = value_at(at_max.at);
            let effect = line
                .effect(edge)
                .map_or_else(|_| "n/a".to_string(), |(e, _)| signed_effect(e, binary));
            return Err(DesignError::no_answer(
                format!(
                    "even at `{}` = {} (effect {effect}) the power is only {} (target {})",
                    question.path,
                    show(edge, param.kind),
                    pct(at_max.power),
                    pct(question.target)
                ),
                "the sample is too small for any value of this parameter; `trialsim size` finds \
                 the sample a given effect needs",
            ));
        }
    };
    let value = value_at(answer.at);
    let at_model = line.model(value)?;
    let fine = evaluate(
        &at_model,
        question.analysis,
        question.seed,
        question.replicates,
    )?;
    let (effect, effect_exact) = match exact_means(&at_model, question.analysis) {
        Some([t, c, ..]) => (t - c, true),
        None => (line.effect(value)?.0, false),
    };
    let means = exact_means(&at_model, question.analysis);
    Ok(MdeReport {
        spec: model.name.clone(),
        analysis: a.name.clone(),
        outcome: a
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .map_or_else(String::new, |o| o.name.clone()),
        arms: (
            model
                .arms
                .get(a.treatment)
                .map_or_else(String::new, |x| x.name.clone()),
            model
                .arms
                .get(a.control)
                .map_or_else(String::new, |x| x.name.clone()),
        ),
        arm_sizes: sizes,
        path: question.path.clone(),
        percent: param.kind == ParamKind::Probability,
        target: question.target,
        seed: question.seed,
        spec_value,
        null_value,
        null_is_zero,
        increasing: dir * want > 0.0,
        resolution,
        value,
        effect,
        effect_exact,
        binary,
        treatment: means.map(|m| m[0]).or(fine.true_treatment),
        control: means.map(|m| m[1]).or(fine.true_control),
        power: fine.power,
        mc_se: fine.mc_se,
        power_ci: fine.power_ci,
        below: answer.below_answer.as_ref().map(point),
        closed_form_value,
        closed_form_effect: effect_of(closed_form_value),
        exact_value,
        exact_effect: effect_of(exact_value),
        evaluations: answer.evaluations.iter().map(point).collect(),
    })
}

fn direction_words(sides: Sides) -> &'static str {
    match sides {
        Sides::Greater => "treatment above control",
        Sides::Less => "treatment below control",
        Sides::TwoSided => "either",
    }
}

/// A parameter value in its unit: percentages for probabilities.
pub fn show(v: f64, kind: ParamKind) -> String {
    match kind {
        ParamKind::Probability => pct(v),
        ParamKind::Months => format!("{v:.0} months"),
        _ => format!("{v}"),
    }
}

/// An effect in its unit: percentage points for a difference of proportions.
pub fn signed_effect(e: f64, binary: bool) -> String {
    if binary {
        format!("{:+.2} pp", 100.0 * e)
    } else {
        format!("{e:+.4}")
    }
}
