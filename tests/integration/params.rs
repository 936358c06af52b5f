//! Parameter paths: shares that differ by level follow the path's share, the rest path follows
//! at every level, and a refused change leaves the model untouched; only values that take effect
//! are offered (an overridden one is refused naming those that do), and every kind of parameter
//! changes what is simulated.

use trialsim::params;

fn observed() -> trialsim::model::TrialModel {
    trialsim::cli::load_model("specs/almere-45plus-observed.trial")
        .expect("the observed spec checks")
        .model
}

#[test]
fn a_zero_share_removes_the_path_at_every_level() {
    let mut model = observed();
    params::set(&mut model, "arm.experiment.team_zorg.share", 0.0).expect("settable");
    let arm = &model.arms[0];
    let zorg = arm
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path");
    let guided = arm.paths.iter().find(|p| p.rest).expect("rest path");
    assert_eq!(zorg.share, 0.0);
    for level in zorg
        .share_by
        .iter()
        .flat_map(|b| b.probabilities.iter().flatten())
    {
        assert_eq!(*level, 0.0);
    }
    assert_eq!(guided.share, 1.0);
    for level in guided
        .share_by
        .iter()
        .flat_map(|b| b.probabilities.iter().flatten())
    {
        assert!((level - 1.0).abs() < 1e-12, "rest share by level {level}");
    }
}

#[test]
fn level_shares_keep_their_proportion_to_the_path_share() {
    let mut model = observed();
    let before = model.arms[0]
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path")
        .clone();
    let by = before
        .share_by
        .clone()
        .expect("the observed spec varies Team Zorg by background");
    params::set(
        &mut model,
        "arm.experiment.team_zorg.share",
        before.share / 2.0,
    )
    .expect("settable");
    let after = model.arms[0]
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("path");
    let after_by = after.share_by.as_ref().expect("still by level");
    for (old, new) in by.probabilities.iter().zip(&after_by.probabilities) {
        match (old, new) {
            (Some(old), Some(new)) => assert!((new - old / 2.0).abs() < 1e-12),
            (None, None) => {}
            other => panic!("level changed kind: {other:?}"),
        }
    }
}

#[test]
fn a_refused_change_leaves_the_model_as_it_was() {
    let mut model = observed();
    let before = model.clone();
    assert!(params::set(&mut model, "arm.experiment.team_zorg.share", 0.99).is_err());
    assert_eq!(model, before);
    let err = params::set(&mut model, "arm.experiment.team_zorg.shar", 0.2).expect_err("unknown");
    assert!(
        err.to_string()
            .contains("did you mean `arm.experiment.team_zorg.share`"),
        "{err}"
    );
}

const BY_GENDER: &str = "tests/params/coaching-by-gender.trial";

fn load(path: &str) -> trialsim::model::TrialModel {
    trialsim::cli::load_model(path)
        .unwrap_or_else(|e| panic!("{path} checks: {e:?}"))
        .model
}

fn compile(text: &str) -> trialsim::model::TrialModel {
    let source = trialsim::source::SourceFile::new("inline.trial", text);
    trialsim::check::compile(&source)
        .unwrap_or_else(|e| panic!("the spec checks: {e:?}"))
        .model
}

fn paths(model: &trialsim::model::TrialModel) -> Vec<String> {
    params::list(model).into_iter().map(|p| p.path).collect()
}

/// The exact treatment-arm mean of the first contrast of analysis 0.
fn treatment_mean(model: &trialsim::model::TrialModel) -> f64 {
    trialsim::design::exact_means(model, 0).expect("exact means")[0]
}

/// Simulated power and results of analysis `a`, with the seed the CLI uses.
fn power(
    model: &trialsim::model::TrialModel,
    a: usize,
    reps: u64,
) -> trialsim::power::ContrastReport {
    let settings = trialsim::power::PowerSettings {
        seed: 2017,
        replicates: reps,
        n_per_arm: None,
        scenario: 0,
    };
    let report = trialsim::power::run_power(model, &settings, &|_| {}).expect("simulates");
    report.analyses[a].contrasts[0].clone()
}

