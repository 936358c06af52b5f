//! The shared analysis plan on small hand-built participant tables.
//!
//! References: Python (`tests/reference/analysis.py`), run with scipy 1.17.1 / statsmodels 0.15.0 on exactly the
//! columns below (the arrays ARM, SEX, WORK, HOURS), ITT by arm 0 (treatment) vs arm 1
//! (control), NaN rows dropped per outcome, arm 2 ignored:
//! - counts: x = np.nansum(work[mask]), n = np.sum(~np.isnan(work[mask]))
//! - z, p: proportions_ztest([x_t, x_c], [n_t, n_c], alternative=...)
//! - Newcombe / Wald: confint_proportions_2indep(x_t, n_t, x_c, n_c, method='newcomb' | 'wald',
//!   compare='diff')
//! - Wilson: proportion_confint(x_t, n_t, method='wilson')
//! - risk ratio: Table2x2(np.array([[x_t, n_t-x_t], [x_c, n_c-x_c]], float)) (no zero cells)
//! - Fisher: stats.fisher_exact([[x_t, n_t-x_t], [x_c, n_c-x_c]], alternative=...)
//! - Holm / Bonferroni: multipletests(p, method='holm' | 'bonferroni')[1]
//! - interaction: d, v = level differences and unpooled variances p_t q_t/n_t + p_c q_c/n_c;
//!   w = 1/v; Q = sum(w (d - sum(w d)/sum(w))^2); stats.chi2.sf(Q, 1)
//! - hours: stats.ttest_ind(a, b, equal_var=False) with .df and .confidence_interval(0.95);
//!   stats.t.interval(0.95, n-1, loc=mean, scale=sd/sqrt(n)) per arm.

use trialsim::analysis::{
    Detail, Effect, PlanResult, balance, closed_form_power, exact_power, run_plan, run_plan_into,
    run_plan_into_with,
};
use trialsim::model::*;
use trialsim::stats::power::newcombe_exact_coverage;
use trialsim::table::{CovariateColumn, ParticipantTable};

const NAN: f64 = f64::NAN;
const ARM: [u32; 30] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
];
const SEX: [u32; 30] = [
    0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0,
];
const WORK: [f64; 30] = [
    1., 0., 1., 1., 0., NAN, 1., 0., 0., 1., 1., 0., 1., 0., 0., 0., 1., 0., 0., 0., NAN, 1., 0.,
    0., 0., 0., 1., 1., 1., 1.,
];
const HOURS: [f64; 30] = [
    80., 0., 120.5, 64., 0., 32., 96., 0., 0., 140., 72., NAN, 88., 10., 0., 0., 60., 0., 16., 0.,
    0., 40., 0., 0., 8., 0., 100., 500., 500., 500.,
];

#[track_caller]
fn close(actual: f64, expected: f64) {
    assert!(
        // 1e-6 absolute, and 1e-6 relative for small values such as tiny p-values.
        (actual - expected).abs() <= 1e-6 * expected.abs().clamp(1e-3, 1.0)
            || (actual - expected).abs() <= 1e-6 * expected.abs(),
        "got {actual}, expected {expected}"
    );
}

#[track_caller]
fn close_pair(actual: (f64, f64), expected: (f64, f64)) {
    close(actual.0, expected.0);
    close(actual.1, expected.1);
}

fn level(name: &str, probability: f64) -> Level {
    Level {
        name: name.into(),
        value: None,
        probability,
    }
}

fn arm(name: &str) -> Arm {
    Arm {
        name: name.into(),
        paths: Vec::new(),
        baseline_employment: 0.0,
        dropout: None,
        exemption: None,
        non_work_exit: None,
        crossover: None,
        direct_outcomes: Vec::new(),
        lost_to_follow_up: None,
    }
}

fn analysis(name: &str, outcomes: Vec<OutcomeId>, test: TestKind, sides: Sides) -> Analysis {
    Analysis {
        name: name.into(),
        outcomes,
        treatment: 0,
        control: 1,
        test,
        sides,
        alpha: 0.05,
        within: None,
        levels: Vec::new(),
        correction: Correction::None,
        adjust: None,
        missing: None,
        missing_covariates: Vec::new(),
        complier_effect: false,
        per_outcome: Vec::new(),
        sequential: None,
    }
}

/// Three arms (experiment, control, other), a categorical `sex` and a numeric `age`, a binary
/// `work` and a continuous `hours` outcome, and the given analyses.
fn model(analyses: Vec<Analysis>) -> TrialModel {
    TrialModel {
        delivery: Default::default(),
        balance: Default::default(),
        primary: None,
        covariate_effects: Vec::new(),
        name: "test".into(),
        follow_up_months: 12,
        reference_date: None,
        population: Population {
            pool: None,
            variables: vec![
                Variable {
                    name: "sex".into(),
                    unit: Unit::None,
                    distribution: Distribution::Categorical {
                        levels: vec![level("female", 0.5), level("male", 0.5)],
                    },
                },
                Variable {
                    name: "age".into(),
                    unit: Unit::Years,
                    distribution: Distribution::Uniform {
                        low: 45.0,
                        high: 63.0,
                    },
                },
            ],
        },
        eligibility: Eligibility {
            criteria: Vec::new(),
            screening: None,
        },
        assignment: Assignment {
            rule: AssignmentRule::Complete {
                ratio: vec![1, 1, 1],
            },
            intake_order: IntakeOrder::Simultaneous,
            capacity: None,
            paired_start: None,
            top_up: None,
            clock: Default::default(),
        },
        sample: None,
        arms: vec![arm("experiment"), arm("control"), arm("other")],
        employment: EmploymentProcess {
            job_loss_per_month: 0.0,
            hours: Distribution::Fixed { value: 80.0 },
            wage: None,
        },
        outcomes: vec![
            Outcome {
                name: "work".into(),
                measure: Measure::DirectBinary,
            },
            Outcome {
                name: "hours".into(),
                measure: Measure::DirectContinuous,
            },
        ],
        analyses,
        expectations: Vec::new(),
        data: None,
        uncertain: Vec::new(),
    }
}

