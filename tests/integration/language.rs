//! The trial language: every shipped spec checks, every mistake gets a readable diagnostic, and
//! the checked model carries the semantics the model documents.

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use trialsim::check::{self, CheckFailed, Checked};
use trialsim::model::*;
use trialsim::source::SourceFile;

use crate::common::{run, trialsim};

/// Renders a diagnostic the way the snapshots hold it: no colour, unicode, 100 columns.
fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_links(false)
        .render_report(&mut out, diagnostic)
        .expect("rendering to a String cannot fail");
    out
}

fn compile_file(path: &Path) -> Result<Checked, CheckFailed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = std::fs::read_to_string(path).expect("spec is readable");
    check::compile(&SourceFile::new(rel.display().to_string(), text))
}

fn compile(text: &str) -> Result<Checked, CheckFailed> {
    check::compile(&SourceFile::new("inline.trial", text))
}

fn model(text: &str) -> TrialModel {
    match compile(text) {
        Ok(c) => c.model,
        Err(e) => panic!("expected the spec to check:\n{}", render(&e)),
    }
}

fn codes(text: &str) -> Vec<String> {
    match compile(text) {
        Ok(c) => c
            .warnings
            .iter()
            .map(|w| w.code_str().to_string())
            .collect(),
        Err(e) => e
            .diagnostics
            .iter()
            .map(|d| d.code_str().to_string())
            .collect(),
    }
}

/// One snapshot per file in tests/errors: the whole rendered report (errors and warnings).
#[test]
fn error_snapshots() {
    insta::glob!("../errors", "*.trial", |path| {
        let rendered = match compile_file(path) {
            Err(failed) => {
                assert!(failed.error_count() > 0, "a failed check has errors");
                render(&failed)
            }
            Ok(checked) => {
                assert!(
                    !checked.warnings.is_empty(),
                    "{} checks cleanly; every file in tests/errors must show a diagnostic",
                    path.display()
                );
                checked
                    .warnings
                    .iter()
                    .map(|w| render(w))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        insta::assert_snapshot!(rendered);
    });
}

/// The checked model of every shipped spec, as JSON.
#[test]
fn spec_models() {
    insta::glob!("../../specs", "*.trial", |path| {
        let checked = compile_file(path).unwrap_or_else(|e| panic!("{}", render(&e)));
        insta::assert_json_snapshot!(checked.model);
    });
}

/// `trialsim check` passes on every spec in specs/ and examples/ (new files are covered
/// automatically), and its summary is stable.
#[test]
fn check_passes_on_every_shipped_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["specs", "examples"] {
        collect_specs(&root.join(dir), &mut files);
    }
    assert!(files.len() >= 3, "the shipped specs are found");
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let out = run(trialsim().args(["check", &rel]));
        assert_eq!(out.status, Some(0), "trialsim check {rel}:\n{out}");
    }
}

fn collect_specs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_specs(&path, out);
        } else if path.extension().is_some_and(|e| e == "trial") {
            out.push(path);
        }
    }
}

