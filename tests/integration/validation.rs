//! The statistical validation suite (`trialsim validate`, see `src/validate/`). It simulates
//! 26 designs, so it runs in the long suite:
//!
//! ```text
//! cargo test --release --test integration validation -- --ignored --nocapture
//! ```

use crate::common::{run, trialsim};
use trialsim::validate::{Settings, run as validate, text};

#[test]
#[ignore = "minutes: cargo test --release --test integration validation -- --ignored"]
fn full_validation_passes() {
    let summary = validate(Settings::FULL, &|_| {}).expect("runs");
    let table = text(&summary);
    println!("{table}");
    assert!(summary.designs.len() >= 20);
    assert!(summary.passed, "{table}");
}

#[test]
#[ignore = "a minute: cargo test --release --test integration validation -- --ignored"]
fn validate_command_is_deterministic_and_exits_0() {
    let json = |threads: &str| {
        let out = run(trialsim()
            .args(["validate", "--quick", "--quiet", "--format", "json"])
            .args(["--threads", threads]));
        assert_eq!(out.status, Some(0), "{out}");
        out.stdout
    };
    let one = json("1");
    assert!(one.contains("\"passed\": true"));
    assert_eq!(one, json("2"));
    assert_eq!(one, json("7"));
}