fn table() -> ParticipantTable {
    let n = ARM.len();
    ParticipantTable {
        cluster: Vec::new(),
        id: (1..=n as u64).collect(),
        arm: ARM.to_vec(),
        path: vec![0; n],
        // Flags must not change anything: the analysis is by intention to treat.
        flags: (0..n).map(|i| if i % 5 == 0 { 1 } else { 0 }).collect(),
        covariates: vec![
            CovariateColumn::Categorical(SEX.to_vec()),
            CovariateColumn::Numeric((0..n).map(|i| 45.0 + (i % 7) as f64 * 2.5).collect()),
        ],
        outcomes: vec![WORK.to_vec(), HOURS.to_vec()],
    }
}

#[test]
fn primary_pooled_z_matches_statsmodels() {
    let m = model(vec![analysis(
        "primary",
        vec![0],
        TestKind::PooledZ,
        Sides::Greater,
    )]);
    let result = run_plan(&m, &table());
    let c = &result.analyses[0].contrasts[0];
    assert_eq!(result.analyses[0].name, "primary");
    assert_eq!((c.outcome.as_str(), c.subgroup.as_ref()), ("work", None));
    assert_eq!(
        (
            c.treatment.events,
            c.treatment.n,
            c.control.events,
            c.control.n
        ),
        (Some(7), 13, Some(3), 12)
    );
    close(c.difference, 0.28846153846153844);
    close(c.statistic, 1.4708710135363803);
    close(c.p_value, 0.07066300152127808);
    close(c.p_adjusted, 0.07066300152127808);
    assert!(!c.reject);
    close_pair(c.ci, (-0.0866610439810167, 0.5688181671929438));
    close_pair(c.wald_ci, (-0.07686006871761403, 0.6537831456406908));
    close_pair(c.treatment.ci, (0.29143795714506004, 0.7679393219046169));
    let rr = c.risk_ratio.expect("binary outcomes have a risk ratio");
    close(rr.estimate, 2.1538461538461537);
    close_pair(rr.ci, (0.7157662391279481, 6.481240663278345));
    assert!(!rr.zero_cell_corrected);
    assert!(result.analyses[0].interactions.is_empty());
}

#[test]
fn fisher_and_welch_match_scipy() {
    let m = model(vec![
        analysis("fisher", vec![0], TestKind::FisherExact, Sides::Greater),
        analysis("hours", vec![1], TestKind::WelchT, Sides::TwoSided),
    ]);
    let result = run_plan(&m, &table());
    let f = &result.analyses[0].contrasts[0];
    close(f.p_value, 0.1441916812491587);
    assert!(f.statistic.is_nan());
    let h = &result.analyses[1].contrasts[0];
    assert_eq!((h.treatment.n, h.control.n), (13, 13));
    assert_eq!(h.treatment.events, None);
    close(h.treatment.mean, 54.03846153846154);
    close(h.control.mean, 17.23076923076923);
    close(h.treatment.sd, 49.93515025279518);
    close(h.control.sd, 31.171979527972034);
    close(h.statistic, 2.254474824978752);
    close(h.p_value, 0.035465128580058555);
    close(h.df.unwrap_or(NAN), 20.119496117636903);
    close_pair(h.ci, (2.764164168429474, 70.85122044695514));
    assert!(h.reject);
    close_pair(h.treatment.ci, (23.86295224462969, 84.2139708322934));
    close_pair(h.control.ci, (-1.6062694722594735, 36.06780793379794));
    assert!(h.risk_ratio.is_none());
}

