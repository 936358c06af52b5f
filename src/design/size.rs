//! Sample-size search against a simulated power curve.
//!
//! Power estimated by Monte Carlo is noisy, so a plain bisection can stop at the wrong n. The
//! search therefore works in three steps: bracket the answer with cheap estimates, bisect the
//! bracket with cheap estimates, then confirm with many replicates that the answer reaches the
//! target and that the n below it does not, stepping up or down until both hold. Callers run
//! every evaluation with the same seed (common random numbers), which makes the estimated curve
//! nearly monotone in n.

use serde::Serialize;

/// Power estimated at one sample size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerPoint {
    /// Participants per arm.
    pub n_per_arm: u32,
    /// Estimated power.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// Replicates behind the estimate.
    pub replicates: u64,
}

/// Settings of the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeSearch {
    /// The power to reach.
    pub target: f64,
    /// Replicates per evaluation while bracketing and bisecting.
    pub coarse_replicates: u64,
    /// Replicates per evaluation when confirming.
    pub fine_replicates: u64,
    /// Largest n per arm considered.
    pub max_n: u32,
}

/// The answer of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeAnswer {
    /// The smallest n per arm whose estimated power reaches the target.
    pub n_per_arm: u32,
    /// The confirming estimate at the answer.
    pub at_answer: PowerPoint,
    /// The confirming estimate one below the answer (absent when the answer is 2).
    pub below_answer: Option<PowerPoint>,
    /// Every evaluation made, in order.
    pub evaluations: Vec<PowerPoint>,
}

/// Why the search found no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeError {
    /// Even `max_n` per arm falls short of the target.
    Unreachable {
        /// The estimate at `max_n`.
        at_max: PowerPoint,
    },
}

/// Finds the smallest n per arm at which `power_at(n, replicates)` reaches the target, starting
/// from `guess` (e.g. a closed-form answer) when there is one.
pub fn search(
    settings: SizeSearch,
    guess: Option<u32>,
    mut power_at: impl FnMut(u32, u64) -> PowerPoint,
) -> Result<SizeAnswer, SizeError> {
    let mut evaluations = Vec::new();
    let mut eval = |n: u32, reps: u64, evaluations: &mut Vec<PowerPoint>| {
        let point = power_at(n, reps);
        evaluations.push(point);
        point
    };
    let coarse = settings.coarse_replicates;
    let reaches = |p: &PowerPoint| p.power >= settings.target;

    // 1. Bracket: `low` falls short, `high` reaches the target.
    let start = guess.unwrap_or(50).clamp(2, settings.max_n);
    let first = eval(start, coarse, &mut evaluations);
    let (mut low, mut high) = if reaches(&first) {
        let mut high = start;
        loop {
            let low = (high / 2).max(2);
            if low == high || !reaches(&eval(low, coarse, &mut evaluations)) {
                break (low.min(high.saturating_sub(1)).max(1), high);
            }
            high = low;
        }
    } else {
        let mut low = start;
        loop {
            let high = low.saturating_mul(2).min(settings.max_n);
            let point = eval(high, coarse, &mut evaluations);
            if reaches(&point) {
                break (low, high);
            }
            if high == settings.max_n {
                let at_max = eval(high, settings.fine_replicates, &mut evaluations);
                if reaches(&at_max) {
                    break (low, high);
                }
                return Err(SizeError::Unreachable { at_max });
            }
            low = high;
        }
    };

    // 2. Bisect with cheap estimates.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if reaches(&eval(middle, coarse, &mut evaluations)) {
            high = middle;
        } else {
            low = middle;
        }
    }

    // 3. Confirm with many replicates, stepping until n reaches the target and n - 1 does not.
    let fine = settings.fine_replicates;
    let mut n = high.max(2);
    let mut at = eval(n, fine, &mut evaluations);
    while !reaches(&at) {
        if n >= settings.max_n {
            return Err(SizeError::Unreachable { at_max: at });
        }
        n += 1;
        at = eval(n, fine, &mut evaluations);
    }
    let below = loop {
        if n <= 2 {
            break None;
        }
        let below = eval(n - 1, fine, &mut evaluations);
        if reaches(&below) {
            n -= 1;
            at = below;
        } else {
            break Some(below);
        }
    };
    Ok(SizeAnswer {
        n_per_arm: n,
        at_answer: at,
        below_answer: below,
        evaluations,
    })
}

