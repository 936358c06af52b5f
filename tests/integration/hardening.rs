//! Every command against bad input, full disks, closed pipes, signals and output paths: each
//! failure an independent robustness probe found, reproduced and now handled (see
//! `docs/robustness.md`). None may panic (exit 101), answer wrongly with exit 0, or destroy or
//! half-write a file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{CommandOutput, run, trialsim};

const SPEC: &str = "specs/two-arm.trial";
const NSW: &str = "examples/nsw/nsw.trial";
const NSW_CSV: &str = "examples/nsw/data.csv";

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("trialsim-hardening-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn no_panic(out: &CommandOutput) {
    assert_ne!(out.status, Some(101), "{out}");
    assert!(!out.stderr.contains("panicked"), "{out}");
}

/// Files left in `dir` whose names mark an unfinished write.
fn partial_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

#[test]
fn a_line_longer_than_65536_characters_is_diagnosed_at_its_true_column() {
    let dir = scratch("long-line");
    let spec = dir.join("r.trial");
    std::fs::write(
        &spec,
        format!("trial \"x\" {{{}bogus }}\n", " ".repeat(65_525)),
    )
    .expect("written");
    let out = run(trialsim().arg("check").arg(&spec));
    no_panic(&out);
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stderr.contains("r.trial:1:65537]"), "{out}");
    assert!(out.stderr.contains("unexpected `bogus`"), "{out}");
    // Drawn as a window: no line of the diagnostic is anywhere near the source line's length.
    assert!(out.stderr.lines().all(|l| l.chars().count() < 400), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn thousands_of_errors_are_capped_at_fifty_with_a_count_of_the_rest() {
    let dir = scratch("many-errors");
    let spec = dir.join("many.trial");
    let mut text = std::fs::read_to_string(SPEC).expect("spec");
    text.truncate(text.rfind('}').expect("closing brace"));
    for _ in 0..5_000 {
        text.push_str("  sample 300 per arm\n");
    }
    text.push_str("}\n");
    std::fs::write(&spec, text).expect("written");
    let out = run(trialsim().arg("check").arg(&spec));
    no_panic(&out);
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stderr.contains("has 5000 errors"), "{out}");
    assert!(out.stderr.contains("… and 4950 more"), "{out}");
    assert_eq!(out.stderr.matches("is given twice").count(), 50, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_that_is_not_utf8_is_located_by_line_and_column() {
    let dir = scratch("not-utf8");
    let spec = dir.join("bad.trial");
    std::fs::write(&spec, b"trial \"x\" {\n  \xff\xfe bogus }\n").expect("written");
    let out = run(trialsim().current_dir(&dir).args(["check", "bad.trial"]));
    no_panic(&out);
    assert_eq!(out.status, Some(1), "{out}");
    assert!(
        out.stderr.contains("byte 0xFF at line 2, column 3"),
        "{out}"
    );
    assert!(out.stderr.contains("bad.trial:2:3]"), "{out}");
    assert!(!out.stderr.contains("from index"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Standard output

/// Runs `args` with stdout a pipe whose reader has already gone away.
#[cfg(unix)]
fn with_closed_stdout(args: &[&str]) -> CommandOutput {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = trialsim()
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    CommandOutput {
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_and_keeps_the_exit_status() {
    let dir = scratch("closed-pipe");
    let bad = dir.join("bad.trial");
    std::fs::write(&bad, "trial \"x\" { bogus }\n").expect("written");
    let bad = bad.to_string_lossy().into_owned();
    // A failing check still exits 1; a passing one 0; no panic message, no killed-by-signal.
    for (args, code) in [
        (vec!["check", SPEC, &bad], 1),
        (vec!["check", SPEC], 0),
        (vec!["check", SPEC, "--format", "json"], 0),
        (vec!["power", SPEC, "--reps", "200"], 0),
        (vec!["feasibility", SPEC, "--n-per-arm", "50000"], 1),
        (vec!["sweep", SPEC, "--list"], 0),
    ] {
        let out = with_closed_stdout(&args);
        no_panic(&out);
        assert_eq!(out.status, Some(code), "{args:?}: {out}");
        assert!(!out.stderr.contains("standard output"), "{args:?}: {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_device_is_an_error_and_exit_74() {
    for args in [
        vec!["check", SPEC],
        vec!["power", SPEC, "--reps", "200"],
        vec!["sweep", SPEC, "--list"],
        vec!["analyze", NSW, "--data", NSW_CSV, "--reps", "0"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = trialsim()
            .args(&args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(74), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output: No space left"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn no_command_writes_over_its_own_inputs() {
    let dir = scratch("inputs");
    let spec = dir.join("s.trial");
    let data = dir.join("data.csv");
    std::fs::copy(SPEC, &spec).expect("copied");
    std::fs::copy(NSW_CSV, &data).expect("copied");
    let nsw = dir.join("nsw.trial");
    std::fs::copy(NSW, &nsw).expect("copied");
    let spec_before = std::fs::read(&spec).expect("spec");
    let data_before = std::fs::read(&data).expect("data");
    // The same file named another way (`..`) is still the input.
    let sneaky = dir.join("sub/../data.csv");
    for (args, input) in [
        (
            vec![
                "simulate".into(),
                spec.clone(),
                "--export".into(),
                spec.clone(),
            ],
            &spec,
        ),
        (
            vec![
                "simulate".into(),
                spec.clone(),
                "--export".into(),
                dir.join("ok.csv"),
                "--potential-outcomes".into(),
                spec.clone(),
            ],
            &spec,
        ),
        (
            vec![
                "analyze".into(),
                nsw.clone(),
                "--data".into(),
                data.clone(),
                "--reps".into(),
                "0".into(),
                "--snapshot".into(),
                sneaky.clone(),
            ],
            &data,
        ),
        (
            vec![
                "gallery".into(),
                spec.clone(),
                "--out".into(),
                spec.clone(),
                "--force".into(),
            ],
            &spec,
        ),
    ] {
        let out = run(trialsim().args(&args));
        no_panic(&out);
        assert_eq!(out.status, Some(2), "{args:?}: {out}");
        assert!(out.stderr.contains("refusing to write over it"), "{out}");
        assert!(input.exists());
    }
    assert_eq!(std::fs::read(&spec).expect("spec"), spec_before);
    assert_eq!(std::fs::read(&data).expect("data"), data_before);
    assert!(!dir.join("ok.csv").exists(), "nothing written when refused");
    assert!(!dir.join("sub").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = scratch("force");
    let csv = dir.join("trial.csv");
    std::fs::write(&csv, "precious\n").expect("written");
    let out = run(trialsim().args(["simulate", SPEC, "--export"]).arg(&csv));
    assert_eq!(out.status, Some(2), "{out}");
    assert!(out.stderr.contains("pass --force"), "{out}");
    assert_eq!(std::fs::read_to_string(&csv).expect("csv"), "precious\n");
    let out = run(trialsim()
        .args(["simulate", SPEC, "--force", "--export"])
        .arg(&csv));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(
        std::fs::read_to_string(&csv)
            .expect("csv")
            .starts_with("id,arm")
    );

    let page = dir.join("gallery.md");
    std::fs::write(&page, "precious\n").expect("written");
    let out = run(trialsim()
        .args(["gallery", SPEC, "--reps", "200", "--out"])
        .arg(&page));
    assert_eq!(out.status, Some(2), "{out}");
    assert_eq!(std::fs::read_to_string(&page).expect("page"), "precious\n");
    // A snapshot is replaced without --force: that is what `--snapshot` is for (its help says so).
    let snapshot = dir.join("report.json");
    std::fs::write(&snapshot, "{}").expect("written");
    let out = run(trialsim()
        .args([
            "analyze",
            NSW,
            "--data",
            NSW_CSV,
            "--reps",
            "0",
            "--snapshot",
        ])
        .arg(&snapshot));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(std::fs::read_to_string(&snapshot).expect("json").len() > 100);
    assert!(partial_files(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_with_dot_dot_creates_no_stray_directory() {
    let dir = scratch("dotdot");
    let out = run(trialsim()
        .args([
            "sweep",
            SPEC,
            "--vary",
            "arm.treatment.employed=30%",
            "--reps",
            "200",
            "--out",
        ])
        .arg(dir.join("x/../b")));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(dir.join("b/sweep.svg").exists());
    assert!(!dir.join("x").exists(), "stray directory x");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGINT during `simulate --export` of a large trial: either it finished (the file is whole)
/// or it stopped with 130 and left no file at all, never a truncated one that looks complete.
#[cfg(unix)]
#[test]
fn an_interrupted_export_leaves_no_partial_file() {
    let dir = scratch("export-interrupt");
    let csv = dir.join("big.csv");
    let child = trialsim()
        .args(["simulate", SPEC, "--n-per-arm", "100000", "--export"])
        .arg(&csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(130) => {
            assert!(
                !csv.exists(),
                "an interrupted export left {}",
                csv.display()
            );
            assert!(stderr.contains("interrupted"), "{stderr}");
        }
        Some(0) => {
            let text = std::fs::read_to_string(&csv).expect("export");
            assert_eq!(text.lines().count(), 200_001, "a finished export is whole");
        }
        other => panic!("exit {other:?}: {stderr}"),
    }
    assert!(partial_files(&dir).is_empty(), "{:?}", partial_files(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Signals and progress

/// Runs `command` under a pseudo-terminal (util-linux `script`), waits until its output shows
/// `cue` (the progress line), types Ctrl-C, and returns the exit code and everything shown.
#[cfg(target_os = "linux")]
fn ctrl_c_under_a_terminal(command: &str, cue: &str) -> (Option<i32>, String) {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let mut child = std::process::Command::new("script")
        .args(["-qfec", command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script` runs (it gives the command a pseudo-terminal)");
    let shown = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let sink = Arc::clone(&shown);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    let started = std::time::Instant::now();
    while !String::from_utf8_lossy(&shown.lock().expect("lock")).contains(cue) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no progress shown: {}",
            String::from_utf8_lossy(&shown.lock().expect("lock"))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x03").expect("Ctrl-C typed");
    stdin.flush().expect("flushed");
    let status = child.wait().expect("finishes");
    drop(stdin);
    reader.join().expect("reader");
    let text = String::from_utf8_lossy(&shown.lock().expect("lock")).into_owned();
    (status.code(), text)
}

#[cfg(target_os = "linux")]
#[test]
fn sweep_shows_progress_on_a_terminal_and_stops_on_ctrl_c_with_its_points() {
    let exe = env!("CARGO_BIN_EXE_trialsim");
    let (code, shown) = ctrl_c_under_a_terminal(
        &format!(
            "{exe} sweep {SPEC} --vary arm.treatment.employed=25%..35% --reps 5000000 --threads 2"
        ),
        "sweeping: point 0/11",
    );
    assert_eq!(code, Some(130), "{shown}");
    assert!(
        shown.contains("interrupted: finishing the current batch"),
        "{shown}"
    );
    assert!(
        shown.contains("of 11 points done; the table below has only those"),
        "{shown}"
    );
    assert!(
        shown.contains("interrupted: sweep stopped after"),
        "{shown}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn size_shows_progress_on_a_terminal_and_stops_on_ctrl_c_with_its_evaluations() {
    let exe = env!("CARGO_BIN_EXE_trialsim");
    let (code, shown) = ctrl_c_under_a_terminal(
        &format!("{exe} size {SPEC} --reps 50000000 --threads 2"),
        "searching for the sample size",
    );
    assert_eq!(code, Some(130), "{shown}");
    assert!(
        shown.contains("interrupted: the search stopped after"),
        "{shown}"
    );
    assert!(
        shown.contains("interrupted: sample-size search stopped"),
        "{shown}"
    );
}

/// Off a terminal there is no progress at all (nothing for a log to fill up with).
#[test]
fn no_progress_off_a_terminal() {
    let out = run(trialsim().args([
        "sweep",
        SPEC,
        "--vary",
        "arm.treatment.employed=25%,30%",
        "--reps",
        "200",
    ]));
    assert_eq!(out.status, Some(0), "{out}");
    assert!(out.stderr.is_empty(), "{out}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_size_with_exit_143() {
    for wait in [1500, 4000, 10_000] {
        let child = trialsim()
            .args(["size", SPEC, "--reps", "50000000", "--threads", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        std::thread::sleep(Duration::from_millis(wait));
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let out = child.wait_with_output().expect("finishes");
        let Some(code) = out.status.code() else {
            continue; // killed before the handler was installed
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code, 143, "{stderr}");
        assert!(
            stderr.contains("terminated: finishing the current batch"),
            "{stderr}"
        );
        return;
    }
    panic!("the child never installed its signal handler");
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// The NSW example with `edit` applied to its rows (0 = first participant).
fn nsw_with(name: &str, edit: impl Fn(&mut Vec<Vec<String>>)) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let text = std::fs::read_to_string(NSW_CSV).expect("csv");
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    edit(&mut rows);
    let csv = dir.join("data.csv");
    let body: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
    std::fs::write(&csv, body.join("\n") + "\n").expect("written");
    (dir, csv)
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|c| c == name).expect("column")
}

fn analyze(csv: &Path) -> CommandOutput {
    run(trialsim()
        .args(["analyze", NSW, "--reps", "0", "--data"])
        .arg(csv))
}

#[test]
fn values_that_overflow_or_underflow_an_analysis_are_refused_with_row_column_and_value() {
    for (col, value, message) in [
        (
            "re78",
            "1e308",
            "line 2, column 14 (`re78`): `1e308` is out of range",
        ),
        (
            "re78",
            "-2e100",
            "line 2, column 14 (`re78`): `-2e100` is out of range",
        ),
        (
            "re78",
            "1e-400",
            "line 2, column 14 (`re78`): `1e-400` is out of range",
        ),
        (
            "age",
            "1e308",
            "line 2, column 3 (`age`): `1e308` is out of range",
        ),
        (
            "employed78",
            "1e-400",
            "line 2, column 15 (`employed78`): `1e-400` is not 0 or 1",
        ),
        (
            "employed78",
            "0.99999999999999999999",
            "`0.99999999999999999999` is not 0 or 1",
        ),
    ] {
        let (dir, csv) = nsw_with("overflow", |rows| {
            let c = column(rows, col);
            rows[1][c] = value.to_owned();
        });
        let out = analyze(&csv);
        no_panic(&out);
        assert_eq!(out.status, Some(1), "{col}={value}: {out}");
        assert!(out.stderr.contains(message), "{col}={value}: {out}");
        assert!(out.stdout.is_empty(), "{out}");
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Exact binary values in any of their documented spellings still read.
    let (dir, csv) = nsw_with("binary-spellings", |rows| {
        let c = column(rows, "employed78");
        for (i, v) in ["1.0", "0.00", "TRUE", "false", "+1"].iter().enumerate() {
            rows[i + 1][c] = (*v).to_owned();
        }
    });
    let out = analyze(&csv);
    assert_eq!(out.status, Some(0), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn data_with_one_arm_missing_is_an_error_naming_the_arm() {
    let (dir, csv) = nsw_with("one-arm", |rows| {
        let arm = column(rows, "arm");
        rows.retain(|r| r[arm] != "control");
    });
    let out = analyze(&csv);
    no_panic(&out);
    assert_eq!(out.status, Some(1), "{out}");
    assert!(
        out.stderr.contains("has no participant in arm `control`"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_reader_reports_up_to_twenty_bad_values_in_one_run() {
    let (dir, csv) = nsw_with("twenty", |rows| {
        let age = column(rows, "age");
        for row in rows.iter_mut().skip(1).take(30) {
            row[age] = "abc".into();
        }
    });
    let out = analyze(&csv);
    assert_eq!(out.status, Some(1), "{out}");
    assert_eq!(
        out.stderr.matches("`abc` is not a number").count(),
        20,
        "{out}"
    );
    // The message wraps at 100 columns; read it as one line.
    let flat = out
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("(the first 20 bad values; the reader stopped there, there may be more)"),
        "{out}"
    );
    let (dir2, csv) = nsw_with("three", |rows| {
        let age = column(rows, "age");
        for row in rows.iter_mut().skip(1).take(3) {
            row[age] = "abc".into();
        }
    });
    let out = analyze(&csv);
    assert_eq!(
        out.stderr.matches("`abc` is not a number").count(),
        3,
        "{out}"
    );
    assert!(out.stderr.contains("(3 bad values)"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn grouped_thousands_are_named_as_such() {
    let (dir, csv) = nsw_with("grouped", |rows| {
        let c = column(rows, "re78");
        rows[1][c] = "\"9.930,05\"".into();
    });
    let out = analyze(&csv);
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stderr.contains("groups thousands"), "{out}");
    assert!(out.stderr.contains("`9930.05`"), "{out}");
    assert!(!out.stderr.contains("decimal point`"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Design searches and sizes

#[test]
fn size_refuses_a_target_the_simulation_cannot_resolve() {
    let out = run(trialsim().args([
        "size",
        SPEC,
        "--target-power",
        "0.999999999",
        "--reps",
        "1000",
    ]));
    no_panic(&out);
    assert_eq!(out.status, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("cannot resolve a target power of 99.9999999%"),
        "{out}"
    );
    assert!(
        out.stderr.contains("the exact z test needs 2350 per arm"),
        "{out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    let out = run(trialsim().args([
        "mde",
        SPEC,
        "--vary",
        "arm.treatment.employed",
        "--target-power",
        "99.99%",
        "--reps",
        "1000",
    ]));
    assert_eq!(out.status, Some(2), "{out}");
    assert!(out.stderr.contains("--reps 100000"), "{out}");
}

#[test]
fn totals_of_huge_arms_do_not_wrap() {
    let out = run(trialsim().args(["feasibility", SPEC, "--n-per-arm", "4000000000"]));
    no_panic(&out);
    assert!(out.stdout.contains("(8000000000 in all)"), "{out}");
}

#[test]
fn explain_with_a_huge_sample_gives_the_real_reason() {
    let out = run(trialsim().args(["explain", SPEC, "--n-per-arm", "26000000", "--reps", "10"]));
    no_panic(&out);
    assert_ne!(out.status, Some(0), "{out}");
    assert!(out.stderr.contains("more than the engine's limit"), "{out}");
    assert!(!out.stderr.contains("cannot be computed"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// One set of flags

#[test]
fn every_simulating_command_takes_the_same_flags() {
    for (command, flags) in [
        (
            "power",
            &["--reps", "--seed", "--threads", "--quiet", "--format"][..],
        ),
        (
            "size",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        (
            "mde",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        (
            "sweep",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        (
            "explain",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        (
            "analyze",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        (
            "validate",
            &["--reps", "--seed", "--threads", "--quiet", "--format"],
        ),
        ("report", &["--reps", "--seed", "--threads", "--quiet"]),
        ("gallery", &["--reps", "--seed", "--threads", "--quiet"]),
    ] {
        let out = run(trialsim().args([command, "--help"]));
        assert_eq!(out.status, Some(0), "{out}");
        for flag in flags {
            assert!(
                out.stdout.contains(flag),
                "`{command}` has no {flag}: {out}"
            );
        }
    }
    // The same check, and the same words, for a bad --threads everywhere.
    for args in [
        vec!["power", SPEC],
        vec!["size", SPEC],
        vec!["sweep", SPEC, "--vary", "arm.treatment.employed=30%"],
        vec!["analyze", NSW, "--data", NSW_CSV],
    ] {
        let out = run(trialsim().args(&args).args(["--threads", "0"]));
        assert_eq!(out.status, Some(2), "{args:?}: {out}");
        assert!(
            out.stderr
                .contains("--threads must be between 1 and 1024, not 0"),
            "{args:?}: {out}"
        );
    }
}
