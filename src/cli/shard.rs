//! `--shard I/N` on `power`, `sweep`, `explain` and `validate`, and `trialsim merge`: the command
//! line of [`crate::shard`].
//!
//! A shard runs the command as usual with a recording [`Ledger`]: its own chunks computed, the
//! others filled in, and stdout sent nowhere (the report of a shard means nothing); then it
//! writes its part. SIGTERM (a scheduler's preemption or time limit) and Ctrl-C go to the one
//! handler of [`super::interrupt`]: the shard stops computing, writes a checkpoint of what it has
//! and exits 130; run again, it resumes from the checkpoint. `merge` checks the parts
//! ([`crate::shard::merge::gather`]), runs the recorded command again with a replaying ledger,
//! and prints what it printed.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Args;

use super::common::Format;
use crate::shard::file::{Part, ShardId, SpecCopy};
use crate::shard::{CheckpointPlan, Ledger, Mode, install, parse_shard};
use crate::source::SourceFile;

/// Default seconds between two checkpoints of a shard.
pub const DEFAULT_CHECKPOINT_SECONDS: u64 = 60;

/// Flags of a command that can run as one shard of many.
#[derive(Debug, Clone, Default, Args)]
pub struct ShardArgs {
    /// Run only shard I of N (counting from 0) and write its part file instead of the report;
    /// `trialsim merge` turns the N parts into the report, byte for byte.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The part file this shard writes (default: part-I-of-N.json).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub part: Option<PathBuf>,
    /// Seconds between two checkpoints of a shard (FILE.checkpoint); 0 checkpoints only when
    /// stopped by SIGTERM or Ctrl-C.
    #[arg(long = "checkpoint-every", value_name = "SECONDS", requires = "shard")]
    pub checkpoint_every: Option<u64>,
}

/// `--shard` on a command that cannot be sharded: accepted by the parser only to be refused with
/// the reason.
#[derive(Debug, Clone, Default, Args)]
pub struct NoShard {
    /// Not supported by this command (see `trialsim merge --help`).
    #[arg(long, value_name = "I/N", hide = true)]
    pub shard: Option<String>,
}

impl NoShard {
    /// Refuses `--shard` on `command`, saying why and what to do instead.
    pub fn refuse(&self, command: &str) -> Option<ExitCode> {
        self.shard.as_ref()?;
        let why = match command {
            "size" | "mde" => {
                "its search chooses each next evaluation from the last one's result, so its work \
                 cannot be split ahead; shard the evaluations instead: `trialsim sweep --vary \
                 n_per_arm=... --shard I/N` over a fixed grid, or `trialsim power --n-per-arm N \
                 --shard I/N` at one size"
            }
            _ => {
                "it runs a sample-size search (`size`), whose next step depends on the last; \
                 run its sharded parts (`power`, `sweep`, `explain`) as separate sharded commands"
            }
        };
        eprintln!("error: `trialsim {command}` does not take --shard: {why}");
        Some(ExitCode::from(super::EXIT_USAGE))
    }
}

/// `trialsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The part files of every shard of one run, in any order.
    #[arg(value_name = "PARTS", required = true)]
    pub parts: Vec<PathBuf>,
    /// Output format (default: the format the shards were run with).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads for what the merge computes itself (default: all cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
}

/// The spec text a shard or a merge runs on, under the name the command was given.
static SPEC: OnceLock<SourceFile> = OnceLock::new();

/// The spec to use for `path` instead of reading it: the text the shard hashed, or the text
/// the parts carry.
pub fn spec_override(path: &Path) -> Option<SourceFile> {
    SPEC.get()
        .filter(|s| s.name == path.display().to_string())
        .cloned()
}

fn error(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// The command's arguments after `trialsim`, less those that say only how to run it.
fn canonical(raw: &[OsString]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut args = raw.iter().skip(1);
    while let Some(a) = args.next() {
        let a = a
            .to_str()
            .ok_or_else(|| format!("the argument {a:?} is not UTF-8 text"))?;
        let (flag, inline) = match a.split_once('=') {
            Some((f, _)) if f.starts_with("--") => (f, true),
            _ => (a, false),
        };
        match flag {
            "--shard" | "--part" | "--checkpoint-every" | "--threads" => {
                if !inline {
                    args.next();
                }
            }
            "--quiet" => {}
            _ => out.push(a.to_string()),
        }
    }
    Ok(out)
}

/// Stdout sent to another file until dropped.
#[cfg(unix)]
struct Redirect {
    saved: i32,
}

#[cfg(unix)]
impl Redirect {
    fn to(file: &std::fs::File) -> Result<Self, String> {
        use std::os::fd::AsRawFd as _;
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor calls on descriptors this process owns; stdout's buffer was
        // flushed first, so no byte goes to the wrong file.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 {
            return Err("cannot set stdout aside".into());
        }
        // SAFETY: as above.
        if unsafe { libc::dup2(file.as_raw_fd(), 1) } < 0 {
            // SAFETY: `saved` is the descriptor just duplicated.
            unsafe { libc::close(saved) };
            return Err("cannot redirect stdout".into());
        }
        Ok(Self { saved })
    }
}

