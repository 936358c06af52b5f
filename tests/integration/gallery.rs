//! The seed gallery: every spec under `specs/gallery/` checks and simulates, reproduces the
//! figures its report publishes within Monte Carlo error, the cluster-level test keeps its size
//! where the naive test does not, the cost figures follow from the costs block, and the
//! generated page is up to date.
//!
//! Tolerances are 3 Monte Carlo standard errors computed from the number of simulated
//! participants (times the design effect for clustered outcomes).

use crate::common::{run, trialsim};
use trialsim::analysis::run_plan;
use trialsim::gallery::{GallerySettings, page};
use trialsim::model::{Analysis, Correction, Sides, TestKind, TrialModel};
use trialsim::power::{PowerSettings, run_power};
use trialsim::sim::rng::replicate_rng;
use trialsim::sim::{SimOptions, Simulator};
use trialsim::table::ParticipantTable;

fn load(path: &str) -> TrialModel {
    let src = trialsim::source::SourceFile::read(path).expect("spec readable");
    trialsim::check::compile(&src)
        .unwrap_or_else(|e| panic!("{path}: {:?}", miette::Report::new(e)))
        .model
}

fn gallery_specs() -> Vec<String> {
    trialsim::gallery::collect(&["specs/gallery".to_string()]).expect("specs/gallery readable")
}

