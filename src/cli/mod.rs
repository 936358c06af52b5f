//! The command line: flags in, calls into the library, exit code out. Nothing else lives here.
//!
//! Exit codes: 0 success, 1 the spec (or data) has errors, 2 the command line was wrong (or an
//! output path was refused), 74 a write failed, 130/143 stopped by SIGINT/SIGTERM.

mod analyze;
mod check;
pub mod common;
pub mod design;
pub mod diag;
mod fmt;
mod gallery;
pub mod interrupt;
pub(crate) mod new;
pub mod output;
mod sequential;
pub mod shard;
mod simulate;
pub mod stages;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::check::Checked;
use crate::source::SourceFile;
pub mod power;
pub mod validate;

/// Design, simulate and analyse randomised pilots from one spec file.
#[derive(Debug, Parser)]
#[command(name = "trialsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented starting spec from a template (two-arm, almere, cluster, inflow).
    New(new::NewArgs),
    /// Check spec files and summarise the trial each describes.
    Check(check::Args),
    /// Simulate the trial and report power, bias, coverage, flows and expectations.
    Power(power::PowerArgs),
    /// Check the statistics against exact figures and reference values (exit 1 on any miss).
    Validate(validate::ValidateArgs),
    /// Render the gallery page of a set of specs (design, power, size needed, costs).
    Gallery(gallery::GalleryArgs),
    /// Find the smallest sample per arm (or clusters per arm) that reaches a target power.
    Size(design::SizeArgs),
    /// Find the minimum detectable effect: the value of a parameter at which power reaches the
    /// target, by simulation, with the closed forms beside it.
    Mde(design::MdeArgs),
    /// Power over a grid of parameter values (table; CSV, JSON and SVG with --out).
    Sweep(design::SweepArgs),
    /// Where the effect goes: the dilution waterfall, step by step, and the funnel's feasibility.
    Explain(design::ExplainArgs),
    /// Can the pool fill the design? Eligible pool, its spread, capacity and intake time.
    Feasibility(design::FeasibilityArgs),
    /// Write a Markdown design report with its figures, for a pre-registration.
    Report(design::ReportArgs),
    /// Run the spec's analysis plan on a participant CSV, with balance and an assumption audit.
    Analyze(analyze::AnalyzeArgs),
    /// Simulate one trial and export its participant table as CSV.
    Simulate(simulate::SimulateArgs),
    /// The stopping boundaries of every analysis with interim looks, with nominal and
    /// cumulative alpha per look.
    Boundaries(sequential::BoundariesArgs),
    /// Combine the part files of a sharded run (`--shard I/N`) into the report one process
    /// would have printed, byte for byte.
    Merge(shard::MergeArgs),
    /// Rewrite specs in the canonical layout (`--check`: show the diff and exit 1 instead).
    Fmt(fmt::Args),
    /// Run the language server on stdin and stdout, for editors (see docs/editing.md).
    Lsp,
}

/// Parses `args` and runs the chosen command; the exit code says whether it succeeded.
pub fn run<I>(args: I) -> ExitCode
where
    I: IntoIterator,
    I::Item: Into<OsString> + Clone,
{
    let raw: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&raw) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    install_diagnostic_handler();
    interrupt::install();
    let code = dispatch(cli.command, &raw);
    output::finish(code)
}

