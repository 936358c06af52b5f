//! Subgroups within bins of a numeric covariate: `compare re78: treatment vs control within educ
//! bins [0, 9, 12, 16, 99)`, in `check`, on data (`analyze`) and in simulation (`power`).

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use trialsim::check::{self, CheckFailed, Checked};
use trialsim::model::{Distribution, TrialModel};
use trialsim::source::SourceFile;

use crate::common::{run, trialsim};

fn compile(text: &str) -> Result<Checked, CheckFailed> {
    check::compile(&SourceFile::new("inline.trial", text))
}

fn model(text: &str) -> TrialModel {
    match compile(text) {
        Ok(c) => c.model,
        Err(e) => panic!("expected the spec to check: {e:?}"),
    }
}

/// The NSW example's population and arms, with `analyses` and a data block mapping `mapped`.
fn nsw(analyses: &str, mapped: &[&str]) -> String {
    let covariates: String = mapped
        .iter()
        .map(|v| format!("    covariate {v} \"{v}\"\n"))
        .collect();
    format!(
        r#"trial "NSW by schooling" {{
  population {{
    age ~ normal(mean 25, sd 7)
    educ ~ normal(mean 10, sd 2)
    ethnicity ~ categorical {{ black: 80%, hispanic: 10%, other: 10% }}
  }}
  assignment {{
    randomise 2:3
  }}
  arm treatment {{
    re78 ~ normal(mean 6000, sd 7000)
  }}
  arm control {{
    re78 ~ normal(mean 4500, sd 5500)
  }}
  outcome re78 = continuous
{analyses}
  data {{
    id "id"
    arm "arm" {{ "treatment" -> treatment, "control" -> control }}
{covariates}    outcome re78 "re78"
  }}
}}
"#
    )
}

const BY_SCHOOL: &str = "  analysis by_school {
    compare re78: treatment vs control within educ bins [0, 9, 12, 16, 99)
    test welch_t, two_sided, alpha 5%
  }";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Φ, by the Abramowitz–Stegun 7.1.26 erf (|error| < 1.5e-7), independent of the crate's own.
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

#[test]
fn bins_lower_to_a_derived_categorical_variable() {
    let m = model(&nsw(
        &format!(
            "{BY_SCHOOL}
  analysis again {{
    compare re78: treatment vs control within educ bins [0, 9, 12, 16, 99)
  }}
  analysis coarse {{
    compare re78: treatment vs control within educ bins [0, 12, 99)
  }}"
        ),
        &["educ"],
    ));
    let vars = &m.population.variables;
    // The three declared variables, then one derived variable per distinct binning: two
    // analyses binning `educ` the same way share one.
    assert_eq!(vars.len(), 5, "{vars:#?}");
    let educ = vars.iter().position(|v| v.name == "educ").expect("educ");
    let fine = &vars[3];
    assert_eq!(fine.name, "educ bins [0, 9, 12, 16, 99)");
    assert_eq!(fine.binned_from(), Some(educ));
    let Distribution::Binned {
        source,
        edges,
        levels,
    } = &fine.distribution
    else {
        panic!("not binned: {fine:?}");
    };
    assert_eq!(*source, educ);
    assert_eq!(edges, &[0.0, 9.0, 12.0, 16.0, 99.0]);
    let names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["[0, 9)", "[9, 12)", "[12, 16)", "[16, 99)"]);
    // Probabilities from educ ~ normal(10, 2): Φ((b − 10)/2) − Φ((a − 10)/2).
    for (l, w) in levels.iter().zip(edges.windows(2)) {
        let expected = phi((w[1] - 10.0) / 2.0) - phi((w[0] - 10.0) / 2.0);
        assert!(
            (l.probability - expected).abs() < 1e-6,
            "{}: {} vs {expected}",
            l.name,
            l.probability
        );
    }
    assert_eq!(vars[4].name, "educ bins [0, 12, 99)");
    assert_eq!(vars[4].levels().map(<[_]>::len), Some(2));
    let a = |name: &str| m.analyses.iter().find(|a| a.name == name).expect(name);
    assert_eq!(a("by_school").within, Some(3));
    assert_eq!(a("by_school").levels, [0, 1, 2, 3]);
    assert_eq!(a("again").within, Some(3));
    assert_eq!(a("coarse").within, Some(4));
    assert_eq!(a("coarse").levels, [0, 1]);

    // `check` shows the binning in the analysis, not as a population variable of its own.
    let path = temp("bins-check.trial");
    std::fs::write(&path, nsw(BY_SCHOOL, &["educ"])).expect("writes the spec");
    let out = run(trialsim().arg("check").arg(&path));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        out.stdout
            .contains("correction none, within educ bins [0, 9, 12, 16, 99)\n"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("educ bins [0, 9, 12, 16, 99) ~"),
        "{out}"
    );
}