/// Mean of outcome `name` per arm over `replicates` complete tables, with the participants
/// counted per arm.
fn arm_means(model: &TrialModel, name: &str, replicates: u64) -> Vec<(f64, u64)> {
    let o = model
        .outcomes
        .iter()
        .position(|x| x.name == name)
        .expect("outcome exists");
    let sim = Simulator::new(model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    let mut sums = vec![(0.0, 0u64); model.arms.len()];
    for r in 0..replicates {
        let mut rng = replicate_rng(7, 0, r);
        sim.simulate(&mut w, &mut rng);
        for (&arm, &v) in w.table.arm.iter().zip(&w.table.outcomes[o]) {
            sums[arm as usize].0 += v;
            sums[arm as usize].1 += 1;
        }
    }
    sums.into_iter().map(|(s, n)| (s / n as f64, n)).collect()
}

fn assert_share(what: &str, observed: (f64, u64), expected: f64, design_effect: f64) {
    let se = (expected * (1.0 - expected) * design_effect / observed.1 as f64).sqrt();
    assert!(
        (observed.0 - expected).abs() <= 3.0 * se,
        "{what}: simulated {:.4}, report {expected:.4}, 3 MC SE = {:.4}",
        observed.0,
        3.0 * se
    );
}

fn arm(model: &TrialModel, name: &str) -> usize {
    model
        .arms
        .iter()
        .position(|a| a.name == name)
        .expect("arm exists")
}

#[test]
fn every_gallery_spec_checks_and_simulates() {
    let specs = gallery_specs();
    assert!(
        specs.len() >= 7,
        "the seven approaches are there: {specs:?}"
    );
    for file in specs {
        let model = load(&file);
        let settings = PowerSettings {
            seed: 1,
            replicates: 20,
            n_per_arm: None,
            scenario: 0,
        };
        let report =
            run_power(&model, &settings, &|_| {}).unwrap_or_else(|e| panic!("{file}: {}", e.0));
        assert_eq!(report.replicates, 20, "{file}");
        assert!(
            report.analyses.iter().all(|a| a.power.is_finite()),
            "{file}"
        );
    }
}

#[test]
fn fip_reproduces_300_vs_300_and_71_vs_55_terminations() {
    let model = load("specs/gallery/fip-sittard-geleen.trial");
    assert_eq!(model.sample, Some(vec![300, 300]));
    let m = arm_means(&model, "terminated", 200);
    // 71 of 300 and 55 of 300 benefits ended [002:1197-1203].
    assert_share("FIP terminations", m[arm(&model, "fip")], 71.0 / 300.0, 1.0);
    assert_share(
        "control terminations",
        m[arm(&model, "control")],
        55.0 / 300.0,
        1.0,
    );
    // No extra exit to work: equal shares by design of the spec.
    let w = arm_means(&model, "to_work", 200);
    let (a, b) = (w[0], w[1]);
    let se = (2.0 * 0.08 * 0.92 / a.1 as f64).sqrt();
    assert!((a.0 - b.0).abs() <= 3.0 * se, "work exits {a:?} vs {b:?}");
}

#[test]
fn app_reproduces_30_percent_off_benefit_and_24_percent_to_werkom() {
    let mut model = load("specs/gallery/app-zaanstad.trial");
    assert_eq!(model.sample, Some(vec![100, 100]));
    // The report's 30 % is the first year's intake counted in its second year
    // [002:1397, 1464-1466]: everyone followed the full 24 months.
    model.delivery.inflow = None;
    let app = arm(&model, "app");
    let left = arm_means(&model, "left_24m", 400);
    assert_share("APP off benefit", left[app], 0.30, 1.0);
    // 24 % were referred to Werkom, not all of them still on benefit [002:1401-1403]: those
    // still on benefit are fewer than 24 %, and with the ones who left (counted in the 30 %)
    // they cannot exceed the 30 % + 24 % of the report.
    let werkom = arm_means(&model, "werkom_24m", 400);
    let (share, n) = werkom[app];
    let se = (0.24 * 0.76 / n as f64).sqrt();
    assert!(share > 0.0 && share < 0.24 - 3.0 * se, "{share}");
}

#[test]
fn app_inflow_takes_80_150_200_and_shortens_late_follow_up() {
    let model = load("specs/gallery/app-zaanstad.trial");
    let inflow = model.delivery.inflow.clone().expect("an inflow");
    let months = trialsim::sim::entry_months(&inflow, 200);
    // 80 in year 1, 150 by the end of year 2, 200 in the end [002:1395-1397].
    assert_eq!(months.iter().filter(|&&m| m < 12).count(), 80);
    assert_eq!(months.iter().filter(|&&m| m < 24).count(), 150);
    assert_eq!(months.len(), 200);
    assert!(months.iter().all(|&m| m < inflow.analysis_month));
    // Year-2 and year-3 intakes are followed less than 24 months by month 36, so the share
    // off benefit read on the analysis date is below the full 30 %.
    let left = arm_means(&model, "left_24m", 400);
    let app = left[arm(&model, "app")];
    let se = (0.3 * 0.7 / app.1 as f64).sqrt();
    assert!(app.0 < 0.30 - 3.0 * se, "{app:?}");
}

#[test]
fn top_vrouwen_reproduces_28_of_42_in_two_cohorts() {
    let model = load("specs/gallery/top-vrouwen.trial");
    assert_eq!(model.sample, Some(vec![42, 42]));
    let c = model.delivery.clusters.clone().expect("clusters");
    let de = 1.0 + (f64::from(c.size) - 1.0) * c.icc;
    let m = arm_means(&model, "work_6m", 400);
    // (14 + 14) of (22 + 20) to work, education or business [002:1891-1901].
    assert_share("TOP to work", m[arm(&model, "top")], 28.0 / 42.0, de);
}

#[test]
fn small_cohorts_reproduce_their_counts() {
    let e = load("specs/gallery/energiebox.trial");
    assert_eq!(e.sample, Some(vec![13, 13]));
    let m = arm_means(&e, "work_12m", 2000);
    // 6 still at Energiebox + 5 in other work, of 13 [002:976-978].
    assert_share(
        "Energiebox in work",
        m[arm(&e, "energiebox")],
        11.0 / 13.0,
        1.0,
    );

    let z = load("specs/gallery/opleiden-in-de-zorg.trial");
    assert_eq!(z.sample, Some(vec![13, 13]));
    // 25 was the aim and 13 started [002:583]: a shortfall, not a selection ratio, so there
    // is no selection step at all (the report counts no candidates).
    assert!(z.eligibility.screening.is_none());
    assert!(z.eligibility.criteria.is_empty());
    // 13 started -> 10 remain [002:593]: the realised path share.
    let settings = PowerSettings {
        seed: 3,
        replicates: 2000,
        n_per_arm: None,
        scenario: 0,
    };
    let report = run_power(&z, &settings, &|_| {}).expect("simulates");
    let course = &report.flows.arms[arm(&z, "course")];
    let completes = course.paths[0].share;
    let n: f64 = 13.0 * 2000.0;
    let se = ((10.0 / 13.0) * (3.0 / 13.0) / n).sqrt();
    assert!(
        (completes - 10.0 / 13.0).abs() <= 3.0 * se,
        "{completes} vs 10/13"
    );

    let a = load("specs/gallery/aandacht-doet-bewegen.trial");
    // 12 interviewed -> 5 selected [002:1610], one step, counted once: the share of
    // candidates who reach randomisation is 5 of 12.
    let s = a.eligibility.screening.clone().expect("screening");
    assert!((s.planned_loss - 7.0 / 12.0).abs() < 1e-3);
    let passing = trialsim::design::feasibility::pool_answer(&a, &[8, 8]).pass_share;
    assert!((passing - 5.0 / 12.0).abs() < 1e-3, "{passing}");
    // 15 guided in 15 months [002:1656].
    let inflow = a.delivery.inflow.clone().expect("inflow");
    let months = trialsim::sim::entry_months(&inflow, 15);
    assert_eq!(months.last(), Some(&14));
}

/// The analysis on a hand-made clustered table against scipy's `ttest_ind` on the cluster
/// proportions (tests/reference/gallery.py).
#[test]
fn cluster_t_matches_scipy_on_cluster_proportions() {
    let mut model = load("specs/gallery/top-vrouwen.trial");
    let treatment: [&[f64]; 3] = [&[1., 1., 0., 1.], &[1., 0., 0.], &[1., 1., 1., 1., 0.]];
    let control: [&[f64]; 3] = [&[0., 0., 1., 0.], &[0., 0., 0.], &[1., 0., 0., 0., 0., 1.]];
    let mut t = ParticipantTable {
        outcomes: vec![Vec::new()],
        ..ParticipantTable::default()
    };
    let mut code = 0;
    for (a, clusters) in [(0u32, &treatment), (1, &control)] {
        for c in clusters.iter() {
            for &v in c.iter() {
                t.id.push(t.arm.len() as u64 + 1);
                t.arm.push(a);
                t.path.push(u32::MAX);
                t.flags.push(0);
                t.outcomes[0].push(v);
                t.cluster.push(code);
            }
            code += 1;
        }
    }
    for (sides, p) in [
        (Sides::TwoSided, 0.072_317_291_458_631_25),
        (Sides::Greater, 0.036_158_645_729_315_625),
    ] {
        model.analyses = vec![Analysis {
            name: "primary".into(),
            outcomes: vec![0],
            treatment: 0,
            control: 1,
            test: TestKind::ClusterT,
            sides,
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
        }];
        let r = run_plan(&model, &t);
        let c = &r.analyses[0].contrasts[0];
        assert!(
            (c.statistic - 2.425_684_612_927_379_5).abs() < 1e-9,
            "{c:?}"
        );
        assert!((c.p_value - p).abs() < 1e-7, "{sides:?}: {}", c.p_value);
        assert!((c.difference - 0.433_333_333_333_333_35).abs() < 1e-12);
        assert!(
            (c.ci.0 - -0.062_661_160_691_350_8).abs() < 1e-6,
            "{:?}",
            c.ci
        );
        assert!(
            (c.ci.1 - 0.929_327_827_358_017_4).abs() < 1e-6,
            "{:?}",
            c.ci
        );
        assert_eq!(c.df, Some(4.0));
    }
    // Without the cluster column the clusters are unknown: no test, never a rejection.
    t.cluster.clear();
    let r = run_plan(&model, &t);
    let c = &r.analyses[0].contrasts[0];
    assert!(c.p_value.is_nan() && !c.reject, "{c:?}");
}

/// A simulated cluster trial written as CSV and loaded back runs the same cluster-level analysis
/// (the cluster codes travel in the `cluster` column).
#[test]
fn cluster_codes_survive_export_and_loading() {
    let mut model = load("specs/gallery/top-vrouwen.trial");
    model.sample = Some(vec![84, 84]);
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut w = sim.worker();
    sim.simulate(&mut w, &mut replicate_rng(3, 0, 0));
    assert_eq!(w.table.cluster.len(), w.table.len());
    let mut csv = Vec::new();
    trialsim::data::export::write_csv(&model, &w.table, &mut csv).expect("writes");
    let mapping = trialsim::data::export::default_mapping(&model);
    if let Some(c) = &mut model.delivery.clusters {
        c.data_column = Some(trialsim::data::export::CLUSTER_COLUMN.to_owned());
    }
    let loaded = trialsim::data::load(&model, &mapping, "export.csv", std::io::Cursor::new(csv))
        .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)));
    let direct = run_plan(&model, &w.table);
    let again = run_plan(&model, &loaded.table);
    let (a, b) = (
        &direct.analyses[0].contrasts[0],
        &again.analyses[0].contrasts[0],
    );
    assert!(a.p_value.is_finite());
    assert_eq!(a.p_value, b.p_value);
    assert_eq!(a.df, Some(6.0), "4 + 4 cohorts");
}

