//! The one integration-test binary. Each area is a module; `no_forgotten_test_files` makes sure
//! every file in this folder is compiled.

mod adjusted;
mod analysis;
mod analyze_cli;
mod balance;
mod bins;
mod commands;
mod common;
mod complier;
mod data;
mod design;
mod determinism;
mod editors;
mod engine;
mod examples;
mod fmt;
mod fuzz;
mod gallery;
mod hardening;
mod imbalance;
mod ipw;
mod language;
mod language_fuzz;
mod layers;
mod lee;
mod limits;
mod lsp;
mod missing;
mod params;
mod plan_language;
mod randomisation;
mod reach;
mod roundtrip;
mod search;
mod sequential;
mod shard;
mod silent;
mod stats;
mod svg;
mod syntax_errors;
mod validation;

#[test]
fn no_forgotten_test_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("main.rs is readable");
    for entry in std::fs::read_dir(&dir).expect("tests/integration is readable") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if stem != "main" {
                assert!(
                    main.contains(&format!("mod {stem};")),
                    "tests/integration/{stem}.rs is not declared in main.rs"
                );
            }
        }
    }
}

#[test]
fn version_flag_prints_the_crate_version() {
    let output = common::run(common::trialsim().arg("--version"));
    assert_eq!(output.status, Some(0), "{output}");
    assert_eq!(
        output.stdout.trim(),
        format!("trialsim {}", env!("CARGO_PKG_VERSION"))
    );
}
