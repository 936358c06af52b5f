//! Loading and analysing a generated 1,000,000-row participant CSV.
//! Reports rows per second through criterion's throughput; memory is bounded by the table's
//! columns (measure the CLI's max RSS with `/usr/bin/time -v`).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trialsim::model::*;

const ROWS: u64 = 1_000_000;

fn arm(name: &str) -> Arm {
    Arm {
        name: name.into(),
        paths: vec![SubPath {
            name: name.into(),
            share: 1.0,
            rest: false,
            share_by: None,
            delay_months: 0,
            work: WorkRate {
                probability: 0.2,
                months: 12,
                meaning: RateMeaning::FoundWithin,
                by: None,
            },
        }],
        baseline_employment: 0.0,
        dropout: None,
        exemption: None,
        non_work_exit: None,
        crossover: None,
        direct_outcomes: Vec::new(),
        lost_to_follow_up: None,
    }
}

/// A two-arm model with one categorical and one numeric covariate, a binary and a continuous
/// outcome, and the mapping for the generated file.
pub fn model() -> TrialModel {
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
            variables: vec![
                Variable {
                    name: "sex".into(),
                    unit: Unit::None,
                    distribution: Distribution::Categorical {
                        levels: vec![level("female"), level("male")],
                    },
                },
                Variable {
                    name: "age".into(),
                    unit: Unit::Years,
                    distribution: Distribution::Uniform {
                        low: 18.0,
                        high: 65.0,
                    },
                },
            ],
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
        arms: vec![arm("treatment"), arm("control")],
        employment: EmploymentProcess {
            job_loss_per_month: 0.0,
            hours: Distribution::Fixed { value: 100.0 },
            wage: None,
        },
        outcomes: vec![
            Outcome {
                name: "employed".into(),
                measure: Measure::DirectBinary,
            },
            Outcome {
                name: "earnings".into(),
                measure: Measure::DirectContinuous,
            },
        ],
        analyses: vec![
            Analysis {
                name: "employment".into(),
                outcomes: vec![0],
                treatment: 0,
                control: 1,
                test: TestKind::PooledZ,
                sides: Sides::TwoSided,
                alpha: 0.05,
                within: Some(0),
                levels: vec![0, 1],
                correction: Correction::Holm,
                adjust: None,
                missing: None,
                missing_covariates: Vec::new(),
                complier_effect: false,
                per_outcome: Vec::new(),
                sequential: None,
            },
            Analysis {
                name: "earnings".into(),
                outcomes: vec![1],
                treatment: 0,
                control: 1,
                test: TestKind::WelchT,
                sides: Sides::TwoSided,
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
        ],
        expectations: Vec::new(),
        data: Some(DataMapping {
            id: "id".into(),
            arm: "arm".into(),
            arm_values: vec![("treatment".into(), 0), ("control".into(), 1)],
            covariates: vec![(0, "sex".into()), (1, "age".into())],
            outcomes: vec![(0, "employed".into()), (1, "earnings".into())],
            monthly_hours: None,
            path: None,
            delimiter: None,
            decimal_comma: None,
            allow_exclusions: false,
            flows: Vec::new(),
        }),
        uncertain: Vec::new(),
    }
}

/// Writes the generated CSV once (deterministic content) and returns its path.
fn generated_csv() -> PathBuf {
    let path = std::env::temp_dir().join("trialsim-bench-1m.csv");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        return path;
    }
    let file = std::fs::File::create(&path).expect("temp dir is writable");
    let mut w = BufWriter::new(file);
    writeln!(w, "id,arm,sex,age,employed,earnings").expect("write");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for id in 1..=ROWS {
        let r = next();
        let arm = if r & 1 == 0 { "treatment" } else { "control" };
        let sex = if r & 2 == 0 { "female" } else { "male" };
        let age = 18 + (r >> 8) % 47;
        let employed = u64::from((r >> 20) % 100 < 30);
        let earnings = employed as f64 * ((r >> 32) % 4_000_000) as f64 / 100.0;
        writeln!(w, "{id},{arm},{sex},{age},{employed},{earnings:.2}").expect("write");
    }
    w.flush().expect("flush");
    path
}

fn bench(c: &mut Criterion) {
    let path = generated_csv();
    let model = model();
    let mapping = model.data.clone().expect("mapping");
    let mut group = c.benchmark_group("csv");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("load_1m_rows", |b| {
        b.iter(|| {
            let loaded =
                trialsim::data::load_path(&model, &mapping, &path, "bench.csv").expect("loads");
            assert_eq!(loaded.table.len() as u64, ROWS);
            loaded
        })
    });
    group.bench_function("load_and_analyse_1m_rows", |b| {
        b.iter(|| {
            let loaded =
                trialsim::data::load_path(&model, &mapping, &path, "bench.csv").expect("loads");
            trialsim::analysis::run_plan(&model, &loaded.table)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