/// Under the null (both arms 20 %, cohorts of 21, ICC 0.05), the cluster-level test rejects at
/// its nominal 5 % and the naive participant-level z test about 2.4 times as often (design
/// effect 2: the z statistic's variance is doubled, 1 − Φ(1.645 / √2) ≈ 12.2 %).
fn cluster_null(clusters: u32, replicates: u64) -> (f64, f64) {
    let mut model = load("specs/gallery/top-vrouwen.trial");
    let top = arm(&model, "top");
    model.arms[top].paths[0].work.probability = 0.20;
    model.sample = Some(vec![21 * clusters; 2]);
    model.expectations.clear();
    let settings = PowerSettings {
        seed: 11,
        replicates,
        n_per_arm: None,
        scenario: 0,
    };
    let report = run_power(&model, &settings, &|_| {}).expect("simulates");
    let by = |name: &str| {
        report
            .analyses
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.power)
            .expect("analysis")
    };
    (by("primary"), by("naive"))
}

fn assert_cluster_size(clusters: u32, replicates: u64) {
    let (cluster_t, naive) = cluster_null(clusters, replicates);
    let se = (0.05 * 0.95 / replicates as f64).sqrt();
    assert!(
        (cluster_t - 0.05).abs() <= 3.0 * se,
        "cluster_t type-I error {cluster_t:.4} with {clusters} cohorts per arm, 3 MC SE {:.4}",
        3.0 * se
    );
    let expected_naive = 0.1224;
    let se_naive = (expected_naive * (1.0 - expected_naive) / replicates as f64).sqrt();
    assert!(
        naive > 0.05 + 3.0 * se_naive,
        "the naive z test should be anti-conservative: {naive:.4}"
    );
}

