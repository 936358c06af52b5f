//! `trialsim analyze` end to end: the committed example reports are what the command prints,
//! `--check` passes on an unchanged report and fails with a readable diff on a changed one.

use crate::common::{run, trialsim};

fn committed_report_is_current(spec: &str, dir: &str) {
    {
        let data = format!("{dir}/data.csv");
        let out = run(trialsim().args(["analyze", spec, "--data", &data, "--format", "markdown"]));
        assert_eq!(out.status, Some(0), "{out}");
        let committed =
            std::fs::read_to_string(format!("{}/{dir}/report.md", env!("CARGO_MANIFEST_DIR")))
                .expect("report.md is committed");
        assert_eq!(
            out.stdout, committed,
            "{dir}/report.md is stale: regenerate it"
        );
        let check = run(trialsim().args([
            "analyze",
            spec,
            "--data",
            &data,
            "--check",
            &format!("{dir}/report.json"),
        ]));
        assert_eq!(check.status, Some(0), "{check}");
    }
}

#[test]
fn committed_nsw_report_is_current() {
    committed_report_is_current("examples/nsw/nsw.trial", "examples/nsw");
}

/// The synthetic Almere example: `data.csv` is exactly what `simulate --seed 2017 --fixed-sizes`
/// writes today (the arms as randomised in Almere, 203 / 199), and its committed reports are
/// current.
#[test]
fn committed_almere_synthetic_example_is_current() {
    let dir = std::env::temp_dir().join(format!("trialsim-almere-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("data.csv");
    let spec = "specs/almere-45plus-observed.trial";
    let out = run(trialsim()
        .args([
            "simulate",
            spec,
            "--seed",
            "2017",
            "--fixed-sizes",
            "--export",
        ])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    let fresh = std::fs::read(&csv).expect("export written");
    let committed = std::fs::read(format!(
        "{}/examples/almere-synthetic/data.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("data.csv is committed");
    assert!(
        fresh == committed,
        "examples/almere-synthetic/data.csv is stale: regenerate it (see its README)"
    );
    let _ = std::fs::remove_dir_all(&dir);
    committed_report_is_current(spec, "examples/almere-synthetic");
}

/// Slow in a debug build (the power re-simulation of 4,870 résumés): `cargo test -- --ignored`.
#[test]
#[ignore]
fn committed_resume_names_report_is_current() {
    committed_report_is_current(
        "examples/resume-names/resume-names.trial",
        "examples/resume-names",
    );
}

#[test]
fn nsw_text_report() {
    let out = run(trialsim().args([
        "analyze",
        "examples/nsw/nsw.trial",
        "--data",
        "examples/nsw/data.csv",
    ]));
    insta::assert_snapshot!(out.to_string());
}

#[test]
fn json_output_is_byte_deterministic() {
    let args = [
        "analyze",
        "examples/nsw/nsw.trial",
        "--data",
        "examples/nsw/data.csv",
        "--format",
        "json",
    ];
    let a = run(trialsim().args(args));
    let b = run(trialsim().args(args));
    assert_eq!(a.status, Some(0), "{a}");
    assert_eq!(a.stdout, b.stdout);
    let committed = std::fs::read_to_string(format!(
        "{}/examples/nsw/report.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("report.json is committed");
    assert_eq!(a.stdout, committed);
}

#[test]
fn check_fails_with_a_diff_when_the_report_changed() {
    let dir = std::env::temp_dir().join(format!("trialsim-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let committed = std::fs::read_to_string(format!(
        "{}/examples/nsw/report.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("report.json is committed");
    let mut old: serde_json::Value = serde_json::from_str(&committed).expect("valid JSON");
    // Pretend the committed report had another estimate, p-value and decision.
    let c = &mut old["analyses"][0]["contrasts"][0];
    c["difference"] = serde_json::json!(0.05);
    c["p_value"] = serde_json::json!(0.2);
    c["reject"] = serde_json::json!(false);
    let path = dir.join("old.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&old).expect("serialises"),
    )
    .expect("write");
    let out = run(trialsim()
        .args([
            "analyze",
            "examples/nsw/nsw.trial",
            "--data",
            "examples/nsw/data.csv",
            "--format",
            "json",
            "--check",
        ])
        .arg(&path));
    assert_eq!(out.status, Some(1), "{out}");
    let stderr = out.stderr.replace(&path.display().to_string(), "OLD.json");
    insta::assert_snapshot!(stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_data_gives_a_located_diagnostic_and_exit_1() {
    let dir = std::env::temp_dir().join(format!("trialsim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = std::fs::read_to_string(format!(
        "{}/examples/nsw/data.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("data");
    let bad = good.replacen("\n3,treatment,", "\n3,treated,", 1);
    let path = dir.join("nsw-bad.csv");
    std::fs::write(&path, bad).expect("write");
    let out = run(trialsim().current_dir(&dir).args([
        "analyze",
        &format!("{}/examples/nsw/nsw.trial", env!("CARGO_MANIFEST_DIR")),
        "--data",
        "nsw-bad.csv",
    ]));
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cluster-randomised design's cluster with participants in two arms (participant 14, a man
/// of cluster 1, a `sessions` cluster, written as `control`): the data contradict the design, so
/// each cluster-level test (cluster_t, the randomisation test) whose participants include both
/// arms of that cluster has no units and is undefined, and says why; one whose participants do
/// not (the women's subgroup; the outcome missing for participant 14) is computed as usual; the
/// audit contradicts the design; CR2 (clusters for the standard errors only) is computed as
/// estimatr computes it.
#[test]
fn a_cluster_in_two_arms_leaves_the_cluster_level_test_undefined() {
    let dir = std::env::temp_dir().join(format!("trialsim-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let root = env!("CARGO_MANIFEST_DIR");
    let spec =
        std::fs::read_to_string(format!("{root}/tests/reference/clustered.trial")).expect("spec");
    let spec = spec.replacen(
        "  data {",
        "  analysis cluster_by_gender {
    compare score: sessions vs control within gender
    test cluster_t, two_sided, alpha 5%
  }

  analysis permutation {
    compare score, employed: sessions vs control
    test randomisation, two_sided, alpha 5%
    missing complete_cases
  }

  data {",
        1,
    );
    std::fs::write(dir.join("clustered.trial"), spec).expect("spec");
    let good =
        std::fs::read_to_string(format!("{root}/tests/reference/clustered.csv")).expect("data");
    let row = "\n14,sessions,41.230358084219844,male,0,44.651081168732055,1\n";
    assert!(good.contains(row));
    let moved = row.replacen("sessions", "control", 1);
    std::fs::write(dir.join("mixed.csv"), good.replacen(row, &moved, 1)).expect("write");
    let unscored = moved.replacen(",44.651081168732055,", ",,", 1);
    std::fs::write(dir.join("unscored.csv"), good.replacen(row, &unscored, 1)).expect("write");
    let analyze = |data: &str, format: &str| {
        run(trialsim().current_dir(&dir).args([
            "analyze",
            "clustered.trial",
            "--data",
            data,
            "--reps",
            "0",
            "--format",
            format,
        ]))
    };
    let json = |data: &str| -> serde_json::Value {
        let out = analyze(data, "json");
        assert_eq!(out.status, Some(0), "{out}");
        serde_json::from_str(&out.stdout).expect("JSON")
    };
    let contrast = |v: &serde_json::Value, name: &str, k: usize| {
        v["analyses"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .unwrap_or_else(|| panic!("no analysis {name}"))["contrasts"][k]
            .clone()
    };
    let undefined = |c: &serde_json::Value| {
        assert_eq!(
            c["clusters_in_two_arms"],
            serde_json::json!({"mixed": 1, "clusters": 10}),
            "{c}"
        );
        assert!(c["p_value"].is_null() && c["reject"] == false, "{c}");
        assert!(
            c.get("randomisation").is_none() && c.get("student").is_none(),
            "{c}"
        );
    };
    let defined = |c: &serde_json::Value| {
        assert!(c.get("clusters_in_two_arms").is_none(), "{c}");
        assert!(c["p_value"].as_f64().is_some(), "{c}");
    };

    let out = analyze("mixed.csv", "text");
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        out.stdout.contains(
            "score [gender=male]: UNDEFINED: 1 of its 10 clusters holds participants of both arms"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("[gender=female]: UNDEFINED"), "{out}");
    let v = json("mixed.csv");
    undefined(&contrast(&v, "cluster_level", 0));
    defined(&contrast(&v, "cluster_by_gender", 0)); // women: cluster 1's man is not among them
    undefined(&contrast(&v, "cluster_by_gender", 1));
    undefined(&contrast(&v, "permutation", 0));
    undefined(&contrast(&v, "permutation", 1));
    // estimatr `lm_robust(score ~ treat, clusters = group)` on the same table
    // (tests/reference/regression.R, "group 1 in both arms").
    let c = contrast(&v, "cr2_plain", 0);
    defined(&c);
    for (key, got, want) in [
        ("difference", &c["difference"], 7.351_319_647_172_306),
        ("se", &c["regression"]["se"], 1.9116664814874544),
        ("df", &c["regression"]["df"], 8.044444608925355),
        ("p", &c["p_value"], 0.004_857_521_059_628_646),
        ("ci low", &c["ci"][0], 2.9472446235057026),
    ] {
        let got = got.as_f64().unwrap_or(f64::NAN);
        assert!(((got - want) / want).abs() < 1e-8, "{key}: {got} vs {want}");
    }
    let audit = v["audit"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["kind"] == "clusters"))
        .expect("a clusters item");
    assert_eq!(audit["status"], "contradicted", "{audit}");
    assert_eq!(audit["observed"], 1.0, "{audit}");

    // Participant 14 without a score: the score tests have whole clusters, `employed` does not.
    let v = json("unscored.csv");
    defined(&contrast(&v, "cluster_level", 0));
    defined(&contrast(&v, "permutation", 0));
    undefined(&contrast(&v, "permutation", 1));

    // The file as it was: every cluster in one arm, every test defined, the audit consistent.
    let v = json(&format!("{root}/tests/reference/clustered.csv"));
    defined(&contrast(&v, "cluster_level", 0));
    defined(&contrast(&v, "cluster_by_gender", 1));
    defined(&contrast(&v, "permutation", 1));
    assert!(v["audit"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x["kind"] == "clusters" && x["status"] == "consistent")
    }));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Almere "observed" spec reads a Dutch export: `;`, decimal commas, CRLF, a BOM, monthly
/// hours from which the employment measures are computed, and a sub-path column.
#[test]
fn dutch_export_with_monthly_hours() {
    let mut csv = String::from(
        "\u{feff}client_id;group;background;age;route;left_before_intake;exempt;joined_programme;benefit_end_other",
    );
    for m in 0..=18 {
        csv.push_str(&format!(";hours_m{m}"));
    }
    csv.push_str(";wage_m12\r\n");
    let backgrounds = ["dutch", "non_western", "western"];
    for i in 1..=40u32 {
        let experiment = i % 2 == 0;
        let route = match (experiment, i % 8 == 0) {
            (true, true) => "team_zorg",
            (true, false) => "guided",
            (false, _) => "control",
        };
        let start = (i * 7) % 31 + 1; // first month in work, often beyond follow-up
        csv.push_str(&format!(
            "{i};{};{};{},{};{route};{};{};{};{}",
            if experiment { "E" } else { "C" },
            backgrounds[(i % 3) as usize],
            45 + i % 18,
            i % 10,
            u32::from(i % 13 == 0),
            if i % 11 == 0 { "NA" } else { "0" },
            if i % 9 == 0 { "true" } else { "false" },
            u32::from(i % 7 == 0),
        ));
        for m in 0..=18 {
            if m >= start {
                csv.push_str(&format!(";{},5", 8 + (i * m) % 150));
            } else {
                csv.push_str(";0");
            }
        }
        // Hourly wage in month 12: empty when not in work then.
        if start <= 12 {
            csv.push_str(&format!(";{},25\r\n", 10 + i % 7));
        } else {
            csv.push_str(";\r\n");
        }
    }
    let dir = std::env::temp_dir().join(format!("trialsim-dutch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("clients.csv"), csv).expect("write");
    let spec = format!(
        "{}/specs/almere-45plus-observed.trial",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = run(trialsim().current_dir(&dir).args([
        "analyze",
        &spec,
        "--data",
        "clients.csv",
        "--reps",
        "0",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let text = out
        .to_string()
        .replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]");
    insta::assert_snapshot!(text);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Too many replicates is a usage error naming `--reps`, the flag every simulating command
/// shares (the old `--replicates` is still accepted as an alias).
#[test]
fn too_many_replicates_is_a_usage_error() {
    for flag in ["--reps", "--replicates"] {
        let out = run(trialsim().args([
            "analyze",
            "examples/nsw/nsw.trial",
            "--data",
            "examples/nsw/data.csv",
            flag,
            "100000000000",
        ]));
        assert_eq!(out.status, Some(2), "{out}");
        assert!(out.stderr.contains("--reps must be between 0 and"), "{out}");
    }
}

/// A snapshot identifies its inputs by content: `--check` passes from another working directory
/// with the data path typed differently, and on a byte-identical copy of the data elsewhere; it
/// fails when the data's content changes, and says so by its hash.
#[test]
fn check_passes_from_anywhere_on_identical_data_and_fails_on_changed_data() {
    let root = env!("CARGO_MANIFEST_DIR");
    let nsw = format!("{root}/examples/nsw");
    let from_example_dir = run(trialsim().current_dir(&nsw).args([
        "analyze",
        "nsw.trial",
        "--data",
        "./data.csv",
        "--replicates",
        "1000",
        "--check",
        "report.json",
    ]));
    assert_eq!(from_example_dir.status, Some(0), "{from_example_dir}");

    let dir = std::env::temp_dir().join(format!("trialsim-copy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = std::fs::read_to_string(format!("{nsw}/data.csv")).expect("data");
    let copy = dir.join("nsw-copy.csv");
    std::fs::write(&copy, &data).expect("write");
    let check = |csv: &std::path::Path| {
        run(trialsim()
            .current_dir(&dir)
            .args(["analyze", &format!("{nsw}/nsw.trial"), "--data"])
            .arg(csv)
            .args(["--check", &format!("{nsw}/report.json")]))
    };
    let on_copy = check(&copy);
    assert_eq!(on_copy.status, Some(0), "{on_copy}");

    // A comment and a blank line added to the spec change its bytes, not its model.
    let spec = std::fs::read_to_string(format!("{nsw}/nsw.trial")).expect("spec");
    let edited = dir.join("nsw-commented.trial");
    std::fs::write(&edited, format!("# a comment added in review\n\n{spec}")).expect("write");
    let commented = run(trialsim()
        .current_dir(&dir)
        .arg("analyze")
        .arg(&edited)
        .arg("--data")
        .arg(&copy)
        .args(["--check", &format!("{nsw}/report.json")]));
    assert_eq!(commented.status, Some(0), "{commented}");

    // One participant's age changed: the data hash and the balance table differ.
    let changed = data.replacen("\n1,treatment,37,", "\n1,treatment,38,", 1);
    assert_ne!(changed, data, "the edit must change the data");
    std::fs::write(&copy, changed).expect("write");
    let on_changed = check(&copy);
    assert_eq!(on_changed.status, Some(1), "{on_changed}");
    assert!(
        on_changed.stderr.contains("inputs.data_sha256"),
        "{on_changed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--format json` on a bad CSV prints the diagnostics as the JSON error document on stdout.
#[test]
fn bad_data_with_format_json_prints_json_diagnostics() {
    let dir = std::env::temp_dir().join(format!("trialsim-badjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = std::fs::read_to_string(format!(
        "{}/examples/nsw/data.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("data");
    let bad = good.replacen("\n3,treatment,", "\n3,treated,", 1);
    std::fs::write(dir.join("nsw-bad.csv"), bad).expect("write");
    let out = run(trialsim().current_dir(&dir).args([
        "analyze",
        &format!("{}/examples/nsw/nsw.trial", env!("CARGO_MANIFEST_DIR")),
        "--data",
        "nsw-bad.csv",
        "--format",
        "json",
    ]));
    assert_eq!(out.status, Some(1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["schema"], "trialsim.diagnostics/1");
    insta::assert_snapshot!(out.to_string());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The audit table stays within 100 characters: long notes go under the table as `[k]`, and a
/// long assumption wraps onto a continuation line.
#[test]
fn audit_table_and_notes_fit_in_100_columns() {
    let out = run(trialsim().args([
        "analyze",
        "specs/almere-45plus-observed.trial",
        "--data",
        "examples/almere-synthetic/data.csv",
        "--replicates",
        "0",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let audit = out
        .stdout
        .split("Assumption audit")
        .nth(1)
        .expect("an audit section");
    assert!(audit.contains("ok [1]"), "{audit}");
    assert!(audit.contains("\n  [1] planned:"), "{audit}");
    for line in audit.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} chars: {line}",
            line.chars().count()
        );
    }
}