/// What `trialsim size` asks.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeQuestion {
    /// The analysis whose first contrast must reach the target.
    pub analysis: crate::model::AnalysisId,
    /// The power to reach.
    pub target: f64,
    /// Integer weight per arm, in declaration order (`[1, 1]` for equal arms).
    pub ratio: Vec<u32>,
    /// Master seed, the same for every n (common random numbers).
    pub seed: u64,
    /// Replicates per confirming evaluation; bracketing and bisection use a tenth (at least 500).
    pub replicates: u64,
    /// Largest n per ratio unit considered.
    pub max_n: u32,
}

/// The answer of `trialsim size`. Its JSON form is a stable interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeReport {
    /// Trial name.
    pub spec: String,
    /// Analysis name.
    pub analysis: String,
    /// Outcome of its first contrast.
    pub outcome: String,
    /// The target power.
    pub target: f64,
    /// Weights per arm (declaration order).
    pub ratio: Vec<u32>,
    /// Arm names (declaration order).
    pub arms: Vec<String>,
    /// Master seed.
    pub seed: u64,
    /// The simulated answer: participants per ratio unit (per arm for 1:1).
    pub n_per_arm: u32,
    /// Participants in each arm at the answer.
    pub arm_sizes: Vec<u32>,
    /// Simulated power at the answer.
    pub power: f64,
    /// Its Monte Carlo standard error.
    pub mc_se: f64,
    /// 95 % Wilson interval of that power.
    pub power_ci: (f64, f64),
    /// Simulated power one below the answer.
    pub power_below: Option<f64>,
    /// Normal-approximation answer, rounded up (null where no formula applies).
    pub closed_form_n_per_arm: Option<u32>,
    /// Normal-approximation answer before rounding.
    pub closed_form_n_unrounded: Option<f64>,
    /// First n per arm at which the exact power of the z test reaches the target (null where
    /// none is computed: not a two-proportion z test, or unequal arms).
    pub exact_n_per_arm: Option<u32>,
    /// Exact treatment and control means the closed forms use.
    pub true_treatment: Option<f64>,
    /// See `true_treatment`.
    pub true_control: Option<f64>,
    /// Every evaluation of the search, in order.
    pub evaluations: Vec<PowerPoint>,
}

