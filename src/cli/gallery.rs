//! `trialsim gallery PATH...`: the gallery page of a set of specs (see [`crate::gallery`]).

use std::process::ExitCode;

use clap::Args;

use crate::gallery::{GallerySettings, page};
use crate::power::MAX_REPLICATES;

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
    /// Do not write: exit 1 when the page at `--out` differs from the one generated.
    #[arg(long, requires = "out")]
    pub(super) check: bool,
    #[command(flatten)]
    pub(super) shard: super::shard::NoShard,
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
    if args.reps == 0 || args.reps > MAX_REPLICATES {
        return fail(
            super::EXIT_USAGE,
            &format!("--reps must be between 1 and {MAX_REPLICATES}"),
        );
    }
    let g = GallerySettings {
        seed: args.seed,
        replicates: args.reps,
        ..GallerySettings::default()
    };
    let text = match page(&args.inputs, args.out.as_deref(), &g) {
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
        (Some(out), false) => match std::fs::write(out, &text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(super::EXIT_SPEC_ERROR, &format!("cannot write {out}: {e}")),
        },
        (None, _) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}
