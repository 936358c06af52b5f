//! Loss to follow-up: the engine loses the stated share, complete cases stay unbiased when the
//! loss is at random and lose the power the exact test at the smaller arms predicts, and loss
//! that depends on the outcome biases the complete-case estimate as the selection implies.
//!
//! Expected values are worked out here from the spec's numbers (and, for power, the exact
//! binomial power of the test, checked against NumPy in `engine.rs`); tolerances are 4 Monte
//! Carlo standard errors from the number of draws.

use statrs::distribution::{Binomial, Discrete};
use trialsim::model::{Sides, TrialModel};
use trialsim::power::{PowerReport, PowerSettings, run_power};
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};
use trialsim::stats::power::two_proportion_exact_power;
use trialsim::table::flags;

use crate::common::{run, trialsim};

fn compile(text: &str) -> TrialModel {
    let src = trialsim::source::SourceFile::new("test.trial", text);
    match trialsim::check::compile(&src) {
        Ok(c) => c.model,
        Err(e) => panic!("spec does not check: {e:?}"),
    }
}

fn power(model: &TrialModel, seed: u64, replicates: u64) -> PowerReport {
    let s = PowerSettings {
        seed,
        replicates,
        n_per_arm: None,
        scenario: 0,
    };
    run_power(model, &s, &|_| {}).expect("simulates")
}

/// |observed − expected| within 4 binomial standard errors of `n` draws.
fn assert_share(what: &str, x: u64, n: u64, expected: f64) {
    let observed = x as f64 / n as f64;
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{what}: observed {observed:.5} of {n}, expected {expected:.5}, 4 SE = {:.5}",
        4.0 * se
    );
}

/// An employment process, one arm losing 25 % by month 12 (so 1 − 0.75^(m/12) by month m),
/// the other 10 % by month 6 for Dutch participants and 40 % for the others.
const FLOWS: &str = r#"
trial "Loss" {
  follow_up 12 months
  population { background ~ categorical { dutch: 40%, other: rest } }
  sample 500 per arm
  employment { job_loss 2% per month }
  arm treatment {
    work within 12 months: 30%
    lost_to_follow_up 25% by month 12
  }
  arm control {
    work within 12 months: 20%
    lost_to_follow_up 10% by month 6, by background { other: 40% }
  }
  outcome work_6m  = employed at month 6
  outcome work_12m = employed at month 12
  outcome ever_12m = worked within 12 months
  analysis primary {
    compare work_6m, work_12m, ever_12m: treatment vs control
  }
}
"#;

#[test]
fn the_simulated_share_lost_is_the_stated_one() {
    let model = compile(FLOWS);
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    // [arm][month 6 missing, month 12 missing, flagged, participants]; control by level too.
    let mut t = [0u64; 4];
    let mut c = [[0u64; 4]; 2];
    for r in 0..400 {
        sim.simulate(&mut w, &mut replicate_rng(5, 0, r));
        let table = &w.table;
        let levels = match &table.covariates[0] {
            trialsim::table::CovariateColumn::Categorical(v) => v.clone(),
            other => panic!("{other:?}"),
        };
        for i in 0..table.len() {
            let m6 = table.outcomes[0][i].is_nan();
            let m12 = table.outcomes[1][i].is_nan();
            let ever = table.outcomes[2][i].is_nan();
            // Measured at month 12 both: missing together; missing at 6 means missing later.
            assert_eq!(m12, ever, "row {i}");
            assert!(!m6 || m12, "row {i}: missing at month 6 but seen at 12");
            let flagged = table.flags[i] & flags::LOST_TO_FOLLOW_UP != 0;
            let cell = if table.arm[i] == 0 {
                &mut t
            } else {
                &mut c[levels[i] as usize]
            };
            cell[0] += u64::from(m6);
            cell[1] += u64::from(m12);
            cell[2] += u64::from(flagged);
            cell[3] += 1;
        }
    }
    // Treatment: 25 % by month 12, flagged by month 12; 1 − 0.75^(1/2) by month 6.
    assert_share("treatment, month 12", t[1], t[3], 0.25);
    assert_share("treatment, flagged", t[2], t[3], 0.25);
    assert_share("treatment, month 6", t[0], t[3], 1.0 - 0.75f64.sqrt());
    // Control: the stated share by month 6 at each level, 1 − (1 − p)² by month 12.
    for (level, p) in [(0usize, 0.10f64), (1, 0.40)] {
        let x = &c[level];
        assert_share(&format!("control level {level}, month 6"), x[0], x[3], p);
        assert_share(&format!("control level {level}, flagged"), x[2], x[3], p);
        let by_12 = 1.0 - (1.0 - p) * (1.0 - p);
        assert_share(
            &format!("control level {level}, month 12"),
            x[1],
            x[3],
            by_12,
        );
    }
    // The power report's flows give the same share as the flags.
    let r = power(&model, 5, 200);
    let flow = r.flows.arms[0]
        .lost_to_follow_up
        .as_ref()
        .expect("treatment loses outcomes");
    assert_eq!(flow.by_month, 12);
    assert_share(
        "treatment, power flows",
        (flow.share * 1e5).round() as u64,
        100_000,
        0.25,
    );
    let analysed = r.analyses[0].contrasts[1]
        .analysed
        .as_ref()
        .expect("the contrast says how many were analysed");
    assert!((analysed.treatment_size - 500.0).abs() < 1e-9);
    assert_share(
        "treatment, analysed at month 12",
        (analysed.treatment * 200.0).round() as u64,
        500 * 200,
        0.75,
    );
}

