//! Any bytes as a spec: the checker must not panic; a spec that checks is simulated for two
//! small replicates and analysed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trialsim::check::compile;
use trialsim::model::TrialModel;
use trialsim::power::{PowerSettings, run_power};
use trialsim::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let Ok(checked) = compile(&SourceFile::new("fuzz.trial", text.as_ref())) else {
        return;
    };
    let model = TrialModel {
        expectations: Vec::new(),
        ..checked.model
    };
    let settings = PowerSettings {
        seed: 1,
        replicates: 2,
        n_per_arm: Some(5),
        scenario: 0,
    };
    let _ = run_power(&model, &settings, &|_| {});
});
