//! Sharded runs: every shardable command, split into N separate processes and merged, prints
//! the bytes of one process (N = 1, 2, 3, 7); and every way a merge can go wrong is refused,
//! naming the files, with nothing merged.

use std::path::{Path, PathBuf};

use crate::common::{CommandOutput, run, trialsim};

/// A plain two-arm trial: a process' fixed cost (spec, exact figures) is small in a debug build.
const TWO_ARM: &str = "specs/two-arm.trial";
/// The Almere plan (about a second of exact figures per process in a debug build).
const PLAN: &str = "specs/almere-45plus.trial";
const FLOWS: &str = "specs/almere-45plus-flows.trial";

/// A fresh directory for one test's parts.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trialsim-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn shard(args: &[&str], i: u64, n: u64, part: &Path) -> CommandOutput {
    let out = run(trialsim()
        .args(args)
        .arg("--shard")
        .arg(format!("{i}/{n}"))
        .arg("--part")
        .arg(part));
    assert_eq!(out.status, Some(0), "shard {i}/{n} of {args:?}: {out}");
    assert!(out.stdout.is_empty(), "a shard prints no report: {out}");
    out
}

fn merge(parts: &[PathBuf], extra: &[&str]) -> CommandOutput {
    run(trialsim().arg("merge").args(parts).args(extra))
}