// The issue's reproducer: a rate set `by gender` at every level. The rate before `by` reaches
// no one, so it is not offered, and setting it names the two rates that take effect.
#[test]
fn a_rate_every_level_replaces_is_refused_naming_the_levels() {
    let mut model = load(BY_GENDER);
    let offered = paths(&model);
    assert!(
        !offered.contains(&"arm.coaching.work".to_string()),
        "{offered:?}"
    );
    assert!(offered.contains(&"arm.coaching.work.female".to_string()));
    assert!(offered.contains(&"arm.coaching.work.male".to_string()));
    let before = model.clone();
    let err = params::set(&mut model, "arm.coaching.work", 0.3).expect_err("overridden");
    match &err {
        params::ParamError::Overridden { effective, .. } => assert_eq!(
            effective,
            &["arm.coaching.work.female", "arm.coaching.work.male"]
        ),
        other => panic!("not an overridden error: {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("vary `arm.coaching.work.female` or `arm.coaching.work.male` instead"),
        "{err}"
    );
    assert_eq!(model, before);
    assert!(matches!(
        params::get(&model, "arm.coaching.work"),
        Err(params::ParamError::Overridden { .. })
    ));
}

// Half the arm is female: the arm's rate is (30 % + 15 %) / 2, and moving the female rate to
// 50 % moves it to (50 % + 15 %) / 2.
#[test]
fn a_level_rate_changes_what_that_level_gets() {
    let mut model = load(BY_GENDER);
    assert!((treatment_mean(&model) - 0.225).abs() < 1e-9);
    params::set(&mut model, "arm.coaching.work.female", 0.5).expect("settable");
    assert!((treatment_mean(&model) - 0.325).abs() < 1e-9);
    params::set(&mut model, "arm.coaching.work.male", 0.05).expect("settable");
    assert!((treatment_mean(&model) - 0.275).abs() < 1e-9);
}

const THREE_LEVELS: &str = r#"trial "t" {
  population {
    region ~ categorical { north: 50%, south: 30%, east: 20% }
  }
  eligibility {
    ELIGIBILITY
  }
  assignment { randomise 1:1 }
  sample 100 per arm
  arm a { work within 12 months: 20% by region { north: 30%, south: 10% } }
  arm b { work within 12 months: 10% }
  outcome w = worked within 12 months
  analysis p { compare w: a vs b }
}"#;

// A level left out of `by` (east) uses the rate before `by`, so that rate takes effect, for
// east alone; once the criteria admit only the stated levels, it reaches no one, and a stated
// level nobody can have is refused too.
#[test]
fn the_rate_before_by_takes_effect_only_where_a_level_uses_it() {
    let mut model = compile(&THREE_LEVELS.replace("ELIGIBILITY", "screening removes 0%"));
    assert!(paths(&model).contains(&"arm.a.work".to_string()));
    let before = treatment_mean(&model);
    params::set(&mut model, "arm.a.work", 0.7).expect("settable");
    // Only east (20 %) moves, from 20 % to 70 %.
    assert!((treatment_mean(&model) - before - 0.2 * 0.5).abs() < 1e-9);

    let mut model = compile(&THREE_LEVELS.replace("ELIGIBILITY", "region in {north, south}"));
    let err = params::set(&mut model, "arm.a.work", 0.7).expect_err("no one has east");
    assert!(
        matches!(&err, params::ParamError::Overridden { effective, .. }
            if effective == &["arm.a.work.north", "arm.a.work.south"]),
        "{err:?}"
    );
    let mut model = compile(&THREE_LEVELS.replace("ELIGIBILITY", "region in {north, east}"));
    assert!(paths(&model).contains(&"arm.a.work".to_string()));
    let err = params::set(&mut model, "arm.a.work.south", 0.5).expect_err("no one has south");
    assert!(
        err.to_string()
            .contains("no participant has `region` = south"),
        "{err}"
    );
}

const SHARES_BY: &str = r#"trial "t" {
  population {
    region ~ categorical { north: 50%, south: 50% }
  }
  assignment { randomise 1:1 }
  sample 100 per arm
  arm a {
    path intensive 30% by region { north: 40%, south: 20% } { work within 12 months: 40% }
    path light rest { work within 12 months: 10% }
  }
  arm b { work within 12 months: 10% }
  outcome w = worked within 12 months
  analysis p { compare w: a vs b }
}"#;

