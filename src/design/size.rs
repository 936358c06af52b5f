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
