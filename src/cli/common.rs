//! What every simulating command shares, so that a flag means the same everywhere: `--reps`,
//! `--seed`, `--threads`, `--quiet` and `--format`, checked by the same functions, and the
//! progress shown on a terminal.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::ValueEnum;

/// Default master seed (the year the Almere pilot started).
pub const DEFAULT_SEED: u64 = 2017;

/// Most worker threads accepted by `--threads`.
pub const MAX_THREADS: usize = 1024;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON with stable keys (see the README).
    Json,
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(super::EXIT_USAGE)
}

/// Checks `--reps`: at least `min` (1 for most commands; 0 where it means "skip") and at most
/// the engine's limit.
pub fn check_reps(reps: u64, min: u64) -> Result<(), ExitCode> {
    let max = crate::power::MAX_REPLICATES;
    if reps < min || reps > max {
        return Err(usage(&format!(
            "--reps must be between {min} and {max}, not {reps}"
        )));
    }
    Ok(())
}

/// Checks `--threads`: 1 to [`MAX_THREADS`].
pub fn check_threads(threads: Option<usize>) -> Result<(), ExitCode> {
    if let Some(t) = threads
        && !(1..=MAX_THREADS).contains(&t)
    {
        return Err(usage(&format!(
            "--threads must be between 1 and {MAX_THREADS}, not {t}"
        )));
    }
    Ok(())
}

/// The worker threads of `--threads` (default: all cores), checked the same way everywhere.
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExitCode> {
    check_threads(threads)?;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    builder
        .build()
        .map_err(|e| usage(&format!("cannot start worker threads: {e}")))
}

/// Whether progress is drawn: on a terminal (stderr) and without `--quiet`.
pub fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A spinner on stderr with `message` while a long step runs; hidden with `--quiet` or off a
/// terminal.
pub fn spinner(quiet: bool, message: &str) -> indicatif::ProgressBar {
    if !show_progress(quiet) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar on stderr counting `len` steps named `what`; hidden with `--quiet` or off a terminal.
pub fn progress_bar(quiet: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !show_progress(quiet) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
