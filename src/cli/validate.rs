//! `trialsim validate [--quick]`: the statistical validation suite (see [`crate::validate`]).

use std::process::ExitCode;

use clap::Args;

use super::common::Format;
use crate::validate::{Settings, run, text};

/// Flags of `trialsim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// 2,000 replicates per design instead of 20,000 (seconds instead of a minute or two).
    #[arg(long)]
    pub quick: bool,
    /// Replicates per design (overrides --quick).
    #[arg(long, value_name = "R")]
    pub reps: Option<u64>,
    /// Master seed.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Sharding: `--shard I/N`, `--part FILE`, `--checkpoint-every SECONDS`.
    #[command(flatten)]
    pub shard: super::shard::ShardArgs,
}

/// Runs the suite: exit 0 when every check passes, 1 on any miss, 2 on bad flags.
pub fn run_validate(args: &ValidateArgs) -> ExitCode {
    let mut settings = if args.quick {
        Settings::QUICK
    } else {
        Settings::FULL
    };
    if let Some(r) = args.reps {
        if !(100..=10_000_000).contains(&r) {
            eprintln!("error: --reps must be between 100 and 10000000, not {r}");
            return ExitCode::from(super::EXIT_USAGE);
        }
        settings.replicates = r;
    }
    if let Some(s) = args.seed {
        settings.seed = s;
    }
    let pool = match super::common::thread_pool(args.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let quiet = args.quiet;
    let progress = move |name: &str| {
        if !quiet {
            eprintln!("validating: {name}");
        }
    };
    let summary = match pool.install(|| run(settings, &progress)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match args.format {
        Format::Text => super::output::emit(&text(&summary)),
        Format::Json => match serde_json::to_string_pretty(&summary) {
            Ok(j) => super::output::emit(&format!("{j}\n")),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
    }
    if summary.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
