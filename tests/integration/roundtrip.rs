//! `simulate --export` writes one replicate in the shape `analyze` reads; analysing the export
//! gives the very estimates the engine's table gives.

use std::io::Cursor;

use trialsim::analysis::run_plan;
use trialsim::data;
use trialsim::report::analysis::round6;
use trialsim::sim::{SimOptions, Simulator, rng::replicate_rng};
use trialsim::source::SourceFile;

use crate::common::{run, trialsim};

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
            "--replicates",
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
            assert_eq!(
                got["difference"].as_f64(),
                Some(round6(contrast.difference)),
                "{a}/{c}"
            );
            assert_eq!(
                got["p_value"].as_f64(),
                Some(round6(contrast.p_value)),
                "{a}/{c}"
            );
            assert_eq!(got["reject"].as_bool(), Some(contrast.reject), "{a}/{c}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
