//! The same seed gives byte-identical output for any thread count and from run to run, for
//! every command that simulates. (`power` on a fixed sample across `--threads` is in
//! `engine.rs`; `analyze` across two runs in `analyze_cli.rs`.)

use std::path::PathBuf;

use crate::common::{run, trialsim};

fn temp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// The Almere plan without its fixed sample: arm sizes come from the pool of 440 through the
/// eligibility funnel, screening and the parity rule, all drawn per replicate.
fn pool_spec() -> PathBuf {
    let plan = include_str!("../../specs/almere-45plus.trial");
    let text: String = plan
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("sample ") && !l.trim_start().starts_with("expect ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let path = temp("determinism-pool.trial");
    std::fs::write(&path, text).expect("writes the spec");
    path
}

#[test]
fn power_from_the_pool_is_identical_for_any_thread_count_and_run() {
    let spec = pool_spec();
    let json = |threads: &str, seed: &str| {
        let out = run(trialsim()
            .arg("power")
            .arg(&spec)
            .args(["--reps", "300", "--seed", seed, "--threads", threads])
            .args(["--format", "json", "--quiet"]));
        assert_eq!(out.status, Some(0), "{out}");
        out.stdout
    };
    let one = json("1", "5");
    assert!(one.contains("\"arm_sizes\": null"), "{one}");
    assert_eq!(one, json("2", "5"));
    assert_eq!(one, json("7", "5"));
    assert_eq!(one, json("7", "5"));
    assert_ne!(one, json("2", "6"));
}

#[test]
fn analyze_is_identical_for_any_thread_count() {
    let json = |threads: &str, seed: &str| {
        let out = run(trialsim()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "analyze",
                "examples/nsw/nsw.trial",
                "--data",
                "examples/nsw/data.csv",
            ])
            .args(["--reps", "300", "--seed", seed, "--format", "json"]));
        assert_eq!(out.status, Some(0), "{out}");
        out.stdout
    };
    let one = json("1", "3");
    assert!(one.contains("realised_power"), "{one}");
    assert_eq!(one, json("2", "3"));
    assert_eq!(one, json("7", "3"));
    assert_ne!(
        one,
        json("2", "4"),
        "the seed reaches the realised-power simulation"
    );
}

#[test]
fn simulate_export_is_identical_across_runs_and_threads() {
    let export = |name: &str, threads: &str, replicate: &str| {
        let path = temp(name);
        // A previous run's file: `simulate` refuses to overwrite it without --force.
        let _ = std::fs::remove_file(&path);
        let out = run(trialsim()
            .env("RAYON_NUM_THREADS", threads)
            .args(["simulate", "specs/almere-45plus.trial", "--seed", "9"])
            .args(["--replicate", replicate, "--export"])
            .arg(&path));
        assert_eq!(out.status, Some(0), "{out}");
        std::fs::read(&path).expect("the export was written")
    };
    let a = export("det-a.csv", "1", "17");
    assert!(a.len() > 1000);
    assert_eq!(a, export("det-b.csv", "2", "17"));
    assert_eq!(a, export("det-c.csv", "7", "17"));
    assert_ne!(a, export("det-d.csv", "1", "18"));
}

/// `size`, `mde` and `sweep`: the same JSON for threads 1, 2 and 7 and on a second run; another
/// seed changes the simulated figures.
#[test]
fn size_and_sweep_are_identical_for_any_thread_count_and_run() {
    let json = |args: &[&str], threads: &str, seed: &str| {
        let out = run(trialsim().args(args).args([
            "--seed",
            seed,
            "--threads",
            threads,
            "--format",
            "json",
        ]));
        assert!(matches!(out.status, Some(0 | 1)), "{out}");
        assert!(out.stdout.starts_with('{'), "{out}");
        out.stdout
    };
    let size: &[&str] = &[
        "size",
        "specs/two-arm.trial",
        "--reps",
        "300",
        "--max-n",
        "600",
    ];
    let sweep: &[&str] = &[
        "sweep",
        "specs/two-arm.trial",
        "--vary",
        "n_per_arm=100,200",
        "--reps",
        "300",
    ];
    let clusters: &[&str] = &["size", "specs/gallery/top-vrouwen.trial", "--reps", "300"];
    let mde: &[&str] = &[
        "mde",
        "specs/two-arm.trial",
        "--vary",
        "arm.treatment.employed",
        "--reps",
        "300",
    ];
    for args in [size, clusters, mde, sweep] {
        let one = json(args, "1", "5");
        assert_eq!(one, json(args, "2", "5"), "{args:?}");
        assert_eq!(one, json(args, "7", "5"), "{args:?}");
        assert_eq!(one, json(args, "7", "5"), "{args:?}");
        assert_ne!(one, json(args, "2", "6"), "{args:?}");
    }
}
