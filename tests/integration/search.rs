//! The design searches against independent references: `size` in clusters per arm for a cluster
//! design, `size` under an inflow with a fixed or a moving analysis date, `mde` for two
//! proportions, and `report` giving the same answer as `size`.
//!
//! Reference numbers come from tests/reference/search.py (numpy 2.4.6, scipy 1.17.1).

use trialsim::check::compile;
use trialsim::design::mde::{MdeQuestion, mde_for_model};
use trialsim::design::size::{SizeQuestion, size_for_model};
use trialsim::model::TrialModel;
use trialsim::source::SourceFile;

use crate::common::{run, trialsim};

fn model_from(text: &str) -> TrialModel {
    let source = SourceFile::new("search.trial", text.to_string());
    compile(&source).expect("the spec checks").model
}

fn question(replicates: u64, move_analysis: bool) -> SizeQuestion {
    SizeQuestion {
        analysis: 0,
        target: 0.8,
        ratio: vec![1, 1],
        seed: 2017,
        replicates,
        max_n: 10_000,
        move_analysis,
    }
}

/// Groups of 20 with an ICC of 5 %, 55 % vs 30 %, the cluster-level t test.
const CLUSTERED: &str = r#"trial "clustered" {
  assignment { randomise 1:1 by group of 20, icc 5% }
  sample 3 groups per arm
  arm treatment { employed: 55% }
  arm control { employed: 30% }
  outcome employed = binary
  analysis primary {
    compare employed: treatment vs control
    test cluster_t, one_sided greater, alpha 5%
  }
}"#;

/// Power of the cluster-level t test at 5 and 6 groups per arm by an independent simulation
/// (200,000 replicates each) with its standard error, and the Hayes & Moulton clusters per arm
/// before rounding.
const CLUSTER_POWER_5: (f64, f64) = (0.768_31, 0.000_943_423_934_135_656_6);
const CLUSTER_POWER_6: (f64, f64) = (0.842_615, 0.000_814_294_055_532_152_2);
const HAYES_MOULTON_K: f64 = 5.412_491_096_492_505;
const DEFF_N_PER_ARM: f64 = 88.249_821_929_850_1;

/// The answer is in groups per arm: 6, where the independent simulation crosses 80 % (76.8 % at
/// 5 and 84.3 % at 6, both more than 8 standard errors of the search's estimates from the
/// target). The simulated powers at the answer and one group below agree with the independent
/// ones within 4 combined standard errors, and the closed form is Hayes & Moulton's.
#[test]
fn cluster_size_is_in_clusters_and_agrees_with_an_independent_simulation() {
    let model = model_from(CLUSTERED);
    let r = size_for_model(&model, &question(10_000, false)).expect("reachable");
    assert_eq!(r.clusters_per_arm, Some(6));
    assert_eq!(r.arm_clusters, Some(vec![6, 6]));
    assert_eq!(r.cluster_size, Some(20));
    assert_eq!(r.n_per_arm, 120);
    assert_eq!(r.arm_sizes, vec![120, 120]);
    let tolerance = |se_sim: f64, se_ref: f64| 4.0 * (se_sim * se_sim + se_ref * se_ref).sqrt();
    assert!(
        (r.power - CLUSTER_POWER_6.0).abs() <= tolerance(r.mc_se, CLUSTER_POWER_6.1),
        "power at 6 groups {} vs {}",
        r.power,
        CLUSTER_POWER_6.0
    );
    let below = r.power_below.expect("a point below");
    let se_below = (below * (1.0 - below) / 10_000.0).sqrt();
    assert!(
        (below - CLUSTER_POWER_5.0).abs() <= tolerance(se_below, CLUSTER_POWER_5.1),
        "power at 5 groups {below} vs {}",
        CLUSTER_POWER_5.0
    );
    let k = r.closed_form_clusters_unrounded.expect("a closed form");
    assert!((k - HAYES_MOULTON_K).abs() < 1e-9, "{k}");
    assert_eq!(r.closed_form_clusters_per_arm, Some(6));
    assert_eq!(r.closed_form_n_per_arm, Some(120));
    let n = r
        .closed_form_n_unrounded
        .expect("participants with the design effect");
    assert!((n - DEFF_N_PER_ARM).abs() < 1e-9, "{n}");
    // Every evaluation is a whole number of groups.
    assert!(
        r.evaluations
            .iter()
            .all(|e| e.clusters_per_arm.is_some_and(|k| k * 20 == e.n_per_arm))
    );
}

