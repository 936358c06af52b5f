//! Any bytes as a spec: the checker and the diagnostic renderer must not panic; a spec that
//! checks is simulated for two small replicates and analysed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trialsim::check::compile;
use trialsim::cli::diag::render;
use trialsim::model::TrialModel;
use trialsim::power::{PowerSettings, run_power};
use trialsim::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    // Up to 128 KiB: lines past 65,536 columns once broke the renderer.
    if data.len() > 128 * 1024 {
        return;
    }
    // Read as a spec file is: bytes that are not UTF-8 are a located error, drawn like any other.
    let source = match SourceFile::from_bytes("fuzz.trial", data.to_vec()) {
        Ok(source) => source,
        Err(e) => {
            let _ = render(&e);
            return;
        }
    };
    let checked = match compile(&source) {
        Ok(checked) => checked,
        Err(e) => {
            // Every diagnostic is drawn as the command line draws it (any line length, any count).
            let _ = render(&e);
            return;
        }
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
