//! The CSV loader: bad data gives a located diagnostic (snapshotted, colour off) and never a
//! panic; good data in its many spellings gives the same table.

use std::io::Cursor;

use miette::{GraphicalReportHandler, GraphicalTheme};
use trialsim::data::{self, DataError, DataErrorKind, Loaded};
use trialsim::model::*;
use trialsim::table::{CovariateColumn, MISSING_CODE};

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

/// Two arms; covariates `sex` (female/male) and `age`; outcomes `employed` (binary) and
/// `earnings` (continuous), read from columns of the same names.
pub fn model() -> TrialModel {
    TrialModel {
        delivery: Default::default(),
        balance: Default::default(),
        primary: None,
        covariate_effects: Vec::new(),
        name: "loader test".into(),
        follow_up_months: 12,
        reference_date: None,
        population: Population {
            pool: None,
            variables: vec![
                Variable {
                    name: "sex".into(),
                    unit: Unit::None,
                    distribution: Distribution::Categorical {
                        levels: vec![
                            Level {
                                name: "female".into(),
                                value: None,
                                probability: 0.5,
                            },
                            Level {
                                name: "male".into(),
                                value: None,
                                probability: 0.5,
                            },
                        ],
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
        analyses: Vec::new(),
        expectations: Vec::new(),
        data: None,
        uncertain: Vec::new(),
    }
}

pub fn mapping() -> DataMapping {
    DataMapping {
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
    }
}

#[allow(clippy::result_large_err)]
fn load_with(csv: &[u8], mapping: &DataMapping) -> Result<Loaded, DataError> {
    data::load(&model(), mapping, "people.csv", Cursor::new(csv.to_vec()))
}

#[allow(clippy::result_large_err)]
fn load(csv: &str) -> Result<Loaded, DataError> {
    load_with(csv.as_bytes(), &mapping())
}

fn render(err: &DataError) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .render_report(&mut out, err)
        .expect("rendering to a String cannot fail");
    out
}

/// Loads `csv`, expects an error of `kind`, returns its rendering.
fn fails(csv: &[u8], mapping: &DataMapping, kind: DataErrorKind) -> String {
    match load_with(csv, mapping) {
        Ok(l) => panic!("expected {kind:?}, loaded {} rows", l.table.len()),
        Err(e) => {
            assert_eq!(e.kind, kind, "{}", render(&e));
            render(&e)
        }
    }
}

const HEADER: &str = "id,arm,sex,age,employed,earnings\n";

fn with_rows(rows: &str) -> Vec<u8> {
    format!("{HEADER}1,treatment,female,30,1,1200.5\n{rows}").into_bytes()
}

macro_rules! bad_csv {
    ($name:ident, $csv:expr, $kind:ident) => {
        bad_csv!($name, $csv, mapping(), $kind);
    };
    ($name:ident, $csv:expr, $mapping:expr, $kind:ident) => {
        #[test]
        fn $name() {
            let csv: Vec<u8> = $csv.into();
            let rendered = fails(&csv, &$mapping, DataErrorKind::$kind);
            insta::assert_snapshot!(rendered);
        }
    };
}

bad_csv!(bad_empty_file, b"", EmptyFile);
bad_csv!(bad_bom_only, b"\xEF\xBB\xBF\r\n", EmptyFile);
bad_csv!(bad_header_only, HEADER.as_bytes(), HeaderOnly);
bad_csv!(
    bad_missing_column_did_you_mean,
    b"id,arm,sex,age,employd,earnings\n1,control,male,40,0,0\n",
    MissingColumn
);
bad_csv!(
    bad_two_missing_columns,
    b"id,group,sex,age,employed\n1,control,male,40,0\n",
    MissingColumn
);
bad_csv!(
    bad_duplicate_column,
    b"id,arm,sex,age,employed,earnings,age\n",
    DuplicateColumn
);
bad_csv!(
    bad_unknown_arm,
    with_rows("2,treatmnet,male,41,0,0\n"),
    UnknownArm
);
bad_csv!(
    bad_unknown_arm_no_suggestion,
    with_rows("2,waitlist,male,41,0,0\n"),
    UnknownArm
);
bad_csv!(
    bad_non_numeric_age,
    with_rows("2,control,male,forty,0,0\n"),
    NotANumber
);
bad_csv!(
    bad_infinite_earnings,
    with_rows("2,control,male,40,0,inf\n"),
    NotANumber
);
bad_csv!(
    bad_decimal_comma_in_comma_file,
    with_rows("2,control,male,40,0,\"12,5\"\n"),
    NotANumber
);
bad_csv!(
    bad_decimal_point_in_semicolon_file,
    b"id;arm;sex;age;employed;earnings\n1;control;male;40;0;12.500\n",
    NotANumber
);
bad_csv!(
    bad_duplicate_id,
    with_rows("2,control,male,40,0,0\n1,control,female,33,1,10\n"),
    DuplicateId
);
bad_csv!(
    bad_ragged_short,
    with_rows("2,control,male,40,0\n"),
    RaggedRow
);
bad_csv!(
    bad_ragged_long,
    with_rows("2,control,male,40,0,0,extra\n"),
    RaggedRow
);
bad_csv!(
    bad_binary_two,
    with_rows("2,control,male,40,2,0\n"),
    NotBinary
);
bad_csv!(
    bad_binary_yes,
    with_rows("2,control,male,40,yes,0\n"),
    NotBinary
);
bad_csv!(
    bad_unknown_level,
    with_rows("2,control,mael,40,0,0\n"),
    UnknownLevel
);
bad_csv!(bad_text_id, with_rows("P-2,control,male,40,0,0\n"), BadId);
bad_csv!(
    bad_missing_arm,
    with_rows("2,NA,male,40,0,0\n"),
    MissingValue
);
bad_csv!(
    bad_missing_outcome,
    with_rows("2,control,male,40,,0\n"),
    MissingValue
);
bad_csv!(
    bad_invalid_utf8,
    [HEADER.as_bytes(), b"1,control,f\xE9male,40,0,0\n"].concat(),
    InvalidUtf8
);
bad_csv!(
    bad_unmapped_outcome,
    with_rows(""),
    DataMapping {
        outcomes: vec![(0, "employed".into())],
        ..mapping()
    },
    UnmappedOutcome
);
bad_csv!(
    bad_quoted_field_with_newline_is_located,
    with_rows("2,control,\"male\",40,0,0\n\"3\",\"control\",\"male\nx\",40,0,0\n"),
    UnknownLevel
);

#[test]
fn error_on_a_late_line_reports_its_real_line_number() {
    let mut csv = HEADER.to_owned();
    for i in 1..=5000 {
        csv.push_str(&format!("{i},control,male,40,0,0\n"));
    }
    csv.push_str("5001,contol,male,40,0,0\n");
    let err = load(&csv).expect_err("unknown arm");
    let text = render(&err);
    assert!(text.contains("people.csv:5002:"), "{text}");
    assert!(text.contains("did you mean `control`?"), "{text}");
}

#[test]
fn allowed_exclusions_are_counted_by_reason() {
    let csv = with_rows(
        "2,contol,male,40,0,0\n3,control,male,x,0,0\n4,control,male,40,,7\n5,control,NA,NA,0,0\n",
    );
    let loaded = load_with(
        &csv,
        &DataMapping {
            allow_exclusions: true,
            flows: Vec::new(),
            ..mapping()
        },
    )
    .expect("loads");
    assert_eq!(loaded.rows, 5);
    assert_eq!(loaded.table.len(), 3);
    assert_eq!(loaded.excluded_total(), 2);
    let excluded: Vec<_> = loaded
        .excluded
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert_eq!(
        excluded,
        [
            "non-numeric value in column `age`: 1",
            "unknown arm value in column `arm`: 1"
        ]
    );
    let missing: Vec<_> = loaded
        .missing
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert_eq!(missing, ["age: 1", "employed: 1", "sex: 1"]);
    assert!(loaded.table.outcomes[0][1].is_nan());
    assert_eq!(loaded.table.outcomes[1][1], 7.0);
}

fn expected_table(loaded: &Loaded) {
    let t = &loaded.table;
    assert!(t.is_consistent());
    assert_eq!(t.id, [1, 2, 3]);
    assert_eq!(t.arm, [0, 1, 1]);
    assert_eq!(t.path, [0, 0, 0]);
    assert_eq!(
        t.covariates[0],
        CovariateColumn::Categorical(vec![0, 1, MISSING_CODE])
    );
    match &t.covariates[1] {
        CovariateColumn::Numeric(v) => {
            assert_eq!(v[..2], [30.5, 41.0]);
            assert!(v[2].is_nan());
        }
        other => panic!("age is numeric, got {other:?}"),
    }
    assert_eq!(t.outcomes[0], [1.0, 0.0, 1.0]);
    assert_eq!(t.outcomes[1][..2], [1200.25, 0.0]);
    assert!(t.outcomes[1][2].is_nan() || t.outcomes[1][2] == 3.0);
}

#[test]
fn good_plain_comma_file() {
    let l = load("id,arm,sex,age,employed,earnings\n1,treatment,female,30.5,1,1200.25\n2,control,male,41,0,0\n3,control,,NA,1,3\n")
        .expect("loads");
    expected_table(&l);
    assert_eq!((l.delimiter, l.decimal_comma), (b',', false));
}

#[test]
fn good_bom_crlf_quoted_and_reordered_columns() {
    let csv = b"\xEF\xBB\xBF\"earnings\",id,\"arm\",sex,age,employed,note\r\n\"1200.25\",1,\"treatment\",female,30.5,true,\"a, b\"\r\n0,2,control,male,41,FALSE,\"say \"\"hi\"\"\"\r\n3,3,control,.,.,1.0,\r\n";
    let l = load_with(csv, &mapping()).expect("loads");
    expected_table(&l);
}

#[test]
fn good_semicolon_with_decimal_comma_detected() {
    let csv = "id;arm;sex;age;employed;earnings\n1;treatment;female;30,5;1;1200,25\n2;control;male;41;0;0\n3;control;NA;;1;3\n";
    let l = load(csv).expect("loads");
    expected_table(&l);
    assert_eq!((l.delimiter, l.decimal_comma), (b';', true));
}

#[test]
fn good_declared_delimiter_and_decimal_comma_in_a_comma_file() {
    let csv = "id,arm,sex,age,employed,earnings\n1,treatment,female,\"30,5\",1,\"1200,25\"\n2,control,male,41,0,0\n3,control,,NA,1,3\n";
    let m = DataMapping {
        delimiter: Some(b','),
        decimal_comma: Some(true),
        ..mapping()
    };
    let l = load_with(csv.as_bytes(), &m).expect("loads");
    expected_table(&l);
}

#[test]
fn good_blank_lines_are_skipped_and_numeric_levels_match() {
    let mut m = model();
    m.population.variables[0].distribution = Distribution::Categorical {
        levels: vec![
            Level {
                name: "3".into(),
                value: Some(3.0),
                probability: 0.5,
            },
            Level {
                name: "4".into(),
                value: Some(4.0),
                probability: 0.5,
            },
        ],
    };
    let csv = "id,arm,sex,age,employed,earnings\n\n1,treatment,4.0,30,1,1\n\n2,control,3,41,0,0\n";
    let l = data::load(
        &m,
        &mapping(),
        "x.csv",
        Cursor::new(csv.as_bytes().to_vec()),
    )
    .expect("loads");
    assert_eq!(l.rows, 2);
    assert_eq!(
        l.table.covariates[0],
        CovariateColumn::Categorical(vec![1, 0])
    );
}

#[test]
fn monthly_hours_give_the_employment_measures() {
    let mut m = model();
    m.outcomes = vec![
        Outcome {
            name: "work_3m".into(),
            measure: Measure::WorkedWithin {
                within: 3,
                min_hours: 1.0,
            },
        },
        Outcome {
            name: "employed_3m".into(),
            measure: Measure::EmployedAt {
                month: 3,
                min_hours: 48.0,
            },
        },
        Outcome {
            name: "durable_3m".into(),
            measure: Measure::Durable {
                month: 3,
                consecutive: 2,
                min_hours: 48.0,
            },
        },
        Outcome {
            name: "hours_3m".into(),
            measure: Measure::Hours { month: 3 },
        },
    ];
    let mapping = DataMapping {
        outcomes: Vec::new(),
        covariates: Vec::new(),
        monthly_hours: Some("h{m}".into()),
        ..mapping()
    };
    let csv = "id,arm,h0,h1,h2,h3\n1,treatment,10,0,60,50\n2,control,0,0,0,40\n3,control,0,0,0,0\n";
    let l = data::load(&m, &mapping, "x.csv", Cursor::new(csv.as_bytes().to_vec())).expect("loads");
    assert_eq!(l.table.outcomes[0], [1.0, 1.0, 0.0]);
    assert_eq!(l.table.outcomes[1], [1.0, 0.0, 0.0]);
    assert_eq!(l.table.outcomes[2], [1.0, 0.0, 0.0]);
    assert_eq!(l.table.outcomes[3], [50.0, 40.0, 0.0]);
    assert_eq!(
        l.table.flags[0] & trialsim::table::flags::EMPLOYED_AT_BASELINE,
        trialsim::table::flags::EMPLOYED_AT_BASELINE
    );
    assert_eq!(l.table.flags[1], 0);
    assert!(l.baseline_hours);
    // A missing month that leaves a measure undecided fails without allowed exclusions …
    let gap = "id,arm,h0,h1,h2,h3\n1,treatment,10,0,NA,50\n";
    let err =
        data::load(&m, &mapping, "x.csv", Cursor::new(gap.as_bytes().to_vec())).expect_err("gap");
    assert_eq!(err.kind, DataErrorKind::MissingValue);
    // … and a missing hours column is named.
    let short = "id,arm,h0,h1,h2\n1,treatment,10,0,1\n";
    let err = data::load(
        &m,
        &mapping,
        "x.csv",
        Cursor::new(short.as_bytes().to_vec()),
    )
    .expect_err("no h3");
    assert_eq!(err.kind, DataErrorKind::MissingColumn);
    assert!(err.message.contains("`h3`"), "{}", err.message);
}

#[test]
fn arbitrary_bytes_never_panic() {
    use proptest::prelude::*;
    proptest!(ProptestConfig::with_cases(300), |(bytes in proptest::collection::vec(
        prop_oneof![Just(b','), Just(b';'), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b'1'), Just(b'.'),
            Just(b'a'), Just(0xE9u8), Just(b't')], 0..120))| {
        let mut csv = HEADER.as_bytes().to_vec();
        csv.extend_from_slice(&bytes);
        if let Err(e) = load_with(&csv, &mapping()) {
            let _ = render(&e);
        }
        if let Err(e) = load_with(&bytes, &mapping()) {
            let _ = render(&e);
        }
    });
}

#[test]
fn export_reads_back_as_the_same_table() {
    let m = model();
    let table = trialsim::table::ParticipantTable {
        cluster: Vec::new(),
        id: vec![1, 2, 3],
        arm: vec![0, 1, 1],
        path: vec![0, MISSING_CODE, 0],
        flags: vec![0, 0, 0],
        covariates: vec![
            CovariateColumn::Categorical(vec![1, MISSING_CODE, 0]),
            CovariateColumn::Numeric(vec![30.123456789012345, f64::NAN, 1e-7]),
        ],
        outcomes: vec![vec![1.0, 0.0, 1.0], vec![0.1 + 0.2, 1234.5, -3.0]],
    };
    let mut csv = Vec::new();
    data::export::write_csv(&m, &table, &mut csv).expect("writes to memory");
    let mapping = data::export::default_mapping(&m);
    let back = data::load(&m, &mapping, "export.csv", Cursor::new(csv)).expect("reads back");
    let t = back.table;
    assert_eq!(
        (t.id.clone(), t.arm.clone(), t.path.clone()),
        (table.id, table.arm, table.path)
    );
    assert_eq!(t.covariates[0], table.covariates[0]);
    assert_eq!(t.outcomes, table.outcomes);
    match &t.covariates[1] {
        // An age in years is written to 0.01 (a register's precision).
        CovariateColumn::Numeric(v) => {
            assert_eq!(v[0], 30.12);
            assert!(v[1].is_nan());
            assert_eq!(v[2], 0.0);
        }
        other => panic!("{other:?}"),
    }
}

/// 100 % against 0 %, and 0 % in both arms, through loader and plan: no NaN where a value exists.
/// References: statsmodels `confint_proportions_2indep(5, 5, 0, 5, method="newcomb",
/// compare="diff")` = (0.38554900569034356, 1.0); `proportions_ztest([5, 0], [5, 5])` =
/// (3.162277660168379, 0.001565402258002548); scipy `fisher_exact([[5, 0], [0, 5]])` p =
/// 0.007936507936507938; `confint_proportions_2indep(0, 4, 0, 6, method="newcomb")` =
/// (-0.39033428790216546, 0.4898908364545974).
#[test]
fn extreme_arms_give_finite_results() {
    let mut m = model();
    let analysis = |name: &str, test| Analysis {
        name: name.into(),
        outcomes: vec![0],
        treatment: 0,
        control: 1,
        test,
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
    };
    m.analyses = vec![
        analysis("z", TestKind::PooledZ),
        analysis("fisher", TestKind::FisherExact),
    ];
    let mut csv = String::from(HEADER);
    for i in 0..10 {
        let (arm, y) = if i < 5 {
            ("treatment", 1)
        } else {
            ("control", 0)
        };
        csv.push_str(&format!("{i},{arm},male,40,{y},0\n"));
    }
    let loaded = data::load(&m, &mapping(), "x.csv", Cursor::new(csv.into_bytes())).expect("loads");
    let plan = trialsim::analysis::run_plan(&m, &loaded.table);
    let z = &plan.analyses[0].contrasts[0];
    assert!((z.ci.0 - 0.38554900569034356).abs() < 1e-6, "{:?}", z.ci);
    assert!((z.ci.1 - 1.0).abs() < 1e-6, "{:?}", z.ci);
    assert!((z.statistic - 3.162277660168379).abs() < 1e-6);
    assert!((z.p_value - 0.001565402258002548).abs() < 1e-6);
    assert!((plan.analyses[1].contrasts[0].p_value - 0.007936507936507938).abs() < 1e-6);

    let mut csv = String::from(HEADER);
    for i in 0..10 {
        let arm = if i < 4 { "treatment" } else { "control" };
        csv.push_str(&format!("{i},{arm},male,40,0,0\n"));
    }
    let loaded = data::load(&m, &mapping(), "x.csv", Cursor::new(csv.into_bytes())).expect("loads");
    let plan = trialsim::analysis::run_plan(&m, &loaded.table);
    let z = &plan.analyses[0].contrasts[0];
    assert_eq!(z.difference, 0.0);
    assert!((z.ci.0 - -0.39033428790216546).abs() < 1e-6, "{:?}", z.ci);
    assert!((z.ci.1 - 0.4898908364545974).abs() < 1e-6, "{:?}", z.ci);
    assert!(plan.analyses[1].contrasts[0].p_value.is_finite());
}

#[test]
fn audit_reads_paths_and_baseline_employment_from_the_data() {
    use trialsim::audit::{AuditStatus, audit};
    let mut m = model();
    // Treatment has two paths, 25 % / 75 %, and 10 % baseline employment.
    let mut second = m.arms[0].paths[0].clone();
    second.name = "guided".into();
    m.arms[0].paths[0].name = "care".into();
    m.arms[0].paths[0].share = 0.25;
    second.share = 0.75;
    m.arms[0].paths.push(second);
    m.arms[0].baseline_employment = 0.1;
    m.outcomes = vec![Outcome {
        name: "work_2m".into(),
        measure: Measure::WorkedWithin {
            within: 2,
            min_hours: 1.0,
        },
    }];
    let map = DataMapping {
        outcomes: Vec::new(),
        covariates: Vec::new(),
        monthly_hours: Some("h{m}".into()),
        path: Some(PathColumn {
            column: "route".into(),
            values: vec![
                PathValue {
                    value: "care".into(),
                    arm: 0,
                    path: 0,
                },
                PathValue {
                    value: "guided".into(),
                    arm: 0,
                    path: 1,
                },
                PathValue {
                    value: "none".into(),
                    arm: 1,
                    path: 0,
                },
            ],
        }),
        ..mapping()
    };
    let mut csv = String::from("id,arm,route,h0,h1,h2\n");
    // 40 treated: 20 on care (far above 25 %), all employed at intake (far above 10 %).
    for i in 0..40 {
        let route = if i < 20 { "care" } else { "guided" };
        csv.push_str(&format!("{i},treatment,{route},10,0,0\n"));
    }
    for i in 40..80 {
        csv.push_str(&format!("{i},control,none,0,0,5\n"));
    }
    let loaded = data::load(&m, &map, "x.csv", Cursor::new(csv.into_bytes())).expect("loads");
    let items = audit(&m, &loaded.table, loaded.baseline_hours);
    let find = |s: &str| {
        items
            .iter()
            .find(|i| i.assumption == s)
            .unwrap_or_else(|| panic!("no item {s}: {items:#?}"))
    };
    let care = find("arm treatment: share on path care");
    assert_eq!(care.observed, Some(0.5));
    assert_eq!(care.status, AuditStatus::Contradicted);
    let base = find("arm treatment: employed at intake");
    assert_eq!(base.observed, Some(1.0));
    assert_eq!(base.status, AuditStatus::Contradicted);
    // Control: planned 20 % work within 12 months, but the only outcome measures 2 months.
    let rate = find("arm control: work within 12 months");
    assert_eq!(rate.status, AuditStatus::NotObserved);
}

fn flow_mapping() -> DataMapping {
    DataMapping {
        flows: vec![
            (Flow::Dropout, "left".into()),
            (Flow::Crossover, "switched".into()),
        ],
        ..mapping()
    }
}

bad_csv!(
    bad_flow_value_yes,
    "id,arm,sex,age,employed,earnings,left,switched\n1,treatment,female,30,1,1200.5,0,0\n2,control,male,41,0,0,yes,0\n",
    flow_mapping(),
    NotBinary
);
bad_csv!(
    bad_flow_column_missing,
    "id,arm,sex,age,employed,earnings,left,switch\n1,treatment,female,30,1,1200.5,0,0\n",
    flow_mapping(),
    MissingColumn
);

#[test]
fn flow_columns_set_the_flags_and_missing_values_are_unknown() {
    let csv = "id,arm,sex,age,employed,earnings,left,switched\n\
               1,treatment,female,30,1,1200.5,1,0\n\
               2,control,male,41,0,0,false,TRUE\n\
               3,control,male,41,0,0,NA,1.0\n\
               4,control,male,41,0,0,0,\n";
    let l = load_with(csv.as_bytes(), &flow_mapping()).expect("loads");
    use trialsim::table::flags;
    assert_eq!(
        l.table.flags,
        vec![flags::DROPOUT, flags::CROSSOVER, flags::CROSSOVER, 0]
    );
    assert_eq!(l.flow_bits, flags::DROPOUT | flags::CROSSOVER);
    assert_eq!(l.flow_unknown, vec![0, 0, flags::DROPOUT, flags::CROSSOVER]);
    assert_eq!(l.missing.get("left"), Some(&1));
    assert_eq!(l.missing.get("switched"), Some(&1));
    // Without flow columns nothing is tracked.
    let l = load_with(&with_rows(""), &mapping()).expect("loads");
    assert_eq!((l.flow_bits, l.flow_unknown.len()), (0, 0));
}

/// An empty outcome cell in a spec that states `missing complete_cases` is a missing outcome,
/// as one the engine loses to follow-up: the row is kept, the outcome is left out of its
/// contrast, and the report counts it per arm. Without the statement the same file fails.
#[test]
fn a_stated_handling_keeps_rows_with_a_missing_outcome() {
    let mut m = model();
    m.analyses = vec![Analysis {
        name: "primary".into(),
        outcomes: vec![0],
        treatment: 0,
        control: 1,
        test: TestKind::PooledZ,
        sides: Sides::TwoSided,
        alpha: 0.05,
        within: None,
        levels: Vec::new(),
        correction: Correction::None,
        adjust: None,
        missing: Some(MissingHandling::CompleteCases),
        missing_covariates: Vec::new(),
        complier_effect: false,
        per_outcome: Vec::new(),
        sequential: None,
    }];
    let csv = with_rows(
        "2,control,male,40,,0\n3,control,female,50,0,0\n4,treatment,male,41,,0\n5,treatment,male,42,0,3\n",
    );
    let mut plain = m.clone();
    plain.analyses[0].missing = None;
    let err = data::load(&plain, &mapping(), "people.csv", Cursor::new(csv.clone()))
        .expect_err("a missing outcome the spec does not expect fails the load");
    assert_eq!(err.kind, DataErrorKind::MissingValue);

    let loaded = data::load(&m, &mapping(), "people.csv", Cursor::new(csv)).expect("loads");
    assert_eq!(loaded.table.len(), 5);
    assert_eq!(loaded.excluded_total(), 0);
    assert_eq!(loaded.missing.get("employed"), Some(&2));
    assert!(loaded.table.outcomes[0][1].is_nan() && loaded.table.outcomes[0][3].is_nan());
    let report = trialsim::cli::stages::analysis_report(
        &m,
        "people.csv",
        trialsim::report::analysis::Inputs::default(),
        &loaded,
    );
    let c = &report.plan.analyses[0].contrasts[0];
    // Treatment: rows 1 (employed) and 5 (not) analysed, row 4 missing; control: row 3 analysed.
    assert_eq!((c.treatment.n, c.treatment.events), (2, Some(1)));
    assert_eq!((c.control.n, c.control.events), (1, Some(0)));
    assert_eq!(report.missing_outcomes, vec![vec![[1, 1]]]);
    let text = trialsim::report::analysis::render_text(&report);
    assert!(text.contains("50.0% (n=2, 1 missing)"), "{text}");
    assert!(text.contains("0.0% (n=1, 1 missing)"), "{text}");
    assert!(text.contains("missing outcomes: complete cases"), "{text}");
    let json = trialsim::report::analysis::to_json(&report);
    let missing = &json["analyses"][0]["contrasts"][0]["missing"];
    assert_eq!(missing["handling"], "complete_cases");
    assert_eq!(
        (missing["treatment"].as_u64(), missing["control"].as_u64()),
        (Some(1), Some(1))
    );
}