#[test]
fn subgroups_with_holm_bonferroni_and_interaction() {
    let mut by_sex = analysis("by_sex", vec![0], TestKind::PooledZ, Sides::TwoSided);
    by_sex.within = Some(0);
    by_sex.levels = vec![0, 1];
    by_sex.correction = Correction::Holm;
    let mut bonferroni = by_sex.clone();
    bonferroni.name = "by_sex_bonferroni".into();
    bonferroni.correction = Correction::Bonferroni;
    let m = model(vec![by_sex, bonferroni]);
    let result = run_plan(&m, &table());
    let holm = &result.analyses[0];
    assert_eq!(holm.contrasts.len(), 2);
    let (f, male) = (&holm.contrasts[0], &holm.contrasts[1]);
    assert_eq!(f.subgroup, Some(("sex".to_string(), "female".to_string())));
    assert_eq!(male.subgroup, Some(("sex".to_string(), "male".to_string())));
    assert_eq!(
        (
            f.treatment.events,
            f.treatment.n,
            f.control.events,
            f.control.n
        ),
        (Some(5), 7, Some(2), 6)
    );
    close(f.statistic, 1.3735433430339008);
    close(f.p_value, 0.169583496492404);
    close_pair(f.ci, (-0.12965888649868723, 0.6929970977568346));
    close(male.p_value, 0.5049850750938458);
    close_pair(male.ci, (-0.2953295209536778, 0.5579626411104139));
    close(f.p_adjusted, 0.33916699);
    close(male.p_adjusted, 0.5049850750938458);
    let bonf = &result.analyses[1];
    close(bonf.contrasts[0].p_adjusted, 0.339166992984808);
    close(bonf.contrasts[1].p_adjusted, 1.0);
    let i = &holm.interactions[0];
    assert_eq!(
        (i.outcome.as_str(), i.variable.as_str(), i.df),
        ("work", "sex", 1)
    );
    close(i.statistic, 0.3633450817045819);
    close(i.p_value, 0.5466543065349121);
}

/// What a power run reads is what a report shows; only the numbers it does not read are left out.
#[test]
fn decisions_only_are_the_full_results_without_the_unread_numbers() {
    let mut by_sex = analysis("by_sex", vec![0, 1], TestKind::PooledZ, Sides::TwoSided);
    by_sex.within = Some(0);
    by_sex.correction = Correction::Holm;
    let plan_table = table();
    let (nsw_model, nsw_table) = example("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let m = model(vec![
        analysis("primary", vec![0], TestKind::PooledZ, Sides::Greater),
        analysis("hours", vec![1], TestKind::WelchT, Sides::TwoSided),
        analysis("fisher", vec![0], TestKind::FisherExact, Sides::Less),
        by_sex,
    ]);
    for (m, t) in [(&m, &plan_table), (&nsw_model, &nsw_table)] {
        let full = run_plan(m, t);
        let mut lean = PlanResult::default();
        run_plan_into_with(m, t, &mut lean, Detail::Decisions);
        let bits = |x: f64| x.to_bits();
        let mut compared = 0;
        for (f, l) in full.analyses.iter().zip(&lean.analyses) {
            assert_eq!(f.contrasts.len(), l.contrasts.len());
            assert!(l.interactions.is_empty());
            for (a, b) in f.contrasts.iter().zip(&l.contrasts) {
                assert_eq!((&a.outcome, &a.subgroup), (&b.outcome, &b.subgroup));
                for (x, y) in [(&a.treatment, &b.treatment), (&a.control, &b.control)] {
                    assert_eq!((x.n, x.events), (y.n, y.events));
                    assert_eq!((bits(x.mean), bits(x.sd)), (bits(y.mean), bits(y.sd)));
                    assert!(y.ci.0.is_nan() && y.ci.1.is_nan());
                }
                assert_eq!(bits(a.difference), bits(b.difference));
                assert_eq!((bits(a.ci.0), bits(a.ci.1)), (bits(b.ci.0), bits(b.ci.1)));
                assert_eq!(bits(a.statistic), bits(b.statistic));
                assert_eq!(bits(a.p_value), bits(b.p_value));
                assert_eq!(bits(a.p_adjusted), bits(b.p_adjusted));
                assert_eq!((a.reject, a.df.map(bits)), (b.reject, b.df.map(bits)));
                assert!(b.risk_ratio.is_none());
                if a.treatment.events.is_some() {
                    assert!(
                        b.wald_ci.0.is_nan(),
                        "a binary contrast's Wald interval is unread"
                    );
                }
                compared += 1;
            }
        }
        assert!(compared >= 4, "{compared}");
    }
}

#[test]
fn reusing_the_result_gives_the_same_numbers() {
    let mut by_sex = analysis("by_sex", vec![0, 1], TestKind::PooledZ, Sides::TwoSided);
    by_sex.within = Some(0);
    by_sex.correction = Correction::Holm;
    let m = model(vec![
        analysis("primary", vec![0], TestKind::PooledZ, Sides::Greater),
        by_sex,
    ]);
    let fresh = run_plan(&m, &table());
    // Warm a result on another table, then reuse it.
    let mut reused = PlanResult::default();
    let mut other = table();
    other.arm.reverse();
    run_plan_into(&m, &other, &mut reused);
    assert_ne!(format!("{reused:?}"), format!("{fresh:?}"));
    run_plan_into(&m, &table(), &mut reused);
    // NaN != NaN, so compare the debug text.
    assert_eq!(format!("{reused:?}"), format!("{fresh:?}"));
    // Four contrasts: work and hours, each for female and male; one interaction per outcome.
    assert_eq!(fresh.analyses[1].contrasts.len(), 4);
    assert_eq!(fresh.analyses[1].interactions.len(), 2);
}

