//! `simulate --export` writes one replicate in the shape `analyze` reads; analysing the export
//! gives the very estimates the engine's table gives.

use std::io::Cursor;

use trialsim::analysis::run_plan;
use trialsim::data;
use trialsim::sim::{SimOptions, Simulator, rng::replicate_rng};
use trialsim::source::SourceFile;

use crate::common::{run, trialsim};

/// A JSON number equals the engine's within the tolerance `analyze --check` uses (the JSON holds
/// every float at full precision; the data's CSV round trip may move the last bits).
fn same(json: Option<f64>, engine: f64) -> bool {
    json.is_some_and(|x| {
        let d = (x - engine).abs();
        d <= trialsim::report::analysis::NUMBERS_EQUAL_ABS
            || d <= trialsim::report::analysis::NUMBERS_EQUAL_REL * x.abs().max(engine.abs())
    })
}

fn almere() -> trialsim::model::TrialModel {
    let path = format!("{}/specs/almere-45plus.trial", env!("CARGO_MANIFEST_DIR"));
    let source = SourceFile::read(path).expect("spec is readable");
    trialsim::check::compile(&source)
        .expect("the shipped spec checks")
        .model
}

#[test]
fn exported_replicate_reads_back_to_the_same_plan_result() {
    let model = almere();
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut worker = sim.worker();
    for replicate in 0..3 {
        sim.simulate(&mut worker, &mut replicate_rng(11, 0, replicate));
        let engine = run_plan(&model, &worker.table);
        let mut csv = Vec::new();
        data::export::write_csv(&model, &worker.table, &mut csv).expect("writes");
        let mapping = data::export::default_mapping(&model);
        let loaded =
            data::load(&model, &mapping, "export.csv", Cursor::new(csv)).expect("reads back");
        assert_eq!(loaded.table.len(), worker.table.len());
        assert_eq!(loaded.table.arm, worker.table.arm);
        assert_eq!(loaded.table.outcomes, worker.table.outcomes);
        let analysed = run_plan(&model, &loaded.table);
        assert_eq!(format!("{analysed:?}"), format!("{engine:?}"));
    }
}