/// Direct binary outcomes 30 % against 20 %, 150 per arm, both arms losing 30 % by the end of
/// the follow-up (when a direct outcome is measured).
const MCAR: &str = r#"
trial "Missing completely at random" {
  follow_up 12 months
  sample 150 per arm
  arm treatment { employed: 30%  lost_to_follow_up 30% by month 12 }
  arm control   { employed: 20%  lost_to_follow_up 30% }
  outcome employed = binary
  analysis primary {
    compare employed: treatment vs control
    test pooled_z, two_sided, alpha 5%
    missing complete_cases
  }
}
"#;

#[test]
fn loss_at_random_keeps_the_estimate_and_costs_the_power_of_the_smaller_arms() {
    let model = compile(MCAR);
    let reps = 4000;
    let r = power(&model, 21, reps);
    let a = &r.analyses[0];
    let c = &a.contrasts[0];
    // The binomial closed forms at 150 per arm no longer describe the test.
    assert_eq!(
        (a.exact_power, c.exact_power, c.exact_coverage),
        (None, None, None)
    );
    // Unbiased for the full-data effect.
    let bias = c.bias.expect("bias");
    let se = c.bias_mc_se.expect("bias MC SE");
    assert!((c.true_effect.expect("truth") - 0.1).abs() < 1e-12);
    assert!(bias.abs() <= 4.0 * se, "bias {bias} (MC SE {se})");
    // Power: the exact power of the pooled z test averaged over the analysed arm sizes, each
    // Binomial(150, 0.7) and independent.
    let analysed = Binomial::new(0.7, 150).expect("binomial");
    let sizes: Vec<(u64, f64)> = (70..=140)
        .map(|n| (n, analysed.pmf(n)))
        .filter(|(_, p)| *p > 1e-7)
        .collect();
    let mut expected = 0.0;
    let mut weight = 0.0;
    for &(nt, pt) in &sizes {
        for &(nc, pc) in &sizes {
            let p = two_proportion_exact_power(0.2, 0.3, nc, nt, 0.05, Sides::TwoSided, true);
            expected += pt * pc * p;
            weight += pt * pc;
        }
    }
    let expected = expected / weight;
    assert!(weight > 0.9999, "{weight}");
    let mc = (expected * (1.0 - expected) / reps as f64).sqrt();
    assert!(
        (a.power - expected).abs() <= 4.0 * mc,
        "power {} against {expected:.4} at the analysed sizes (4 MC SE {:.4})",
        a.power,
        4.0 * mc
    );
    // And that is a real cost: the exact power with all 150 per arm is far higher.
    let full = two_proportion_exact_power(0.2, 0.3, 150, 150, 0.05, Sides::TwoSided, true);
    assert!(full - a.power > 8.0 * mc, "{full} against {}", a.power);
    let analysed = c.analysed.as_ref().expect("analysed per arm");
    assert!((analysed.treatment - 105.0).abs() < 4.0 * (150.0f64 * 0.21 / reps as f64).sqrt());
}

/// Loss that depends on the outcome: in the treatment arm 20 % of those not employed are lost,
/// and those employed have 3 times the hazard, so 1 − 0.8³ = 48.8 % of them are lost.
const MNAR: &str = r#"
trial "Missing not at random" {
  follow_up 12 months
  sample 400 per arm
  arm treatment { employed: 40%  lost_to_follow_up 20% by month 12, 3 x if employed }
  arm control   { employed: 20% }
  outcome employed = binary
  analysis primary {
    compare employed: treatment vs control
    test pooled_z, two_sided, alpha 5%
  }
}
"#;

