//! The Almere facts the language reaches beyond its first version: path shares by subgroup,
//! the hourly wage, the excluded top-up, paired starts and the intake calendar. The checked
//! model carries them, and the engine simulates what changes the analysed table, within
//! Monte Carlo error (3 standard errors of a proportion or a mean over pooled participants).

use trialsim::model::*;
use trialsim::sim::{SimOptions, Simulator, rng::replicate_rng};
use trialsim::table::{CovariateColumn, MISSING_CODE};

use crate::common::{run, trialsim};

fn load(path: &str) -> TrialModel {
    let src = trialsim::source::SourceFile::read(path).expect("spec readable");
    trialsim::check::compile(&src).expect("spec checks").model
}

fn var(model: &TrialModel, name: &str) -> VarId {
    model
        .population
        .variables
        .iter()
        .position(|v| v.name == name)
        .expect("variable declared")
}

fn outcome(model: &TrialModel, name: &str) -> OutcomeId {
    model
        .outcomes
        .iter()
        .position(|o| o.name == name)
        .expect("outcome declared")
}

#[test]
fn observed_spec_carries_the_added_facts() {
    let m = load("specs/almere-45plus-observed.trial");
    let bg = var(&m, "background");
    let exp = &m.arms[0];
    let zorg = &exp.paths[0];
    assert_eq!(zorg.name, "team_zorg");
    assert!((zorg.share - 0.293).abs() < 1e-12);
    let by = zorg
        .share_by
        .as_ref()
        .expect("team zorg varies by background");
    assert_eq!(by.variable, bg);
    // Levels in declaration order: dutch, non_western, western (western takes the overall share).
    assert_eq!(by.probabilities, vec![Some(0.354), Some(0.25), None]);
    // The rest path takes what Team Zorg leaves, level by level.
    let guided = exp.paths[1]
        .share_by
        .as_ref()
        .expect("rest follows by level");
    let want = [1.0 - 0.354, 0.75, 1.0 - 0.293];
    for (got, want) in guided.probabilities.iter().zip(want) {
        assert!((got.expect("every level") - want).abs() < 1e-12);
    }
    assert_eq!(
        m.outcomes[outcome(&m, "wage_12m")].measure,
        Measure::Wage { month: 12 }
    );
    assert!(!m.outcomes[outcome(&m, "wage_12m")].is_binary());
    assert_eq!(
        m.assignment.top_up,
        Some(TopUp {
            per_arm: 30,
            month: 16,
            excluded: true
        })
    );
    assert_eq!(
        m.assignment.paired_start,
        Some(PairedStart {
            follower: 1,
            leader: 0
        })
    );
    assert!(matches!(&m.assignment.rule, AssignmentRule::Parity { id, .. } if id == "bsn"));
}