#[test]
fn cluster_t_keeps_its_size_where_the_naive_test_does_not() {
    assert_cluster_size(6, 2000);
}

/// The same with many replicates (`cargo test --release --test integration -- --ignored
/// cluster_size_validation`).
#[test]
#[ignore]
fn cluster_size_validation() {
    for k in [4, 6, 10] {
        assert_cluster_size(k, 40_000);
        let (c, n) = cluster_null(k, 40_000);
        println!("{k} cohorts per arm: cluster_t {c:.4}, naive pooled z {n:.4}");
    }
}

#[test]
fn fip_costs_follow_from_the_costs_block() {
    let model = load("specs/gallery/fip-sittard-geleen.trial");
    let settings = PowerSettings {
        seed: 5,
        replicates: 200,
        n_per_arm: None,
        scenario: 0,
    };
    let report = run_power(&model, &settings, &|_| {}).expect("simulates");
    let e = report.economics.expect("a costs block");
    // EUR 133,000 for 300 treated at EUR 14,000 per benefit-year [002:2757-2759; 002:2816].
    assert!((e.cost - 133_000.0).abs() < 1e-9);
    assert!((e.break_even_effect - 133_000.0 / (300.0 * 14_000.0)).abs() < 1e-12);
    assert!((e.extra_exits - 300.0 * e.effect).abs() < 1e-9);
    assert!(e.effect_interval.0 < e.effect && e.effect < e.effect_interval.1);
    // The report's 16 extra terminations: 133,000 / 16 per extra exit, within the interval.
    let reported = 133_000.0 / 16.0;
    let (lo, hi) = e.cost_per_extra_exit_interval;
    assert!(lo.is_some_and(|lo| lo <= reported), "{lo:?}");
    assert!(hi.is_none_or(|hi| hi >= reported), "{hi:?}");
}