#[cfg(unix)]
impl Drop for Redirect {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: restores the descriptor saved in `to` and closes the copy.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}

/// Runs `run` with stdout going to `file`.
#[cfg(unix)]
fn with_stdout_to(
    file: &std::fs::File,
    run: impl FnOnce() -> ExitCode,
) -> Result<ExitCode, String> {
    let redirect = Redirect::to(file)?;
    let code = run();
    drop(redirect);
    Ok(code)
}

#[cfg(not(unix))]
fn with_stdout_to(
    _file: &std::fs::File,
    _run: impl FnOnce() -> ExitCode,
) -> Result<ExitCode, String> {
    Err("sharded runs need a Unix system (Linux, macOS)".into())
}

/// What a sharded command tells [`record`] about itself.
#[derive(Debug)]
pub struct Job<'a> {
    /// Its `--shard`, `--part` and `--checkpoint-every`.
    pub flags: &'a ShardArgs,
    /// The spec it reads, if any.
    pub spec: Option<&'a Path>,
    /// Its master seed.
    pub seed: u64,
}

/// Runs one shard of a command: `run` runs the command (its stdout is discarded); the shard's
/// chunks go to its part file.
pub fn record(raw: &[OsString], job: &Job<'_>, run: impl FnOnce() -> ExitCode) -> ExitCode {
    let Some(text) = &job.flags.shard else {
        return run();
    };
    let (index, count) = match parse_shard(text) {
        Ok(s) => s,
        Err(e) => return error(format!("--shard {e}"), super::EXIT_USAGE),
    };
    let command = match canonical(raw) {
        Ok(c) => c,
        Err(e) => return error(e, super::EXIT_USAGE),
    };
    let spec = match job.spec {
        Some(path) => match SourceFile::read(path) {
            Ok(source) => {
                let copy = SpecCopy::new(source.name.clone(), source.text.to_string());
                let _ = SPEC.set(source);
                Some(copy)
            }
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return ExitCode::from(super::EXIT_SPEC_ERROR);
            }
        },
        None => None,
    };
    let part_path = job
        .flags
        .part
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("part-{index}-of-{count}.json")));
    let checkpoint_path = PathBuf::from(format!("{}.checkpoint", part_path.display()));
    let shard = ShardId { index, count };
    let seed = job.seed;
    // Resume from a checkpoint of this very shard, or refuse one of another run.
    let mut resumed = std::collections::BTreeMap::new();
    if checkpoint_path.exists() {
        let cp = match Part::read(&checkpoint_path) {
            Ok(cp) => cp,
            Err(e) => {
                return error(
                    format!(
                        "{}: {e}; delete it to start this shard afresh",
                        checkpoint_path.display()
                    ),
                    super::EXIT_SPEC_ERROR,
                );
            }
        };
        let same = !cp.complete
            && cp.command == command
            && cp.spec.as_ref().map(|s| &s.hash) == spec.as_ref().map(|s| &s.hash)
            && cp.shard == shard
            && cp.seed == seed;
        if !same {
            return error(
                format!(
                    "{} is a checkpoint of another run (its command, spec, seed or shard \
                     differ from this one's); delete it to start this shard afresh",
                    checkpoint_path.display()
                ),
                super::EXIT_SPEC_ERROR,
            );
        }
        resumed = cp.chunk_words().unwrap_or_default();
        eprintln!(
            "shard {index}/{count}: resuming from {} ({} chunks done)",
            checkpoint_path.display(),
            resumed.len()
        );
    }
    let every = job
        .flags
        .checkpoint_every
        .unwrap_or(DEFAULT_CHECKPOINT_SECONDS);
    let checkpoint = {
        let (command, spec, path) = (command.clone(), spec.clone(), checkpoint_path.clone());
        move |ledger: &Ledger| {
            Part::new(
                false,
                command.clone(),
                spec.clone(),
                seed,
                shard,
                ledger.folds(),
                &ledger.chunks(),
            )
            .write(&path)
        }
    };
    let plan = (every > 0).then(|| CheckpointPlan {
        every: Duration::from_secs(every),
        write: Box::new(checkpoint.clone()),
    });
    let stop = super::interrupt::flag();
    let ledger = match install(Ledger::new(
        Mode::Record { index, count },
        resumed,
        stop,
        plan,
    )) {
        Ok(l) => l,
        Err(e) => return error(e, super::EXIT_USAGE),
    };
    let sink = match std::fs::OpenOptions::new().write(true).open(null_device()) {
        Ok(f) => f,
        Err(e) => return error(format!("cannot open {}: {e}", null_device()), 2),
    };
    let code = match with_stdout_to(&sink, run) {
        Ok(c) => c,
        Err(e) => return error(e, super::EXIT_USAGE),
    };
    let folds = ledger.folds();
    let total: u64 = folds.last().map_or(0, |f| f.first + f.chunks);
    let chunks = ledger.chunks();
    let own = (index..total)
        .step_by(usize::try_from(count).unwrap_or(usize::MAX))
        .count();
    if ledger.stopped() {
        return match checkpoint(ledger) {
            Ok(()) => {
                eprintln!(
                    "interrupted: shard {index}/{count} has {} of its {own} chunks ({} computed \
                     in this run); checkpoint written to {}; run the same command again to \
                     resume",
                    chunks.len(),
                    ledger.computed(),
                    checkpoint_path.display()
                );
                ExitCode::from(super::interrupt::exit_code())
            }
            Err(e) => error(
                format!("interrupted, and the checkpoint could not be written: {e}"),
                super::interrupt::exit_code(),
            ),
        };
    }
    if folds.is_empty() && code != ExitCode::SUCCESS {
        // The command failed before any simulation (its error is on stderr).
        return code;
    }
    if code == ExitCode::from(super::EXIT_USAGE) {
        return code;
    }
    if let Some(e) = ledger.error() {
        return error(e, super::EXIT_SPEC_ERROR);
    }
    if chunks.len() != own {
        return error(
            format!(
                "shard {index}/{count} finished with {} of its {own} chunks",
                chunks.len()
            ),
            super::EXIT_SPEC_ERROR,
        );
    }
    let part = Part::new(true, command, spec, seed, shard, folds, &chunks);
    if let Err(e) = part.write(&part_path) {
        return error(e, super::EXIT_USAGE);
    }
    let _ = std::fs::remove_file(&checkpoint_path);
    eprintln!(
        "shard {index}/{count}: {own} of {total} chunks written to {}",
        part_path.display()
    );
    ExitCode::SUCCESS
}

