//! Randomisation inference (`test randomisation`, docs/randomisation-inference.md): exact
//! p-values against R through the whole `analyze` pipeline, the assignment rule each design
//! re-runs, reproducibility, and (ignored, slow) its size under H0 on three designs.

// The constants are R's 17-significant-digit output, as printed.
#![allow(clippy::excessive_precision)]

use trialsim::analysis::run_plan;
use trialsim::check::compile;
use trialsim::model::TestKind;
use trialsim::power::{PowerSettings, run_power};
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};
use trialsim::source::SourceFile;
use trialsim::stats::randomisation::Method;

use crate::common;

fn model(text: &str) -> trialsim::model::TrialModel {
    compile(&SourceFile::new("randomisation.trial", text))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .model
}

/// An 8 + 8 pilot with a continuous score, analysed from a CSV.
const PILOT: &str = r#"
trial "8 + 8 pilot" {
  assignment { randomise 1:1 }
  sample 8 per arm
  arm treatment { score ~ normal(mean 4, sd 1.2) }
  arm control   { score ~ normal(mean 3, sd 1.2) }
  outcome score = continuous
  analysis two { compare score: treatment vs control  test randomisation, two_sided, alpha 5% }
  analysis up { compare score: treatment vs control  test permutation, one_sided greater }
  analysis welch { compare score: treatment vs control  test welch_t, two_sided }
  data {
    id "id"
    arm "arm" { "treatment" -> treatment, "control" -> control }
    outcome score "score"
  }
}
"#;

/// The values of tests/reference/randomisation.R (`continuous_8_8`): the first eight treated.
const SCORES: [f64; 16] = [
    3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9, 2.4, 3.0, 1.7, 4.1, 2.2, 3.3, 1.9, 2.6,
];

#[test]
fn analyze_gives_the_exact_permutation_p_value_of_r() {
    let dir = std::env::temp_dir().join(format!("trialsim-rand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut csv = String::from("id,arm,score\n");
    for (i, v) in SCORES.iter().enumerate() {
        let arm = if i < 8 { "treatment" } else { "control" };
        csv += &format!("{},{arm},{v}\n", i + 1);
    }
    std::fs::write(dir.join("data.csv"), csv).expect("write csv");
    std::fs::write(dir.join("pilot.trial"), PILOT).expect("write spec");
    let out = common::run(
        common::trialsim()
            .arg("analyze")
            .arg(dir.join("pilot.trial"))
            .arg("--data")
            .arg(dir.join("data.csv"))
            .args(["--format", "json", "--replicates", "0"]),
    );
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let contrast = |a: usize| &json["analyses"][a]["contrasts"][0];
    // R: combn() over all 12,870 assignments (tests/reference/randomisation.R).
    let two = contrast(0);
    assert_eq!(two["randomisation"]["method"], "exact");
    assert_eq!(two["randomisation"]["draws"], 12_870);
    let p = two["p_value"].as_f64().expect("p");
    assert!((p - 0.02268842268842269).abs() < 1e-6, "{p}");
    let up = contrast(1)["p_value"].as_f64().expect("p");
    assert!((up - 0.011344211344211345).abs() < 1e-6, "{up}");
    // The text report says how the p-value was obtained.
    let text = common::run(
        common::trialsim()
            .arg("analyze")
            .arg(dir.join("pilot.trial"))
            .arg("--data")
            .arg(dir.join("data.csv"))
            .args(["--replicates", "0"]),
    );
    assert!(
        text.stdout.contains(
            "randomisation test of score: p = 0.0227 exact, all 12870 assignments enumerated"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Three designs, each re-randomised by its own rule; `h0` makes the arms identical.
fn designs(h0: bool) -> Vec<(&'static str, String)> {
    let (a, b) = if h0 { ("20%", "20%") } else { ("45%", "20%") };
    let (m, n) = if h0 { (3, 3) } else { (4, 3) };
    vec![
        (
            "8 + 8 continuous (exact)",
            format!(
                r#"trial "pilot" {{
  assignment {{ randomise 1:1 }}
  sample 8 per arm
  arm treatment {{ score ~ normal(mean {m}, sd 1) }}
  arm control   {{ score ~ normal(mean {n}, sd 1) }}
  outcome score = continuous
  analysis primary {{ compare score: treatment vs control  test randomisation, two_sided, alpha 5% }}
}}"#
            ),
        ),
        (
            "4 + 4 cohorts of 10, ICC 5% (clusters, exact)",
            format!(
                r#"trial "clusters" {{
  assignment {{ randomise 1:1 by cohort of 10, icc 5% }}
  sample 4 cohorts per arm
  arm treatment {{ work within 12 months: {a} }}
  arm control   {{ work within 12 months: {b} }}
  outcome work_12m = worked within 12 months
  analysis primary {{ compare work_12m: treatment vs control  test randomisation, one_sided greater, alpha 5% }}
}}"#
            ),
        ),
        (
            "60 + 60 with crossover, blocks within strata (hypergeometric)",
            format!(
                r#"trial "crossover" {{
  population {{ background ~ categorical {{ dutch: 45%, other: rest }} }}
  assignment {{ randomise 1:1 in blocks of 4 within background }}
  sample 60 per arm
  arm treatment {{ work within 12 months: {a} }}
  arm control {{
    work within 12 months: {b}
    crossover 10% -> treatment after 3 months
  }}
  outcome work_12m = worked within 12 months
  analysis primary {{ compare work_12m: treatment vs control  test randomisation, two_sided, alpha 5% }}
}}"#
            ),
        ),
    ]
}