#[test]
fn degenerate_tables_do_not_panic_or_give_nan_where_defined() {
    let m = model(vec![
        analysis("z", vec![0], TestKind::PooledZ, Sides::TwoSided),
        analysis("u", vec![0], TestKind::UnpooledZ, Sides::Greater),
        analysis("f", vec![0], TestKind::FisherExact, Sides::TwoSided),
        analysis("h", vec![1], TestKind::WelchT, Sides::TwoSided),
    ]);
    // 0 % in both arms, all hours 0.
    let mut t = table();
    t.outcomes[0].iter_mut().for_each(|v| *v = 0.0);
    t.outcomes[1].iter_mut().for_each(|v| *v = 0.0);
    let r = run_plan(&m, &t);
    for a in &r.analyses {
        let c = &a.contrasts[0];
        assert_eq!(c.difference, 0.0);
        assert_eq!(c.p_value, 1.0, "{}", a.name);
        assert!(!c.reject);
        assert!(!c.ci.0.is_nan() && !c.ci.1.is_nan());
    }
    // 100 % vs 0 %.
    let mut t = table();
    for (v, &arm) in t.outcomes[0].iter_mut().zip(&ARM) {
        *v = if arm == 0 { 1.0 } else { 0.0 };
    }
    let r = run_plan(&m, &t);
    for a in &r.analyses[..3] {
        let c = &a.contrasts[0];
        assert_eq!(c.difference, 1.0);
        assert!(c.reject, "{}", a.name);
        let rr = c.risk_ratio.expect("binary");
        assert!(rr.zero_cell_corrected && rr.estimate.is_finite() && rr.ci.1.is_finite());
    }
    // An empty table and a table without outcome columns: n = 0, NaN p-values, no rejection.
    for t in [
        ParticipantTable::default(),
        ParticipantTable {
            cluster: Vec::new(),
            arm: vec![0, 1],
            ..ParticipantTable::default()
        },
    ] {
        let r = run_plan(&m, &t);
        for a in &r.analyses {
            let c = &a.contrasts[0];
            assert_eq!((c.treatment.n, c.control.n), (0, 0));
            assert!(!c.reject);
        }
    }
}

#[test]
fn balance_table_standardised_differences() {
    let m = model(vec![analysis(
        "primary",
        vec![0],
        TestKind::PooledZ,
        Sides::Greater,
    )]);
    let b = balance(&m, &table());
    assert_eq!(
        (b.treatment.as_str(), b.control.as_str()),
        ("experiment", "control")
    );
    // Rows: sex=female, sex=male, age.
    assert_eq!(b.rows.len(), 3);
    let female = &b.rows[0];
    // Treatment: 7 of 14 female; control: 7 of 13.
    close(female.treatment.mean, 0.5);
    close(female.control.mean, 7.0 / 13.0);
    let pc: f64 = 7.0 / 13.0;
    let expected = (0.5 - pc) / ((0.25 + pc * (1.0 - pc)) / 2.0).sqrt();
    close(female.standardized_difference, expected);
    let age = &b.rows[2];
    assert_eq!(age.level, None);
    assert_eq!((age.treatment.n, age.control.n), (14, 13));
    // a, b = age[arm == 0], age[arm == 1] with age = 45 + (i % 7) * 2.5;
    // (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    close(age.standardized_difference, 0.11420115214739915);
}

/// A two-arm design with a binary outcome.
#[derive(Debug, Clone, Copy)]
struct Design {
    p_c: f64,
    p_t: f64,
    n_c: usize,
    n_t: usize,
    test: TestKind,
    sides: Sides,
    alpha: f64,
}

/// Simulates `reps` trials of `design` with Bernoulli outcomes, runs the plan on each and returns
/// (rejection rate, coverage of the true difference by the 95 % interval).
fn simulate(design: Design, reps: usize, seed: u64) -> (f64, f64) {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};
    let mut primary = analysis("primary", vec![0], design.test, design.sides);
    primary.alpha = design.alpha;
    let m = model(vec![primary]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = ParticipantTable {
        cluster: Vec::new(),
        covariates: vec![
            CovariateColumn::Categorical(Vec::new()),
            CovariateColumn::Numeric(Vec::new()),
        ],
        outcomes: vec![Vec::new(), Vec::new()],
        ..ParticipantTable::default()
    };
    let mut result = PlanResult::default();
    let (mut rejected, mut covered) = (0usize, 0usize);
    let truth = design.p_t - design.p_c;
    for _ in 0..reps {
        t.clear();
        for i in 0..design.n_t + design.n_c {
            let arm = u32::from(i >= design.n_t);
            let p = if arm == 0 { design.p_t } else { design.p_c };
            t.id.push(i as u64);
            t.arm.push(arm);
            t.path.push(0);
            t.flags.push(0);
            t.outcomes[0].push(f64::from(rng.random::<f64>() < p));
            t.outcomes[1].push(NAN);
        }
        run_plan_into(&m, &t, &mut result);
        let c = &result.analyses[0].contrasts[0];
        rejected += usize::from(c.reject);
        covered += usize::from(c.ci.0 <= truth && truth <= c.ci.1);
    }
    (rejected as f64 / reps as f64, covered as f64 / reps as f64)
}

#[track_caller]
fn within_3_mc_se(estimate: f64, exact: f64, reps: usize) {
    let se = (exact * (1.0 - exact) / reps as f64).sqrt();
    assert!(
        (estimate - exact).abs() <= 3.0 * se,
        "simulated {estimate}, exact {exact}, MC se {se}"
    );
}