/// The gallery page is generated; regenerating it with the settings printed on it must give
/// the same bytes.
#[test]
fn gallery_page_is_up_to_date() {
    let inputs: Vec<String> = [
        "specs/gallery",
        "specs/almere-45plus.trial",
        "specs/almere-45plus-flows.trial",
        "specs/almere-45plus-observed.trial",
    ]
    .map(String::from)
    .to_vec();
    let settings = GallerySettings {
        replicates: 300,
        ..GallerySettings::default()
    };
    let fresh = page(&inputs, Some("specs/gallery/README.md"), &settings).expect("page");
    let stored = std::fs::read_to_string("specs/gallery/README.md").unwrap_or_default();
    assert!(
        fresh == stored,
        "specs/gallery/README.md is stale; regenerate it with\n  {}",
        trialsim::gallery::command_line(&inputs, Some("specs/gallery/README.md"), &settings)
    );
}

#[test]
fn gallery_command_prints_a_page_and_check_flags_a_stale_one() {
    let out = run(trialsim().args([
        "gallery",
        "specs/gallery/fip-sittard-geleen.trial",
        "--reps",
        "20",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        out.stdout.contains("| FIP Sittard-Geleen (300 vs 300) |"),
        "{out}"
    );
    assert!(out.stdout.contains("--seed 2019 --reps 20"), "{out}");
    // A page that is not the generated one is stale.
    let stale = run(trialsim().args([
        "gallery",
        "specs/gallery/fip-sittard-geleen.trial",
        "--reps",
        "20",
        "--out",
        "specs/gallery/fip-sittard-geleen.trial",
        "--check",
    ]));
    assert_eq!(stale.status, Some(1), "{stale}");
    assert!(stale.stderr.contains("stale"), "{stale}");
    let bad = run(trialsim().args(["gallery", "specs/gallery", "--reps", "0"]));
    assert_eq!(bad.status, Some(2), "{bad}");
}

/// P(both arms of a fair-coin split of `pool` people reach `n`): nobody is lost before
/// randomisation, so one arm is Binomial(pool, 1/2) and the other the rest. Computed here from
/// log-factorials, apart from the crate.
fn parity_fill(pool: u64, n: u64) -> f64 {
    let ln_fact: Vec<f64> = (0..=pool)
        .scan(0.0, |acc, i| {
            if i > 0 {
                *acc += (i as f64).ln();
            }
            Some(*acc)
        })
        .collect();
    let ln_half = pool as f64 * 0.5_f64.ln();
    (n..=pool.saturating_sub(n))
        .map(|k| {
            (ln_fact[pool as usize] - ln_fact[k as usize] - ln_fact[(pool - k) as usize] + ln_half)
                .exp()
        })
        .sum()
}

/// A parity design with no losses before randomisation, `n` per arm and a pool of `pool`.
fn parity_spec(pool: u64, n: u32, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trialsim-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let text = format!(
        "trial \"pool verdict\" {{
  follow_up 12 months
  population {{
    pool {pool}
  }}
  assignment {{
    parity of bsn: even -> programme, odd -> control
  }}
  sample {n} per arm
  arm programme {{
    work within 12 months: 15%
  }}
  arm control {{
    work within 12 months: 10%
  }}
  outcome work_12m = worked within 12 months, hours >= 1
  analysis primary {{
    compare work_12m: programme vs control
    test pooled_z, one_sided greater, alpha 5%
  }}
}}
"
    );
    std::fs::write(&path, text).expect("spec written");
    path
}

