//! The plan language of issue 14 (docs/language.md): levels that start with a digit or hold
//! spaces, a marked primary analysis, and a test and sidedness per outcome inside one analysis.

use trialsim::analysis::run_plan;
use trialsim::check::compile;
use trialsim::model::{Sides, TestKind, TrialModel};
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};
use trialsim::source::SourceFile;

fn model(text: &str) -> TrialModel {
    compile(&SourceFile::new("plan.trial", text))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .model
}

const LEVELS: &str = r#"
trial "levels" {
  population {
    income ~ categorical { 15k_24k: 30%, 24k_50k: 40%, "50k plus": rest }
    ladder ~ categorical { 3: 45%, 4: 55% }
  }
  eligibility { ladder >= 3  income in {15k_24k, "50k plus"} }
  sample 50 per arm
  arm treatment { work within 12 months: 30% by income { "50k plus": 40% } }
  arm control { work within 12 months: 20% }
  outcome work_12m = worked within 12 months
  analysis primary { compare work_12m: treatment vs control within income {"50k plus", 15k_24k} }
}
"#;

#[test]
fn levels_may_start_with_a_digit_or_be_quoted_with_spaces() {
    let m = model(LEVELS);
    let levels: Vec<&str> = m.population.variables[0]
        .levels()
        .expect("categorical")
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(levels, ["15k_24k", "24k_50k", "50k plus"]);
    // A numeric level keeps its value (`ladder >= 3` admits both levels).
    assert!(m.level_possible(1, 0) && m.level_possible(1, 1));
    assert_eq!(m.analyses[0].levels, [2, 0]);
}

/// `check` writes a level back as a spec must write it (quoted when it holds a space).
#[test]
fn check_quotes_a_level_with_a_space() {
    let dir = std::env::temp_dir().join(format!("trialsim-levels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("levels.trial");
    std::fs::write(&path, LEVELS).expect("write");
    let out = crate::common::run(crate::common::trialsim().arg("check").arg(&path));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        out.stdout
            .contains(r#"income ~ categorical { 15k_24k: 30%, 24k_50k: 40%, "50k plus": 30% }"#),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(r#"within income {"50k plus", 15k_24k}"#),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const PER_OUTCOME: &str = r#"
trial "per outcome" {
  sample 60 per arm
  arm treatment { employed: 30%  score ~ normal(mean 55, sd 10) }
  arm control   { employed: 20%  score ~ normal(mean 50, sd 10) }
  outcome employed = binary
  outcome score = continuous
  analysis first { compare employed: treatment vs control }
  analysis main (primary) {
    compare employed, score: treatment vs control
    test pooled_z, one_sided greater, alpha 5%
    test welch_t, two_sided for score
  }
  analysis score_alone { compare score: treatment vs control  test welch_t, two_sided }
  analysis employed_alone {
    compare employed: treatment vs control
    test pooled_z, one_sided greater
  }
}
"#;

#[test]
fn a_marked_primary_analysis_is_the_default_of_design_questions() {
    let m = model(PER_OUTCOME);
    assert_eq!(m.primary, Some(1));
    assert_eq!(m.primary_analysis().map(|a| a.name.as_str()), Some("main"));
    assert_eq!(trialsim::design::analysis_index(&m, None).ok(), Some(1));
    // Without a mark, the first analysis.
    let plain = model(&PER_OUTCOME.replace(" (primary)", ""));
    assert_eq!(plain.primary, None);
    assert_eq!(trialsim::design::analysis_index(&plain, None).ok(), Some(0));
}

#[test]
fn each_outcome_is_tested_by_its_own_test_and_sides() {
    let m = model(PER_OUTCOME);
    let main = &m.analyses[1];
    assert_eq!((main.test, main.sides), (TestKind::PooledZ, Sides::Greater));
    assert_eq!(main.per_outcome, [(1, TestKind::WelchT, Sides::TwoSided)]);
    let sim = Simulator::new(&m, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    for r in 0..5 {
        sim.simulate(&mut w, &mut replicate_rng(11, 0, r));
        let plan = run_plan(&m, &w.table);
        let (main, score, employed) = (&plan.analyses[1], &plan.analyses[2], &plan.analyses[3]);
        // Each contrast is exactly the one of an analysis with that test alone.
        assert_eq!(main.contrasts[0].p_value, employed.contrasts[0].p_value);
        assert_eq!(main.contrasts[1].p_value, score.contrasts[0].p_value);
        assert_eq!(main.contrasts[1].statistic, score.contrasts[0].statistic);
    }
    // The first outcome's own test becomes the analysis-wide one; the rest keep the plain one,
    // so writing the plan the other way round means the same.
    let flipped = model(&PER_OUTCOME.replace(
        "test pooled_z, one_sided greater, alpha 5%\n    test welch_t, two_sided for score",
        "test welch_t, two_sided, alpha 5%\n    test pooled_z, one_sided greater for employed",
    ));
    assert_eq!(flipped.analyses[1], m.analyses[1]);
}

#[test]
fn mistakes_in_per_outcome_tests_and_marks_are_reported() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/errors/plan_marks.trial"
    ))
    .expect("readable");
    let Err(failed) = compile(&SourceFile::new("plan_marks.trial", text)) else {
        panic!("the mistakes check cleanly");
    };
    let codes: Vec<&str> = failed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|e| e.code_str())
        .collect();
    for code in ["duplicate", "invalid_value", "unknown_outcome"] {
        assert!(
            codes.contains(&format!("trialsim::check::{code}").as_str()),
            "{codes:?}"
        );
    }
}
