//! Costs and savings of a programme from the simulated effect: the cost per extra exit, the net
//! saving and the break-even effect, with simulation intervals.
//!
//! With a treatment arm of `n` participants, a programme cost `C = fixed + per_participant × n`,
//! a saving `s` per benefit-year avoided and `y` benefit-years avoided per extra exit:
//! - extra exits `E = n × d` for an effect `d` (treatment − control share who left benefit);
//! - net saving `E × y × s − C`;
//! - cost per extra exit `C / E` (undefined for `d ≤ 0`);
//! - break-even effect `d* = C / (n × y × s)`: the effect at which savings pay the programme.
//!
//! The *simulation interval* maps the 2.5 % and 97.5 % quantiles of the estimated effect over
//! the replicates through these monotone functions, so it shows what a trial of this size would
//! report; `p_break_even` is the share of replicates whose estimated effect reaches `d*`.

use serde::Serialize;

use crate::model::CostModel;

/// Costs and savings of the programme, from the simulated effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EconomicsReport {
    /// The analysis whose first contrast gives the effect.
    pub analysis: String,
    /// Participants in the treatment arm (mean over replicates when the pool decides).
    pub treated: f64,
    /// Programme cost (euro).
    pub cost: f64,
    /// The effect at which savings equal the cost.
    pub break_even_effect: f64,
    /// The effect the economics are evaluated at: the exact truth when known, else the mean
    /// estimate over replicates.
    pub effect: f64,
    /// Extra exits at that effect.
    pub extra_exits: f64,
    /// Cost per extra exit at that effect (None when the effect is not positive).
    pub cost_per_extra_exit: Option<f64>,
    /// Net saving at that effect (euro; negative: a net cost).
    pub net_saving: f64,
    /// 2.5 % and 97.5 % quantiles of the estimated effect over replicates.
    pub effect_interval: (f64, f64),
    /// Net saving at those quantiles.
    pub net_saving_interval: (f64, f64),
    /// Cost per extra exit at those quantiles, in increasing order; a bound is None (unbounded)
    /// when the effect quantile is not positive.
    pub cost_per_extra_exit_interval: (Option<f64>, Option<f64>),
    /// Share of replicates whose estimated effect reaches the break-even effect.
    pub p_break_even: f64,
}

/// Quantile `q` of sorted values (linear interpolation between order statistics).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// The economics of `costs` for `treated` participants, from the effect estimates of the
/// replicates (NaNs are left out) and the effect to evaluate at.
pub fn economics(
    costs: &CostModel,
    analysis: &str,
    treated: f64,
    estimates: &[f64],
    effect: f64,
) -> EconomicsReport {
    let cost = costs.fixed + costs.per_participant * treated;
    let per_exit = costs.years_per_exit * costs.saving_per_benefit_year;
    let break_even_effect = if treated > 0.0 && per_exit > 0.0 {
        cost / (treated * per_exit)
    } else {
        f64::INFINITY
    };
    let mut sorted: Vec<f64> = estimates
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = (quantile(&sorted, 0.025), quantile(&sorted, 0.975));
    let net = |d: f64| treated * d * per_exit - cost;
    let cpe = |d: f64| (d > 0.0 && treated > 0.0).then(|| cost / (treated * d));
    let reach = sorted.iter().filter(|&&d| d >= break_even_effect).count();
    EconomicsReport {
        analysis: analysis.to_owned(),
        treated,
        cost,
        break_even_effect,
        effect,
        extra_exits: treated * effect,
        cost_per_extra_exit: cpe(effect),
        net_saving: net(effect),
        effect_interval: (lo, hi),
        net_saving_interval: (net(lo), net(hi)),
        cost_per_extra_exit_interval: (cpe(hi), cpe(lo)),
        p_break_even: if sorted.is_empty() {
            f64::NAN
        } else {
            reach as f64 / sorted.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> CostModel {
        CostModel {
            analysis: 0,
            fixed: 90_000.0,
            per_participant: 0.0,
            saving_per_benefit_year: 14_000.0,
            years_per_exit: 1.0,
        }
    }

    #[test]
    fn break_even_and_cost_per_exit_by_hand() {
        // 100 treated, €90,000: break-even at 90,000 / (100 × 14,000) = 0.0642857.
        let e = economics(&model(), "primary", 100.0, &[0.1, 0.2, 0.3], 0.2);
        assert!((e.break_even_effect - 90_000.0 / 1_400_000.0).abs() < 1e-12);
        assert!((e.extra_exits - 20.0).abs() < 1e-12);
        assert_eq!(e.cost_per_extra_exit, Some(4_500.0));
        assert!((e.net_saving - (20.0 * 14_000.0 - 90_000.0)).abs() < 1e-9);
        assert!((e.p_break_even - 1.0).abs() < 1e-12);
        // Quantiles of [0.1, 0.2, 0.3]: 0.1 + 0.05 × 0.1 = 0.105 and 0.295.
        assert!((e.effect_interval.0 - 0.105).abs() < 1e-12);
        assert!((e.effect_interval.1 - 0.295).abs() < 1e-12);
    }

    #[test]
    fn no_positive_effect_has_no_cost_per_exit() {
        let e = economics(&model(), "primary", 100.0, &[-0.1, 0.0, 0.1], -0.01);
        assert_eq!(e.cost_per_extra_exit, None);
        assert_eq!(e.cost_per_extra_exit_interval.1, None);
        assert!(e.net_saving < -90_000.0);
    }
}
