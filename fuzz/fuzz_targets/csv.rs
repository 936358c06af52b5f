//! Any bytes as the NSW example's participant CSV: the loader and the diagnostic renderer must
//! not panic; data that load are analysed.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use trialsim::check::compile;
use trialsim::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let spec = include_str!("../../examples/nsw/nsw.trial");
    let Ok(checked) = compile(&SourceFile::new("nsw.trial", spec)) else {
        return;
    };
    let model = checked.model;
    let Some(mapping) = model.data.as_ref() else {
        return;
    };
    match trialsim::data::load(&model, mapping, "fuzz.csv", Cursor::new(data)) {
        Ok(loaded) => {
            let _ = trialsim::analysis::run_plan(&model, &loaded.table);
        }
        // The diagnostic is drawn as the command line draws it.
        Err(e) => {
            let _ = trialsim::cli::diag::render(&e);
        }
    }
});