/// `feasibility`, `check`, `power`, `report` and the gallery print one verdict on the pool, from
/// one computation. The pools are chosen so that other arithmetic gives another answer: they
/// hold more people than the arms need (so "pool >= candidates", or an expected number
/// randomised above the need, would say enough), yet a fair-coin split fills both arms only
/// with the probability computed here, below 80 %.
#[test]
fn every_command_gives_the_pool_verdict_of_one_computation() {
    use trialsim::design::feasibility::{PoolVerdict, feasibility, pool_answer};

    // At the spec's own sample: 200 per arm from a pool of 410.
    let spec = parity_spec(410, 200, "sample.trial");
    let file = spec.to_str().expect("utf-8 path").to_string();
    let filled = parity_fill(410, 200);
    assert!(filled > 0.3 && filled < 0.8, "{filled}");
    let verdict = format!("pool 410: too small, P(fill) {:.1} %", 100.0 * filled);
    let model = load(&file);
    let f = feasibility(&model, None, 0);
    assert_eq!(f.verdict, Some(PoolVerdict::TooSmall));
    assert!(
        (f.probability_filled.expect("a pool") - filled).abs() < 1e-9,
        "{:?} vs {filled}",
        f.probability_filled
    );
    let feas = run(trialsim().args(["feasibility", &file]));
    assert_eq!(feas.status, Some(1), "{feas}");
    let check = run(trialsim().args(["check", &file]));
    assert_eq!(check.status, Some(0), "{check}");
    let power = run(trialsim().args(["power", &file, "--reps", "20"]));
    let out = std::env::temp_dir().join(format!("trialsim-pool-report-{}", std::process::id()));
    let report = run(trialsim().args([
        "report",
        &file,
        "--reps",
        "20",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]));
    assert_eq!(report.status, Some(0), "{report}");
    let report_text = std::fs::read_dir(&out)
        .expect("report written")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    for (command, text) in [
        ("feasibility", &feas.stdout),
        ("check", &check.stdout),
        ("power", &power.stdout),
        ("report", &report_text),
    ] {
        assert!(
            text.contains(&verdict),
            "`{command}` does not say `{verdict}`:\n{text}"
        );
    }

    // In the gallery, at the size the trial needs: a pool of 2 x needed + 10.
    let settings = GallerySettings {
        replicates: 20,
        ..GallerySettings::default()
    };
    let needed = match trialsim::gallery::row(&file, &model, &settings)
        .expect("row")
        .needed
    {
        trialsim::gallery::Needed::PerArm { n, .. } => n,
        other => panic!("{other:?}"),
    };
    let pool = 2 * needed + 10;
    let spec = parity_spec(pool, 200, "gallery.trial");
    let file = spec.to_str().expect("utf-8 path").to_string();
    let model = load(&file);
    let row = trialsim::gallery::row(&file, &model, &settings).expect("row");
    assert_eq!(
        row.needed,
        trialsim::gallery::Needed::PerArm {
            n: needed,
            power: None
        }
    );
    let filled = parity_fill(pool, needed);
    assert!(filled < 0.8, "{filled}");
    let verdict = format!("pool {pool}: too small, P(fill) {:.1} %", 100.0 * filled);
    let needed = u32::try_from(needed).expect("small");
    let answer = pool_answer(&model, &[needed, needed]);
    assert_eq!(row.pool.as_ref(), Some(&answer));
    assert_eq!(
        feasibility(&model, Some(vec![needed, needed]), 0).verdict,
        Some(PoolVerdict::TooSmall)
    );
    let page = trialsim::gallery::markdown(&[row], &settings, "trialsim gallery");
    assert!(page.contains(&verdict), "{page}");
    let _ = std::fs::remove_dir_all(spec.parent().expect("a directory"));
    let _ = std::fs::remove_dir_all(&out);
}
