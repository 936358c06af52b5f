//! Closed-form and exact power of one declared contrast, picked by the analysis' test: the
//! figures `power` prints beside the simulation.

use serde::Serialize;

use crate::model::{Analysis, TestKind};
use crate::stats::power::{
    fisher_exact_power, two_mean_normal_power, two_proportion_exact_power,
    two_proportion_normal_power, two_proportion_normal_power_unpooled,
};

/// The true effect of a contrast, as the model implies it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// A binary outcome: the probability in each arm.
    Proportions {
        /// Control-arm probability.
        p_c: f64,
        /// Treatment-arm probability.
        p_t: f64,
    },
    /// A continuous outcome: the difference of means and each arm's standard deviation.
    Means {
        /// Treatment mean minus control mean.
        delta: f64,
        /// Treatment-arm standard deviation.
        sd_t: f64,
        /// Control-arm standard deviation.
        sd_c: f64,
    },
}

/// Normal-approximation power of `analysis`' test at the given arm sizes: the pooled or
/// unpooled z formula for proportions, the known-variance formula for Welch's t on means.
/// `None` where the test has no closed form here (Fisher's exact test, or a test that does not
/// fit the outcome type).
pub fn closed_form_power(analysis: &Analysis, effect: Effect, n_c: f64, n_t: f64) -> Option<f64> {
    let (alpha, sides) = (analysis.alpha, analysis.sides);
    let power = match (effect, analysis.test) {
        (Effect::Proportions { p_c, p_t }, TestKind::PooledZ) => {
            two_proportion_normal_power(p_c, p_t, n_c, n_t, alpha, sides)
        }
        (Effect::Proportions { p_c, p_t }, TestKind::UnpooledZ) => {
            two_proportion_normal_power_unpooled(p_c, p_t, n_c, n_t, alpha, sides)
        }
        (Effect::Means { delta, sd_t, sd_c }, TestKind::WelchT) => {
            two_mean_normal_power(delta, sd_t, sd_c, n_c, n_t, alpha, sides)
        }
        _ => return None,
    };
    (!power.is_nan()).then_some(power)
}

/// Exact power of `analysis`' test on two proportions by enumeration of both binomials (z tests
/// and Fisher's exact test). `None` for means or invalid input.
pub fn exact_power(analysis: &Analysis, effect: Effect, n_c: u64, n_t: u64) -> Option<f64> {
    let Effect::Proportions { p_c, p_t } = effect else {
        return None;
    };
    let (alpha, sides) = (analysis.alpha, analysis.sides);
    let power = match analysis.test {
        TestKind::PooledZ => two_proportion_exact_power(p_c, p_t, n_c, n_t, alpha, sides, true),
        TestKind::UnpooledZ => two_proportion_exact_power(p_c, p_t, n_c, n_t, alpha, sides, false),
        TestKind::FisherExact => fisher_exact_power(p_c, p_t, n_c, n_t, alpha, sides),
        // Cluster designs have no participant-level binomial law.
        // The randomisation test's law depends on the realised outcomes; it is simulated only.
        TestKind::WelchT
        | TestKind::ClusterT
        | TestKind::RobustT
        | TestKind::Cr2
        | TestKind::StudentT
        | TestKind::Randomisation => return None,
    };
    (!power.is_nan()).then_some(power)
}
