//! Regression analyses (`adjust for`, `robust_t`, `cr2`) on real data against estimatr, and the
//! flagged results of bad input. Reference values: tests/reference/regression.R (estimatr 1.0.0
//! `lm_lin` and `lm_robust`, HC2; CR2 with `clusters =`), printed with 17 significant digits
//! and compared here to 1e-8 relative.
// Every digit R printed is kept.
#![allow(clippy::excessive_precision)]

use trialsim::analysis::{ContrastResult, PlanResult, run_plan};
use trialsim::check::compile;
use trialsim::model::TrialModel;
use trialsim::source::SourceFile;
use trialsim::table::ParticipantTable;

fn load(spec: &str, data: &str) -> (TrialModel, ParticipantTable) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = SourceFile::read(root.join(spec)).unwrap_or_else(|e| panic!("{spec}: {e:?}"));
    let model = compile(&source)
        .unwrap_or_else(|e| panic!("{spec}: {e:?}"))
        .model;
    let mapping = model.data.clone().expect("a data mapping");
    let loaded = trialsim::data::load_path(&model, &mapping, &root.join(data), data)
        .unwrap_or_else(|e| panic!("{data}: {e:?}"));
    (model, loaded.table)
}

fn contrast<'a>(plan: &'a PlanResult, analysis: &str, k: usize) -> &'a ContrastResult {
    let a = plan
        .analyses
        .iter()
        .find(|a| a.name == analysis)
        .unwrap_or_else(|| panic!("no analysis {analysis}"));
    &a.contrasts[k]
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        ((got - want) / want).abs() < 1e-8,
        "got {got:.17}, want {want:.17}"
    );
}

/// `estimate se t p lo hi df` as tests/reference/regression.R prints them.
#[track_caller]
fn matches(c: &ContrastResult, r: [f64; 7]) {
    let [estimate, se, t, p, lo, hi, df] = r;
    close(c.difference, estimate);
    let info = c.regression.as_ref().expect("a regression contrast");
    close(info.se, se);
    close(c.statistic, t);
    close(c.p_value, p);
    close(c.ci.0, lo);
    close(c.ci.1, hi);
    close(c.df.expect("df"), df);
    close(info.df, df);
}

#[test]
fn nsw_adjusted_effects_match_estimatr() {
    let (model, table) = load("examples/nsw/adjusted.trial", "examples/nsw/data.csv");
    let plan = run_plan(&model, &table);
    // lm_lin(re78 ~ treat, covariates = ~ age + educ + re75)
    matches(
        contrast(&plan, "lin", 0),
        [
            1597.6053160021761,
            644.93223069100611,
            2.4771677394544818,
            0.013620204124337679,
            330.05078027368177,
            2865.1598517306702,
            437.0,
        ],
    );
    // lm_lin(employed78 ~ treat, covariates = ~ age + educ + re75): a linear probability model.
    matches(
        contrast(&plan, "lin", 1),
        [
            0.10751486136679783,
            0.043936812702955998,
            2.4470337002748588,
            0.014796595406391427,
            0.021161127475386884,
            0.19386859525820876,
            437.0,
        ],
    );
    // lm_robust(re78 ~ treat + age + educ + re74 + re75 + ethnicity + nodegree)
    matches(
        contrast(&plan, "ancova", 0),
        [
            1673.4848130406149,
            675.20707637766679,
            2.4784764135152173,
            0.013571916555047482,
            346.41942075804468,
            3000.5502053231849,
            436.0,
        ],
    );
    matches(
        contrast(&plan, "ancova", 1),
        [
            0.11054195717046997,
            0.043915460151578392,
            2.5171535670791991,
            0.012188343333738768,
            0.024229639968499972,
            0.19685427437243996,
            436.0,
        ],
    );
    // lm_robust(y ~ treat): the difference in means with the HC2 error.
    matches(
        contrast(&plan, "unadjusted", 0),
        [
            1794.3430848752714,
            670.99672965859293,
            2.6741457976825664,
            0.0077690165180850923,
            475.61079389163183,
            3113.0753758589108,
            443.0,
        ],
    );
    matches(
        contrast(&plan, "unadjusted", 1),
        [
            0.11060291060291082,
            0.043395727165179171,
            2.5487050875289592,
            0.011148656968021801,
            0.025315838141983474,
            0.19588998306383815,
            443.0,
        ],
    );
    // lm_lin on each level of nodegree.
    matches(
        contrast(&plan, "lin_by_degree", 0),
        [
            2766.9160768325055,
            1336.7119299422232,
            2.0699419335264704,
            0.041356014922313666,
            110.89794466137573,
            5422.9342090036353,
            89.0,
        ],
    );
    matches(
        contrast(&plan, "lin_by_degree", 1),
        [
            1161.9210339733534,
            769.97323307544389,
            1.5090408134479987,
            0.13221703818818803,
            -352.5899316519874,
            2676.4319995986943,
            340.0,
        ],
    );
    let info = contrast(&plan, "lin", 0).regression.as_ref().expect("info");
    assert_eq!(info.method, "lin");
    assert_eq!(info.covariates, ["age", "educ", "re75"]);
    assert_eq!(info.n, 445);
    assert!(info.dropped.is_empty() && info.flag.is_none());
    close(info.unadjusted_difference, 1794.3430848752714);
}

