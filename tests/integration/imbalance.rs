//! `power` with a `balance` block simulates how often the balance audit flags a randomised
//! trial: each test near its level, and the SMD flag at its exact rate.

use statrs::distribution::{ContinuousCDF, StudentsT};
use trialsim::check::compile;
use trialsim::imbalance::{ImbalanceReport, run_imbalance};
use trialsim::power::PowerSettings;
use trialsim::source::SourceFile;

const REPLICATES: u64 = 4000;

fn spec(population: &str) -> String {
    format!(
        "trial \"balance\" {{\n  population {{\n{population}\n  }}\n  sample 200 per arm\n  \
         arm t {{ y: 30% }}\n  arm c {{ y: 30% }}\n  outcome y = binary\n  analysis primary {{\n    \
         compare y: t vs c\n    test pooled_z, two_sided, alpha 5%\n  }}\n  balance {{\n    \
         flag smd above 0.1\n    alpha 5%\n  }}\n}}\n"
    )
}

fn run(text: &str, threads: usize) -> ImbalanceReport {
    let checked = compile(&SourceFile::new("balance.trial", text.to_string())).expect("checks");
    assert!(checked.model.balance.stated);
    let settings = PowerSettings {
        seed: 5,
        replicates: REPLICATES,
        n_per_arm: None,
        scenario: 0,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool")
        .install(|| run_imbalance(&checked.model, &settings))
        .expect("simulates")
}

/// A rate's distance from `expected` is within four Monte Carlo standard errors of a binomial
/// share at `expected` (a false failure about once in 16,000 seeds).
fn near(rate: f64, expected: f64, what: &str) {
    let se = (expected * (1.0 - expected) / REPLICATES as f64).sqrt();
    assert!(
        (rate - expected).abs() < 4.0 * se,
        "{what}: {rate} against {expected} (4 MC SE = {})",
        4.0 * se
    );
}

#[test]
fn one_normal_covariate_flags_at_the_tests_level_and_the_smd_at_its_exact_rate() {
    let report = run(&spec("    x ~ normal(mean 0, sd 1)"), 2);
    assert_eq!(report.replicates, REPLICATES);
    assert_eq!(report.tests.len(), 1);
    near(report.tests[0].rate.value, 0.05, "Welch t of x");
    near(report.omnibus.value, 0.05, "omnibus F");
    // With equal arms of n, (mean_t − mean_c) / √((sd_t² + sd_c²) / 2) · √(n / 2) is Student's
    // t with 2n − 2 degrees of freedom, so P(|SMD| > d) = 2 P(T > d √(n / 2)).
    let t = StudentsT::new(0.0, 1.0, 398.0).expect("t");
    let exact = 2.0 * (1.0 - t.cdf(0.1 * (200.0f64 / 2.0).sqrt()));
    near(report.any_smd.value, exact, "|SMD| > 0.1");
}

#[test]
fn a_categorical_covariate_is_tested_by_chi_square_at_its_level_on_any_thread_count() {
    let text = spec("    x ~ normal(mean 0, sd 1)\n    g ~ categorical { a: 30%, b: 30%, c: 40% }");
    let report = run(&text, 1);
    let chi2 = report
        .tests
        .iter()
        .find(|t| t.variable == "g")
        .expect("a test of g");
    assert_eq!(chi2.test, "pearson_chi2");
    near(chi2.rate.value, 0.05, "chi-square of g");
    // Two tests of independent covariates: some flag at 1 − 0.95² under their nominal sizes.
    near(report.any_test.value, 1.0 - 0.95f64.powi(2), "some test");
    assert_eq!(report, run(&text, 3), "the thread count changed a figure");
}