#[test]
fn simulate_export_then_analyze_on_the_command_line() {
    let dir = std::env::temp_dir().join(format!("trialsim-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("replicate.csv");
    let out = run(trialsim()
        .args([
            "simulate",
            "specs/almere-45plus.trial",
            "--seed",
            "5",
            "--replicate",
            "2",
            "--export",
        ])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let out = run(trialsim()
        .args([
            "analyze",
            "specs/almere-45plus.trial",
            "--format",
            "json",
            "--reps",
            "0",
            "--data",
        ])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON report");

    let model = almere();
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut worker = sim.worker();
    sim.simulate(&mut worker, &mut replicate_rng(5, 0, 2));
    let engine = run_plan(&model, &worker.table);
    for (a, analysis) in engine.analyses.iter().enumerate() {
        for (c, contrast) in analysis.contrasts.iter().enumerate() {
            let got = &json["analyses"][a]["contrasts"][c];
            assert!(
                same(got["difference"].as_f64(), contrast.difference),
                "{a}/{c}: {} vs {}",
                got["difference"],
                contrast.difference
            );
            assert!(
                same(got["p_value"].as_f64(), contrast.p_value),
                "{a}/{c}: {} vs {}",
                got["p_value"],
                contrast.p_value
            );
            assert_eq!(got["reject"].as_bool(), Some(contrast.reject), "{a}/{c}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn almere_observed() -> trialsim::model::TrialModel {
    let path = format!(
        "{}/specs/almere-45plus-observed.trial",
        env!("CARGO_MANIFEST_DIR")
    );
    let source = SourceFile::read(path).expect("spec is readable");
    trialsim::check::compile(&source)
        .expect("the shipped spec checks")
        .model
}

/// The strong round trip: a replicate of the "observed" Almere spec exported in the shape of its
/// own data section (`;`, decimal commas, `E`/`C`, a route column, flow columns and monthly hours
/// 0..=18), read back with that mapping: the loader computes every employment measure from the
/// hours, and they must equal the engine's measures (read from the job spells) participant by
/// participant; so must the flags, and the plan's results.
#[test]
fn export_with_monthly_hours_reads_back_to_the_engine_measures() {
    let model = almere_observed();
    let mapping = model.data.clone().expect("the spec maps its data");
    assert!(mapping.monthly_hours.is_some());
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut worker = sim.worker();
    let mut plain = sim.worker();
    let mut hours = data::export::MonthlyHours::default();
    for replicate in 0..4 {
        sim.simulate_with_hours(&mut worker, &mut replicate_rng(3, 0, replicate), &mut hours);
        // Recording hours draws the very replicate `simulate` draws.
        sim.simulate(&mut plain, &mut replicate_rng(3, 0, replicate));
        // (Debug, so that missing values, NaN, compare equal.)
        assert_eq!(format!("{:?}", worker.table), format!("{:?}", plain.table));
        assert_eq!(worker.flows, plain.flows);
        assert_eq!(hours.months, 18);
        assert_eq!(hours.hours.len(), worker.table.len() * 19);

        let mut csv = Vec::new();
        data::export::write_mapped(&model, &mapping, &worker.table, Some(&hours), &mut csv)
            .expect("writes");
        // The export writes ages and wages to 0.01 and hours truncated to 0.1 h: the file holds
        // that table, and every employment measure (a threshold on the 0.1 h grid) is unchanged.
        let expected = data::export::at_export_precision(&model, &worker.table);
        let engine = run_plan(&model, &expected);
        let loaded =
            data::load(&model, &mapping, "export.csv", Cursor::new(csv)).expect("reads back");
        assert_eq!(loaded.excluded_total(), 0);
        // Every outcome but the mapped wage column is computed from the hours.
        assert_eq!(
            loaded.computed_outcomes.len() + mapping.outcomes.len(),
            model.outcomes.len()
        );
        let t = &loaded.table;
        assert_eq!(t.id, worker.table.id);
        assert_eq!(t.arm, worker.table.arm);
        assert_eq!(t.path, worker.table.path);
        assert_eq!(t.flags, worker.table.flags);
        for (o, outcome) in model.outcomes.iter().enumerate() {
            assert_eq!(
                format!("{:?}", t.outcomes[o]),
                format!("{:?}", expected.outcomes[o]),
                "outcome {} of replicate {replicate}",
                outcome.name
            );
        }
        for (v, _) in &mapping.covariates {
            assert_eq!(
                format!("{:?}", t.covariates[*v]),
                format!("{:?}", expected.covariates[*v])
            );
        }
        let analysed = run_plan(&model, t);
        assert_eq!(format!("{analysed:?}"), format!("{engine:?}"));
    }
}

#[test]
fn simulate_exports_the_spec_data_shape_with_hours_on_the_command_line() {
    let dir = std::env::temp_dir().join(format!("trialsim-export-hours-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("replicate.csv");
    let spec = "specs/almere-45plus-observed.trial";
    let out = run(trialsim()
        .args([
            "simulate",
            spec,
            "--seed",
            "9",
            "--replicate",
            "1",
            "--export",
        ])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let text = std::fs::read_to_string(&csv).expect("export written");
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("client_id;group;route;background;age;wage_m12;left_before_intake;exempt;joined_programme;benefit_end_other;hours_m0;"),
        "{header}"
    );
    assert!(header.ends_with(";hours_m18"), "{header}");
    let out = run(trialsim()
        .args(["analyze", spec, "--format", "json", "--reps", "0", "--data"])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON report");

    let model = almere_observed();
    let sim = Simulator::new(&model, SimOptions::default()).expect("simulates");
    let mut worker = sim.worker();
    sim.simulate(&mut worker, &mut replicate_rng(9, 0, 1));
    let engine = run_plan(
        &model,
        &data::export::at_export_precision(&model, &worker.table),
    );
    for (a, analysis) in engine.analyses.iter().enumerate() {
        for (c, contrast) in analysis.contrasts.iter().enumerate() {
            let got = &json["analyses"][a]["contrasts"][c];
            assert!(
                same(got["difference"].as_f64(), contrast.difference),
                "{a}/{c}: {} vs {}",
                got["difference"],
                contrast.difference
            );
            assert!(
                same(got["p_value"].as_f64(), contrast.p_value),
                "{a}/{c}: {} vs {}",
                got["p_value"],
                contrast.p_value
            );
        }
    }
    // `--model-columns` keeps the model-named shape (no hours); `--force` replaces the file.
    let out = run(trialsim()
        .args(["simulate", spec, "--model-columns", "--force", "--export"])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let text = std::fs::read_to_string(&csv).expect("export written");
    assert!(text.starts_with("id,arm,path,age,"), "{}", &text[..40]);
    assert!(!text.lines().next().unwrap_or_default().contains("hours_m"));
    let _ = std::fs::remove_dir_all(&dir);
}
