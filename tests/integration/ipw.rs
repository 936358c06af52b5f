//! Inverse-probability weighting for missing outcomes (`missing ipw on ...`): the weighted
//! difference and its sandwich standard error on real data against R, the flagged results of
//! bad input, and in simulation the complete-case bias that weighting removes.
//!
//! Reference values: tests/reference/ipw.R (R `glm(family = binomial)` per arm, the Hájek
//! mean, and the stacked M-estimation sandwich written out by hand, its derivative matrix
//! checked against numDeriv), on examples/nsw/missing.csv (NSW with outcomes blanked by the
//! rule the script states), printed with 17 significant digits and compared here to 1e-8
//! relative.
// Every digit R printed is kept.
#![allow(clippy::excessive_precision)]

use trialsim::analysis::{ContrastResult, run_plan};
use trialsim::check::compile;
use trialsim::model::TrialModel;
use trialsim::power::{PowerSettings, run_power};
use trialsim::source::SourceFile;
use trialsim::table::ParticipantTable;

use crate::common::{run, trialsim};

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

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        ((got - want) / want).abs() < 1e-8,
        "got {got:.17}, want {want:.17}"
    );
}

/// `diff se z p lo hi`, then per arm `n observed mean se max_weight`, as ipw.R prints them.
#[track_caller]
fn matches(c: &ContrastResult, r: [f64; 6], t: (u64, u64, [f64; 3]), k: (u64, u64, [f64; 3])) {
    let [diff, se, z, p, lo, hi] = r;
    let w = c.ipw.as_ref().expect("a weighted contrast");
    close(c.difference, diff);
    close(w.se, se);
    close(c.statistic, z);
    close(c.p_value, p);
    close(c.ci.0, lo);
    close(c.ci.1, hi);
    for (arm, (n, observed, [mean, se, max_weight])) in [(&w.treatment, t), (&w.control, k)] {
        assert_eq!((arm.n, arm.observed), (n, observed));
        close(arm.mean, mean);
        close(arm.se, se);
        close(arm.max_weight, max_weight);
        assert!(!arm.extreme_weight);
    }
    assert!(w.flag.is_none());
}

#[test]
fn nsw_weighted_effects_match_r() {
    let (model, table) = load("examples/nsw/ipw.trial", "examples/nsw/missing.csv");
    let plan = run_plan(&model, &table);
    let a = &plan.analyses[0];
    // re78: the weighted difference in mean 1978 earnings.
    matches(
        &a.contrasts[0],
        [
            1371.9596298866754,
            794.65845841203657,
            1.7264770988888207,
            0.084261615856413175,
            -185.54232861103628,
            2929.4615883843871,
        ],
        (
            185,
            147,
            [5954.1060871781774, 631.61196377676777, 1.5559118197195352],
        ),
        (
            260,
            163,
            [4582.146457291502, 482.23271637234399, 2.4485363061403751],
        ),
    );
    // employed78: a weighted difference of shares.
    matches(
        &a.contrasts[1],
        [
            0.11239460612758645,
            0.053393273167961434,
            2.105033077369542,
            0.035288428867243503,
            0.0077457137016732208,
            0.21704349855349969,
        ],
        (
            185,
            147,
            [
                0.73177293432775481,
                0.036686564877883264,
                1.5559118197195352,
            ],
        ),
        (
            260,
            163,
            [
                0.61937832820016836,
                0.038793524937151727,
                2.4485363061403751,
            ],
        ),
    );
    // The complete-case analysis beside it is the plain difference of the observed.
    let cc = &plan.analyses[1].contrasts[0];
    assert!(cc.ipw.is_none());
    assert!((cc.difference - 1371.96).abs() > 50.0);
}