#[test]
fn simulated_power_size_and_coverage_match_exact_enumeration() {
    // Exact values from tests/reference/analysis.py (full enumeration over both binomials):
    //   power: exact_power(0.15, 0.30, 60, 60, 0.05, 'two-sided') (pooled z)
    //   coverage: sum of binom.pmf(x_t, 60, p_t) * binom.pmf(x_c, 60, p_c) over the tables whose
    //   confint_proportions_2indep(x_t, 60, x_c, 60, method='newcomb', compare='diff') covers p_t − p_c
    const REPS: usize = 20_000;
    let design = Design {
        p_c: 0.15,
        p_t: 0.30,
        n_c: 60,
        n_t: 60,
        test: TestKind::PooledZ,
        sides: Sides::TwoSided,
        alpha: 0.05,
    };
    let (power, coverage) = simulate(design, REPS, 1);
    within_3_mc_se(power, 0.514177210147542, REPS);
    within_3_mc_se(coverage, 0.9508006948904812, REPS);
    let null = Design {
        p_c: 0.2,
        p_t: 0.2,
        ..design
    };
    let (size, coverage) = simulate(null, REPS, 2);
    within_3_mc_se(size, 0.04993314460277306, REPS);
    within_3_mc_se(coverage, 0.9536527379787845, REPS);
    // The library's own enumeration of the Newcombe coverage agrees with statsmodels'.
    close(
        newcombe_exact_coverage(0.15, 0.30, 60, 60, 0.95),
        0.9508006948904812,
    );
    close(
        newcombe_exact_coverage(0.2, 0.2, 60, 60, 0.95),
        0.9536527379787845,
    );
}

/// The analysis in simulation against exact enumeration over 24 designs varying the rates, the
/// arm sizes and their ratio, the sidedness, alpha and the test. Run with
/// `cargo test --release --test integration -- --ignored --nocapture analysis_validation`.
#[test]
#[ignore = "statistical validation: run in release (5 s)"]
fn analysis_validation_over_designs() {
    const REPS: usize = 40_000;
    let mut designs = Vec::new();
    let rates = [
        (0.1, 0.1),
        (0.1167, 0.2125),
        (0.3, 0.45),
        (0.5, 0.35),
        (0.05, 0.2),
        (0.4, 0.4),
    ];
    let sizes = [(30, 30), (80, 40), (180, 180), (25, 50)];
    let tests = [
        (TestKind::PooledZ, Sides::Greater, 0.05),
        (TestKind::UnpooledZ, Sides::TwoSided, 0.05),
        (TestKind::FisherExact, Sides::TwoSided, 0.05),
        (TestKind::PooledZ, Sides::Less, 0.025),
    ];
    for (i, &(p_c, p_t)) in rates.iter().enumerate() {
        for (j, &(n_c, n_t)) in sizes.iter().enumerate() {
            // Every rate pair meets every size once; tests rotate so each meets many designs.
            let (test, sides, alpha) = tests[(i + j) % tests.len()];
            designs.push(Design {
                p_c,
                p_t,
                n_c,
                n_t,
                test,
                sides,
                alpha,
            });
        }
    }
    println!(
        "test          sides      alpha  p_c    p_t    n_c  n_t   exact    sim      cover_x  cover_sim"
    );
    let mut misses = Vec::new();
    for (k, d) in designs.iter().enumerate() {
        let a = {
            let mut a = analysis("a", vec![0], d.test, d.sides);
            a.alpha = d.alpha;
            a
        };
        let effect = Effect::Proportions {
            p_c: d.p_c,
            p_t: d.p_t,
        };
        let exact = exact_power(&a, effect, d.n_c as u64, d.n_t as u64).unwrap_or(NAN);
        let cover = newcombe_exact_coverage(d.p_c, d.p_t, d.n_c as u64, d.n_t as u64, 0.95);
        let (power, coverage) = simulate(*d, REPS, 1000 + k as u64);
        println!(
            "{:<13} {:<10} {:<6} {:<6} {:<6} {:<4} {:<5} {:.5}  {:.5}  {:.5}  {:.5}",
            format!("{:?}", d.test),
            format!("{:?}", d.sides),
            d.alpha,
            d.p_c,
            d.p_t,
            d.n_c,
            d.n_t,
            exact,
            power,
            cover,
            coverage
        );
        for (what, sim, truth) in [("power", power, exact), ("coverage", coverage, cover)] {
            let se = (truth * (1.0 - truth) / REPS as f64).sqrt();
            if (sim - truth).abs() > 3.0 * se {
                misses.push(format!(
                    "{d:?} {what}: simulated {sim}, exact {truth}, se {se}"
                ));
            }
        }
    }
    assert!(misses.is_empty(), "{misses:#?}");
}