#[test]
fn each_design_is_re_randomised_by_its_own_rule_and_reproducibly() {
    for (name, text) in designs(false) {
        let model = model(&text);
        assert_eq!(model.analyses[0].test, TestKind::Randomisation, "{name}");
        let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
        let mut w = sim.worker();
        sim.simulate(&mut w, &mut replicate_rng(7, 0, 0));
        let table = &w.table;
        let a = run_plan(&model, table);
        let b = run_plan(&model, table);
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{name}");
        let r = a.analyses[0].contrasts[0]
            .randomisation
            .expect("a randomisation result");
        match name {
            n if n.starts_with("8 + 8") => {
                assert_eq!((r.method, r.draws), (Method::Exact, 12_870));
            }
            n if n.starts_with("4 + 4") => {
                // C(8, 4) = 70 splits of the cohorts.
                assert_eq!((r.method, r.draws), (Method::Exact, 70));
            }
            _ => {
                assert_eq!(r.method, Method::Hypergeometric);
                // Within the two strata, not over all 120 participants.
                assert!(r.assignments < 1.0e35, "{r:?}");
            }
        }
        assert!(r.p_value > 0.0 && r.p_value <= 1.0, "{name}: {r:?}");
    }
}

/// Size under H0 on three designs: a randomisation test is exact, so its rejection rate is at
/// most alpha (the attainable size below it) plus Monte Carlo error.
#[test]
#[ignore = "a minute: cargo test --release --test integration randomisation -- --ignored"]
fn type_i_error_is_at_most_the_exact_size() {
    for (name, text) in designs(true) {
        let model = model(&text);
        let settings = PowerSettings {
            seed: 2026,
            replicates: 4000,
            n_per_arm: None,
            scenario: 0,
        };
        let report = run_power(&model, &settings, &|_| {}).expect("runs");
        let a = &report.analyses[0];
        println!("{name}: rejection {:.4} (MC SE {:.4})", a.power, a.mc_se);
        assert!(
            a.power <= a.alpha + 3.0 * a.mc_se,
            "{name}: type-I error {} above alpha {} + 3 MC SE {}",
            a.power,
            a.alpha,
            a.mc_se
        );
    }
}