/// Answers a [`SizeQuestion`] for `model` by simulation, with the closed forms beside it.
pub fn size_for_model(
    model: &crate::model::TrialModel,
    question: &SizeQuestion,
) -> Result<SizeReport, super::DesignError> {
    use super::{DesignError, closed_form, evaluate, focus, with_sizes};
    if !(question.target > 0.0 && question.target < 1.0) {
        return Err(DesignError::with_help(
            format!("a target power of {} cannot be reached", question.target),
            "give it as a fraction or percentage strictly between 0 and 1, e.g. 0.8 or 80%",
        ));
    }
    if question.ratio.len() != model.arms.len() || question.ratio.contains(&0) {
        return Err(DesignError::with_help(
            format!(
                "the ratio has {} weights but the spec has {} arms",
                question.ratio.len(),
                model.arms.len()
            ),
            "give one positive whole weight per arm in declaration order, e.g. --ratio 1:1",
        ));
    }
    let analysis = model
        .analyses
        .get(question.analysis)
        .ok_or_else(|| DesignError::new("no such analysis"))?;
    let focused = focus(model, question.analysis);
    let closed = closed_form(
        &focused,
        question.analysis,
        question.target,
        &question.ratio,
    );
    let settings = SizeSearch {
        target: question.target,
        coarse_replicates: (question.replicates / 10).max(500).min(question.replicates),
        fine_replicates: question.replicates,
        max_n: question.max_n,
    };
    let mut failure = None;
    let answer = search(
        settings,
        closed.and_then(|c| c.normal_n),
        |n, reps| match evaluate(
            &with_sizes(&focused, n, &question.ratio),
            question.analysis,
            question.seed,
            reps,
        ) {
            Ok(e) => PowerPoint {
                n_per_arm: n,
                power: e.power,
                mc_se: e.mc_se,
                replicates: reps,
            },
            Err(e) => {
                failure.get_or_insert(e);
                PowerPoint {
                    n_per_arm: n,
                    power: f64::NAN,
                    mc_se: f64::NAN,
                    replicates: reps,
                }
            }
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let answer = match answer {
        Ok(a) => a,
        Err(SizeError::Unreachable { at_max }) => {
            return Err(DesignError::with_help(
                format!(
                    "even {} per arm reaches only {:.1}% power (target {:.1}%)",
                    at_max.n_per_arm,
                    100.0 * at_max.power,
                    100.0 * question.target
                ),
                "the effect may be too small or in the other direction; try `trialsim explain`",
            ));
        }
    };
    let fine = evaluate(
        &with_sizes(&focused, answer.n_per_arm, &question.ratio),
        question.analysis,
        question.seed,
        question.replicates,
    )?;
    Ok(SizeReport {
        spec: model.name.clone(),
        analysis: analysis.name.clone(),
        outcome: analysis
            .outcomes
            .first()
            .and_then(|&o| model.outcomes.get(o))
            .map_or_else(String::new, |o| o.name.clone()),
        target: question.target,
        ratio: question.ratio.clone(),
        arms: model.arms.iter().map(|a| a.name.clone()).collect(),
        seed: question.seed,
        n_per_arm: answer.n_per_arm,
        arm_sizes: question
            .ratio
            .iter()
            .map(|w| w.saturating_mul(answer.n_per_arm))
            .collect(),
        power: fine.power,
        mc_se: fine.mc_se,
        power_ci: fine.power_ci,
        power_below: answer.below_answer.map(|p| p.power),
        closed_form_n_per_arm: closed.and_then(|c| c.normal_n),
        closed_form_n_unrounded: closed.map(|c| c.normal_n_unrounded),
        exact_n_per_arm: closed.and_then(|c| c.exact_n),
        true_treatment: fine.true_treatment,
        true_control: fine.true_control,
        evaluations: answer.evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, strictly increasing stand-in for a power curve that reaches 0.8 between 181
    /// and 182: `1 - exp(-n / c)` with `c = 181.5 / ln 5`.
    fn curve(n: u32) -> f64 {
        1.0 - (-f64::from(n) * 5f64.ln() / 181.5).exp()
    }

    fn settings() -> SizeSearch {
        SizeSearch {
            target: 0.8,
            coarse_replicates: 100,
            fine_replicates: 1000,
            max_n: 100_000,
        }
    }

    fn exact(n: u32, replicates: u64) -> PowerPoint {
        PowerPoint {
            n_per_arm: n,
            power: curve(n),
            mc_se: 0.0,
            replicates,
        }
    }

    #[test]
    fn finds_the_crossing_from_below_above_and_without_a_guess() {
        for guess in [None, Some(3), Some(150), Some(182), Some(5000)] {
            let answer = search(settings(), guess, exact).expect("reachable");
            assert_eq!(answer.n_per_arm, 182, "guess {guess:?}");
            assert!(answer.at_answer.power >= 0.8);
            assert!(answer.below_answer.expect("n > 2").power < 0.8);
        }
    }

    #[test]
    fn corrects_a_bisection_misled_by_noise() {
        // Coarse estimates are biased upwards by 0.02, so bisection stops too low; the fine
        // confirmation must step back up to the true crossing.
        let noisy = |n: u32, reps: u64| PowerPoint {
            n_per_arm: n,
            power: curve(n) + if reps < 1000 { 0.02 } else { 0.0 },
            mc_se: 0.0,
            replicates: reps,
        };
        assert_eq!(
            search(settings(), Some(100), noisy)
                .expect("reachable")
                .n_per_arm,
            182
        );
    }

    #[test]
    fn reports_an_unreachable_target() {
        let flat = |n: u32, reps: u64| PowerPoint {
            n_per_arm: n,
            power: 0.5,
            mc_se: 0.0,
            replicates: reps,
        };
        let settings = SizeSearch {
            max_n: 1000,
            ..settings()
        };
        match search(settings, None, flat) {
            Err(SizeError::Unreachable { at_max }) => assert_eq!(at_max.n_per_arm, 1000),
            other => panic!("expected unreachable, got {other:?}"),
        }
    }
}