fn null_device() -> &'static str {
    if cfg!(windows) { "NUL" } else { "/dev/null" }
}

/// Never set: a merge is not interrupted half-way (it computes no chunk).
static NEVER: AtomicBool = AtomicBool::new(false);

/// Runs `trialsim merge`: checks the parts, runs the recorded command with their chunks, and
/// prints (or writes to `--out`) exactly what the command would have printed in one process.
pub fn run_merge(args: &MergeArgs, dispatch: impl FnOnce(Vec<String>) -> ExitCode) -> ExitCode {
    let whole = match crate::shard::merge::gather(&args.parts) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}\n  help: nothing was merged");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    let mut command: Vec<String> = vec!["trialsim".into()];
    let mut recorded = whole.command.iter();
    while let Some(a) = recorded.next() {
        if args.format.is_some() && (a == "--format" || a.starts_with("--format=")) {
            if a == "--format" {
                recorded.next();
            }
            continue;
        }
        command.push(a.clone());
    }
    if let Some(f) = args.format {
        command.push("--format".into());
        command.push(
            match f {
                Format::Text => "text",
                Format::Json => "json",
            }
            .into(),
        );
    }
    // The merge's own progress would mean nothing.
    if matches!(
        whole.command.first().map(String::as_str),
        Some("power" | "validate")
    ) {
        command.push("--quiet".into());
    }
    if let Some(t) = args.threads {
        command.push("--threads".into());
        command.push(t.to_string());
    }
    if let Some(spec) = &whole.spec {
        let _ = SPEC.set(SourceFile::new(spec.name.clone(), spec.text.clone()));
    }
    let ledger = match install(Ledger::new(Mode::Replay, whole.chunks, &NEVER, None)) {
        Ok(l) => l,
        Err(e) => return error(e, super::EXIT_USAGE),
    };
    let scratch = std::env::temp_dir().join(format!(
        "trialsim-merge-{}-{}.out",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&scratch)
    {
        Ok(f) => f,
        Err(e) => return error(format!("cannot create {}: {e}", scratch.display()), 2),
    };
    let result = with_stdout_to(&file, || dispatch(command));
    drop(file);
    let bytes = std::fs::read(&scratch);
    let _ = std::fs::remove_file(&scratch);
    let code = match result {
        Ok(c) => c,
        Err(e) => return error(e, super::EXIT_USAGE),
    };
    if let Some(e) = ledger.error() {
        return error(format!("{e}; nothing was merged"), super::EXIT_SPEC_ERROR);
    }
    if ledger.folds() != whole.folds {
        return error(
            "the parts' table of folds is not the command's (were they written by another \
             build?); nothing was merged",
            super::EXIT_SPEC_ERROR,
        );
    }
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return error(format!("cannot read the merged report back: {e}"), 2),
    };
    let written = match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| e.to_string())
        }
    };
    if let Err(e) = written {
        return error(e, super::EXIT_USAGE);
    }
    let _ = whole.count;
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_command_drops_only_how_to_run_it() {
        let raw: Vec<OsString> = [
            "trialsim",
            "power",
            "x.trial",
            "--shard",
            "1/4",
            "--reps=100",
            "--threads",
            "2",
            "--part=p.json",
            "--quiet",
            "--checkpoint-every",
            "5",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        assert_eq!(
            canonical(&raw).unwrap(),
            vec!["power", "x.trial", "--reps=100"]
        );
    }
}