// Path shares by level: the share before `by` reaches no one when every level has its own; a
// level's share is settable, and the rest path takes what is left at that level.
#[test]
fn path_shares_by_level_are_parameters_and_the_rest_follows() {
    let mut model = compile(SHARES_BY);
    let offered = paths(&model);
    for gone in ["arm.a.intensive.share", "arm.a.light.share"] {
        assert!(!offered.contains(&gone.to_string()), "{offered:?}");
        assert!(matches!(
            params::get(&model, gone),
            Err(params::ParamError::Overridden { .. })
        ));
    }
    let err = params::get(&model, "arm.a.intensive.share").expect_err("overridden");
    assert!(
        err.to_string()
            .contains("`arm.a.intensive.share.north` or `arm.a.intensive.share.south`"),
        "{err}"
    );
    // 0.5 × (0.4 × 0.4 + 0.6 × 0.1) + 0.5 × (0.2 × 0.4 + 0.8 × 0.1) = 0.19.
    assert!((treatment_mean(&model) - 0.19).abs() < 1e-9);
    params::set(&mut model, "arm.a.intensive.share.south", 0.6).expect("settable");
    // South: 0.6 × 0.4 + 0.4 × 0.1 = 0.28, so 0.5 × 0.22 + 0.5 × 0.28 = 0.25.
    assert!((treatment_mean(&model) - 0.25).abs() < 1e-9);
    let light = &model.arms[0].paths[1];
    let rest = light
        .share_by
        .as_ref()
        .expect("rest by level")
        .probabilities[1];
    assert!(rest.is_some_and(|s| (s - 0.4).abs() < 1e-12), "{rest:?}");
    assert!(params::set(&mut model, "arm.a.intensive.share.south", 1.2).is_err());
}

// A belief in the spec about a value no participant uses is an error, and a belief about a
// level's own rate is recorded under that level's path (before, it was silently dropped).
#[test]
fn beliefs_about_overridden_values_are_refused_and_level_beliefs_kept() {
    let spec = std::fs::read_to_string(BY_GENDER).expect("readable");
    let bad = spec.replace("22% by gender", "22% ~ uniform(15%, 30%) by gender");
    let source = trialsim::source::SourceFile::new("bad.trial", bad);
    let err = trialsim::check::compile(&source).expect_err("refused");
    let text = format!("{:?}", miette::Report::new(err));
    assert!(
        text.contains("a belief about this value changes nothing"),
        "{text}"
    );
    assert!(text.contains("arm.coaching.work.female"), "{text}");

    let good = spec.replace("female: 30%", "female: 30% ~ uniform(25%, 35%)");
    let model = compile(&good);
    assert_eq!(model.uncertain.len(), 1);
    assert_eq!(model.uncertain[0].parameter, "arm.coaching.work.female");
}

// With a fixed sample the engine draws the sample directly: the pool and the screening loss do
// not enter the simulation, so they are not offered; without a sample they are.
#[test]
fn pool_and_screening_take_effect_only_without_a_fixed_sample() {
    let mut model = load("specs/almere-45plus.trial");
    for path in ["population.pool", "eligibility.screening"] {
        assert!(matches!(
            params::get(&model, path),
            Err(params::ParamError::Overridden { .. })
        ));
    }
    model.sample = None;
    let offered = paths(&model);
    assert!(offered.contains(&"population.pool".to_string()));
    assert!(offered.contains(&"eligibility.screening".to_string()));
}

// A path nobody leaves for work has a delay that changes nothing.
#[test]
fn the_delay_of_a_path_without_work_is_not_offered() {
    let mut model = load("specs/almere-45plus-observed.trial");
    let err = params::get(&model, "arm.experiment.team_zorg.delay").expect_err("no work");
    assert!(
        err.to_string()
            .contains("vary `arm.experiment.team_zorg.work` instead"),
        "{err}"
    );
    params::set(&mut model, "arm.experiment.team_zorg.work", 0.1).expect("settable");
    params::get(&model, "arm.experiment.team_zorg.delay").expect("takes effect now");
}