/// Runs a parsed command; `raw` is the command line it came from (a shard records it).
fn dispatch(command: Command, raw: &[OsString]) -> ExitCode {
    use shard::{Job, record};
    match command {
        Command::New(args) => new::run(&args),
        Command::Merge(args) => {
            shard::run_merge(&args, |recorded| match Cli::try_parse_from(&recorded) {
                Ok(cli) if !matches!(cli.command, Command::Merge(_)) => {
                    let raw: Vec<OsString> = recorded.iter().map(OsString::from).collect();
                    dispatch(cli.command, &raw)
                }
                Ok(_) => ExitCode::from(EXIT_USAGE),
                Err(err) => {
                    eprintln!(
                        "error: the parts record `trialsim {}`, which this trialsim does not \
                         accept: {err}",
                        recorded[1..].join(" ")
                    );
                    ExitCode::from(EXIT_USAGE)
                }
            })
        }
        Command::Power(args) if args.shard.shard.is_some() && args.sample_estimand => {
            eprintln!(
                "error: --sample-estimand cannot be sharded (it runs every replicate again with \
                 potential outcomes, outside the engine's folds); shard the run without it"
            );
            ExitCode::from(EXIT_USAGE)
        }
        Command::Power(args) => {
            let flags = args.shard.clone();
            let job = Job {
                flags: &flags,
                spec: Some(&args.file.clone()),
                seed: args.seed,
            };
            record(raw, &job, || power::run(args))
        }
        Command::Validate(args) => {
            let seed = args.seed.unwrap_or(crate::validate::Settings::FULL.seed);
            let job = Job {
                flags: &args.shard,
                spec: None,
                seed,
            };
            record(raw, &job, || validate::run_validate(&args))
        }
        Command::Sweep(mut args) => {
            let flags = args.shard.clone();
            let file = args.common.file.clone();
            let job = Job {
                flags: &flags,
                spec: Some(&file),
                seed: args.common.seed,
            };
            if flags.shard.is_some() {
                // A shard's figures would be meaningless: the merge writes them.
                args.out = None;
            }
            record(raw, &job, || design::run_sweep_command(args))
        }
        Command::Explain(mut args) => {
            let flags = args.shard.clone();
            let file = args.common.file.clone();
            let job = Job {
                flags: &flags,
                spec: Some(&file),
                seed: args.common.seed,
            };
            if flags.shard.is_some() {
                args.out = None;
            }
            record(raw, &job, || design::run_explain(args))
        }
        Command::Check(args) => check::run(&args),
        Command::Gallery(args) => gallery::run(&args),
        Command::Size(args) => design::run_size(args),
        Command::Mde(args) => design::run_mde(args),
        Command::Feasibility(args) => design::run_feasibility(args),
        Command::Report(args) => design::run_report(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Boundaries(args) => sequential::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Lsp => crate::lsp::run(),
    }
}

/// Exit code for a spec or data error.
pub const EXIT_SPEC_ERROR: u8 = 1;
/// Exit code for a usage error.
pub const EXIT_USAGE: u8 = 2;

/// Configures how diagnostics are drawn, from the environment and not from guesses: colour only
/// on a terminal and never with `NO_COLOR`; a fixed width of 100 columns (or `COLUMNS`) when
/// stderr is not a terminal, so that output is reproducible. Every report goes through
/// [`diag::SafeHandler`], which draws any line length and caps the list of errors.
pub fn install_diagnostic_handler() {
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = terminal && !no_color;
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| (40..=400).contains(w));
    let _ = miette::set_hook(Box::new(move |_| {
        let mut opts = miette::MietteHandlerOpts::new()
            .terminal_links(false)
            .color(color)
            .unicode(true);
        if !terminal {
            opts = opts.width(width.unwrap_or(100));
        } else if let Some(w) = width {
            opts = opts.width(w);
        }
        Box::new(diag::SafeHandler(Box::new(opts.build())))
    }));
}

/// Reads and checks a spec: what every subcommand that takes a spec starts with. The error is
/// ready to print (`eprintln!("{err:?}")`) and names the file.
pub fn load_model(path: impl AsRef<Path>) -> Result<Checked, miette::Report> {
    // A shard runs on the text it hashed, a merge on the text the parts carry.
    let source = match shard::spec_override(path.as_ref()) {
        Some(source) => source,
        None => SourceFile::read(path)?,
    };
    Ok(crate::check::compile(&source)?)
}

/// Prints a checked spec's warnings to stderr.
pub fn print_warnings(checked: &Checked) {
    for w in &checked.warnings {
        eprintln!("{:?}", miette::Report::new(w.clone()));
    }
}