/// Runs `args` in one process, then split into each of `counts` shards, and checks the merge
/// prints the same bytes and exits the same way.
fn identical(name: &str, args: &[&str], counts: &[u64]) {
    let one = run(trialsim().args(args));
    assert!(!one.stdout.is_empty(), "{one}");
    let dir = scratch(name);
    for &n in counts {
        // Shards given in reverse: a merge takes them in index order whatever the order given.
        let parts: Vec<PathBuf> = (0..n)
            .rev()
            .map(|i| {
                let part = dir.join(format!("{n}-{i}.json"));
                shard(args, i, n, &part);
                part
            })
            .collect();
        let merged = merge(&parts, &[]);
        assert_eq!(merged.status, one.status, "{args:?} N = {n}: {merged}");
        assert!(
            merged.stdout == one.stdout,
            "{args:?} in {n} shards differs from one process:\n--- one\n{}\n--- merged\n{}",
            one.stdout,
            merged.stdout
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn power_in_shards_is_byte_identical() {
    // 640 replicates, 10 chunks: 7 shards hold one or two each.
    identical("power", &["power", TWO_ARM, "--reps", "640"], &[1, 2, 3, 7]);
}

#[test]
fn power_with_a_second_fold_in_shards_is_byte_identical() {
    // The Almere plan's expectation at 182 per arm is a second run (a second fold) after the
    // first: the chunks of both are numbered across the command.
    identical("plan", &["power", PLAN, "--reps", "256"], &[3]);
}

#[test]
fn power_json_with_assurance_in_shards_is_byte_identical() {
    identical(
        "assume",
        &[
            "power",
            TWO_ARM,
            "--reps",
            "320",
            "--format",
            "json",
            "--assume",
            "arm.treatment.employed~uniform(25%,35%)",
        ],
        &[1, 2, 3, 7],
    );
}

#[test]
fn a_failed_expectation_merges_to_the_same_exit_code() {
    // The observed spec's `expect power(primary) >= 80%` fails: exit 1, also after a merge.
    identical(
        "observed",
        &[
            "power",
            "specs/almere-45plus-observed.trial",
            "--reps",
            "256",
        ],
        &[3],
    );
}

#[test]
fn sweep_in_shards_is_byte_identical() {
    identical(
        "sweep",
        &[
            "sweep",
            TWO_ARM,
            "--reps",
            "128",
            "--vary",
            "n_per_arm=100..300:100",
        ],
        &[1, 2, 3, 7],
    );
}

#[test]
fn explain_in_shards_is_byte_identical() {
    identical(
        "explain",
        &["explain", FLOWS, "--reps", "192", "--format", "json"],
        &[1, 2, 3, 7],
    );
}

#[test]
fn validate_in_shards_is_byte_identical() {
    identical("validate", &["validate", "--reps", "128", "--quiet"], &[2]);
}

/// The full matrix for `validate`: each shard computes the suite's exact figures in full (about
/// eight CPU-seconds in a debug build), so 11 shards and 3 merges take minutes.
#[test]
#[ignore = "slow: 14 runs of the validation suite's exact figures"]
fn validate_in_1_3_and_7_shards_is_byte_identical() {
    identical(
        "validate-all",
        &["validate", "--reps", "128", "--quiet"],
        &[1, 3, 7],
    );
}

#[test]
fn merge_writes_out_and_changes_the_format() {
    let dir = scratch("format");
    let args = ["power", TWO_ARM, "--reps", "128"];
    let parts: Vec<PathBuf> = (0..2)
        .map(|i| {
            let p = dir.join(format!("{i}.json"));
            shard(&args, i, 2, &p);
            p
        })
        .collect();
    let json = run(trialsim().args(args).args(["--format", "json"]));
    let out = dir.join("report.json");
    let merged = merge(
        &parts,
        &["--format", "json", "--out", out.to_str().unwrap()],
    );
    assert_eq!(merged.status, Some(0), "{merged}");
    assert!(merged.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), json.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

fn refused(out: &CommandOutput, words: &[&str]) {
    assert_ne!(out.status, Some(0), "{out}");
    assert!(out.stdout.is_empty(), "nothing is merged: {out}");
    for w in words {
        assert!(out.stderr.contains(w), "stderr lacks `{w}`: {out}");
    }
}

#[test]
fn bad_shards_are_refused() {
    for (bad, words) in [
        ("3/2", "no shard 3 of 2"),
        ("0/0", "at least one shard"),
        ("1", "is not a shard"),
    ] {
        let out = run(trialsim().args(["power", PLAN, "--reps", "64", "--shard", bad]));
        assert_eq!(out.status, Some(2), "{out}");
        refused(&out, &[words]);
    }
    let dir = scratch("refused");
    let report_dir = dir.to_str().unwrap();
    for command in [
        &["size", PLAN][..],
        &["mde", PLAN, "--vary", "arm.experiment.guided.work"],
        &["report", PLAN, "--out", report_dir],
        &["gallery", PLAN],
    ] {
        let out = run(trialsim().args(command).args(["--shard", "0/2"]));
        assert_eq!(out.status, Some(2), "{out}");
        refused(&out, &["does not take --shard"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let out = run(trialsim().args(["power", PLAN, "--sample-estimand", "--shard", "0/2"]));
    refused(&out, &["--sample-estimand cannot be sharded"]);
}

#[test]
fn merges_of_parts_that_do_not_make_one_run_are_refused() {
    let dir = scratch("bad");
    let args = ["power", TWO_ARM, "--reps", "128"];
    let part = |name: &str, i: u64, n: u64, extra: &[&str]| {
        let p = dir.join(name);
        let all: Vec<&str> = args.iter().chain(extra).copied().collect();
        shard(&all, i, n, &p);
        p
    };
    let a0 = part("a0.json", 0, 2, &[]);
    let a1 = part("a1.json", 1, 2, &[]);
    let a1_of_3 = part("a1-of-3.json", 1, 3, &[]);
    let seed = part("seed.json", 1, 2, &["--seed", "7"]);
    let reps = part("reps.json", 1, 2, &["--n-per-arm", "150"]);

    refused(
        &merge(std::slice::from_ref(&a0), &[]),
        &["shard 1 of 2 missing"],
    );
    refused(
        &merge(&[a0.clone(), a1.clone(), a1.clone()], &[]),
        &["shard 1/2 is given twice", "a1.json"],
    );
    refused(
        &merge(&[a0.clone(), seed], &[]),
        &["a0.json", "seed.json", "seeds differ"],
    );
    refused(
        &merge(&[a0.clone(), reps], &[]),
        &["reps.json", "options differ", "--n-per-arm 150"],
    );
    refused(
        &merge(&[a0.clone(), a1_of_3], &[]),
        &["a1-of-3.json", "shard counts differ"],
    );

    // A truncated file, an altered one, one of an older version, and not a part at all.
    let text = std::fs::read_to_string(&a1).unwrap();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 3]).unwrap();
    refused(
        &merge(&[a0.clone(), cut], &[]),
        &["cut.json", "truncated or corrupt"],
    );
    let altered = dir.join("altered.json");
    std::fs::write(&altered, text.replacen("\"seed\":2017", "\"seed\":2018", 1)).unwrap();
    refused(
        &merge(&[a0.clone(), altered], &[]),
        &["altered.json", "checksum"],
    );
    let old = dir.join("old.json");
    let version = format!("\"trialsim\":\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&version));
    std::fs::write(&old, text.replacen(&version, "\"trialsim\":\"0.0.9\"", 1)).unwrap();
    refused(
        &merge(&[a0.clone(), old], &[]),
        &["old.json", "trialsim 0.0.9"],
    );
    refused(
        &merge(&[a0.clone(), PathBuf::from(TWO_ARM)], &[]),
        &["two-arm.trial"],
    );
    refused(
        &merge(&[a0, dir.join("none.json")], &[]),
        &["none.json", "no such file"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_edited_between_shards_is_refused() {
    let dir = scratch("edited");
    let spec = dir.join("plan.trial");
    let text = std::fs::read_to_string(TWO_ARM).unwrap();
    std::fs::write(&spec, &text).unwrap();
    let spec_arg = spec.to_str().unwrap();
    let args = ["power", spec_arg, "--reps", "128"];
    let p0 = dir.join("0.json");
    shard(&args, 0, 2, &p0);
    std::fs::write(&spec, text.clone() + "\n# edited\n").unwrap();
    let p1 = dir.join("1.json");
    shard(&args, 1, 2, &p1);
    refused(&merge(&[p0, p1], &[]), &["0.json", "1.json", "specs"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_merge_needs_no_copy_of_the_spec() {
    // The parts carry the spec's text: merging after the file is gone gives the same report.
    let dir = scratch("gone");
    let spec = dir.join("plan.trial");
    std::fs::copy(TWO_ARM, &spec).unwrap();
    let args = ["power", spec.to_str().unwrap(), "--reps", "128"];
    let one = run(trialsim().args(args));
    let parts: Vec<PathBuf> = (0..2)
        .map(|i| {
            let p = dir.join(format!("{i}.json"));
            shard(&args, i, 2, &p);
            p
        })
        .collect();
    std::fs::remove_file(&spec).unwrap();
    let merged = merge(&parts, &[]);
    assert_eq!(merged.stdout, one.stdout, "{merged}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_shard_stopped_by_sigterm_resumes_from_its_checkpoint_to_the_same_result() {
    let dir = scratch("sigterm");
    // One thread and 12,800 replicates: seconds of work, stopped after 1.5 s.
    let args = ["power", PLAN, "--reps", "12800", "--threads", "1"];
    let part = dir.join("0.json");
    let checkpoint = dir.join("0.json.checkpoint");
    let child = trialsim()
        .args(args)
        .args(["--shard", "0/2", "--checkpoint-every", "0", "--part"])
        .arg(&part)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: sends SIGTERM to the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) {
        // The machine was fast enough to finish first: nothing to resume.
        return;
    }
    // 143 = 128 + SIGTERM: what a scheduler expects of a job it stopped.
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("checkpoint written to"), "{stderr}");
    assert!(checkpoint.exists() && !part.exists());
    // A checkpoint is never mistaken for a finished shard.
    refused(
        &merge(std::slice::from_ref(&checkpoint), &[]),
        &["a checkpoint of shard 0/2"],
    );
    let resumed = shard(&args, 0, 2, &part);
    assert!(resumed.stderr.contains("resuming from"), "{resumed}");
    assert!(!checkpoint.exists());
    let p1 = dir.join("1.json");
    shard(&args, 1, 2, &p1);
    let one = run(trialsim().args(args));
    assert_eq!(merge(&[part, p1], &[]).stdout, one.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
