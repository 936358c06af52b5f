//! Chance imbalance at baseline, simulated: how often the balance audit that `analyze` runs on
//! real data (the plan's `balance` block: each covariate's test at its level, the SMD flag, the
//! omnibus F test) would flag the arms of a correctly randomised trial of this design.
//!
//! Under randomisation every flag is a false alarm, so these are the rates at which an
//! evaluator will see one by chance: each covariate's test near its level, the omnibus test at
//! its level, "some covariate" far above it when there are several, and an |SMD| flag whose
//! rate falls with the sample size (about `2(1 − Φ(d √(n/2)))` for threshold `d` and `n` per
//! arm). The same function as `analyze` ([`crate::analysis::balance`]) reads each
//! simulated trial, so the rates are those of the audit as it will run.

use serde::Serialize;

use crate::analysis::balance;
use crate::model::TrialModel;
use crate::power::{PowerSettings, simulate_chunks, validate};
use crate::sequential::Estimate;
use crate::sim::rng::replicate_rng;
use crate::sim::{SimError, SimOptions, Simulator};

/// How often the balance audit flags a simulated trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImbalanceReport {
    /// Replicates simulated.
    pub replicates: u64,
    /// The arms compared (those of the primary analysis).
    pub treatment: String,
    /// See `treatment`.
    pub control: String,
    /// Level of each test (the plan's `alpha`).
    pub alpha: f64,
    /// The SMD flag's threshold (the plan's `flag smd above`).
    pub smd_threshold: f64,
    /// Share of trials in which some covariate's test has p < alpha.
    pub any_test: Estimate,
    /// Share of trials in which the omnibus F test has p < alpha.
    pub omnibus: Estimate,
    /// Share of trials in which some row's |SMD| exceeds the threshold.
    pub any_smd: Estimate,
    /// Each covariate's test.
    pub tests: Vec<TestRate>,
}

/// How often one covariate's balance test flags a simulated trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestRate {
    /// Covariate name.
    pub variable: String,
    /// `welch_t` or `pearson_chi2`.
    pub test: &'static str,
    /// The bins, for a chi-square test of a binned numeric covariate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<Vec<f64>>,
    /// Share of trials with p < alpha.
    pub rate: Estimate,
    /// Trials in which the test was undefined (a level or bin absent from both arms): counted
    /// as not flagged.
    pub undefined: u64,
}

/// Counts over a run of replicates.
#[derive(Debug, Clone, Default)]
struct Counts {
    replicates: u64,
    any_test: u64,
    omnibus: u64,
    any_smd: u64,
    tests: Vec<u64>,
    undefined: Vec<u64>,
}

impl Counts {
    fn merge(&mut self, other: &Self) {
        self.replicates += other.replicates;
        self.any_test += other.any_test;
        self.omnibus += other.omnibus;
        self.any_smd += other.any_smd;
        for (a, b) in self.tests.iter_mut().zip(&other.tests) {
            *a += b;
        }
        for (a, b) in self.undefined.iter_mut().zip(&other.undefined) {
            *a += b;
        }
    }
}

/// Simulates `settings.replicates` trials of `model` and runs the balance audit on each.
pub fn run_imbalance(
    model: &TrialModel,
    settings: &PowerSettings,
) -> Result<ImbalanceReport, SimError> {
    validate(settings)?;
    // Not lean: the audit reads every covariate, also those no analysis uses.
    let sim = Simulator::new(
        model,
        SimOptions {
            n_per_arm: settings.n_per_arm,
            lean: false,
        },
    )?;
    // The table's shape (which tests, in which order) is the model's, the same in every trial.
    let shape = {
        let mut w = sim.worker();
        let mut rng = replicate_rng(settings.seed, settings.scenario, 0);
        sim.simulate(&mut w, &mut rng);
        balance(model, &w.table)
    };
    let k = shape.tests.len();
    let parts = simulate_chunks(
        &sim,
        settings,
        || Counts {
            tests: vec![0; k],
            undefined: vec![0; k],
            ..Counts::default()
        },
        |counts, w, _| {
            let table = balance(model, &w.table);
            counts.replicates += 1;
            counts.any_test += u64::from(table.tests.iter().any(|t| t.imbalanced));
            counts.omnibus += u64::from(table.omnibus.imbalanced);
            counts.any_smd += u64::from(table.rows.iter().any(|r| r.flagged));
            for (i, t) in table.tests.iter().enumerate().take(k) {
                counts.tests[i] += u64::from(t.imbalanced);
                counts.undefined[i] += u64::from(t.p_value.is_nan());
            }
        },
    );
    // Folded in chunk order: the same sums for any number of threads.
    let mut total = Counts {
        tests: vec![0; k],
        undefined: vec![0; k],
        ..Counts::default()
    };
    for p in &parts {
        total.merge(p);
    }
    let n = total.replicates;
    Ok(ImbalanceReport {
        replicates: n,
        treatment: shape.treatment,
        control: shape.control,
        alpha: shape.alpha,
        smd_threshold: shape.smd_threshold,
        any_test: Estimate::share(total.any_test, n),
        omnibus: Estimate::share(total.omnibus, n),
        any_smd: Estimate::share(total.any_smd, n),
        tests: shape
            .tests
            .into_iter()
            .enumerate()
            .map(|(i, t)| TestRate {
                variable: t.variable,
                test: t.test,
                bins: t.bins,
                rate: Estimate::share(total.tests[i], n),
                undefined: total.undefined[i],
            })
            .collect(),
    })
}
