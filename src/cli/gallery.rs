//! `trialsim gallery PATH...`: the gallery page of a set of specs (see [`crate::gallery`]).

use std::process::ExitCode;

use clap::Args;

use crate::gallery::{GallerySettings, page};

/// Flags of `trialsim gallery`.
#[derive(Debug, Args)]
pub(super) struct GalleryArgs {
    /// Spec files, or directories whose `.trial` files are taken in name order.
    #[arg(required = true)]
    pub(super) inputs: Vec<String>,
    /// Write the page here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(super) out: Option<String>,
    /// Monte Carlo replicates per simulation.
    #[arg(long, value_name = "R", default_value_t = GallerySettings::default().replicates)]
    pub(super) reps: u64,
    /// Master seed.
    #[arg(long, value_name = "S", default_value_t = GallerySettings::default().seed)]
    pub(super) seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub(super) threads: Option<usize>,
    /// No progress on stderr (it is shown only on a terminal anyway).
    #[arg(long)]
    pub(super) quiet: bool,
    /// Do not write: exit 1 when the page at `--out` differs from the one generated.
    #[arg(long, requires = "out")]
    pub(super) check: bool,
    /// Replace the page at `--out` if it exists (never one of the specs).
    #[arg(long, requires = "out")]
    pub(super) force: bool,
    #[command(flatten)]
    pub(super) shard: super::shard::NoShard,
}

/// Every spec a gallery reads: the files given, and the `.trial` files of the directories.
fn input_files(inputs: &[String]) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for i in inputs {
        let path = std::path::PathBuf::from(i);
        match std::fs::read_dir(&path) {
            Ok(entries) => files.extend(entries.filter_map(|e| e.ok().map(|e| e.path()))),
            Err(_) => files.push(path),
        }
    }
    files
}

fn fail(code: u8, msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(code)
}

/// Runs `trialsim gallery`: 0 on success, 1 on a spec error or a stale page, 2 on bad flags.
pub(super) fn run(args: &GalleryArgs) -> ExitCode {
    if let Some(code) = args.shard.refuse("gallery") {
        return code;
    }
    if let Err(code) = super::common::check_reps(args.reps, 1) {
        return code;
    }
    let pool = match super::common::thread_pool(args.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let target = match (&args.out, args.check) {
        (Some(out), false) => {
            let inputs = input_files(&args.inputs);
            let inputs: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
            match super::output::check_target("--out", out.as_ref(), &inputs, args.force) {
                Ok(t) => Some(t),
                Err(e) => return e.report(),
            }
        }
        _ => None,
    };
    let g = GallerySettings {
        seed: args.seed,
        replicates: args.reps,
        ..GallerySettings::default()
    };
    let spinner = super::common::spinner(args.quiet, "simulating the gallery's specs");
    let text = pool.install(|| page(&args.inputs, args.out.as_deref(), &g));
    spinner.finish_and_clear();
    let text = match text {
        Ok(t) => t,
        Err(e) => return fail(super::EXIT_SPEC_ERROR, &e),
    };
    match (&args.out, args.check) {
        (Some(out), true) => match std::fs::read_to_string(out) {
            Ok(old) if old == text => ExitCode::SUCCESS,
            Ok(_) => fail(
                super::EXIT_SPEC_ERROR,
                &format!("{out} is stale; regenerate it without --check"),
            ),
            Err(e) => fail(super::EXIT_SPEC_ERROR, &format!("cannot read {out}: {e}")),
        },
        (Some(_), false) => match target.map(|t| super::output::write_text(&t.path, &text)) {
            Some(Err(e)) => e.report(),
            _ => ExitCode::SUCCESS,
        },
        (None, _) => {
            super::output::emit(&text);
            ExitCode::SUCCESS
        }
    }
}