// In a design whose outcomes are all declared per arm, the employment process is never read.
#[test]
fn process_parameters_of_a_design_without_a_process_are_not_offered() {
    let model = load("specs/two-arm.trial");
    assert_eq!(
        paths(&model),
        [
            "n_per_arm",
            "sample.treatment",
            "sample.control",
            "arm.treatment.employed",
            "arm.control.employed",
            "analysis.primary.alpha"
        ]
    );
    assert!(matches!(
        params::get(&model, "arm.treatment.work"),
        Err(params::ParamError::Overridden { .. })
    ));
}

// Every kind of parameter added for the delivery features changes what is simulated.

#[test]
fn the_icc_and_the_cluster_size_change_power() {
    let model = load("specs/gallery/top-vrouwen.trial");
    let base = power(&model, 0, 400).power;
    let mut independent = model.clone();
    params::set(&mut independent, "clusters.icc", 0.0).expect("settable");
    let mut correlated = model.clone();
    params::set(&mut correlated, "clusters.icc", 0.3).expect("settable");
    let (p0, p3) = (
        power(&independent, 0, 400).power,
        power(&correlated, 0, 400).power,
    );
    assert!(p0 > base + 0.05 && base > p3 + 0.05, "{p0} {base} {p3}");

    // Two cohorts per arm stay two cohorts, now of 40.
    let mut bigger = model.clone();
    params::set(&mut bigger, "clusters.size", 40.0).expect("settable");
    assert_eq!(bigger.sample, Some(vec![80, 80]));
    assert_eq!(bigger.delivery.clusters.as_ref().map(|c| c.size), Some(40));
    let mut more = model.clone();
    params::set(&mut more, "clusters.per_arm", 4.0).expect("settable");
    assert_eq!(more.sample, Some(vec![84, 84]));
    let pb = power(&more, 0, 400).power;
    assert!(pb > base + 0.05, "{pb} {base}");
}

// APP Zaanstad: 25 % + 5 % of the programme arm leave benefit within 24 months, 6 % + 2 % of
// control; 12 % of the programme arm move to Werkom.
#[test]
fn exit_shares_inflow_and_the_analysis_date_change_the_estimates() {
    let model = load("specs/gallery/app-zaanstad.trial");
    let base = power(&model, 0, 400).mean_estimate.expect("estimate");
    let mut no_work = model.clone();
    params::set(&mut no_work, "arm.app.exits.work", 0.04).expect("settable");
    let lower = power(&no_work, 0, 400).mean_estimate.expect("estimate");
    assert!(base - lower > 0.15, "{base} {lower}");
    // 90 % + 5 % + 12 % would be more than everyone.
    assert!(params::set(&mut no_work.clone(), "arm.app.exits.work", 0.9).is_err());

    // Intakes of the second and third year have less than 24 months by month 36: the effect read on the
    // analysis date is smaller than with everyone in the first year, or a later date.
    let mut early = model.clone();
    params::set(&mut early, "inflow.period.1", 200.0).expect("settable");
    let mut later = model.clone();
    params::set(&mut later, "inflow.analysis_month", 48.0).expect("settable");
    let early = power(&early, 0, 400).mean_estimate.expect("estimate");
    let later = power(&later, 0, 400).mean_estimate.expect("estimate");
    assert!(
        early - base > 0.015 && later - base > 0.015,
        "{base} {early} {later}"
    );
}

// The month an outcome is read is its follow-up; the trial's `follow_up` itself changes no
// outcome (every measure names its month), which is why it is not a parameter.
#[test]
fn an_outcome_month_changes_the_outcome_and_the_trial_follow_up_does_not() {
    let model = load("specs/almere-45plus.trial");
    let at12 = treatment_mean(&model);
    let mut at6 = model.clone();
    params::set(&mut at6, "outcome.work_12m.month", 6.0).expect("settable");
    assert!(treatment_mean(&at6) < at12 - 0.03, "{at12}");
    assert!(params::set(&mut at6.clone(), "outcome.work_12m.month", 0.0).is_err());

    let mut longer = model.clone();
    longer.follow_up_months += 12;
    assert_eq!(
        trialsim::design::exact_means(&longer, 0),
        trialsim::design::exact_means(&model, 0)
    );
    assert!(matches!(
        params::get(&model, "follow_up"),
        Err(params::ParamError::Unknown { .. })
    ));
}

