//! The cluster-level analysis ([`TestKind::ClusterT`](crate::model::TestKind::ClusterT)).
//!
//! In a cluster-randomised trial the participants of one cluster share its random effect, so a
//! participant-level test (the pooled z test) counts correlated people as independent and
//! rejects a true null far more often than α. The cluster-level analysis summarises each cluster
//! by its mean outcome (the proportion, for a binary outcome) and compares the cluster means of
//! the two arms with Student's two-sample t test on `k_t + k_c − 2` degrees of freedom.
//!
//! Why this test rather than a design-effect-corrected z test: the corrected z test divides the
//! variance by `1 + (m − 1) ρ` with an ICC ρ that must itself be estimated, and with the handful
//! of clusters group programmes have (2–10 cohorts per arm) that estimate is poor and the z
//! reference distribution ignores its uncertainty, so the test is anti-conservative. The t test
//! on cluster summaries needs no ICC, has the right size whatever the ICC when clusters are of
//! equal size (the cluster means are then exchangeable within an arm), and is the analysis
//! recommended for few clusters (Hayes & Moulton, *Cluster Randomised Trials*, ch. 9; Donner &
//! Klar 2000, ch. 6). Clusters are weighted equally; with unequal sizes this stays valid but
//! loses some efficiency.
//!
//! Without a cluster column (an empty [`ParticipantTable::cluster`]) the clusters are unknown and
//! the contrast is undefined (NaN statistic and p-value, never a rejection): falling back to
//! participants would be exactly the naive test this one replaces.
//! A cluster with participants in both arms (real data that contradict the design) leaves the
//! test without its units: undefined too, and said in the report.

use std::collections::HashMap;

use crate::model::Analysis;
use crate::stats::dist::t_quantile;
use crate::stats::tests::{TestOutcome, student_t};
use crate::table::ParticipantTable;

/// Sums of one cluster's values.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    side: usize,
    /// Whether the cluster also has participants on the other side.
    mixed: bool,
    n: u64,
    sum: f64,
}

/// Per-thread buffers for the cluster summaries.
#[derive(Default)]
pub(super) struct ClusterScratch {
    index: HashMap<u32, usize>,
    cells: Vec<Cell>,
}

/// The cluster-level test and the 95 % interval of the difference of mean cluster means.
pub(super) struct ClusterTest {
    pub test: TestOutcome,
    pub difference: f64,
    pub ci: (f64, f64),
    pub df: f64,
    /// Clusters in both arms, when any are (the test is then undefined).
    pub clusters_in_two_arms: Option<super::ClustersInTwoArms>,
}

/// Runs the cluster-level t test of `outcome` for the participants `keep` admits.
pub(super) fn cluster_test(
    analysis: &Analysis,
    table: &ParticipantTable,
    outcome: usize,
    keep: impl Fn(usize) -> bool,
    confidence: f64,
    scratch: &mut ClusterScratch,
) -> ClusterTest {
    scratch.index.clear();
    scratch.cells.clear();
    let values = if table.cluster.len() == table.arm.len() {
        table.outcomes.get(outcome).map_or(&[][..], Vec::as_slice)
    } else {
        &[][..]
    };
    let (treatment, control) = (analysis.treatment as u32, analysis.control as u32);
    for (i, (&arm, &value)) in table.arm.iter().zip(values).enumerate() {
        let side = if arm == treatment {
            0
        } else if arm == control {
            1
        } else {
            continue;
        };
        if value.is_nan() || !keep(i) {
            continue;
        }
        let code = table.cluster[i];
        let next = scratch.cells.len();
        let slot = *scratch.index.entry(code).or_insert(next);
        if slot == next {
            scratch.cells.push(Cell {
                side,
                ..Cell::default()
            });
        }
        let cell = &mut scratch.cells[slot];
        cell.mixed |= cell.side != side;
        cell.n += 1;
        cell.sum += value;
    }
    let mixed = scratch.cells.iter().filter(|c| c.mixed).count() as u64;
    if mixed > 0 {
        return ClusterTest {
            test: TestOutcome::UNDEFINED,
            difference: f64::NAN,
            ci: (f64::NAN, f64::NAN),
            df: f64::NAN,
            clusters_in_two_arms: Some(super::ClustersInTwoArms {
                mixed,
                clusters: scratch.cells.len() as u64,
            }),
        };
    }
    // Welford over cluster means, per arm.
    let mut k = [0u64; 2];
    let mut mean = [0.0f64; 2];
    let mut m2 = [0.0f64; 2];
    for c in &scratch.cells {
        let x = c.sum / c.n as f64;
        let s = c.side;
        k[s] += 1;
        let d = x - mean[s];
        mean[s] += d / k[s] as f64;
        m2[s] += d * (x - mean[s]);
    }
    let sd = |s: usize| {
        if k[s] < 2 {
            f64::NAN
        } else {
            (m2[s] / (k[s] - 1) as f64).max(0.0).sqrt()
        }
    };
    let test = student_t(mean[0], sd(0), k[0], mean[1], sd(1), k[1], analysis.sides);
    let difference = if k[0] > 0 && k[1] > 0 {
        mean[0] - mean[1]
    } else {
        f64::NAN
    };
    let df = (k[0] + k[1]) as f64 - 2.0;
    let ci = if df > 0.0 {
        let pooled =
            ((k[0] as f64 - 1.0) * sd(0).powi(2) + (k[1] as f64 - 1.0) * sd(1).powi(2)) / df;
        let se = (pooled * (1.0 / k[0] as f64 + 1.0 / k[1] as f64)).sqrt();
        let q = t_quantile(0.5 + confidence / 2.0, df);
        (difference - q * se, difference + q * se)
    } else {
        (f64::NAN, f64::NAN)
    };
    ClusterTest {
        test,
        difference,
        ci,
        df,
        clusters_in_two_arms: None,
    }
}