#[test]
fn power_of_a_declared_contrast_follows_its_test() {
    // References: tests/reference/power.py (normal_power, exact_power, fisher_power, and the
    // unpooled normal formula norm.cdf((d - c*se)/se) + norm.cdf((-d - c*se)/se) with the
    // unpooled se under H0 and H1).
    let almere = Effect::Proportions {
        p_c: 0.1167,
        p_t: 0.2125,
    };
    let pooled = analysis("primary", vec![0], TestKind::PooledZ, Sides::Greater);
    close(
        closed_form_power(&pooled, almere, 180.0, 180.0).unwrap_or(NAN),
        0.7918482272076836,
    );
    close(
        exact_power(&pooled, almere, 180, 180).unwrap_or(NAN),
        0.7965410677143644,
    );
    let fisher = analysis("fisher", vec![0], TestKind::FisherExact, Sides::Greater);
    assert_eq!(closed_form_power(&fisher, almere, 180.0, 180.0), None);
    close(
        exact_power(&fisher, almere, 180, 180).unwrap_or(NAN),
        0.7566092103981218,
    );
    let unpooled = analysis("u", vec![0], TestKind::UnpooledZ, Sides::TwoSided);
    let design = Effect::Proportions {
        p_c: 0.3,
        p_t: 0.45,
    };
    close(
        closed_form_power(&unpooled, design, 60.0, 80.0).unwrap_or(NAN),
        0.4551978244292642,
    );
    close(
        exact_power(&unpooled, design, 60, 80).unwrap_or(NAN),
        0.4608976158094879,
    );
    let welch = analysis("hours", vec![1], TestKind::WelchT, Sides::TwoSided);
    let means = Effect::Means {
        delta: 10.0,
        sd_t: 30.0,
        sd_c: 25.0,
    };
    close(
        closed_form_power(&welch, means, 50.0, 60.0).unwrap_or(NAN),
        0.4789056104764023,
    );
    assert_eq!(exact_power(&welch, means, 50, 60), None);
    assert_eq!(closed_form_power(&pooled, means, 50.0, 60.0), None);
}

/// The spec and CSV of a shipped real example, checked and loaded the way `analyze` does.
fn example(spec: &str, data: &str) -> (TrialModel, ParticipantTable) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = match trialsim::source::SourceFile::read(root.join(spec)) {
        Ok(source) => source,
        Err(e) => panic!("{spec}: {e:?}"),
    };
    let model = match trialsim::check::compile(&source) {
        Ok(checked) => checked.model,
        Err(e) => panic!("{spec}: {e:?}"),
    };
    let Some(mapping) = model.data.clone() else {
        panic!("{spec} has no data mapping");
    };
    match trialsim::data::load_path(&model, &mapping, &root.join(data), data) {
        Ok(loaded) => (model, loaded.table),
        Err(e) => panic!("{data}: {e:?}"),
    }
}

fn named<'a>(plan: &'a PlanResult, name: &str) -> &'a trialsim::analysis::AnalysisResult {
    match plan.analyses.iter().find(|a| a.name == name) {
        Some(a) => a,
        None => panic!("no analysis {name}"),
    }
}