#[test]
fn the_report_states_the_method_and_the_share_observed() {
    let out = run(trialsim().args([
        "analyze",
        "examples/nsw/ipw.trial",
        "--data",
        "examples/nsw/missing.csv",
        "--replicates",
        "0",
    ]));
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let text = &out.stdout;
    for want in [
        "inverse-probability weighted z (sandwich SE)",
        "re78: weighted on age, educ, nodegree, re75; observed 147 of 185 (treatment, 79.5%) and 163 of 260 (control, 62.7%); SE 794.66 (M-estimation sandwich with the estimated model); largest weight 1.56 (treatment), 2.45 (control)",
        "1371.96 [-185.54, 2929.46]",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

fn compile_text(text: &str) -> Result<TrialModel, String> {
    let src = SourceFile::new("test.trial", text);
    compile(&src).map(|c| c.model).map_err(|e| {
        e.diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{}: {} ({:?})",
                    d.message,
                    d.help.as_deref().unwrap_or(""),
                    d.labels
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// A pilot whose control arm loses mostly the participants with the lower outcome: `other`
/// scores 6 lower (centred: dutch +3, other −3), and the control arm loses 60 % of them against
/// 10 % of the Dutch, the treatment arm 10 % of both.
const LOSS_BY_BACKGROUND: &str = r#"
trial "Loss by background" {
  follow_up 12 months
  population { background ~ categorical { dutch: 50%, other: rest } }
  sample 200 per arm
  arm treatment {
    score ~ normal(mean 12, sd 4)
    lost_to_follow_up 10% by month 12, by background { other: 10% }
  }
  arm control {
    score ~ normal(mean 10, sd 4)
    lost_to_follow_up 10% by month 12, by background { other: 60% }
  }
  outcome score = continuous, depends on background { other: -6 }
  analysis weighted {
    compare score: treatment vs control
    missing ipw on background
  }
  analysis complete {
    compare score: treatment vs control
    missing complete_cases
  }
}
"#;

/// Complete cases are biased by the arms' different loss (worked out here), weighting is not,
/// and its interval covers at 95 %: each within 4 Monte Carlo standard errors.
#[test]
fn weighting_removes_the_complete_case_bias_in_simulation() {
    let model = compile_text(LOSS_BY_BACKGROUND).expect("checks");
    let reps = 600;
    let report = run_power(
        &model,
        &PowerSettings {
            seed: 14,
            replicates: reps,
            n_per_arm: None,
            scenario: 0,
        },
        &|_| {},
    )
    .expect("simulates");
    let weighted = &report.analyses[0].contrasts[0];
    let complete = &report.analyses[1].contrasts[0];
    // The full-data effect is 12 − 10 = 2. Observed controls: 0.9 × 0.5 Dutch and 0.4 × 0.5
    // others, so the Dutch are 0.45 / 0.65 of them and the control mean is
    // 10 + 3 × (0.45 − 0.20) / 0.65; the treatment arm's observed keep their 50:50 mix.
    let cc_expected = 2.0 - 3.0 * (0.45 - 0.20) / 0.65;
    let est = |c: &trialsim::power::ContrastReport| c.mean_estimate.expect("an estimate");
    let se = |c: &trialsim::power::ContrastReport| c.bias_mc_se.expect("a bias MC SE");
    assert!(
        (est(complete) - cc_expected).abs() <= 4.0 * se(complete),
        "complete cases {} vs {cc_expected} (MC SE {})",
        est(complete),
        se(complete)
    );
    let truth = weighted.true_effect.expect("a true effect");
    assert!((truth - 2.0).abs() < 0.05, "true effect {truth}");
    assert!(
        (est(weighted) - truth).abs() <= 4.0 * se(weighted),
        "weighted {} vs {truth} (MC SE {})",
        est(weighted),
        se(weighted)
    );
    // The bias complete cases carry is many Monte Carlo errors wide.
    assert!(est(complete) - truth < -20.0 * se(complete));
    // Coverage at 95 % within 4 binomial standard errors of `reps` draws.
    let coverage = weighted.coverage.expect("coverage");
    let mc = (0.95 * 0.05 / reps as f64).sqrt();
    assert!((coverage - 0.95).abs() <= 4.0 * mc, "coverage {coverage}");
    assert!(complete.coverage.expect("coverage") < 0.8);
}

#[test]
fn bad_weighting_statements_are_refused() {
    let base = |missing: &str, extra: &str| {
        LOSS_BY_BACKGROUND.replace("missing ipw on background", &format!("{missing}\n{extra}"))
    };
    for (spec, want) in [
        (base("missing ipw on backgroud", ""), "backgroud"),
        (base("missing ipw", ""), "needs the covariates"),
        (
            base("missing ipw on background, background", ""),
            "named twice",
        ),
        (
            base("missing complete_cases on background", ""),
            "takes no covariates",
        ),
        (
            base("missing ipw on background", "test welch_t"),
            "has its own test",
        ),
        (
            base("missing ipw on background", "adjust for background"),
            "cannot be combined",
        ),
    ] {
        let err = compile_text(&spec).expect_err(&spec);
        assert!(err.contains(want), "{want:?} not in {err}");
    }
}

/// Participants of one arm all observed, or none: a plain mean, or a flagged undefined effect
/// (never a panic, never an unflagged NaN).
#[test]
fn an_arm_with_nobody_observed_is_flagged() {
    let spec = r#"
trial "All lost" {
  population { age ~ normal(mean 30, sd 5) }
  sample 20 per arm
  arm a { score ~ normal(mean 1, sd 1) }
  arm b { score ~ normal(mean 0, sd 1) }
  outcome score = continuous
  analysis w {
    compare score: a vs b
    missing ipw on age
  }
  data {
    id "id"
    arm "arm" { "a" -> a, "b" -> b }
    covariate age "age"
    outcome score "score"
  }
}
"#;
    let model = compile_text(spec).expect("checks");
    let csv = "id,arm,age,score\n1,a,30,1.5\n2,a,25,0.5\n3,a,40,2\n4,b,31,\n5,b,28,\n6,b,35,\n";
    let mapping = model.data.clone().expect("mapping");
    let loaded =
        trialsim::data::load(&model, &mapping, "d.csv", std::io::Cursor::new(csv)).expect("loads");
    let plan = run_plan(&model, &loaded.table);
    let c = &plan.analyses[0].contrasts[0];
    let w = c.ipw.as_ref().expect("weighted");
    assert!(c.difference.is_nan() && !c.reject);
    assert!(
        w.flag
            .as_deref()
            .is_some_and(|f| f.contains("b arm: nobody")),
        "{:?}",
        w.flag
    );
    // Arm a, all observed: the plain mean with weights 1.
    assert!((w.treatment.mean - 4.0 / 3.0).abs() < 1e-12);
    assert_eq!(w.treatment.max_weight, 1.0);
}

/// A covariate pattern where one in 25 is observed: with a categorical covariate the model is
/// saturated, so p̂ is that share and the weight 25, above the flag's 20.
#[test]
fn an_extreme_weight_is_flagged() {
    let spec = r#"
trial "Rare" {
  population { site ~ categorical { north: 50%, south: rest } }
  sample 30 per arm
  arm a { score ~ normal(mean 1, sd 1) }
  arm b { score ~ normal(mean 0, sd 1) }
  outcome score = continuous
  analysis w {
    compare score: a vs b
    missing ipw on site
  }
  data {
    id "id"
    arm "arm" { "a" -> a, "b" -> b }
    covariate site "site"
    outcome score "score"
  }
}
"#;
    let model = compile_text(spec).expect("checks");
    let mut csv = String::from("id,arm,site,score\n");
    for i in 0..25 {
        let score = if i == 0 { "8" } else { "" };
        csv += &format!("{i},a,north,{score}\n");
    }
    for i in 25..30 {
        csv += &format!("{i},a,south,{}\n", i - 25);
    }
    for i in 30..40 {
        csv += &format!(
            "{i},b,{},{}\n",
            if i % 2 == 0 { "north" } else { "south" },
            i % 3
        );
    }
    let mapping = model.data.clone().expect("mapping");
    let loaded =
        trialsim::data::load(&model, &mapping, "d.csv", std::io::Cursor::new(csv)).expect("loads");
    let plan = run_plan(&model, &loaded.table);
    let w = plan.analyses[0].contrasts[0].ipw.clone().expect("weighted");
    assert!(
        (w.treatment.max_weight - 25.0).abs() < 1e-6,
        "{}",
        w.treatment.max_weight
    );
    assert!(w.treatment.extreme_weight && !w.control.extreme_weight);
    // Post-stratified: (25 × 8 + 5 × 2) / 30 = 7, the south mean being (0+1+2+3+4)/5 = 2
    // (complete cases would give (8 + 10) / 6 = 3).
    assert!(
        (w.treatment.mean - 7.0).abs() < 1e-9,
        "{}",
        w.treatment.mean
    );
}

/// A covariate that only the model of being observed reads is still drawn in a lean `power`
/// run: with loss at random, weighting on it is unbiased and has an effect in every replicate.
#[test]
fn a_covariate_only_the_weighting_reads_is_simulated() {
    let spec = r#"
trial "Weights only" {
  population { age ~ normal(mean 40, sd 10) }
  sample 100 per arm
  arm treatment {
    score ~ normal(mean 11, sd 3)
    lost_to_follow_up 20%
  }
  arm control {
    score ~ normal(mean 10, sd 3)
    lost_to_follow_up 20%
  }
  outcome score = continuous
  analysis w {
    compare score: treatment vs control
    missing ipw on age
  }
}
"#;
    let model = compile_text(spec).expect("checks");
    let report = run_power(
        &model,
        &PowerSettings {
            seed: 3,
            replicates: 200,
            n_per_arm: None,
            scenario: 0,
        },
        &|_| {},
    )
    .expect("simulates");
    let c = &report.analyses[0].contrasts[0];
    assert_eq!(c.valid_replicates, 200);
    let bias = c.bias.expect("bias");
    assert!(
        bias.abs() <= 4.0 * c.bias_mc_se.expect("MC SE"),
        "bias {bias}"
    );
}