/// The error's code and the source text under its first label.
fn error(text: &str) -> (String, String, String) {
    let e = match compile(text) {
        Ok(_) => panic!("expected an error in\n{text}"),
        Err(e) => e,
    };
    let d = e.diagnostics.first().expect("one diagnostic");
    let label = d
        .labels()
        .and_then(|mut l| l.next())
        .expect("the diagnostic has a label");
    let at = &text[label.offset()..label.offset() + label.len()];
    let help = d.help().map(|h| h.to_string()).unwrap_or_default();
    (d.code_str().to_owned(), at.to_owned(), help)
}

#[test]
fn bad_bins_are_diagnosed_with_spans() {
    let within = |clause: &str| {
        nsw(
            &format!(
                "  analysis a {{\n    compare re78: treatment vs control within {clause}\n  }}"
            ),
            &["educ"],
        )
    };
    // A categorical variable: its levels are its subgroups.
    let (code, at, help) = error(&within("ethnicity bins [0, 1, 2)"));
    assert_eq!(code, "trialsim::check::invalid_value");
    assert_eq!(at, "ethnicity");
    assert!(help.contains("numeric"), "{help}");
    // Edges that do not increase: the label is on the first edge out of order.
    let (code, at, help) = error(&within("educ bins [0, 12, 9, 99)"));
    assert_eq!(code, "trialsim::check::invalid_value");
    assert_eq!(at, "9");
    assert!(help.contains("increasing"), "{help}");
    let (_, at, _) = error(&within("educ bins [0, 9, 9, 99)"));
    assert_eq!(at, "9");
    // A variable the population does not declare.
    let (code, at, help) = error(&within("school bins [0, 9, 99)"));
    assert_eq!(code, "trialsim::check::unknown_variable");
    assert_eq!(at, "school");
    assert!(!help.is_empty());
    // Levels and bins together do not parse.
    assert!(compile(&within("educ bins [0, 9) {a}")).is_err());
    // One edge is not a bin.
    assert!(compile(&within("educ bins [0)")).is_err());
}

/// The NSW spec with `eligibility` inserted after the population.
fn nsw_eligible(eligibility: &str, analyses: &str) -> String {
    nsw(analyses, &["educ", "ethnicity"]).replacen(
        "  assignment {",
        &format!("  eligibility {{\n{eligibility}\n  }}\n  assignment {{"),
        1,
    )
}