#[test]
fn alpha_changes_power() {
    let model = load("specs/two-arm.trial");
    let mut loose = model.clone();
    params::set(&mut loose, "analysis.primary.alpha", 0.2).expect("settable");
    let (p5, p20) = (power(&model, 0, 400).power, power(&loose, 0, 400).power);
    assert!(p20 > p5 + 0.03, "{p5} {p20}");
}

// The cost figures change the economics of every design point.
#[test]
fn costs_change_the_economics_of_a_design_point() {
    let model = trialsim::design::focus(&load("specs/gallery/app-zaanstad.trial"), 0);
    let point = |m: &trialsim::model::TrialModel| {
        trialsim::design::evaluate(m, 0, 2017, 200)
            .expect("evaluates")
            .economics
            .expect("the spec states costs")
    };
    let base = point(&model);
    assert_eq!(base.cost, 90_000.0);
    let mut dearer = model.clone();
    params::set(&mut dearer, "costs.fixed", 180_000.0).expect("settable");
    params::set(&mut dearer, "costs.per_participant", 100.0).expect("settable");
    let d = point(&dearer);
    assert_eq!(d.cost, 190_000.0);
    assert!((d.break_even_effect - base.break_even_effect * 190.0 / 90.0).abs() < 1e-12);
    let mut longer = model.clone();
    params::set(&mut longer, "costs.years_per_exit", 2.0).expect("settable");
    params::set(&mut longer, "costs.saving_per_benefit_year", 7_000.0).expect("settable");
    assert!((point(&longer).break_even_effect - base.break_even_effect).abs() < 1e-12);
    params::set(&mut longer, "costs.saving_per_benefit_year", 14_000.0).expect("settable");
    assert!((point(&longer).break_even_effect - base.break_even_effect / 2.0).abs() < 1e-12);
    assert!(params::set(&mut longer, "costs.fixed", -1.0).is_err());
}

