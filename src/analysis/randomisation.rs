//! The randomisation test of one contrast ([`TestKind::Randomisation`](crate::model::TestKind)):
//! the contrast's participants (or clusters) as units of the spec's own assignment rule, handed
//! to [`crate::stats::randomisation`].
//!
//! | assignment rule | units | re-randomised as |
//! |---|---|---|
//! | `randomise R1:R2` | participants | every split with the observed arm sizes (complete randomisation) |
//! | `parity of ID` | participants | the same, given the realised arm sizes (the fair coins' law conditional on them) |
//! | `randomise ... in blocks of B within V` | participants | within each stratum of V, every split with the stratum's observed arm sizes |
//! | `randomise ... by cohort of M` | clusters | every split of the clusters with the observed number per arm |
//!
//! Participants without a value of the outcome are left out (complete cases), and a subgroup
//! contrast is re-randomised within its subgroup.
//!
//! A cluster with participants in both arms (real data that contradict a cluster design) has no
//! side to be re-randomised from: the test is undefined, and the report says why.

use crate::model::{Analysis, AssignmentRule, TrialModel};
use crate::stats::randomisation::{RandomisationTest, Unit, randomisation_test};
use crate::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

/// The randomisation test of `outcome` between the analysis' arms over the rows `keep` admits;
/// `Err` with the count when clusters of a cluster design hold participants of both arms.
pub(super) fn contrast_test(
    model: &TrialModel,
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    binary: bool,
    keep: impl Fn(usize) -> bool,
) -> Result<RandomisationTest, super::ClustersInTwoArms> {
    let values = table.outcomes.get(outcome).map_or(&[][..], Vec::as_slice);
    let clustered = model.delivery.clusters.is_some() && !table.cluster.is_empty();
    let strata_vars: &[usize] = match &model.assignment.rule {
        AssignmentRule::Blocked { strata, .. } if !clustered => strata,
        _ => &[],
    };
    let code = |var: usize, i: usize| match table.covariates.get(var) {
        Some(CovariateColumn::Categorical(c)) => c.get(i).copied().unwrap_or(MISSING_CODE),
        _ => MISSING_CODE,
    };
    // (stratum key, cluster or row) → unit; a small linear map keeps the first-seen order.
    let mut keys: Vec<(Vec<u32>, u64)> = Vec::new();
    let mut units: Vec<Unit> = Vec::new();
    // Per unit, whether it (a cluster) also has participants on the other side.
    let mut mixed: Vec<bool> = Vec::new();
    for (i, &arm) in table.arm.iter().enumerate() {
        let treated = if arm as usize == analysis.treatment {
            true
        } else if arm as usize == analysis.control {
            false
        } else {
            continue;
        };
        let Some(&v) = values.get(i) else { continue };
        if v.is_nan() || !keep(i) {
            continue;
        }
        let v = if binary {
            f64::from(u8::from(v >= 0.5))
        } else {
            v
        };
        let stratum: Vec<u32> = strata_vars.iter().map(|&var| code(var, i)).collect();
        if clustered {
            let cluster = u64::from(table.cluster.get(i).copied().unwrap_or(u32::MAX));
            if let Some(k) = keys
                .iter()
                .position(|(s, c)| *c == cluster && *s == stratum)
            {
                mixed[k] |= units[k].treated != treated;
                units[k].sum += v;
                units[k].n += 1.0;
                continue;
            }
            keys.push((stratum, cluster));
        } else {
            keys.push((stratum, i as u64));
        }
        units.push(Unit {
            sum: v,
            n: 1.0,
            treated,
        });
        mixed.push(false);
    }
    let in_two_arms = mixed.iter().filter(|&&m| m).count() as u64;
    if in_two_arms > 0 {
        return Err(super::ClustersInTwoArms {
            mixed: in_two_arms,
            clusters: units.len() as u64,
        });
    }
    let mut strata: Vec<(Vec<u32>, Vec<Unit>)> = Vec::new();
    for ((stratum, _), unit) in keys.into_iter().zip(units) {
        match strata.iter_mut().find(|(s, _)| *s == stratum) {
            Some((_, list)) => list.push(unit),
            None => strata.push((stratum, vec![unit])),
        }
    }
    let strata: Vec<Vec<Unit>> = strata.into_iter().map(|(_, u)| u).collect();
    Ok(randomisation_test(
        &strata,
        binary && !clustered,
        analysis.sides,
    ))
}
