//! The Almere plan (specs/almere-45plus.trial) built directly as a model, for benchmarks and for
//! tests that must not depend on the spec language.

use crate::model::*;

fn level(name: &str, value: Option<f64>, probability: f64) -> Level {
    Level {
        name: name.into(),
        value,
        probability,
    }
}

fn path(name: &str, share: f64, delay: u32, p: f64) -> SubPath {
    SubPath {
        name: name.into(),
        share,
        rest: false,
        share_by: None,
        delay_months: delay,
        work: WorkRate {
            probability: p,
            months: 12,
            meaning: RateMeaning::FoundWithin,
            by: None,
        },
    }
}

fn arm(name: &str, paths: Vec<SubPath>) -> Arm {
    Arm {
        name: name.into(),
        paths,
        baseline_employment: 0.0,
        dropout: None,
        exemption: None,
        non_work_exit: None,
        crossover: None,
        direct_outcomes: Vec::new(),
        lost_to_follow_up: None,
    }
}

/// Arm index of the experiment arm in [`almere_plan`].
pub const EXPERIMENT: ArmId = 0;
/// Arm index of the control arm in [`almere_plan`].
pub const CONTROL: ArmId = 1;

/// "Aanpak 45+ Almere (plan, 2017)": 180 per arm, control 11.67 % and experiment 25 % (guided,
/// 75 %) or 10 % (Team Zorg after a 3-month assessment, 25 %) work within 12 months; outcomes and
/// analyses as in the shipped spec.
pub fn almere_plan() -> TrialModel {
    let uniform = |low, high| Distribution::Uniform { low, high };
    TrialModel {
        delivery: crate::model::Delivery::default(),
        balance: Default::default(),
        primary: None,
        covariate_effects: Vec::new(),
        name: "Aanpak 45+ Almere (plan, 2017)".into(),
        follow_up_months: 18,
        reference_date: Some("2017-09-01".into()),
        population: Population {
            pool: Some(440),
            variables: vec![
                Variable {
                    name: "age".into(),
                    unit: Unit::Years,
                    distribution: uniform(45.0, 66.0),
                },
                Variable {
                    name: "ladder".into(),
                    unit: Unit::None,
                    distribution: Distribution::Categorical {
                        levels: vec![level("3", Some(3.0), 0.45), level("4", Some(4.0), 0.55)],
                    },
                },
                Variable {
                    name: "months_on_benefit".into(),
                    unit: Unit::Months,
                    distribution: Distribution::LogNormal {
                        median: 48.0,
                        sigma: 0.9,
                    },
                },
                Variable {
                    name: "background".into(),
                    unit: Unit::None,
                    distribution: Distribution::Categorical {
                        levels: vec![
                            level("dutch", None, 0.43),
                            level("non_western", None, 0.51),
                            level("western", None, 0.06),
                        ],
                    },
                },
            ],
        },
        eligibility: Eligibility {
            criteria: vec![
                Criterion {
                    variable: 0,
                    test: CriterionTest::Compare {
                        op: Comparison::Ge,
                        value: 45.0,
                    },
                    amended_from: None,
                },
                Criterion {
                    variable: 0,
                    test: CriterionTest::Compare {
                        op: Comparison::Le,
                        value: 63.0,
                    },
                    amended_from: Some(60.0),
                },
                Criterion {
                    variable: 1,
                    test: CriterionTest::InSet { levels: vec![0, 1] },
                    amended_from: None,
                },
                Criterion {
                    variable: 2,
                    test: CriterionTest::Compare {
                        op: Comparison::Gt,
                        value: 6.0,
                    },
                    amended_from: None,
                },
            ],
            screening: Some(Screening {
                planned_loss: 0.25,
                observed_loss: Some(0.05),
            }),
        },
        assignment: Assignment {
            rule: AssignmentRule::Parity {
                even: EXPERIMENT,
                odd: CONTROL,
                id: "bsn".to_string(),
            },
            intake_order: IntakeOrder::Random,
            capacity: Some(Capacity {
                staff: 4,
                caseload: 25,
                intakes_per_month: None,
                guidance_months: None,
                arm: None,
                waiting: None,
            }),
            paired_start: None,
            top_up: None,
            clock: Clock::Intake,
        },
        sample: Some(vec![180, 180]),
        arms: vec![
            arm(
                "experiment",
                vec![
                    path("team_zorg", 0.25, 3, 0.10),
                    path("guided", 0.75, 0, 0.25),
                ],
            ),
            arm("control", vec![path("control", 1.0, 0, 0.1167)]),
        ],
        employment: EmploymentProcess {
            job_loss_per_month: 0.0,
            hours: uniform(8.0, 160.0),
            wage: None,
        },
        outcomes: vec![
            Outcome {
                name: "work_12m".into(),
                measure: Measure::WorkedWithin {
                    within: 12,
                    min_hours: 1.0,
                },
            },
            Outcome {
                name: "employed_12m".into(),
                measure: Measure::EmployedAt {
                    month: 12,
                    min_hours: 1.0,
                },
            },
            Outcome {
                name: "work48_12m".into(),
                measure: Measure::EmployedAt {
                    month: 12,
                    min_hours: 48.0,
                },
            },
            Outcome {
                name: "durable_12m".into(),
                measure: Measure::Durable {
                    month: 12,
                    consecutive: 3,
                    min_hours: 48.0,
                },
            },
        ],
        analyses: vec![
            Analysis {
                name: "primary".into(),
                outcomes: vec![0],
                treatment: EXPERIMENT,
                control: CONTROL,
                test: TestKind::PooledZ,
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
            },
            Analysis {
                name: "by_background".into(),
                outcomes: vec![0],
                treatment: EXPERIMENT,
                control: CONTROL,
                test: TestKind::PooledZ,
                sides: Sides::Greater,
                alpha: 0.05,
                within: Some(3),
                levels: vec![0, 1],
                correction: Correction::Holm,
                adjust: None,
                missing: None,
                missing_covariates: Vec::new(),
                complier_effect: false,
                per_outcome: Vec::new(),
                sequential: None,
            },
        ],
        expectations: vec![Expectation {
            analysis: 0,
            metric: Metric::Power,
            op: Comparison::Ge,
            value: 0.80,
            n_per_arm: Some(180),
        }],
        data: None,
        uncertain: Vec::new(),
    }
}
