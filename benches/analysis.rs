//! Cost of the analysis plan per Monte Carlo replicate: a 400-participant table, analysed with a
//! pooled z test, Welch's t, a subgroup analysis with Holm's correction, and Fisher's exact test.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use trialsim::analysis::{PlanResult, run_plan_into};
use trialsim::model::*;
use trialsim::stats::power::two_proportion_exact_power;
use trialsim::table::{CovariateColumn, ParticipantTable};

fn analysis(name: &str, outcomes: Vec<OutcomeId>, test: TestKind) -> Analysis {
    Analysis {
        name: name.into(),
        outcomes,
        treatment: 0,
        control: 1,
        test,
        sides: Sides::Greater,
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

fn model(analyses: Vec<Analysis>) -> TrialModel {
    let level = |name: &str| Level {
        name: name.into(),
        value: None,
        probability: 0.5,
    };
    TrialModel {
        delivery: Default::default(),
        balance: Default::default(),
        primary: None,
        covariate_effects: Vec::new(),
        name: "bench".into(),
        follow_up_months: 12,
        reference_date: None,
        population: Population {
            pool: None,
            variables: vec![Variable {
                name: "sex".into(),
                unit: Unit::None,
                distribution: Distribution::Categorical {
                    levels: vec![level("f"), level("m")],
                },
            }],
        },
        eligibility: Eligibility {
            criteria: Vec::new(),
            screening: None,
        },
        assignment: Assignment {
            rule: AssignmentRule::Complete { ratio: vec![1, 1] },
            intake_order: IntakeOrder::Simultaneous,
            capacity: None,
            paired_start: None,
            top_up: None,
            clock: Default::default(),
        },
        sample: None,
        arms: vec![arm("experiment"), arm("control")],
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

fn table(n: usize, seed: u64) -> ParticipantTable {
    // A fixed pseudo-random table (64-bit LCG), so that runs compare.
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let arm: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
    let work: Vec<f64> = arm
        .iter()
        .map(|&a| f64::from(next() < if a == 0 { 0.21 } else { 0.12 }))
        .collect();
    let hours: Vec<f64> = work.iter().map(|&w| w * 60.0 * (0.5 + next())).collect();
    ParticipantTable {
        cluster: Vec::new(),
        id: (0..n as u64).collect(),
        arm,
        path: vec![0; n],
        flags: vec![0; n],
        covariates: vec![CovariateColumn::Categorical(
            (0..n).map(|_| u32::from(next() < 0.5)).collect(),
        )],
        outcomes: vec![work, hours],
    }
}

fn bench(c: &mut Criterion) {
    // Different replicates, as the simulator feeds them: the counts, and so the degrees of
    // freedom and the tables' margins, change from call to call.
    let tables: Vec<ParticipantTable> = (0..64).map(|seed| table(400, seed)).collect();
    let mut by_sex = analysis("by_sex", vec![0, 1], TestKind::PooledZ);
    by_sex.within = Some(0);
    by_sex.correction = Correction::Holm;
    let plans = [
        (
            "pooled_z",
            model(vec![analysis("primary", vec![0], TestKind::PooledZ)]),
        ),
        (
            "welch_t",
            model(vec![analysis("hours", vec![1], TestKind::WelchT)]),
        ),
        ("subgroups_holm", model(vec![by_sex])),
        (
            "fisher",
            model(vec![analysis("fisher", vec![0], TestKind::FisherExact)]),
        ),
    ];
    for (name, m) in &plans {
        let mut result = PlanResult::default();
        let mut next = tables.iter().cycle();
        c.bench_function(&format!("run_plan_400/{name}"), |b| {
            b.iter(|| {
                let t = next.next().unwrap_or(&tables[0]);
                run_plan_into(black_box(m), black_box(t), &mut result);
            });
        });
    }
    let mut df = 30.0;
    c.bench_function("dist/t_quantile_varying_df", |b| {
        b.iter(|| {
            df = if df > 400.0 { 30.0 } else { df + 0.37 };
            trialsim::stats::dist::t_quantile(0.975, black_box(df))
        });
    });
    c.bench_function("dist/t_sf", |b| {
        b.iter(|| trialsim::stats::dist::t_sf(black_box(2.1), 37.3))
    });
    c.bench_function("exact_power/almere_180", |b| {
        b.iter(|| {
            two_proportion_exact_power(
                0.1167,
                0.2125,
                black_box(180),
                180,
                0.05,
                Sides::Greater,
                true,
            )
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