#[test]
fn loss_that_depends_on_the_outcome_biases_complete_cases_as_predicted() {
    let model = compile(MNAR);
    let reps = 3000;
    let r = power(&model, 8, reps);
    let c = &r.analyses[0].contrasts[0];
    // Among the treatment arm's complete cases the share employed is
    // 0.4 · 0.512 / (0.4 · 0.512 + 0.6 · 0.8); the control arm loses nobody.
    let kept_employed = 0.4 * 0.8f64.powi(3);
    let observed_treatment = kept_employed / (kept_employed + 0.6 * 0.8);
    let predicted_bias = (observed_treatment - 0.2) - 0.2;
    let bias = c.bias.expect("bias");
    let se = c.bias_mc_se.expect("bias MC SE");
    assert!((c.true_effect.expect("truth") - 0.2).abs() < 1e-12);
    assert!(
        bias < -0.05 && bias + 4.0 * se < 0.0,
        "those employed are lost more often, so the effect is underestimated: bias {bias}"
    );
    assert!(
        (bias - predicted_bias).abs() <= 4.0 * se,
        "bias {bias:.4} against the predicted {predicted_bias:.4} (4 MC SE {:.4})",
        4.0 * se
    );
    // The arm's flows count those lost by month 12: 0.4 · 0.488 + 0.6 · 0.2 of the arm.
    let lost = r.flows.arms[0].lost_to_follow_up.as_ref().expect("lost");
    let expected = 0.4 * (1.0 - 0.8f64.powi(3)) + 0.6 * 0.2;
    assert_share(
        "treatment lost",
        (lost.share * 1.2e6).round() as u64,
        1_200_000,
        expected,
    );
    assert!(r.flows.arms[1].lost_to_follow_up.is_none());
}

#[test]
fn a_spec_with_loss_gives_the_same_json_for_any_thread_count() {
    let dir = std::env::temp_dir().join(format!("trialsim-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("loss.trial");
    std::fs::write(&path, FLOWS).expect("spec written");
    let json = |threads: &str| {
        let out = run(trialsim().args([
            "power",
            path.to_str().expect("utf-8 path"),
            "--reps",
            "300",
            "--threads",
            threads,
            "--format",
            "json",
        ]));
        assert_eq!(out.status, Some(0), "{out}");
        out.stdout
    };
    let one = json("1");
    assert!(one.contains("\"lost_to_follow_up\""), "{one}");
    assert_eq!(one, json("3"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The exported table of a replicate with loss reads back with the same outcomes missing, and
/// the plan gives the same complete-case results on it as on the engine's table.
#[test]
fn lost_outcomes_survive_the_export_and_read_back_as_missing() {
    use std::io::Cursor;
    use trialsim::analysis::run_plan;
    use trialsim::data;

    let model = compile(FLOWS);
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    sim.simulate(&mut w, &mut replicate_rng(3, 0, 1));
    let missing = |outcomes: &[Vec<f64>]| -> Vec<Vec<bool>> {
        outcomes
            .iter()
            .map(|c| c.iter().map(|v| v.is_nan()).collect())
            .collect()
    };
    let engine_missing = missing(&w.table.outcomes);
    assert!(engine_missing.iter().all(|c| c.iter().any(|&m| m)));
    let mut csv = Vec::new();
    data::export::write_csv(&model, &w.table, &mut csv).expect("writes");
    let mapping = data::export::default_mapping(&model);
    let loaded = data::load(&model, &mapping, "export.csv", Cursor::new(csv)).expect("reads");
    assert_eq!(missing(&loaded.table.outcomes), engine_missing);
    let engine = run_plan(&model, &w.table);
    let analysed = run_plan(&model, &loaded.table);
    assert_eq!(format!("{analysed:?}"), format!("{engine:?}"));
}

// Where no exact estimand exists (here: a queue for caseload slots), the true effect is
// simulated, and it is still the full-data one: loss that depends on the outcome hides more of
// the control arm's jobs, which moves the complete-case estimate but not the true effect.
#[test]
fn a_simulated_true_effect_ignores_the_loss() {
    let spec = |loss: &str| {
        format!(
            r#"
trial "Queue" {{
  follow_up 12 months
  assignment {{
    randomise 1:1
    capacity 10 staff x 10 caseload, 30 intakes per month
    clock from randomisation
  }}
  sample 300 per arm
  arm treatment {{ work within 12 months: 40% }}
  arm control {{
    work within 12 months: 20%
    {loss}
  }}
  outcome work_12m = worked within 12 months
  analysis primary {{ compare work_12m: treatment vs control }}
}}
"#
        )
    };
    let without = compile(&spec(""));
    let with = compile(&spec("lost_to_follow_up 60% by month 12, 5 x if work_12m"));
    let a = &power(&without, 7, 200).analyses[0].contrasts[0];
    let b = &power(&with, 7, 200).analyses[0].contrasts[0];
    assert_eq!((a.truth, b.truth), ("simulated", "simulated"));
    let (ta, tb) = (a.true_effect.expect("truth"), b.true_effect.expect("truth"));
    let se = a
        .true_effect_mc_se
        .expect("simulated")
        .hypot(b.true_effect_mc_se.expect("simulated"));
    assert!((ta - tb).abs() <= 4.0 * se, "{ta} {tb} (4 SE {})", 4.0 * se);
    // The complete cases do move: those who found work are lost far more often in control.
    let (ea, eb) = (
        a.mean_estimate.expect("estimate"),
        b.mean_estimate.expect("estimate"),
    );
    assert!(eb > ea + 0.03, "complete-case estimates {ea} {eb}");
}
