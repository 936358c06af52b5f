//! The command line: flags in, calls into the library, exit code out. Nothing else lives here.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod power;

/// Design, simulate and analyse randomised pilots from one spec file.
#[derive(Debug, Parser)]
#[command(name = "trialsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate the trial and report power, bias, coverage, flows and expectations.
    Power(power::PowerArgs),
}

/// Parses `args` and runs the chosen command; the exit code says whether it succeeded.
pub fn run<I>(args: I) -> ExitCode
where
    I: IntoIterator,
    I::Item: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Power(args) => power::run(args),
    }
}

/// Reads and checks a spec, printing diagnostics; the exit code on failure.
fn load_model(path: &std::path::Path) -> Result<crate::model::TrialModel, ExitCode> {
    eprintln!(
        "error: cannot read {}: the spec language is not available in this build",
        path.display()
    );
    Err(ExitCode::from(2))
}