#[test]
fn check_summary_of_the_almere_plan() {
    let out = run(trialsim().args(["check", "specs/almere-45plus.trial"]));
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn check_summary_of_observed_and_two_arm_specs() {
    let out = run(trialsim().args([
        "check",
        "specs/almere-45plus-observed.trial",
        "specs/two-arm.trial",
    ]));
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn check_reports_all_errors_and_exits_1() {
    let out = run(trialsim().args(["check", "tests/errors/many_errors.trial"]));
    assert_eq!(out.status, Some(1));
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("has 4 errors"), "{out}");
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn check_names_an_unreadable_path() {
    let out = run(trialsim().args(["check", "specs/no-such-file.trial"]));
    assert_eq!(out.status, Some(1));
    assert!(
        out.stderr
            .contains("cannot read `specs/no-such-file.trial`"),
        "{out}"
    );
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn check_without_files_is_a_usage_error() {
    let out = run(trialsim().args(["check"]));
    assert_eq!(out.status, Some(2), "{out}");
    let out = run(trialsim().args(["check", "--format", "yaml", "specs/two-arm.trial"]));
    assert_eq!(out.status, Some(2), "{out}");
}

#[test]
fn check_format_json_prints_the_model() {
    let out = run(trialsim().args(["check", "--format", "json", "specs/two-arm.trial"]));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["name"], "Two-arm pilot");
    assert_eq!(
        json["arms"][0]["direct_outcomes"][0]["value"]["probability"],
        0.3
    );
    assert_eq!(json["assignment"]["rule"]["kind"], "complete");
}

// ---- semantics of the checked model ------------------------------------------------------------

const ALMERE_PLAN: &str = include_str!("../../specs/almere-45plus.trial");
const ALMERE_OBSERVED: &str = include_str!("../../specs/almere-45plus-observed.trial");

#[test]
fn almere_plan_carries_the_power_calculation() {
    let m = model(ALMERE_PLAN);
    let exp = &m.arms[0];
    assert_eq!(exp.name, "experiment");
    assert_eq!(exp.paths.len(), 2);
    assert_eq!(exp.paths[0].name, "team_zorg");
    assert!((exp.paths[0].share - 0.25).abs() < 1e-12);
    assert!((exp.paths[0].work.probability - 0.10).abs() < 1e-12);
    assert_eq!(exp.paths[0].delay_months, 3);
    // `rest` resolves to what team_zorg leaves.
    assert!((exp.paths[1].share - 0.75).abs() < 1e-12);
    assert!(exp.paths[1].rest);
    // 0.75 x 25% + 0.25 x 10% = 21.25% [001:1208]
    let mix: f64 = exp.paths.iter().map(|p| p.share * p.work.probability).sum();
    assert!((mix - 0.2125).abs() < 1e-12);
    let ctl = &m.arms[1];
    assert_eq!(ctl.paths.len(), 1, "an arm without paths has one path");
    assert_eq!(ctl.paths[0].name, "control");
    assert_eq!(ctl.paths[0].share, 1.0);
    assert!((ctl.paths[0].work.probability - 0.1167).abs() < 1e-12);
    assert_eq!(ctl.paths[0].work.months, 12);
    assert_eq!(ctl.paths[0].work.meaning, RateMeaning::FoundWithin);
    assert_eq!(m.sample, Some(vec![180, 180]));
    assert_eq!(
        m.assignment.rule,
        AssignmentRule::Parity {
            even: 0,
            odd: 1,
            id: "bsn".to_string()
        }
    );
    assert_eq!(m.assignment.intake_order, IntakeOrder::Random);
    assert_eq!(
        m.assignment.capacity,
        Some(Capacity {
            staff: 4,
            caseload: 25,
            intakes_per_month: None,
            guidance_months: None,
            arm: None,
            waiting: None,
        })
    );
    let primary = &m.analyses[0];
    assert_eq!(primary.sides, Sides::Greater);
    assert_eq!(primary.alpha, 0.05);
    assert_eq!(primary.test, TestKind::PooledZ);
    assert_eq!(m.expectations[0].n_per_arm, Some(182));
    assert_eq!(m.expectations[0].value, 0.8);
    assert_eq!(m.reference_date.as_deref(), Some("2017-09-01"));
    let screening = m.eligibility.screening.as_ref().expect("screening");
    assert_eq!(
        (screening.planned_loss, screening.observed_loss),
        (0.25, Some(0.05))
    );
    let age_max = &m.eligibility.criteria[1];
    assert_eq!(age_max.amended_from, Some(60.0));
    assert_eq!(
        age_max.test,
        CriterionTest::Compare {
            op: Comparison::Le,
            value: 63.0
        }
    );
    // Durable work: 3 consecutive months of at least 48 hours [000:586-599].
    assert!(m.outcomes.iter().any(|o| o.measure
        == Measure::Durable {
            month: 12,
            consecutive: 3,
            min_hours: 48.0
        }));
    let by_bg = &m.analyses[2];
    assert_eq!(
        m.population.variables[by_bg.within.expect("subgroup")].name,
        "background"
    );
    assert_eq!(by_bg.levels, vec![0, 1]);
}

#[test]
fn almere_observed_carries_the_real_flows() {
    let m = model(ALMERE_OBSERVED);
    assert_eq!(m.sample, Some(vec![203, 199]));
    let exp = &m.arms[0];
    let dropout = exp.dropout.as_ref().expect("dropout");
    assert_eq!(dropout.follows, ProcessRef { arm: 1, path: None });
    assert_eq!(exp.exemption.as_ref().map(|e| e.max_months), Some(12));
    assert!((exp.paths[0].share - 0.293).abs() < 1e-12);
    assert_eq!(exp.paths[0].work.probability, 0.0);
    assert!((exp.paths[1].share - 0.707).abs() < 1e-12);
    assert!(exp.non_work_exit.is_some());
    assert!(exp.baseline_employment > 0.0);
    let cross = m.arms[1].crossover.as_ref().expect("crossover");
    assert_eq!(
        cross.to,
        ProcessRef {
            arm: 0,
            path: Some(1)
        }
    );
    assert_eq!(cross.after_months, 6);
    let data = m.data.as_ref().expect("data mapping");
    assert_eq!(data.delimiter, Some(b';'));
    assert_eq!(data.decimal_comma, Some(true));
    assert!(data.allow_exclusions);
    assert_eq!(data.monthly_hours.as_deref(), Some("hours_m{m}"));
    assert_eq!(
        data.flows,
        vec![
            (Flow::Dropout, "left_before_intake".to_string()),
            (Flow::Exemption, "exempt".to_string()),
            (Flow::Crossover, "joined_programme".to_string()),
            (Flow::NonWorkExit, "benefit_end_other".to_string()),
        ]
    );
    assert_eq!(
        data.arm_values,
        vec![("E".to_string(), 0), ("C".to_string(), 1)]
    );
    let path = data.path.as_ref().expect("path column");
    assert_eq!(
        path.values[0],
        PathValue {
            value: "team_zorg".into(),
            arm: 0,
            path: 0
        }
    );
    assert_eq!(
        path.values[2],
        PathValue {
            value: "control".into(),
            arm: 1,
            path: 0
        }
    );
}

const TWO_ARM_BASE: &str = r#"trial "t" {
  population { background ~ categorical { dutch: 43%, non_western: 51%, western: rest } }
  arm a { work within 12 months: 25% }
  arm b { work within 12 months: 10% }
  outcome w = worked within 12 months
  analysis p { compare w: a vs b }
"#;

fn with(extra: &str) -> String {
    format!("{TWO_ARM_BASE}{extra}\n}}\n")
}

#[test]
fn defaults_are_filled() {
    let m = model(&with(""));
    assert_eq!(
        m.follow_up_months, 12,
        "follow-up defaults to the latest month measured"
    );
    assert_eq!(
        m.assignment.rule,
        AssignmentRule::Complete { ratio: vec![1, 1] }
    );
    assert_eq!(m.assignment.intake_order, IntakeOrder::Simultaneous);
    assert_eq!(m.employment.job_loss_per_month, 0.0);
    assert_eq!(
        m.employment.hours,
        Distribution::Uniform {
            low: 8.0,
            high: 160.0
        }
    );
    let a = &m.analyses[0];
    assert_eq!(
        (a.test, a.sides, a.alpha, a.correction),
        (TestKind::PooledZ, Sides::TwoSided, 0.05, Correction::None)
    );
    assert_eq!(
        m.outcomes[0].measure,
        Measure::WorkedWithin {
            within: 12,
            min_hours: 1.0
        }
    );
    assert_eq!(m.arms[0].baseline_employment, 0.0);
    let levels = m.population.variables[0].levels().expect("categorical");
    assert!(
        (levels[2].probability - 0.06).abs() < 1e-12,
        "`rest` level resolved"
    );
}

#[test]
fn units_are_normalised() {
    let m = model(&with(
        "follow_up 2 years\n  employment { hours ~ uniform(12 hours per week, 40 hours per week) job_loss 2% per month }\n  outcome h = employed at month 6, hours >= 12 hours per week",
    ));
    assert_eq!(m.follow_up_months, 24);
    // 12 h/week x 52 / 12 = 52 h/month; 40 h/week = 173.33 h/month.
    match m.employment.hours {
        Distribution::Uniform { low, high } => {
            assert!((low - 52.0).abs() < 1e-9);
            assert!((high - 40.0 * 52.0 / 12.0).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.employment.job_loss_per_month, 0.02);
    assert_eq!(
        m.outcomes[1].measure,
        Measure::EmployedAt {
            month: 6,
            min_hours: 52.0
        }
    );
}

#[test]
fn randomisation_designs() {
    let m = model(&with(
        "assignment { randomise 2:1 in blocks of 6 within background }",
    ));
    assert_eq!(
        m.assignment.rule,
        AssignmentRule::Blocked {
            ratio: vec![2, 1],
            block_size: 6,
            strata: vec![0]
        }
    );
    let m = model(&with("assignment { randomise 2:1 }"));
    assert_eq!(
        m.assignment.rule,
        AssignmentRule::Complete { ratio: vec![2, 1] }
    );
}

#[test]
fn subgroup_rates_and_continuous_outcomes() {
    let m = model(&with(
        "arm c { work within 12 months: 25% by background { dutch: 30%, non_western: 22% } }",
    ));
    let by = m.arms[2].paths[0].work.by.as_ref().expect("by");
    assert_eq!(by.variable, 0);
    assert_eq!(by.probabilities, vec![Some(0.30), Some(0.22), None]);

    let m = model(
        r#"trial "c" {
  arm t { score ~ normal(55, 10) }
  arm c { score ~ normal(52, 10) }
  outcome score = continuous
  analysis p { compare score: t vs c  test one_sided less, alpha 2.5% }
}"#,
    );
    let a = &m.analyses[0];
    assert_eq!(
        (a.test, a.sides, a.alpha),
        (TestKind::WelchT, Sides::Less, 0.025)
    );
    assert_eq!(
        m.arms[0].direct_outcomes[0].value,
        DirectValue::Continuous {
            distribution: Distribution::Normal {
                mean: 55.0,
                sd: 10.0
            }
        }
    );
}

#[test]
fn diagnostics_by_code() {
    // Each mistake gives its own stable code.
    let cases: &[(&str, &str)] = &[
        (
            "analysis q { compare w: a vs b within background {dutch} \n correction hlm }",
            "trialsim::check::unknown_correction",
        ),
        (
            "expect pwr(p) >= 80% at 100 per arm",
            "trialsim::check::unknown_metric",
        ),
        (
            "expect power(primary) >= 80% at 100 per arm",
            "trialsim::check::unknown_analysis",
        ),
        ("sample a 100", "trialsim::check::missing_section"),
        (
            "arm c { work within 12 months: 20%  crossover 5% -> a.team }",
            "trialsim::check::unknown_path",
        ),
        (
            "assignment { randomise 1:1:1 }",
            "trialsim::check::invalid_value",
        ),
        (
            "eligibility { background >= 3 }",
            "trialsim::check::invalid_value",
        ),
        (
            "population { x ~ uniform(1, 2) }",
            "trialsim::check::duplicate",
        ),
        (
            "outcome w2 = durable at month 12 for 13 months",
            "trialsim::check::durable_too_long",
        ),
        (
            "arm c { path x 50% { work within 12 months: 1% } path y rest { work within 12 months: 2% } work within 12 months: 3% }",
            "trialsim::check::conflict",
        ),
        ("outcome b = binary", "trialsim::check::missing_section"),
    ];
    for (extra, code) in cases {
        let got = codes(&with(extra));
        assert!(
            got.iter().any(|c| c == code),
            "{extra}: expected {code}, got {got:?}"
        );
    }
}

#[test]
fn syntax_tree_keeps_spans_but_compares_by_meaning() {
    let a = trialsim::syntax::parse(&SourceFile::new("a", "trial \"t\" { arm x { } }"))
        .expect("parses");
    let b = trialsim::syntax::parse(&SourceFile::new("b", "trial \"t\" {\n\n  arm   x {}\n}"))
        .expect("parses");
    assert_eq!(a, b);
    let trialsim::syntax::ast::Item::Arm(arm) = &b.items[0] else {
        panic!("an arm")
    };
    assert_eq!((arm.name.span.start, arm.name.span.end), (21, 22));
}

#[test]
fn beliefs_about_uncertain_values() {
    let m = model(&with(
        "arm c {\n    path tz 25% ~ uniform(20%, 35%) { work within 12 months: 10% ~ normal(10%, 2%) }\n    path g rest { work within 12 months: 25% }\n    crossover 7% ~ uniform(5%, 10%) -> a\n  }",
    ));
    assert_eq!(
        m.uncertain,
        vec![
            UncertainParameter {
                parameter: "arm.c.tz.share".into(),
                distribution: Distribution::Uniform {
                    low: 0.20,
                    high: 0.35
                },
            },
            UncertainParameter {
                parameter: "arm.c.tz.work".into(),
                distribution: Distribution::Normal {
                    mean: 0.10,
                    sd: 0.02
                },
            },
            UncertainParameter {
                parameter: "arm.c.crossover".into(),
                distribution: Distribution::Uniform {
                    low: 0.05,
                    high: 0.10
                },
            },
        ]
    );
    for p in &m.uncertain {
        trialsim::params::get(&m, &p.parameter).expect("every belief names a parameter");
    }
    let got = codes(&with(
        "arm c { work within 12 months: 25% ~ uniform(30%, 40%) }",
    ));
    assert_eq!(got, vec!["trialsim::check::belief_off_centre".to_string()]);
    let got = codes(&with(
        "arm c { work within 12 months: 25% ~ uniform(20%, 140%) }",
    ));
    assert!(
        got.contains(&"trialsim::check::invalid_distribution".to_string()),
        "{got:?}"
    );
}

#[test]
fn every_construct_of_the_reference_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language-reference.trial");
    let checked = compile_file(&path).unwrap_or_else(|e| panic!("{}", render(&e)));
    // The one warning: a contrast of wages is descriptive (`wage at month M` is a construct too).
    let warnings: Vec<&str> = checked.warnings.iter().map(|w| w.code_str()).collect();
    assert_eq!(warnings, ["trialsim::check::conditional_outcome"]);
    let m = checked.model;
    assert_eq!(m.employment.job_loss_per_month, 0.02);
    assert_eq!(
        m.employment.wage,
        Some(Distribution::Normal {
            mean: 14.0,
            sd: 2.0
        })
    );
    assert_eq!(
        m.assignment.capacity,
        Some(Capacity {
            staff: 4,
            caseload: 25,
            intakes_per_month: Some(20.0),
            guidance_months: Some(12),
            arm: Some(0),
            waiting: Some(ProcessRef { arm: 1, path: None }),
        })
    );
    assert_eq!(m.assignment.clock, trialsim::model::Clock::Randomisation);
    assert_eq!(m.analyses[1].test, TestKind::WelchT);
    assert_eq!(m.analyses[1].correction, Correction::Bonferroni);
    assert_eq!(m.expectations[1].metric, Metric::Coverage);
    assert_eq!(m.outcomes[4].measure, Measure::BenefitEnded { month: 18 });
    assert_eq!(m.uncertain.len(), 2);
    let out = run(trialsim().args(["check", "tests/language-reference.trial"]));
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn data_mapping_duplicates() {
    let got = codes(&with(
        "data { id \"i\" arm \"g\" { \"A\" -> a, \"A\" -> b } covariate background \"x\" covariate background \"y\" }",
    ));
    assert_eq!(
        got.iter()
            .filter(|c| *c == "trialsim::check::duplicate")
            .count(),
        2,
        "{got:?}"
    );
}

#[test]
fn check_continues_past_a_failing_file() {
    let out = run(trialsim().args([
        "check",
        "tests/errors/unknown_arm.trial",
        "specs/two-arm.trial",
    ]));
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stdout.starts_with("specs/two-arm.trial: ok"), "{out}");
    assert!(out.stderr.contains("there is no arm `contrl`"), "{out}");
    let out = run(trialsim().args([
        "check",
        "--format",
        "json",
        "specs/two-arm.trial",
        "specs/almere-45plus.trial",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(
        json.as_array().map(Vec::len),
        Some(2),
        "several files give an array"
    );
}

/// A reader that goes away (`trialsim check … | true`) ends the command quietly, by SIGPIPE as
/// `cat` does, not with a panic (exit 101) from a failed print.
#[cfg(unix)]
#[test]
fn a_closed_pipe_does_not_panic() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = trialsim()
        .args([
            "check",
            "specs/almere-45plus-flows.trial",
            "specs/almere-45plus.trial",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // Close the reading end before the command prints.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}",
        out.status
    );
}
