//! `missing lee_bounds` (docs/language.md, src/stats/lee.rs): `analyze` reports Lee bounds and
//! their Imbens–Manski interval beside each contrast, worked by hand here.

use crate::common;

const SPEC: &str = r#"
trial "Lee" {
  sample 10 per arm
  arm treatment { score ~ normal(mean 5, sd 2)  lost_to_follow_up 20% }
  arm control   { score ~ normal(mean 3, sd 2)  lost_to_follow_up 40% }
  outcome score = continuous
  analysis main {
    compare score: treatment vs control
    missing lee_bounds
  }
  data {
    id "id"
    arm "arm" { "treatment" -> treatment, "control" -> control }
    outcome score "score"
  }
}
"#;

/// The hand computation of `src/stats/lee.rs`: treatment 1..8 observed of 10 (q = 0.8),
/// control 2, 2, 3, 3, 4, 4 of 10 (q = 0.6, mean 3); p = 0.25 of the treated outcomes (two of
/// eight) trimmed: top → mean 3.5, bound 0.5; bottom → mean 5.5, bound 2.5.
#[test]
fn analyze_reports_lee_bounds_worked_by_hand() {
    let dir = std::env::temp_dir().join(format!("trialsim-lee-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let treated = ["1", "2", "3", "4", "5", "6", "7", "8", "", ""];
    let control = ["2", "2", "3", "3", "4", "4", "", "", "", ""];
    let mut csv = String::from("id,arm,score\n");
    for (i, v) in treated.iter().enumerate() {
        csv += &format!("{},treatment,{v}\n", i + 1);
    }
    for (i, v) in control.iter().enumerate() {
        csv += &format!("{},control,{v}\n", i + 11);
    }
    std::fs::write(dir.join("data.csv"), csv).expect("csv");
    std::fs::write(dir.join("lee.trial"), SPEC).expect("spec");
    let run = |format: &str| {
        common::run(
            common::trialsim()
                .arg("analyze")
                .arg(dir.join("lee.trial"))
                .arg("--data")
                .arg(dir.join("data.csv"))
                .args(["--replicates", "0", "--format", format]),
        )
    };
    let json = run("json");
    assert_eq!(json.status, Some(0), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let b = &v["analyses"][0]["contrasts"][0]["lee_bounds"];
    assert_eq!(b["trimmed_arm"], "treatment");
    let num = |k: &str| b[k].as_f64().expect(k);
    assert!((num("trimmed_share") - 0.25).abs() < 1e-6);
    assert!((num("lower") - 0.5).abs() < 1e-6, "{b}");
    assert!((num("upper") - 2.5).abs() < 1e-6, "{b}");
    let ci = b["ci"].as_array().expect("ci");
    assert!(ci[0].as_f64().expect("lo") < 0.5 && ci[1].as_f64().expect("hi") > 2.5);
    let text = run("text");
    assert!(
        text.stdout.contains("Lee bounds of score (always-observed; observed 80.0% vs 60.0%, 25.0% of the treatment arm's observed trimmed, ties fractionally): [0.50, 2.50]"),
        "{text}"
    );
    assert!(
        text.stdout
            .contains("complete cases, with Lee bounds as the sensitivity analysis"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