#[test]
fn eligibility_weighs_the_bins_and_empty_subgroups_are_warned_about() {
    let checked = match compile(&nsw_eligible(
        "    educ >= 10\n    educ < 15\n    ethnicity in {black, hispanic}",
        &format!(
            "{BY_SCHOOL}
  analysis by_ethnicity {{
    compare re78: treatment vs control within ethnicity
  }}"
        ),
    )) {
        Ok(c) => c,
        Err(e) => panic!("expected the spec to check: {e:?}"),
    };
    let m = &checked.model;
    let binned = m
        .population
        .variables
        .iter()
        .find(|v| v.binned_from().is_some())
        .expect("the derived variable");
    // educ ~ normal(10, 2) admitted on [10, 15): bin [9, 12) keeps [10, 12), bin [12, 16)
    // keeps [12, 15), and [0, 9) and [16, 99) keep nothing.
    let probabilities: Vec<f64> = binned
        .levels()
        .expect("levels")
        .iter()
        .map(|l| l.probability)
        .collect();
    let expected = [0.0, phi(1.0) - phi(0.0), phi(2.5) - phi(1.0), 0.0];
    for (got, want) in probabilities.iter().zip(expected) {
        assert!(
            (got - want).abs() < 1e-6,
            "{probabilities:?} vs {expected:?}"
        );
    }
    // One warning per analysis, naming what is empty, at the clause that asks for it.
    let text = nsw_eligible(
        "    educ >= 10\n    educ < 15\n    ethnicity in {black, hispanic}",
        &format!(
            "{BY_SCHOOL}
  analysis by_ethnicity {{
    compare re78: treatment vs control within ethnicity
  }}"
        ),
    );
    let warnings: Vec<(String, String, String)> = checked
        .warnings
        .iter()
        .filter(|w| w.code_str() == "trialsim::check::impossible_eligibility")
        .map(|w| {
            let label = w.labels().and_then(|mut l| l.next()).expect("a label");
            (
                w.to_string(),
                text[label.offset()..label.offset() + label.len()].to_owned(),
                w.help().map(|h| h.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0]
            .0
            .starts_with("no eligible participant falls in bins [0, 9), [16, 99) of `educ`"),
        "{warnings:#?}"
    );
    assert_eq!(warnings[0].1, "bins [0, 9, 12, 16, 99)");
    assert!(warnings[0].2.contains("`educ`"), "{warnings:#?}");
    assert!(
        warnings[1]
            .0
            .starts_with("no eligible participant has level other of `ethnicity`"),
        "{warnings:#?}"
    );
    assert_eq!(warnings[1].1, "ethnicity");

    // Without eligibility the bins are the population's, and nothing is warned about.
    let plain = compile(&nsw(BY_SCHOOL, &["educ"])).expect("checks");
    assert!(
        plain
            .warnings
            .iter()
            .all(|w| w.code_str() != "trialsim::check::impossible_eligibility"),
        "{:?}",
        plain.warnings
    );
}

#[test]
fn subgroup_labels_name_the_source_and_the_bin() {
    let path = temp("bins-labels.trial");
    std::fs::write(&path, nsw(BY_SCHOOL, &["educ"])).expect("writes the spec");
    let out = run(trialsim().arg("analyze").arg(&path).args([
        "--data",
        "examples/nsw/data.csv",
        "--reps",
        "20",
        "--quiet",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    for bin in ["[0, 9)", "[9, 12)", "[12, 16)", "[16, 99)"] {
        assert!(
            out.stdout.contains(&format!("  re78 [educ in {bin}]  ")),
            "{bin}\n{out}"
        );
    }
    assert!(!out.stdout.contains("99)=["), "{out}");
    // The bin [16, 99) holds one treated man and no control: Student's t is said to be
    // undefined rather than printed on −1 df.
    assert!(
        out.stdout.contains(
            "re78 [educ in [16, 99)]: Student t not defined (an arm has fewer than 2 participants)"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("-1 df"), "{out}");
}

/// `examples/nsw/data.csv`: (arm, educ, re78) per row, read by hand.
fn nsw_rows() -> Vec<(String, f64, f64)> {
    let text = std::fs::read_to_string(root().join("examples/nsw/data.csv")).expect("data");
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).expect(name);
    let (arm, educ, re78) = (col("arm"), col("educ"), col("re78"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[arm].to_owned(),
                f[educ].parse().expect("educ is a number"),
                f[re78].parse().expect("re78 is a number"),
            )
        })
        .collect()
}

fn load(m: &TrialModel) -> Result<trialsim::data::Loaded, Box<trialsim::data::DataError>> {
    let mapping = m.data.clone().expect("a data mapping");
    trialsim::data::load_path(
        m,
        &mapping,
        &root().join("examples/nsw/data.csv"),
        "examples/nsw/data.csv",
    )
    .map_err(Box::new)
}

#[test]
fn analyze_within_bins_matches_a_hand_computation_on_the_nsw_data() {
    let m = model(&nsw(BY_SCHOOL, &["educ"]));
    let loaded = load(&m).unwrap_or_else(|e| panic!("{e:?}"));
    let plan = trialsim::analysis::run_plan(&m, &loaded.table);
    let result = &plan.analyses[0];
    let rows = nsw_rows();
    let edges = [0.0, 9.0, 12.0, 16.0, 99.0];
    assert_eq!(result.contrasts.len(), 4);
    for (c, w) in result.contrasts.iter().zip(edges.windows(2)) {
        let cell = |arm: &str| -> Vec<f64> {
            rows.iter()
                .filter(|(a, e, _)| a == arm && w[0] <= *e && *e < w[1])
                .map(|r| r.2)
                .collect()
        };
        let (t, k) = (cell("treatment"), cell("control"));
        assert_eq!(
            c.subgroup,
            Some((
                "educ bins [0, 9, 12, 16, 99)".to_owned(),
                format!("[{}, {})", w[0], w[1])
            ))
        );
        assert_eq!(c.treatment.n, t.len() as u64, "{:?}", c.subgroup);
        assert_eq!(c.control.n, k.len() as u64, "{:?}", c.subgroup);
        if !t.is_empty() && !k.is_empty() {
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let d = mean(&t) - mean(&k);
            assert!(
                (c.difference - d).abs() <= 1e-9 * d.abs(),
                "{:?}: {} vs {d}",
                c.subgroup,
                c.difference
            );
        }
    }
    // The same figures from Python's csv module on the same file (n per arm, difference):
    // for a, b in bins: t = [re78 of treatment with a <= educ < b], c likewise; mean(t) − mean(c).
    let python = [
        (28, 36, Some(-251.076_845_238_094_4)),
        (103, 181, Some(1_580.511_593_761_731)),
        (53, 43, Some(3_303.016_829_749_888_5)),
        (1, 0, None),
    ];
    for (c, (nt, nc, d)) in result.contrasts.iter().zip(python) {
        assert_eq!((c.treatment.n, c.control.n), (nt, nc));
        if let Some(d) = d {
            assert!((c.difference - d).abs() < 1e-6, "{} vs {d}", c.difference);
        } else {
            assert!(c.difference.is_nan());
        }
    }
    // No participant is outside [0, 99): all 445 are in a bin.
    let total: u64 = result
        .contrasts
        .iter()
        .map(|c| c.treatment.n + c.control.n)
        .sum();
    assert_eq!(total, 445);
}

#[test]
fn analyze_reports_who_is_in_no_bin() {
    let spec = nsw(
        "  analysis narrow {
    compare re78: treatment vs control within educ bins [8, 10, 12)
  }",
        &["educ"],
    );
    let path = temp("bins-narrow.trial");
    std::fs::write(&path, &spec).expect("writes the spec");
    let rows = nsw_rows();
    let outside = |arm: &str| {
        rows.iter()
            .filter(|(a, e, _)| a == arm && !(8.0..12.0).contains(e))
            .count() as u64
    };
    let (t, c) = (outside("treatment"), outside("control"));
    assert!(t > 0 && c > 0);
    let out = run(trialsim().arg("analyze").arg(&path).args([
        "--data",
        "examples/nsw/data.csv",
        "--reps",
        "20",
        "--quiet",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    let line = format!(
        "{} participant(s) (treatment {t}, control {c}) are in no bin and left out of every \
         contrast: their educ is missing or outside [8, 12)",
        t + c
    );
    assert!(out.stdout.contains(&line), "{line}\n{out}");
    let out = run(trialsim()
        .arg("analyze")
        .arg(&path)
        .args(["--data", "examples/nsw/data.csv", "--reps", "20"])
        .args(["--format", "json"]));
    assert_eq!(out.status, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let o = &json["analyses"][0]["outside_bins"];
    assert_eq!(o["treatment"], t);
    assert_eq!(o["control"], c);
    assert_eq!(o["variable"], "educ");
    // The derived variable is not a covariate of the balance table (educ is, once).
    let variables: Vec<&str> = json["balance"]["rows"]
        .as_array()
        .expect("balance rows")
        .iter()
        .filter_map(|r| r["variable"].as_str())
        .collect();
    assert!(variables.contains(&"educ"), "{variables:?}");
    assert!(
        variables.iter().all(|v| !v.contains("bins")),
        "{variables:?}"
    );
}

#[test]
fn analyze_needs_the_binned_covariate_mapped() {
    let m = model(&nsw(BY_SCHOOL, &["age"]));
    let e = match load(&m) {
        Ok(_) => panic!("loads without an educ column"),
        Err(e) => e,
    };
    assert_eq!(e.kind, trialsim::data::DataErrorKind::UnmappedCovariate);
    assert!(e.message.contains("`educ`"), "{}", e.message);
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.contains("covariate educ")),
        "{:?}",
        e.help
    );
}

/// x ~ uniform(0, 10), y shifted by 4 per unit of x (centred at E x = 5) in both arms; bins
/// [0, 2), [2, 5), [5, 10).
const POWER: &str = r#"trial "Bins in simulation" {
  population {
    x ~ uniform(0, 10)
  }
  assignment {
    randomise 1:1
  }
  sample 200 per arm
  arm treatment {
    y ~ normal(mean 60, sd 10)
  }
  arm control {
    y ~ normal(mean 50, sd 10)
  }
  outcome y = continuous, depends on x 4
  analysis by_x {
    compare y: treatment vs control within x bins [0, 2, 5, 10)
    test welch_t, two_sided, alpha 5%
  }
}
"#;

fn power_json(threads: &str) -> String {
    let path = temp("bins-power.trial");
    std::fs::write(&path, POWER).expect("writes the spec");
    let out = run(trialsim()
        .arg("power")
        .arg(&path)
        .args(["--reps", "200", "--seed", "11", "--threads", threads])
        .args(["--format", "json", "--quiet"]));
    assert_eq!(out.status, Some(0), "{out}");
    out.stdout
}

#[test]
fn power_within_bins_has_the_closed_form_truth() {
    let one = power_json("1");
    // Determinism: the same JSON on any thread count.
    assert_eq!(one, power_json("2"));
    let json: serde_json::Value = serde_json::from_str(&one).expect("JSON");
    let contrasts = json["analyses"][0]["contrasts"]
        .as_array()
        .expect("contrasts");
    assert_eq!(contrasts.len(), 3);
    // Within the bin [a, b) of a uniform(0, 10) covariate, E[x | bin] = (a + b)/2; the arm's
    // mean there is its stated mean + 4 (E[x | bin] − 5); the effect is 10 in every bin.
    for (c, (a, b)) in contrasts.iter().zip([(0.0, 2.0), (2.0, 5.0), (5.0, 10.0)]) {
        assert_eq!(c["subgroup"]["variable"], "x bins [0, 2, 5, 10)");
        assert_eq!(c["subgroup"]["level"], format!("[{a}, {b})"));
        assert_eq!(c["truth"], "simulated");
        let se = c["true_effect_mc_se"].as_f64().expect("an MC SE");
        assert!(se > 0.0 && se < 0.5, "{se}");
        let shift = 4.0 * ((a + b) / 2.0 - 5.0);
        let effect = c["true_effect"].as_f64().expect("effect");
        assert!((effect - 10.0).abs() <= 4.0 * se, "{effect} vs 10 ± 4·{se}");
        // Each arm's mean has about 1/√2 of the difference's MC SE (independent arms of
        // equal size and spread).
        let arm_se = se / std::f64::consts::SQRT_2;
        for (key, stated) in [("true_treatment", 60.0), ("true_control", 50.0)] {
            let got = c[key].as_f64().expect(key);
            let want = stated + shift;
            assert!(
                (got - want).abs() <= 4.0 * arm_se,
                "{key} in [{a}, {b}): {got} vs {want}"
            );
        }
        // The estimate is near the truth and the bin holds a sensible share of the sample:
        // the analysis found participants in it in every replicate.
        assert_eq!(c["valid_replicates"], 200);
        let m = c["mean_estimate"].as_f64().expect("mean estimate");
        assert!((m - 10.0).abs() < 2.0, "{m}");
        let p = c["power"].as_f64().expect("power");
        assert!(p > 0.5, "{p}");
    }

    // One replicate's table: the bins hold about 20 %, 30 % and 50 % of each arm's 200.
    let csv = temp("bins-sim.csv");
    let out = run(trialsim()
        .arg("simulate")
        .arg(temp("bins-power.trial"))
        .arg("--export")
        .arg(&csv)
        .arg("--force"));
    assert_eq!(out.status, Some(0), "{out}");
    let text = std::fs::read_to_string(&csv).expect("the export");
    let head = text.lines().next().expect("a header");
    // The derived variable is not a column: it is computed again when the file is read.
    assert_eq!(head, "id,arm,path,x,y");
    let mut counts = [[0u32; 3]; 2];
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let arm = usize::from(f[1] != "treatment");
        let x: f64 = f[3].parse().expect("x");
        let bin = [0.0, 2.0, 5.0, 10.0]
            .windows(2)
            .position(|w| w[0] <= x && x < w[1])
            .expect("x in [0, 10)");
        counts[arm][bin] += 1;
    }
    for arm in counts {
        assert_eq!(arm.iter().sum::<u32>(), 200);
        // Binomial(200, p): within 4 SD of 200p.
        for (n, p) in arm.iter().zip([0.2_f64, 0.3, 0.5]) {
            let sd = (200.0 * p * (1.0 - p)).sqrt();
            assert!((f64::from(*n) - 200.0 * p).abs() <= 4.0 * sd, "{arm:?}");
        }
    }
}