/// One intake a month and the analysis at month 28, 20 % vs 4 % within 12 months, Fisher's
/// exact test: 28 participants come in before the analysis.
const INFLOW: &str = r#"trial "inflow" {
  follow_up 12 months
  assignment {
    randomise 1:1
    intake order random
  }
  sample 8 per arm
  inflow 1 per month, analysis at month 28
  arm attention { work within 12 months: 20% }
  arm control { work within 12 months: 4% }
  outcome step_12m = worked within 12 months, hours >= 1
  analysis primary {
    compare step_12m: attention vs control
    test fisher, one_sided greater, alpha 5%
  }
}"#;

/// Exact power of Fisher's test (one-sided, 5 %) at 20 % vs 4 %, n per arm from 40.
const FISHER_POWER: [f64; 31] = [
    0.609_562_663_474_313_3,
    0.624_508_040_789_280_2,
    0.639_606_330_798_378_7,
    0.654_150_911_301_168_1,
    0.668_152_134_277_476_6,
    0.681_622_584_116_576_1,
    0.694_576_196_583_950_9,
    0.707_028_134_198_866_1,
    0.718_994_376_024_628_1,
    0.730_491_416_861_560_9,
    0.741_525_648_705_832_9,
    0.752_131_220_847_720_4,
    0.762_316_971_963_811_5,
    0.772_099_188_562_311_1,
    0.781_493_796_898_201,
    0.790_516_290_502_340_1,
    0.799_181_679_642_944_6,
    0.807_504_457_567_050_6,
    0.815_498_580_578_263_1,
    0.823_177_451_874_884_8,
    0.830_553_941_206_004_5,
    0.837_640_358_412_639_3,
    0.844_448_478_804_687,
    0.850_989_549_270_035_7,
    0.857_274_300_784_202_7,
    0.862_276_426_082_298_9,
    0.867_962_856_375_965_3,
    0.873_416_185_407_685_6,
    0.878_647_560_383_690_2,
    0.883_665_490_294_937_6,
    0.888_478_862_265_858_9,
];

/// With the analysis date fixed at month 28, at most 14 per arm come in, far short of 80 %:
/// the error says so and names what would reach it.
#[test]
fn size_under_a_fixed_analysis_date_explains_what_cannot_be_reached() {
    let model = model_from(INFLOW);
    let e = size_for_model(&model, &question(2_000, false)).expect_err("unreachable");
    assert!(e.no_answer, "{e:?}");
    assert!(
        e.message.contains(
            "takes in 28 participants before the analysis at month 28, at most 14 per arm"
        ),
        "{}",
        e.message
    );
    let help = e.help.expect("what would reach it");
    assert!(help.contains("--move-analysis"), "{help}");
    assert!(
        help.contains("more than 28 participants before month 28"),
        "{help}"
    );
}

/// With the analysis date moving with the intake, everyone is followed for the full 12 months,
/// so the simulated power at the answer and one below is Fisher's exact power there (within 4
/// standard errors), and the analysis month is the last intake (month 2n − 1) plus 12.
#[test]
fn size_with_a_moving_analysis_date_follows_everyone_in_full() {
    let model = model_from(INFLOW);
    let replicates = 10_000;
    let r = size_for_model(&model, &question(replicates, true)).expect("reachable");
    let n = r.n_per_arm;
    let intake = r.intake.as_ref().expect("an intake");
    assert!(intake.analysis_moves);
    assert_eq!(intake.intake_months, 2 * n);
    assert_eq!(intake.analysis_month, (2 * n - 1) + 12);
    assert_eq!(intake.spec_analysis_month, 28);
    assert_eq!(intake.capacity, Some(28));
    let exact = |n: u32| {
        FISHER_POWER
            .get(n.checked_sub(40).expect("n ≥ 40") as usize)
            .copied()
            .expect("n ≤ 70")
    };
    let se = |p: f64| (p * (1.0 - p) / replicates as f64).sqrt();
    assert!(
        (r.power - exact(n)).abs() <= 4.0 * se(exact(n)),
        "{n} per arm: {} vs exact {}",
        r.power,
        exact(n)
    );
    let below = r.power_below.expect("a point below");
    assert!(
        (below - exact(n - 1)).abs() <= 4.0 * se(exact(n - 1)),
        "{} per arm: {below} vs exact {}",
        n - 1,
        exact(n - 1)
    );
    assert!(r.power >= 0.8 && below < 0.8);
}

