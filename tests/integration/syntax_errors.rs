//! Several syntax errors in one run, and `check --format json` on a spec that does not check.

use crate::common::{run, trialsim};

#[test]
fn check_reports_every_syntax_error_as_json() {
    let out = run(trialsim()
        .args(["check", "--format", "json"])
        .arg("tests/errors/syntax_several_errors.trial"));
    assert_eq!(out.status, Some(1), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["file"], "tests/errors/syntax_several_errors.trial");
    assert_eq!(json["errors"], 3);
    let d = json["diagnostics"].as_array().expect("diagnostics");
    let messages: Vec<&str> = d.iter().filter_map(|d| d["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            "the block `path guided rest {` on line 5 is never closed",
            "`12,5` has a decimal comma",
            "`stratified by` is not how strata are written",
        ]
    );
    // The unclosed `{` is the primary label; where the next statement starts is the second.
    assert_eq!(d[0]["labels"][0]["line"], 5);
    assert_eq!(d[0]["labels"][0]["column"], 22);
    assert_eq!(d[0]["labels"][1]["line"], 9);
    assert_eq!(d[0]["code"], "trialsim::syntax");
    assert_eq!(d[0]["severity"], "error");
    assert!(d[1]["help"].as_str().is_some_and(|h| h.contains("`12.5`")));
}

#[test]
fn at_most_twenty_syntax_errors_are_reported() {
    let body = "  arm a { work within 12 months: 1,5% }\n".repeat(30);
    let text = format!("trial \"t\" {{\n{body}}}\n");
    let failed = trialsim::check::compile(&trialsim::source::SourceFile::new("t.trial", text))
        .expect_err("does not parse");
    assert_eq!(failed.error_count(), trialsim::syntax::MAX_ERRORS);
    assert!(
        failed
            .diagnostics
            .iter()
            .all(|d| d.message == "`1,5` has a decimal comma")
    );
}

#[test]
fn a_good_spec_still_prints_its_model_as_json() {
    let out = run(trialsim()
        .args(["check", "--format", "json"])
        .arg("specs/two-arm.trial"));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert!(json.get("arms").is_some(), "{}", out.stdout);
}
