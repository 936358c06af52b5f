//! Absurd inputs get a diagnostic, not an allocation failure or a hang; Ctrl-C stops a long run
//! cleanly with what was done.

use std::time::{Duration, Instant};

use crate::common::{run, trialsim};
use trialsim::check::compile;
use trialsim::power::{PowerSettings, run_power};
use trialsim::source::SourceFile;

fn two_arm(extra: &str) -> String {
    format!(
        "trial \"x\" {{\n  {extra}\n  assignment {{ randomise 1:1 }}\n  arm treatment {{ y: 30% }}\n  \
         arm control {{ y: 20% }}\n  outcome y = binary\n  analysis a {{\n    \
         compare y: treatment vs control\n    test pooled_z, two_sided, alpha 5%\n  }}\n}}\n"
    )
}

/// The checker's messages for `text`, which must fail, within `seconds`.
#[track_caller]
fn refused(text: &str, seconds: u64) -> String {
    let started = Instant::now();
    let result = compile(&SourceFile::new("absurd.trial", text));
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(seconds),
        "took {elapsed:?} to refuse"
    );
    match result {
        Ok(_) => panic!("accepted:\n{}", &text[..text.len().min(500)]),
        Err(failed) => failed
            .diagnostics
            .iter()
            .map(|d| format!("{d}; {:?}", d.labels))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn negative_zero_and_huge_sample_sizes_are_diagnosed() {
    let negative = refused(&two_arm("sample -5 per arm"), 5);
    assert!(negative.contains("cannot be negative"), "{negative}");
    let zero = refused(&two_arm("sample 0 per arm"), 5);
    assert!(zero.contains("at least 1"), "{zero}");
    let huge = refused(&two_arm("sample 4000000000 per arm"), 5);
    assert!(huge.contains("more than the limit"), "{huge}");
}

#[test]
fn a_pool_of_ten_million_checks_and_a_billion_is_refused() {
    let pool = |n: u64| {
        two_arm(&format!(
            "population {{\n    pool {n}\n    age ~ uniform(45 years, 64 years)\n  }}"
        ))
    };
    let checked = compile(&SourceFile::new("pool.trial", pool(10_000_000))).expect("checks");
    assert_eq!(checked.model.population.pool, Some(10_000_000));
    let billion = refused(&pool(1_000_000_000), 5);
    assert!(
        billion.contains("more than the limit of 50000000"),
        "{billion}"
    );
}

#[test]
fn a_hundred_thousand_arms_and_a_million_outcomes_are_refused_quickly() {
    let mut arms = String::from("trial \"many arms\" {\n  sample 10 per arm\n");
    for i in 0..100_000 {
        arms.push_str(&format!("  arm a{i} {{ y: 30% }}\n"));
    }
    arms.push_str("  outcome y = binary\n  analysis a {\n    compare y: a0 vs a1\n    test pooled_z, two_sided, alpha 5%\n  }\n}\n");
    let message = refused(&arms, 30);
    assert!(message.contains("too complex"), "{message}");

    let mut outcomes = String::from(
        "trial \"many outcomes\" {\n  sample 10 per arm\n  arm t { y0: 30% }\n  arm c { y0: 20% }\n",
    );
    for i in 0..1_000_000 {
        outcomes.push_str(&format!("  outcome y{i} = binary\n"));
    }
    outcomes.push_str(
        "  analysis a {\n    compare y0: t vs c\n    test pooled_z, two_sided, alpha 5%\n  }\n}\n",
    );
    let message = refused(&outcomes, 30);
    assert!(message.contains("too complex"), "{message}");
}

#[test]
fn absurd_replicates_and_sizes_are_refused_before_any_allocation() {
    let checked =
        compile(&SourceFile::new("x.trial", two_arm("sample 100 per arm"))).expect("checks");
    let settings = |replicates, n_per_arm| PowerSettings {
        seed: 1,
        replicates,
        n_per_arm,
        scenario: 0,
    };
    for (replicates, n) in [
        (1_000_000_000_000, None),
        (0, None),
        (10, Some(0)),
        (10, Some(u32::MAX)),
        (10, Some(30_000_000)),
    ] {
        let started = Instant::now();
        let result = run_power(&checked.model, &settings(replicates, n), &|_| {});
        assert!(
            result.is_err(),
            "{replicates} replicates at {n:?} per arm ran"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    // The same through the command line: a usage error (exit 2), never a crash.
    for (args, message) in [
        (["--reps", "1000000000000"], "--reps must be between"),
        (["--n-per-arm", "-5"], "unexpected argument '-5'"),
        (["--n-per-arm", "5000000000"], "invalid value"),
        (["--n-per-arm", "30000000"], "more than the engine's limit"),
    ] {
        let out = run(trialsim()
            .args(["power", "specs/two-arm.trial", "--quiet"])
            .args(args));
        assert_eq!(out.status, Some(2), "{args:?}: {out}");
        assert!(out.stderr.contains(message), "{args:?}: {out}");
    }
}

/// A long `power` run interrupted by SIGINT stops after its current batch, prints the report of
/// the replicates done (the first k in order, exactly as `--reps k` gives), and exits 130.
#[cfg(unix)]
#[test]
fn sigint_stops_a_long_run_with_what_was_done() {
    use std::process::Stdio;
    let requested = "1000000000";
    // Under a loaded machine the handler may not be installed yet after the first wait: retry
    // with longer waits (the default action would kill the child without output).
    for wait in [1500, 4000, 10_000] {
        let child = trialsim()
            .args([
                "power",
                "specs/two-arm.trial",
                "--format",
                "json",
                "--quiet",
            ])
            .args(["--reps", requested, "--seed", "11", "--n-per-arm", "300"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        std::thread::sleep(Duration::from_millis(wait));
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let out = child.wait_with_output().expect("finishes");
        let Some(code) = out.status.code() else {
            continue; // killed before the handler was installed
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code, 130, "{stdout}\n{stderr}");
        assert!(stderr.contains("replicates done"), "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
        assert_eq!(report["interrupted"], true);
        let done = report["replicates"].as_u64().expect("replicates");
        assert!(done > 0 && done < 1_000_000_000, "{done}");
        let power = report["analyses"][0]["power"].as_f64().expect("power");
        let se = report["analyses"][0]["mc_se"].as_f64().expect("mc_se");
        assert!((se - (power * (1.0 - power) / done as f64).sqrt()).abs() < 1e-12);
        // Deterministic: the same figures as a run of exactly that many replicates.
        let again = run(trialsim()
            .args([
                "power",
                "specs/two-arm.trial",
                "--format",
                "json",
                "--quiet",
            ])
            .args([
                "--reps",
                &done.to_string(),
                "--seed",
                "11",
                "--n-per-arm",
                "300",
            ]));
        let mut again: serde_json::Value = serde_json::from_str(&again.stdout).expect("JSON");
        let mut report = report;
        for r in [&mut report, &mut again] {
            let o = r.as_object_mut().expect("object");
            o.remove("interrupted");
            o.remove("expectations");
            o.remove("passed");
        }
        assert_eq!(report, again);
        return;
    }
    panic!("the child never installed its Ctrl-C handler");
}

/// A pool of ten million runs, in memory bounded by one replicate per worker (release build:
/// `cargo test --release --test integration -- --ignored pool`).
#[test]
#[ignore = "slow in a debug build; run with --release"]
fn a_pool_of_ten_million_runs() {
    let text =
        two_arm("population {\n    pool 10000000\n    age ~ uniform(45 years, 64 years)\n  }");
    let checked = compile(&SourceFile::new("pool.trial", text)).expect("checks");
    let report = run_power(
        &checked.model,
        &PowerSettings {
            seed: 1,
            replicates: 2,
            n_per_arm: None,
            scenario: 0,
        },
        &|_| {},
    )
    .expect("runs");
    let total: f64 = report.flows.arms.iter().map(|a| a.mean_size).sum();
    assert!((total - 1.0e7).abs() < 1.0e4, "{total}");
}