/// CR2 with Bell–McCaffrey degrees of freedom on one simulated clustered table (10 groups of
/// 12), against estimatr `lm_lin` / `lm_robust` with `clusters = group`; the unadjusted CR2
/// test of equal clusters is the cluster-level t test (8 df).
#[test]
fn cr2_matches_estimatr() {
    let (model, table) = load(
        "tests/reference/clustered.trial",
        "tests/reference/clustered.csv",
    );
    let plan = run_plan(&model, &table);
    matches(
        contrast(&plan, "cr2", 0),
        [
            6.8488470800235657,
            1.7446229631187464,
            3.9256889452952843,
            0.0044025437506235426,
            2.8241683600104555,
            10.873525800036676,
            7.9820996533340436,
        ],
    );
    matches(
        contrast(&plan, "cr2", 1),
        [
            0.14840378632066206,
            0.090940707506981119,
            1.6318741121435607,
            0.14143531678429203,
            -0.061387749170764006,
            0.35819532181208813,
            7.9820996533340436,
        ],
    );
    matches(
        contrast(&plan, "cr2_ancova", 0),
        [
            7.0538713447310668,
            1.8206566545398073,
            3.8743556217160653,
            0.0047184626281594156,
            2.8549263644588843,
            11.252816325003248,
            7.9944957847753182,
        ],
    );
    let plain = contrast(&plan, "cr2_plain", 0);
    matches(
        plain,
        [
            7.0906291519698312,
            1.9302601512852708,
            3.6734059640865038,
            0.0062785607508937993,
            2.6394412610861782,
            11.541817042853484,
            8.0000000000000053,
        ],
    );
    let cluster_level = contrast(&plan, "cluster_level", 0);
    close(cluster_level.p_value, plain.p_value);
}

fn variable(model: &TrialModel, name: &str) -> usize {
    model
        .population
        .variables
        .iter()
        .position(|v| v.name == name)
        .unwrap_or_else(|| panic!("no variable {name}"))
}

/// A covariate with one value in the data: its terms are dropped and named, and the effect is
/// the one adjusted for the other covariates; never a panic or a silent NaN.
#[test]
fn a_constant_covariate_is_dropped_and_named() {
    use trialsim::table::CovariateColumn;
    let (model, mut table) = load("examples/nsw/adjusted.trial", "examples/nsw/data.csv");
    let age = variable(&model, "age");
    if let CovariateColumn::Numeric(v) = &mut table.covariates[age] {
        v.iter_mut().for_each(|x| *x = 30.0);
    }
    let plan = run_plan(&model, &table);
    let c = contrast(&plan, "lin", 0);
    let info = c.regression.as_ref().expect("info");
    assert_eq!(info.dropped, ["age", "treatment × age"]);
    assert!(info.flag.is_none());
    // The same as adjusting for educ and re75 only.
    let mut without = model.clone();
    for a in &mut without.analyses {
        if let Some(adj) = &mut a.adjust {
            adj.covariates.retain(|&v| v != age);
        }
    }
    let reference = contrast(&run_plan(&without, &table), "lin", 0).clone();
    assert!((c.difference - reference.difference).abs() < 1e-9 * reference.difference.abs());
    assert!((c.p_value - reference.p_value).abs() < 1e-9);
}

/// A covariate that is a linear function of another (a singular design): the later one is
/// dropped, as R's `lm` drops it.
#[test]
fn a_collinear_covariate_is_dropped() {
    use trialsim::table::CovariateColumn;
    let (model, mut table) = load("examples/nsw/adjusted.trial", "examples/nsw/data.csv");
    let (re74, re75) = (variable(&model, "re74"), variable(&model, "re75"));
    let copy = table.covariates[re75].clone();
    if let CovariateColumn::Numeric(v) = copy {
        table.covariates[re74] =
            CovariateColumn::Numeric(v.iter().map(|x| 2.0 * x + 7.0).collect());
    }
    let plan = run_plan(&model, &table);
    let c = contrast(&plan, "ancova", 0);
    let info = c.regression.as_ref().expect("info");
    assert_eq!(info.dropped, ["re75"]);
    assert!(c.difference.is_finite() && c.p_value.is_finite());
}