#[test]
fn check_summary_keeps_the_id_name_and_says_how_long_intake_takes() {
    let out = run(trialsim().args(["check", "specs/almere-45plus-observed.trial"]));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(out.stdout.contains("parity of bsn:"), "{out}");
    // 203 experiment clients at 26 intakes a month: ceil(7.8) = 8 months; the top-up of 30
    // adds ceil(30 / 26) = 2.
    assert!(
        out.stdout
            .contains("8 months of intake at 26 intakes/month, the top-up 2 more"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("control client k starts on the date of experiment client k"),
        "{out}"
    );
}

/// Each participant's path is drawn with their own level's shares: the realised Team Zorg
/// share among Dutch, non-western and western experiment clients (dropouts aside) matches
/// 35.4 %, 25 % and 29.3 %.
#[test]
fn path_shares_by_level_are_realised() {
    let model = load("specs/almere-45plus-observed.trial");
    let bg = var(&model, "background");
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    let (mut n, mut zorg) = ([0u64; 3], [0u64; 3]);
    for r in 0..300 {
        sim.simulate(&mut w, &mut replicate_rng(31, 0, r));
        let CovariateColumn::Categorical(levels) = &w.table.covariates[bg] else {
            panic!("background is categorical")
        };
        for ((&arm, &path), &level) in w.table.arm.iter().zip(&w.table.path).zip(levels) {
            if arm != 0 || path == MISSING_CODE {
                continue;
            }
            n[level as usize] += 1;
            zorg[level as usize] += u64::from(path == 0);
        }
    }
    for (l, want) in [0.354, 0.25, 0.293].into_iter().enumerate() {
        let got = zorg[l] as f64 / n[l] as f64;
        let se = (want * (1.0 - want) / n[l] as f64).sqrt();
        assert!(
            (got - want).abs() <= 3.0 * se,
            "level {l}: {got:.4} vs {want:.4} (3 SE {:.4}, n {})",
            3.0 * se,
            n[l]
        );
    }
    // The overall share the flows report plans: 0.43 × 35.4 % + 0.51 × 25 % + 0.06 × 29.3 %.
    let planned = 0.43 * 0.354 + 0.51 * 0.25 + 0.06 * 0.293;
    assert!((sim.path_share(0, 0) - planned).abs() < 1e-12);
}

/// `wage at month 12` is the wage of the job held in month 12 and missing otherwise; its mean
/// among those in work is the wage distribution's, lognormal(median 12, sigma 0.25). Moments
/// computed in Python: m = 12 * math.exp(0.25**2 / 2) = 12.380921,
/// sd = m * math.sqrt(math.exp(0.25**2) - 1) = 3.144229.
const WAGE_MEAN: f64 = 12.380_921;
const WAGE_SD: f64 = 3.144_229;

#[test]
fn wages_are_measured_among_those_in_work() {
    let model = load("specs/almere-45plus-observed.trial");
    let wage = outcome(&model, "wage_12m");
    let work = outcome(&model, "work1_12m");
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let truth = sim.expected(0, wage, None).expect("exact");
    assert!((truth.mean - WAGE_MEAN).abs() < 1e-6);
    assert!((truth.variance.sqrt() - WAGE_SD).abs() < 1e-6);
    let mut w = sim.worker();
    let (mut n, mut sum) = (0u64, 0.0);
    for r in 0..200 {
        sim.simulate(&mut w, &mut replicate_rng(8, 0, r));
        for i in 0..w.table.len() {
            let v = w.table.outcomes[wage][i];
            // Hours are at least 8 a month, so in work means `work1_12m` (>= 1 h) is 1.
            assert_eq!(v.is_nan(), w.table.outcomes[work][i] == 0.0);
            if !v.is_nan() {
                n += 1;
                sum += v;
            }
        }
    }
    let got = sum / n as f64;
    let se = WAGE_SD / (n as f64).sqrt();
    assert!(
        (got - WAGE_MEAN).abs() <= 3.0 * se,
        "{got:.4} vs {WAGE_MEAN:.4} (3 SE {:.4}, n {n})",
        3.0 * se
    );
}

/// Sweeping a path's overall share moves the `rest` path at the levels that use it.
#[test]
fn sweeping_a_share_keeps_the_levels_consistent() {
    let mut m = load("specs/almere-45plus-observed.trial");
    trialsim::params::set(&mut m, "arm.experiment.team_zorg.share", 0.4).expect("settable");
    let guided = m.arms[0].paths[1].share_by.as_ref().expect("by level");
    // Level shares keep their proportion to the path's share (29.3 % in the spec), so the
    // sweep moves Team Zorg for every background; the rest path takes what is left per level.
    let scale = 0.4 / 0.293;
    let want = [1.0 - 0.354 * scale, 1.0 - 0.25 * scale, 0.6];
    for (got, want) in guided.probabilities.iter().zip(want) {
        assert!((got.expect("every level") - want).abs() < 1e-12, "{got:?}");
    }
    assert!((m.arms[0].paths[1].share - 0.6).abs() < 1e-12);
}

/// `power` words a wage contrast in euro, not percentage points, and lists the top-up with its
/// months of intake at the declared rate (30 at 26 a month: 2).
#[test]
fn power_reports_wages_in_their_units_and_counts_the_top_up() {
    let out = run(trialsim().args([
        "power",
        "specs/almere-45plus-observed.trial",
        "--reps",
        "40",
        "--quiet",
    ]));
    assert!(matches!(out.status, Some(0 | 1)), "{out}");
    let wages = out
        .stdout
        .split("analysis wages")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .expect("the wages analysis is reported");
    assert!(wages.contains("true effect         +0.0000"), "{wages}");
    assert!(!wages.contains(" pp"), "{wages}");
    assert!(
        out.stdout.contains(
            "top-up: 30 per arm in month 16 of intake, excluded from the analysis (counted, not \
             simulated); 2 more months of intake at 26 intakes/month"
        ),
        "{out}"
    );
}

/// A pool with no population variables still enrols everyone in it (no criteria, no screening):
/// 400 people, split 200/200 by complete randomisation 1:1.
#[test]
fn a_pool_without_variables_enrols_the_whole_pool() {
    let spec = r#"trial "Pool without variables" {
  population { pool 400 }
  assignment { randomise 1:1 }
  arm treatment { employed: 30% }
  arm control   { employed: 20% }
  outcome employed = binary
  analysis primary {
    compare employed: treatment vs control
    test pooled_z, two_sided, alpha 5%
  }
}
"#;
    let src = trialsim::source::SourceFile::new("pool.trial", spec);
    let model = trialsim::check::compile(&src).expect("spec checks").model;
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    sim.simulate(&mut w, &mut replicate_rng(5, 0, 0));
    assert_eq!(w.table.len(), 400);
    assert!(w.table.is_consistent());
    let treated = w.table.arm.iter().filter(|&&a| a == 0).count();
    assert_eq!(treated, 200);
}

/// The realised Team Zorg share of the observed-flows spec against the figure computed by hand
/// from the spec: background 43 % Dutch, 51 % non-western, 6 % western (not listed, so the
/// path's overall 29.3 %), with Team Zorg shares 35.4 % and 25 %:
/// 0.43 · 0.354 + 0.51 · 0.25 + 0.06 · 0.293 = 0.2973. Background is drawn independently of the
/// eligibility criteria and of dropout, so the same mix holds among those who stay. Tolerance:
/// 3 binomial standard errors over the participants pooled across replicates.
#[test]
fn observed_team_zorg_share_matches_the_hand_computed_mix() {
    const ZORG: f64 = 0.43 * 0.354 + 0.51 * 0.25 + 0.06 * 0.293;
    assert!((ZORG - 0.2973).abs() < 1e-12);
    let model = load("specs/almere-45plus-observed.trial");
    let s = trialsim::power::PowerSettings {
        seed: 21,
        replicates: 400,
        n_per_arm: None,
        scenario: 0,
    };
    let r = trialsim::power::run_power(&model, &s, &|_| {}).expect("simulates");
    let exp = &r.flows.arms[0];
    let zorg = exp
        .paths
        .iter()
        .find(|p| p.name == "team_zorg")
        .expect("team_zorg");
    let stayed = 400.0 * exp.mean_size * (1.0 - exp.dropout);
    let se = (ZORG * (1.0 - ZORG) / stayed).sqrt();
    assert!(
        (zorg.share - ZORG).abs() <= 3.0 * se,
        "team zorg {:.4} vs {ZORG:.4} (3 SE {:.4})",
        zorg.share,
        3.0 * se
    );
}