/// Reference numbers: tests/reference/examples.py, computed from the CSV files directly with
/// statsmodels / scipy (proportions_ztest, confint_proportions_2indep newcomb and wald, Table2x2
/// risk ratio, fisher_exact, ttest_ind(equal_var=False), multipletests holm, Cochran's Q).
#[test]
fn nsw_real_example_matches_statsmodels() {
    let (model, table) = example("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let plan = run_plan(&model, &table);

    let c = &named(&plan, "primary").contrasts[0];
    assert_eq!((c.treatment.events, c.treatment.n), (Some(140), 185));
    assert_eq!((c.control.events, c.control.n), (Some(168), 260));
    close(c.difference, 0.11060291060291061);
    close(c.statistic, 2.4910558107104666);
    close(c.p_value, 0.012736411146287267);
    close_pair(c.ci, (0.02381075976849871, 0.19270792738668552));
    close_pair(c.wald_ci, (0.025747872901025287, 0.19545794830479593));
    let rr = c.risk_ratio.expect("binary");
    close(rr.estimate, 1.1711711711711712);
    close_pair(rr.ci, (1.0371655487025624, 1.322490815374944));
    close(
        named(&plan, "primary_exact").contrasts[0].p_value,
        0.016387053757930276,
    );

    let e = &named(&plan, "earnings").contrasts[0];
    close(e.treatment.mean, 6349.1453675675675);
    close(e.control.mean, 4554.802282692308);
    close(e.treatment.sd, 7867.404691781774);
    close(e.control.sd, 5483.83683368169);
    close(e.statistic, 2.674145797682563);
    close(e.p_value, 0.007892971233998755);
    close(e.df.unwrap_or(NAN), 307.13245780736014);
    close_pair(e.ci, (474.0107891848977, 3114.6753805656217));

    let degree = named(&plan, "by_degree");
    let expected = [
        (
            0.10890589833280122,
            0.1292102468306057,
            (-0.031623083260568924, 0.31753844941359094),
        ),
        (
            0.06460512341530285,
            0.1292102468306057,
            (-0.006008967237063845, 0.18944838003529418),
        ),
    ];
    for (c, (p, holm, ci)) in degree.contrasts.iter().zip(expected) {
        close(c.p_value, p);
        close(c.p_adjusted, holm);
        close_pair(c.ci, ci);
    }
    close(degree.interactions[0].statistic, 0.22979380040348837);
    close(degree.interactions[0].p_value, 0.6316767645354311);

    // Hispanic men: 11 of 11 treated employed, a real 100 % arm.
    let ethnicity = named(&plan, "by_ethnicity");
    let expected = [
        (
            0.021133151509500403,
            0.06339945452850121,
            (0.01736424412086096, 0.20747727583303857),
        ),
        (
            0.1333426161021791,
            0.2666852322043582,
            (-0.09883050407075289, 0.3559142478934295),
        ),
        (
            0.5807579606738693,
            0.5807579606738693,
            (-0.17992323637331428, 0.31252000052516915),
        ),
    ];
    for (c, (p, holm, ci)) in ethnicity.contrasts.iter().zip(expected) {
        close(c.p_value, p);
        close(c.p_adjusted, holm);
        close_pair(c.ci, ci);
    }
    let hispanic = &ethnicity.contrasts[1];
    assert_eq!(
        hispanic.subgroup,
        Some(("ethnicity".into(), "hispanic".into()))
    );
    // Everyone employed in one arm leaves the risk ratio and its Katz interval defined: no
    // zero-cell correction (tests/reference/comparisons.R).
    let rr = hispanic.risk_ratio.expect("binary");
    assert!(!rr.zero_cell_corrected);
    close(rr.estimate, 1.2173913043478262);
    close_pair(rr.ci, (1.0243017494063502, 1.4468798757403678));
    close(ethnicity.interactions[0].statistic, 0.8378505593465881);
    assert_eq!(ethnicity.interactions[0].df, 2);
    close(ethnicity.interactions[0].p_value, 0.6577533409762322);

    let b = balance(&model, &table);
    let age = b
        .rows
        .iter()
        .find(|r| r.variable == "age")
        .expect("age row");
    close(age.standardized_difference, 0.10727712146617467);
}

#[test]
fn resume_names_real_example_matches_statsmodels() {
    let (model, table) = example(
        "examples/resume-names/resume-names.trial",
        "examples/resume-names/data.csv",
    );
    let plan = run_plan(&model, &table);
    let c = &named(&plan, "primary").contrasts[0];
    assert_eq!((c.treatment.events, c.treatment.n), (Some(157), 2435));
    assert_eq!((c.control.events, c.control.n), (Some(235), 2435));
    close(c.statistic, -4.108412152434346);
    close(c.p_value, 3.983886837585077e-05);
    close_pair(c.ci, (-0.047382550272708546, -0.01678196874970448));
    close_pair(c.wald_ci, (-0.04728798023766042, -0.01677772818123075));
    let rr = c.risk_ratio.expect("binary");
    close(rr.estimate, 0.6680851063829787);
    close_pair(rr.ci, (0.5502405093838053, 0.8111683922919336));
    close(
        named(&plan, "primary_exact").contrasts[0].p_value,
        4.758747107909523e-05,
    );

    let sex = named(&plan, "by_sex");
    close(sex.contrasts[0].p_value, 0.05134216992873251);
    close(sex.contrasts[1].p_adjusted, 0.0005635934000578245);
    close_pair(
        sex.contrasts[0].ci,
        (-0.06135179299056298, 0.0003429117652545867),
    );
    close(sex.interactions[0].p_value, 0.9005913723462097);
    let city = named(&plan, "by_city");
    close(city.contrasts[0].p_adjusted, 0.004578475213939269);
    close(city.contrasts[1].p_adjusted, 0.00572540986944673);
    close(city.interactions[0].statistic, 0.5824960162472123);
    close(city.interactions[0].p_value, 0.4453356220082678);
}

mod properties {
    use proptest::prelude::*;

    use super::{analysis, model};
    use trialsim::analysis::{balance, run_plan};
    use trialsim::model::{Correction, Sides, TestKind};
    use trialsim::table::{CovariateColumn, MISSING_CODE, ParticipantTable};

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => Just(0.0),
            4 => Just(1.0),
            1 => Just(f64::NAN),
            1 => -1e6..1e6f64,
        ]
    }

    /// Columns of unrelated lengths, arms outside the model, missing codes: what a careless
    /// caller could hand over. Nothing may panic.
    fn table() -> impl Strategy<Value = ParticipantTable> {
        (
            prop::collection::vec(0u32..4, 0..40),
            prop::collection::vec(
                prop_oneof![Just(0u32), Just(1), Just(7), Just(MISSING_CODE)],
                0..40,
            ),
            prop::collection::vec(value(), 0..40),
            prop::collection::vec(value(), 0..40),
        )
            .prop_map(|(arm, sex, work, hours)| ParticipantTable {
                cluster: Vec::new(),
                id: (0..arm.len() as u64).collect(),
                path: vec![0; arm.len()],
                flags: vec![0; arm.len()],
                arm,
                covariates: vec![
                    CovariateColumn::Categorical(sex),
                    CovariateColumn::Numeric(hours.clone()),
                ],
                outcomes: vec![work, hours],
            })
    }

    proptest! {
        /// Counts and means, whichever way the rows are counted (few or many levels, arms in
        /// blocks or interleaved, with or without subgroups), are those of the rows.
        #[test]
        fn subgroup_counts_are_the_rows_counts(
            rows in prop::collection::vec((0u32..3, 0u32..8, value()), 0..120),
            blocked in any::<bool>(),
            levels in 1usize..8,
        ) {
            // Arms in blocks, as a simulated table keeps them, or interleaved.
            let mut rows = rows;
            if blocked {
                rows.sort_by_key(|r| r.0);
            }
            let mut m = model(Vec::new());
            if let trialsim::model::Distribution::Categorical { levels: l } =
                &mut m.population.variables[0].distribution
            {
                *l = (0..levels).map(|k| super::level(&format!("l{k}"), 1.0 / levels as f64)).collect();
            }
            let mut a = analysis("by", vec![0], TestKind::PooledZ, Sides::TwoSided);
            a.within = Some(0);
            m.analyses.push(a);
            let mut hours = analysis("hours", vec![1], TestKind::WelchT, Sides::TwoSided);
            hours.within = Some(0);
            m.analyses.push(hours);
            m.analyses.push(analysis("all", vec![0, 1], TestKind::PooledZ, Sides::TwoSided));
            // The rows sorted into cells for one analysis serve the next only when it compares
            // the same arms within the same subgroup levels.
            let mut reversed = analysis("reversed", vec![0], TestKind::PooledZ, Sides::TwoSided);
            (reversed.treatment, reversed.control) = (1, 0);
            m.analyses.push(reversed);
            let mut last = analysis("last", vec![0], TestKind::PooledZ, Sides::TwoSided);
            last.within = Some(0);
            last.levels = vec![levels - 1];
            m.analyses.push(last);
            let t = ParticipantTable {
                cluster: Vec::new(),
                id: (0..rows.len() as u64).collect(),
                path: vec![0; rows.len()],
                flags: vec![0; rows.len()],
                arm: rows.iter().map(|r| r.0).collect(),
                covariates: vec![
                    CovariateColumn::Categorical(rows.iter().map(|r| r.1).collect()),
                    CovariateColumn::Numeric(vec![f64::NAN; rows.len()]),
                ],
                outcomes: vec![rows.iter().map(|r| r.2).collect(), rows.iter().map(|r| r.2).collect()],
            };
            let result = run_plan(&m, &t);
            let contrasts = &result.analyses[0].contrasts;
            prop_assert_eq!(contrasts.len(), levels);
            for (level, (c, h)) in contrasts.iter().zip(&result.analyses[1].contrasts).enumerate() {
                for (arm, summary, hours) in [(0u32, &c.treatment, &h.treatment), (1, &c.control, &h.control)] {
                    let cell = rows.iter().filter(|r| r.0 == arm && r.1 == level as u32);
                    let n = cell.clone().filter(|r| !r.2.is_nan()).count() as u64;
                    let events = cell.clone().filter(|r| r.2 >= 0.5).count() as u64;
                    prop_assert_eq!((summary.n, summary.events), (n, Some(events)));
                    // The continuous outcome: every value of the cell, in any order.
                    let sum: f64 = cell.filter(|r| !r.2.is_nan()).map(|r| r.2).sum();
                    prop_assert_eq!(hours.n, n);
                    if n > 0 {
                        let mean = sum / n as f64;
                        prop_assert!((hours.mean - mean).abs() <= 1e-6 * (1.0 + mean.abs()), "{} vs {}", hours.mean, mean);
                    }
                }
            }
            // Without a subgroup, arms interleaved or not, either way round.
            let all = &result.analyses[2].contrasts[0];
            let reversed = &result.analyses[3].contrasts[0];
            for (arm, summary, swapped) in [(0u32, &all.treatment, &reversed.control), (1, &all.control, &reversed.treatment)] {
                let cell = rows.iter().filter(|r| r.0 == arm);
                let n = cell.clone().filter(|r| !r.2.is_nan()).count() as u64;
                let events = cell.filter(|r| r.2 >= 0.5).count() as u64;
                prop_assert_eq!((summary.n, summary.events), (n, Some(events)));
                prop_assert_eq!((swapped.n, swapped.events), (n, Some(events)));
            }
            // One level of the subgroup.
            let last = &result.analyses[4].contrasts;
            prop_assert_eq!(last.len(), 1);
            for (arm, summary) in [(0u32, &last[0].treatment), (1, &last[0].control)] {
                let cell = rows.iter().filter(|r| r.0 == arm && r.1 == levels as u32 - 1);
                let n = cell.clone().filter(|r| !r.2.is_nan()).count() as u64;
                let events = cell.filter(|r| r.2 >= 0.5).count() as u64;
                prop_assert_eq!((summary.n, summary.events), (n, Some(events)));
            }
        }

        #[test]
        fn any_table_gives_a_result_without_panicking(t in table()) {
            let mut by_sex = analysis("by_sex", vec![0, 1], TestKind::FisherExact, Sides::Less);
            by_sex.within = Some(0);
            by_sex.correction = Correction::Holm;
            let mut bonferroni = analysis("b", vec![0, 1], TestKind::UnpooledZ, Sides::TwoSided);
            bonferroni.correction = Correction::Bonferroni;
            let m = model(vec![
                analysis("z", vec![0, 1], TestKind::PooledZ, Sides::Greater),
                analysis("welch", vec![1, 0], TestKind::WelchT, Sides::TwoSided),
                by_sex,
                bonferroni,
            ]);
            let result = run_plan(&m, &t);
            prop_assert_eq!(result.analyses.len(), 4);
            for a in &result.analyses {
                for c in &a.contrasts {
                    prop_assert!(c.p_value.is_nan() || (0.0..=1.0).contains(&c.p_value));
                    prop_assert!(!c.reject || c.p_adjusted <= 0.05);
                    prop_assert!(c.p_adjusted.is_nan() || c.p_adjusted >= c.p_value);
                }
            }
            let _ = balance(&m, &t);
            prop_assert!(serde_json::to_string(&result).is_ok());
        }
    }
}