/// Every shipped spec with an inflow either answers with a size the inflow brings in before
/// its analysis date (exit 0), or says what cannot be reached and what would (exit 1); never a
/// usage error or a crash.
#[test]
fn size_answers_or_explains_on_every_shipped_inflow_spec() {
    let mut seen = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/gallery"))
        .expect("specs/gallery is readable")
    {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_none_or(|e| e != "trial")
            || !text.lines().any(|l| l.trim_start().starts_with("inflow"))
        {
            continue;
        }
        seen += 1;
        let file = path.to_str().expect("utf-8 path");
        let out = run(trialsim().args(["size", file, "--reps", "2000", "--format", "json"]));
        match out.status {
            Some(0) => {
                let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
                let intake = &json["intake"];
                let total: u64 = json["arm_sizes"]
                    .as_array()
                    .expect("arm sizes")
                    .iter()
                    .map(|n| n.as_u64().expect("a size"))
                    .sum();
                if let Some(capacity) = intake["capacity"].as_u64() {
                    assert!(total <= capacity, "{file}: {total} > {capacity}");
                }
                assert!(
                    intake["intake_months"].as_u64() <= intake["analysis_month"].as_u64(),
                    "{file}: {intake}"
                );
            }
            Some(1) => {
                assert!(out.stderr.contains("before the analysis at month"), "{out}");
                assert!(out.stderr.contains("--move-"), "{out}");
            }
            _ => panic!("{file}: {out}"),
        }
    }
    assert!(seen >= 2, "the gallery has inflow specs");
}