/// A subgroup level with nobody in one arm: the effect is undefined, flagged, and not a
/// rejection.
#[test]
fn an_empty_arm_in_a_subgroup_is_flagged() {
    use trialsim::table::CovariateColumn;
    let (model, mut table) = load("examples/nsw/adjusted.trial", "examples/nsw/data.csv");
    let nodegree = variable(&model, "nodegree");
    let treatment = model
        .arms
        .iter()
        .position(|a| a.name == "treatment")
        .expect("arm") as u32;
    if let CovariateColumn::Categorical(codes) = &mut table.covariates[nodegree] {
        for (code, &arm) in codes.iter_mut().zip(&table.arm) {
            if arm == treatment {
                *code = 1;
            }
        }
    }
    let plan = run_plan(&model, &table);
    let c = contrast(&plan, "lin_by_degree", 0);
    assert!(c.difference.is_nan() && c.p_value.is_nan() && !c.reject);
    let info = c.regression.as_ref().expect("info");
    assert_eq!(
        info.flag.as_deref(),
        Some("an arm has nobody with the outcome and covariates observed")
    );
    assert!(info.dropped.iter().any(|d| d == "treatment"));
    assert!(contrast(&plan, "lin_by_degree", 1).p_value.is_finite());
}

/// The figures beside the plan's own (issue 14, item 7) against base R on the NSW data
/// (tests/reference/comparisons.R): the odds ratio with Woolf's interval, the Katz risk ratio
/// with the 0.5 correction only where it is undefined, the Yates-corrected p (`prop.test`),
/// Student's t beside Welch's and the interaction F test (`anova(lm(y ~ treat * g))`).
#[test]
fn comparisons_match_r() {
    let (model, table) = load("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let plan = run_plan(&model, &table);
    let c = contrast(&plan, "primary", 0);
    let or = c.odds_ratio.expect("odds ratio");
    assert!(!or.zero_cell_corrected);
    close(or.estimate, 1.7037037037037037);
    close(or.ci.0, 1.1180492203285775);
    close(or.ci.1, 2.5961346399049288);
    close(c.yates_p.expect("Yates"), 0.016992424135212236);
    // Hispanic men: 11 of 11 treated employed. The risk ratio is defined as it stands; the odds
    // ratio is not (b = 0), so its cells take 0.5.
    let h = contrast(&plan, "by_ethnicity", 1);
    let rr = h.risk_ratio.expect("risk ratio");
    assert!(!rr.zero_cell_corrected);
    close(rr.estimate, 1.2173913043478262);
    close(rr.ci.0, 1.0243017494063502);
    close(rr.ci.1, 1.4468798757403678);
    let or = h.odds_ratio.expect("odds ratio");
    assert!(or.zero_cell_corrected);
    close(or.estimate, 5.3829787234042552);
    close(or.ci.0, 0.2734869025520148);
    close(or.ci.1, 105.95191091870234);
    close(h.yates_p.expect("Yates"), 0.33261525521613439);
    let e = contrast(&plan, "earnings", 0);
    let st = e.student.expect("Student");
    close(st.statistic, 2.8353211911709537);
    close(st.p_value, 0.0047875241480791128);
    assert_eq!(st.df, 443.0);
    close(st.ci.0, 550.57485671702932);
    close(st.ci.1, 3038.1113130334898);

    let (model, table) = load("examples/nsw/adjusted.trial", "examples/nsw/data.csv");
    let plan = run_plan(&model, &table);
    let interaction = |name: &str| {
        plan.analyses
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.interactions.first())
            .and_then(|i| i.f_test)
            .unwrap_or_else(|| panic!("{name} has an F test"))
    };
    let f = interaction("earnings_by_ethnicity");
    close(f.statistic, 0.33772146559920602);
    close(f.p_value, 0.71357914470623374);
    assert_eq!((f.df1, f.df2), (2.0, 439.0));
    let f = interaction("earnings_by_degree");
    close(f.statistic, 1.7890756015029978);
    close(f.p_value, 0.18172823093791243);
    // A binary outcome's interaction has Cochran's Q only.
    let (model, table) = load("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let plan = run_plan(&model, &table);
    assert!(
        plan.analyses
            .iter()
            .flat_map(|a| &a.interactions)
            .all(|i| i.f_test.is_none())
    );
}

fn power_of(text: &str, reps: u64) -> trialsim::power::PowerReport {
    let source = SourceFile::new("validation.trial", text);
    let model = compile(&source).unwrap_or_else(|e| panic!("{e:?}")).model;
    let settings = trialsim::power::PowerSettings {
        seed: 14,
        replicates: reps,
        n_per_arm: None,
        scenario: 0,
    };
    trialsim::power::run_power(&model, &settings, &|_| {}).expect("simulates")
}

/// `|x − target| ≤ 3 MC SE` for a share of `reps` replicates.
#[track_caller]
fn within_3se(what: &str, x: f64, target: f64, reps: u64) {
    let se = (target * (1.0 - target) / reps as f64).sqrt();
    assert!(
        (x - target).abs() <= 3.0 * se,
        "{what}: {x:.4} against {target} (3 MC SE {:.4})",
        3.0 * se
    );
}

/// Long validation of the regression analyses under the null (`cargo test --release --test
/// integration adjusted_long -- --ignored`, 20,000 replicates each): type-I error at 5 % and
/// interval coverage at 95 % within 3 MC SE (0.46 % and 0.46 %) on a cluster design (CR2, 6
/// groups of 20 per arm, ICC 5 %), a design with crossover (HC2, Lin and ANCOVA, 150 per arm)
/// and the unadjusted HC2 test of an 8 + 8 pilot. The adjusted HC2 test of the 8 + 8 pilot
/// (12 residual df) is liberal, as HC2 with `n − k` degrees of freedom is known to be in samples
/// this small: 5.5 % (MC SE 0.16 %) with seed 14; the test holds it below 6.5 % so that a
/// change for the worse is seen, and docs/adjustment.md states the figure.
#[test]
#[ignore]
fn adjusted_long_type_one_error_and_coverage() {
    let reps = 20_000;
    let clustered = power_of(
        r#"trial "clustered null" {
  population { age ~ normal(mean 40, sd 10) }
  assignment { randomise 1:1 by group of 20, icc 5% }
  sample 6 groups per arm
  arm sessions { employed: 30%  score ~ normal(mean 50, sd 10) }
  arm control  { employed: 30%  score ~ normal(mean 50, sd 10) }
  outcome employed = binary
  outcome score = continuous, depends on age 0.5
  analysis cr2_binary { compare employed: sessions vs control  adjust for age  test cr2 }
  analysis cr2_score { compare score: sessions vs control  adjust for age  test cr2 }
}"#,
        reps,
    );
    let crossover = power_of(
        r#"trial "crossover null" {
  follow_up 12 months
  population { background ~ categorical { dutch: 45%, other: rest } }
  assignment { randomise 1:1 }
  sample 150 per arm
  arm experiment { work within 12 months: 20% by background { other: 12% } }
  arm control {
    work within 12 months: 20% by background { other: 12% }
    crossover 10% -> experiment after 3 months
  }
  outcome work_12m = worked within 12 months, hours >= 1
  analysis lin { compare work_12m: experiment vs control  adjust for background }
  analysis ancova { compare work_12m: experiment vs control  adjust for background (ancova) }
}"#,
        reps,
    );
    let pilot = power_of(
        r#"trial "8 + 8 pilot null" {
  population { x ~ normal(mean 0, sd 1) }
  assignment { randomise 1:1 }
  sample 8 per arm
  arm treatment { y ~ normal(mean 10, sd 2) }
  arm control { y ~ normal(mean 10, sd 2) }
  outcome y = continuous, depends on x 2
  analysis robust { compare y: treatment vs control  test robust_t }
  analysis lin { compare y: treatment vs control  adjust for x }
}"#,
        reps,
    );
    for r in [&clustered, &crossover] {
        for a in &r.analyses {
            let c = &a.contrasts[0];
            within_3se(&a.name, a.power, 0.05, reps);
            within_3se(&a.name, c.coverage.expect("coverage"), 0.95, reps);
        }
    }
    let robust = &pilot.analyses[0];
    within_3se("8 + 8 robust", robust.power, 0.05, reps);
    let lin = &pilot.analyses[1];
    assert!(lin.power < 0.065, "8 + 8 Lin: {}", lin.power);
}

/// Fisher's exact test with an arm empty has one possible table, whose p-value R gives as 1;
/// as a contrast it is undefined like every other test's, not a p = 1 that reads as evidence.
#[test]
fn fishers_test_with_an_empty_arm_is_undefined() {
    let (model, mut table) = load("examples/nsw/nsw.trial", "examples/nsw/data.csv");
    let control = model
        .arms
        .iter()
        .position(|a| a.name == "control")
        .expect("arm") as u32;
    let plan = run_plan(&model, &table);
    assert!(contrast(&plan, "primary_exact", 0).p_value.is_finite());
    table.arm.iter_mut().for_each(|a| *a = control);
    let plan = run_plan(&model, &table);
    let c = contrast(&plan, "primary_exact", 0);
    assert_eq!(c.treatment.n, 0);
    assert!(c.p_value.is_nan() && !c.reject, "{c:?}");
}