// The audit of `analyze` sets each level's own rate against its participants and never calls
// the rate before `by`, which no one gets, the stated rate.
#[test]
fn the_audit_reports_the_rates_participants_get() {
    use crate::common::{run, trialsim};
    let dir = std::env::temp_dir().join(format!("trialsim-params-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("data.csv");
    let out = run(trialsim()
        .args(["simulate", BY_GENDER, "--export"])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let out = run(trialsim()
        .args(["analyze", BY_GENDER, "--data"])
        .arg(&csv)
        .args(["--format", "json"]));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status, Some(0), "{out}");
    assert!(!out.stdout.contains("22.0%"), "{}", out.stdout);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let audit = json["audit"].as_array().expect("an audit");
    let item = |assumption: &str| {
        audit
            .iter()
            .find(|i| i["assumption"] == assumption)
            .unwrap_or_else(|| panic!("no audit item `{assumption}`"))
    };
    let arm = item("arm coaching: work within 12 months");
    assert!((arm["planned"].as_f64().expect("planned") - 0.225).abs() < 1e-6);
    let note = arm["note"].as_str().expect("a note");
    assert!(
        note.contains("stated 30.0% (female), 15.0% (male)"),
        "{note}"
    );
    for (level, rate) in [("female", 0.30), ("male", 0.15)] {
        let it = item(&format!(
            "arm coaching, gender = {level}: work within 12 months"
        ));
        assert!((it["planned"].as_f64().expect("planned") - rate).abs() < 1e-6);
        assert!(it["n"].as_u64().expect("n") > 50);
    }
}

// A sweep sets each axis at every point, even where another axis' value leaves it without
// effect (a delay at a 0 % rate), but refuses an axis that another overrides at every point.
#[test]
fn a_sweep_refuses_only_an_axis_without_effect_at_every_point() {
    use trialsim::design::sweep::{parse_vary, run_sweep};
    let model = load("specs/almere-45plus.trial");
    let axes = [
        parse_vary(&model, "arm.experiment.team_zorg.work=0%,10%").expect("valid"),
        parse_vary(&model, "arm.experiment.team_zorg.delay=0,3").expect("valid"),
    ];
    let report = run_sweep(&model, 0, &axes, 2017, 20, &|_, _| {}).expect("runs");
    assert_eq!(report.points.len(), 4);

    let mut pool_design = model.clone();
    pool_design.sample = None;
    let axes = [
        parse_vary(&pool_design, "population.pool=400,500").expect("valid"),
        parse_vary(&pool_design, "n_per_arm=150,180").expect("valid"),
    ];
    let err = run_sweep(&pool_design, 0, &axes, 2017, 20, &|_, _| {}).expect_err("overridden");
    assert!(
        err.to_string()
            .contains("`population.pool` takes no effect"),
        "{err}"
    );
}

// A path no one takes has a rate and a delay that change nothing.
#[test]
fn the_rate_of_a_path_no_one_takes_is_not_offered() {
    let mut model = load("specs/almere-45plus.trial");
    params::set(&mut model, "arm.experiment.team_zorg.share", 0.0).expect("settable");
    for path in [
        "arm.experiment.team_zorg.work",
        "arm.experiment.team_zorg.delay",
    ] {
        let err = params::get(&model, path).expect_err("no one on the path");
        assert!(
            err.to_string()
                .contains("no participant takes path `team_zorg` (its share is 0 %); vary `arm.experiment.team_zorg.share` instead"),
            "{err}"
        );
    }
    params::get(&model, "arm.experiment.guided.work").expect("everyone is on guided");
}

// `check` shows the spec as written, and says which stated value reaches no one.
#[test]
fn check_says_a_rate_before_by_reaches_no_one() {
    use crate::common::{run, trialsim};
    let out = run(trialsim().args(["check", BY_GENDER]));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        out.stdout.contains(
            "work within 12 months: 22% by gender { female: 30%, male: 15% } (22% reaches no one)"
        ),
        "{out}"
    );
    let out = run(trialsim().args(["check", "tests/language-reference.trial"]));
    assert!(!out.stdout.contains("reaches no one"), "{out}");
}

// Loss to follow-up: its share, its shares by level, its month and its outcome factor are
// parameters, and each moves the share of outcomes missing to what the spec's law gives: an
// outcome of month m is missing for 1 − (1 − P)^(m/M), and for those whose outcome is 1 the
// hazard is F times as high. Everyone here is followed to month 12 and 30 % work within it.
const LOST: &str = r#"
trial "Lost" {
  follow_up 12 months
  population { background ~ categorical { dutch: 50%, other: rest } }
  sample 2000 per arm
  arm treatment {
    work within 12 months: 30%
    lost_to_follow_up 10% by month 12, by background { other: 30% }, 2 x if work_12m
  }
  arm control {
    work within 12 months: 30%
    lost_to_follow_up 10% by month 12
  }
  outcome work_12m = worked within 12 months
  analysis primary { compare work_12m: treatment vs control }
}
"#;

/// Participants of `arm` (at level `level` of the first covariate, if given) without a
/// `work_12m`, and all of them, over 5 replicates.
fn missing(model: &trialsim::model::TrialModel, arm: u32, level: Option<u32>) -> (u64, u64) {
    use trialsim::sim::{SimOptions, Simulator, rng::replicate_rng};
    use trialsim::table::CovariateColumn;
    let sim = Simulator::new(model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    let (mut lost, mut n) = (0, 0);
    for r in 0..5 {
        sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
        let Some(CovariateColumn::Categorical(codes)) = w.table.covariates.first() else {
            panic!("the background is drawn");
        };
        for ((a, code), value) in w.table.arm.iter().zip(codes).zip(&w.table.outcomes[0]) {
            if *a == arm && level.is_none_or(|l| *code == l) {
                n += 1;
                lost += u64::from(value.is_nan());
            }
        }
    }
    (lost, n)
}

/// The share missing is `expected` within 4 binomial standard errors.
fn assert_missing(what: &str, (lost, n): (u64, u64), expected: f64) {
    let observed = lost as f64 / n as f64;
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{what}: {observed:.4} of {n} missing, expected {expected:.4} (4 SE {:.4})",
        4.0 * se
    );
}

#[test]
fn loss_to_follow_up_parameters_change_what_goes_missing() {
    let model = compile(LOST);
    let listed = paths(&model);
    for p in [
        "arm.treatment.lost_to_follow_up",
        "arm.treatment.lost_to_follow_up.other",
        "arm.treatment.lost_to_follow_up.month",
        "arm.treatment.lost_to_follow_up.factor",
        "arm.control.lost_to_follow_up",
        "arm.control.lost_to_follow_up.month",
    ] {
        assert!(listed.iter().any(|l| l == p), "{p} not in {listed:?}");
    }
    // Control: no dependence on the outcome, so exactly P by month M.
    assert_missing("control as stated", missing(&model, 1, None), 0.10);
    let mut more = model.clone();
    params::set(&mut more, "arm.control.lost_to_follow_up", 0.4).expect("settable");
    assert_missing("control, 40 %", missing(&more, 1, None), 0.40);
    params::set(&mut more, "arm.control.lost_to_follow_up.month", 6.0).expect("settable");
    assert_missing(
        "control, 40 % by month 6",
        missing(&more, 1, None),
        1.0 - 0.6f64.powi(2),
    );
    assert!(params::set(&mut more, "arm.control.lost_to_follow_up.month", 0.0).is_err());

    // Treatment: 70 % without work lose q, 30 % with work lose 1 − (1 − q)^F.
    let mix = |q: f64, f: f64| 0.7 * q + 0.3 * (1.0 - (1.0 - q).powf(f));
    assert_missing(
        "dutch as stated",
        missing(&model, 0, Some(0)),
        mix(0.1, 2.0),
    );
    assert_missing(
        "other as stated",
        missing(&model, 0, Some(1)),
        mix(0.3, 2.0),
    );
    let mut level = model.clone();
    params::set(&mut level, "arm.treatment.lost_to_follow_up.other", 0.5).expect("settable");
    assert_missing("other at 50 %", missing(&level, 0, Some(1)), mix(0.5, 2.0));
    assert_missing(
        "dutch unchanged",
        missing(&level, 0, Some(0)),
        mix(0.1, 2.0),
    );
    let mut base = model.clone();
    params::set(&mut base, "arm.treatment.lost_to_follow_up", 0.2).expect("settable");
    assert_missing("dutch at 20 %", missing(&base, 0, Some(0)), mix(0.2, 2.0));
    let mut factor = model.clone();
    params::set(&mut factor, "arm.treatment.lost_to_follow_up.factor", 6.0).expect("settable");
    assert_missing(
        "dutch, factor 6",
        missing(&factor, 0, Some(0)),
        mix(0.1, 6.0),
    );
    assert!(params::set(&mut factor, "arm.treatment.lost_to_follow_up.factor", -1.0).is_err());
}

#[test]
fn a_loss_share_every_level_replaces_is_refused_and_beliefs_about_loss_are_kept() {
    let model = compile(&LOST.replace("{ other: 30% }", "{ dutch: 5%, other: 30% }"));
    match params::get(&model, "arm.treatment.lost_to_follow_up") {
        Err(params::ParamError::Overridden { effective, .. }) => assert_eq!(
            effective,
            [
                "arm.treatment.lost_to_follow_up.dutch",
                "arm.treatment.lost_to_follow_up.other"
            ]
        ),
        other => panic!("{other:?}"),
    }
    // Nobody lost: the month and factor change nothing.
    let none = compile(&LOST.replace(
        "lost_to_follow_up 10% by month 12, by background { other: 30% }",
        "lost_to_follow_up 0% by month 12",
    ));
    assert!(matches!(
        params::get(&none, "arm.treatment.lost_to_follow_up.factor"),
        Err(params::ParamError::Overridden { .. })
    ));

    let believed = compile(&LOST.replace(
        "lost_to_follow_up 10% by month 12, by background { other: 30% }",
        "lost_to_follow_up 10% ~ uniform(5%, 20%) by month 12, by background { other: 30% ~ normal(30%, 5%) }",
    ));
    let uncertain: Vec<&str> = believed
        .uncertain
        .iter()
        .map(|u| u.parameter.as_str())
        .collect();
    assert_eq!(
        uncertain,
        [
            "arm.treatment.lost_to_follow_up",
            "arm.treatment.lost_to_follow_up.other"
        ]
    );
    trialsim::design::assurance::validate(&believed, &believed.uncertain).expect("assurable");
}

// Capacity with the clock at randomisation is a queue: fewer slots, a slower intake rate or a
// longer hold on each slot keep more of the programme arm waiting (on the control process),
// so fewer work within 12 months. With every clock at intake the same figures move dates only.
const QUEUE: &str = r#"
trial "Queue" {
  follow_up 12 months
  assignment {
    randomise 1:1
    capacity 30 staff x 10 caseload, 1000 intakes per month, guidance 6 months
    clock from randomisation
  }
  sample 300 per arm
  arm treatment { work within 12 months: 40% }
  arm control { work within 12 months: 10% }
  outcome work_12m = worked within 12 months
  analysis primary { compare work_12m: treatment vs control }
}
"#;

/// The treatment arm's share in work within 12 months, over 10 replicates.
fn treatment_work(model: &trialsim::model::TrialModel) -> f64 {
    use trialsim::sim::{SimOptions, Simulator, rng::replicate_rng};
    let sim = Simulator::new(model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    let (mut work, mut n) = (0.0, 0.0);
    for r in 0..10 {
        sim.simulate(&mut w, &mut replicate_rng(2017, 0, r));
        for i in 0..w.table.len() {
            if w.table.arm[i] == 0 {
                work += w.table.outcomes[0][i];
                n += 1.0;
            }
        }
    }
    work / n
}

#[test]
fn capacity_parameters_change_the_queue_only_with_the_clock_at_randomisation() {
    let model = compile(QUEUE);
    // 300 slots and 1000 intakes a month: nobody waits, so the arm gets its 40 % (3000 draws:
    // 4 SE = 0.036).
    let open = treatment_work(&model);
    assert!((open - 0.40).abs() < 0.036, "{open}");
    let set = |path: &str, value: f64| {
        let mut m = model.clone();
        params::set(&mut m, path, value).unwrap_or_else(|e| panic!("{path}: {e}"));
        treatment_work(&m)
    };
    for (path, value) in [
        ("capacity.staff", 2.0),
        ("capacity.caseload", 1.0),
        ("capacity.intakes_per_month", 10.0),
    ] {
        let queued = set(path, value);
        assert!(
            queued < open - 0.1,
            "{path} = {value}: {queued} against {open}"
        );
    }
    // 20 slots: held 6 months they turn over about twice in the follow-up, held 1 month
    // about twelve times.
    let mut few = model.clone();
    params::set(&mut few, "capacity.staff", 2.0).expect("settable");
    let long = treatment_work(&few);
    params::set(&mut few, "capacity.guidance", 1.0).expect("settable");
    let short = treatment_work(&few);
    assert!(short > long + 0.05, "guidance 1: {short}, 6: {long}");
    assert!(params::set(&mut few, "capacity.guidance", 0.0).is_err());

    let intake = compile(&QUEUE.replace("clock from randomisation", "clock from intake"));
    assert!(!paths(&intake).iter().any(|p| p.starts_with("capacity.")));
    for path in [
        "capacity.staff",
        "capacity.caseload",
        "capacity.intakes_per_month",
        "capacity.guidance",
    ] {
        assert!(
            matches!(
                params::get(&intake, path),
                Err(params::ParamError::Overridden { .. })
            ),
            "{path}"
        );
    }
    let mut tight = intake.clone();
    tight.assignment.capacity.as_mut().expect("capacity").staff = 1;
    assert_eq!(treatment_work(&tight), treatment_work(&intake));
}

// The ICC reaches rates of work and direct binary outcomes; a cluster design whose arms leave
// only by competing exits has nothing it reaches, so it is no parameter.
#[test]
fn the_icc_of_a_design_with_only_competing_exits_is_not_offered() {
    let model = load("tests/errors/unclustered_exits.trial");
    match params::get(&model, "clusters.icc") {
        Err(params::ParamError::Overridden { reason, .. }) => {
            assert!(reason.contains("competing exits"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(paths(&model).contains(&"clusters.size".to_string()));
}