/// Energiebox takes two a month in, with the analysis at month 24: 48 participants at most.
#[test]
fn size_of_energiebox_fits_its_intake() {
    let out = run(trialsim().args([
        "size",
        "specs/gallery/energiebox.trial",
        "--reps",
        "2000",
        "--format",
        "json",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let n = json["n_per_arm"].as_u64().expect("an answer");
    assert!(n <= 24, "{n}");
    assert_eq!(json["intake"]["capacity"], 48);
    assert_eq!(json["intake"]["analysis_month"], 24);
    // 2n participants at two a month: the last comes in at month n − 1.
    assert_eq!(json["intake"]["intake_months"].as_u64(), Some(n));
}

/// `--move-analysis` on a spec without an inflow is a usage error, not a silent no-op.
#[test]
fn move_analysis_without_an_inflow_is_refused() {
    let out = run(trialsim().args([
        "size",
        "specs/two-arm.trial",
        "--move-analysis",
        "--reps",
        "500",
    ]));
    assert_eq!(out.status, Some(2), "{out}");
    assert!(out.stderr.contains("no `inflow`"), "{out}");
}

/// 150 per arm, control 20 %, the pooled z test one-sided at 5 %.
const TWO_PROPORTIONS: &str = r#"trial "mde" {
  assignment { randomise 1:1 }
  sample 150 per arm
  arm treatment { employed: 30% }
  arm control { employed: 20% }
  outcome employed = binary
  analysis primary {
    compare employed: treatment vs control
    test pooled_z, one_sided greater, alpha 5%
  }
}"#;

/// Where the normal-approximation and the exact power reach 80 %, and the slope of the power in
/// the treatment proportion there.
const NORMAL_MDE_PT: f64 = 0.325_962_254_893_636_17;
const EXACT_MDE_PT: f64 = 0.325_482_044_608_681_6;
const SLOPE: f64 = 5.212_071_489_968_384;

/// The simulated minimum detectable treatment proportion lands where the exact power of the test
/// reaches 80 %, within 4 standard errors of a power estimate at 80 % turned into a proportion
/// through the slope, plus the grid's step (0.1 pp); the normal-approximation and exact values
/// beside it equal the references, and the effect is the proportion minus the control's 20 %.
#[test]
fn mde_of_two_proportions_agrees_with_the_exact_and_normal_references() {
    let model = model_from(TWO_PROPORTIONS);
    let replicates = 10_000;
    let r = mde_for_model(
        &model,
        &MdeQuestion {
            analysis: 0,
            path: "arm.treatment.employed".into(),
            target: 0.8,
            seed: 2017,
            replicates,
        },
    )
    .expect("reachable");
    let se = (0.8_f64 * 0.2 / replicates as f64).sqrt();
    let tolerance = 4.0 * se / SLOPE + 0.001;
    assert!(
        (r.value - EXACT_MDE_PT).abs() <= tolerance,
        "simulated {} vs exact {EXACT_MDE_PT} (tolerance {tolerance})",
        r.value
    );
    assert!(r.effect_exact);
    assert!((r.effect - (r.value - 0.2)).abs() < 1e-12);
    assert!((r.null_value - 0.2).abs() < 1e-9, "{}", r.null_value);
    assert!(r.increasing && r.null_is_zero);
    let normal = r.closed_form_value.expect("normal approximation");
    assert!((normal - NORMAL_MDE_PT).abs() < 1e-6, "{normal}");
    let effect = r.closed_form_effect.expect("its effect");
    assert!((effect - (NORMAL_MDE_PT - 0.2)).abs() < 1e-6, "{effect}");
    let exact = r.exact_value.expect("exact");
    assert!((exact - EXACT_MDE_PT).abs() < 1e-6, "{exact}");
    assert!(r.power >= 0.8);
    let below = r.below.expect("a value below");
    assert!(below.power < 0.8);
    assert!((r.value - below.value - 0.001).abs() < 1e-9);
}

/// A parameter that does not move the effect, or a count, is refused with the reason.
#[test]
fn mde_refuses_parameters_that_do_not_move_the_effect() {
    for (path, needle) in [
        ("n_per_arm", "trialsim size"),
        ("analysis.primary.alpha", "test's level"),
        ("arm.treatment.work", "takes no effect"),
        (
            "arm.treatment.employd",
            "did you mean `arm.treatment.employed`",
        ),
    ] {
        let out = run(trialsim().args(["mde", "specs/two-arm.trial", "--vary", path]));
        assert_eq!(out.status, Some(2), "{path}: {out}");
        assert!(out.stderr.contains(needle), "{path}: {out}");
    }
}

/// `mde` on the command line gives the library's answer, as JSON.
#[test]
fn mde_command_prints_json() {
    let out = run(trialsim().args([
        "mde",
        "specs/two-arm.trial",
        "--vary",
        "arm.control.employed",
        "--reps",
        "2000",
        "--format",
        "json",
        "--quiet",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    // Varying the control rate, the effect grows downwards from the treatment's 30 %.
    assert_eq!(json["increasing"], false);
    assert!((json["null_value"].as_f64().expect("null") - 0.3).abs() < 1e-9);
    let value = json["value"].as_f64().expect("value");
    assert!(value < 0.3);
    let effect = json["effect"].as_f64().expect("effect");
    assert!((effect - (0.3 - value)).abs() < 1e-12);
}

/// `report` runs the same search as `size`: with the same seed and replicates, the same answer
/// and the same power.
#[test]
fn report_and_size_give_the_same_answer() {
    let size = run(trialsim().args([
        "size",
        "specs/two-arm.trial",
        "--reps",
        "1000",
        "--format",
        "json",
    ]));
    assert_eq!(size.status, Some(0), "{size}");
    let size: serde_json::Value = serde_json::from_str(&size.stdout).expect("json");
    let dir = std::env::temp_dir().join(format!("trialsim-search-report-{}", std::process::id()));
    let out = run(trialsim().args([
        "report",
        "specs/two-arm.trial",
        "--reps",
        "1000",
        "--out",
        dir.to_str().expect("utf-8 temp dir"),
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let text = std::fs::read_to_string(dir.join("design-report.json")).expect("written");
    let _ = std::fs::remove_dir_all(&dir);
    let report: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(report["size"]["n_per_arm"], size["n_per_arm"]);
    assert_eq!(report["size"]["power"], size["power"]);
    assert_eq!(report["size"]["power_below"], size["power_below"]);
}

/// Writes `text` to a temporary spec file and returns its path.
fn temp_spec(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("trialsim-search-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("temp spec written");
    path
}

/// What `size` prints for a cluster design (in groups, with the closed form) and for an inflow
/// that cannot bring the size in before its analysis date, and what `mde` prints.
#[test]
fn size_and_mde_text_snapshots() {
    let clustered = temp_spec("clustered.trial", CLUSTERED);
    let inflow = temp_spec("inflow.trial", INFLOW);
    let outputs = [
        run(trialsim().args(["size", clustered.to_str().expect("utf-8"), "--reps", "2000"])),
        run(trialsim().args(["size", inflow.to_str().expect("utf-8"), "--reps", "2000"])),
        run(trialsim().args([
            "size",
            inflow.to_str().expect("utf-8"),
            "--reps",
            "2000",
            "--move-analysis",
        ])),
        run(trialsim().args([
            "mde",
            "specs/two-arm.trial",
            "--vary",
            "arm.treatment.employed",
            "--reps",
            "2000",
        ])),
    ];
    let _ = std::fs::remove_file(&clustered);
    let _ = std::fs::remove_file(&inflow);
    let text: String = outputs.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text);
}

/// `mde --vary PATH=VALUES` is the sweep's syntax: refused with the reason.
#[test]
fn mde_vary_takes_a_path_only() {
    let out = run(trialsim().args([
        "mde",
        "specs/two-arm.trial",
        "--vary",
        "arm.treatment.employed=30%",
    ]));
    assert_eq!(out.status, Some(2), "{out}");
    assert!(out.stderr.contains("only a path"), "{out}");
}
