//! `trialsim power FILE`: simulate the spec's trial and report power, flows and expectations.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::model::TrialModel;
use crate::power::{PowerSettings, run_power_until};

pub use super::common::{DEFAULT_SEED, Format, MAX_THREADS};

/// Flags of `trialsim power`.
#[derive(Debug, Args)]
pub struct PowerArgs {
    /// The trial spec (.trial).
    pub file: PathBuf,
    /// Participants per arm, overriding the spec's sample.
    #[arg(long = "n-per-arm", value_name = "N")]
    pub n_per_arm: Option<u32>,
    /// Monte Carlo replicates.
    #[arg(long, value_name = "R", default_value_t = 10_000)]
    pub reps: u64,
    /// Master seed; the same seed gives the same report on any machine and thread count.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// A belief about a parameter, for assurance beside power: PATH~uniform(LOW,HIGH),
    /// PATH~normal(MEAN,SD) or PATH~fixed(V), percentages allowed (repeatable; added to the
    /// spec's own `assume` statements).
    #[arg(long, value_name = "PATH~DIST")]
    pub assume: Vec<String>,
    /// Keep the planned arm sizes fixed in every replicate, whatever the assignment rule (the
    /// design's power at fixed sizes; by default a parity or blocked rule lets them vary).
    #[arg(long = "fixed-sizes")]
    pub fixed_sizes: bool,
    /// Also report each contrast's sample estimand: per replicate, the mean over its
    /// participants of their outcome under treatment minus under control (potential outcomes
    /// with common random numbers), and how often the interval covers it. About doubles the
    /// run; not defined with clusters or a queue for caseload slots.
    #[arg(long = "sample-estimand")]
    pub sample_estimand: bool,
    /// Sharding: `--shard I/N`, `--part FILE`, `--checkpoint-every SECONDS`.
    #[command(flatten)]
    pub shard: super::shard::ShardArgs,
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Runs `trialsim power`: 0 when every expectation holds, 1 when one fails, 2 on bad input.
pub fn run(args: PowerArgs) -> ExitCode {
    let settings = PowerSettings {
        seed: args.seed,
        replicates: args.reps,
        n_per_arm: args.n_per_arm,
        scenario: 0,
    };
    if let Err(e) = crate::power::validate(&settings) {
        return fail(&e.0);
    }
    if let Err(code) = super::common::check_threads(args.threads) {
        return code;
    }
    let checked = match super::load_model(&args.file) {
        Ok(checked) => checked,
        Err(report) => {
            eprintln!("{report:?}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    super::print_warnings(&checked);
    if args.fixed_sizes {
        let fixed = crate::sim::assignment::with_fixed_sizes(&checked.model);
        return run_model(&fixed, &args);
    }
    run_model(&checked.model, &args)
}

/// Runs `power` on a model already checked.
pub fn run_model(model: &TrialModel, args: &PowerArgs) -> ExitCode {
    let settings = PowerSettings {
        seed: args.seed,
        replicates: args.reps,
        n_per_arm: args.n_per_arm,
        scenario: 0,
    };
    let pool = match super::common::thread_pool(args.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bar = if !super::common::show_progress(args.quiet) {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(args.reps);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} simulating {pos}/{len} replicates [{bar:30}] {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    };
    // Shown only once a run takes over a second.
    let started = std::time::Instant::now();
    let progress = |done: u64| {
        if started.elapsed().as_secs_f64() > 1.0 {
            bar.set_position(done);
        }
    };
    // A shard is stopped by its ledger (which checkpoints), never half-way through a fold.
    let never = std::sync::atomic::AtomicBool::new(false);
    let cancel = if crate::shard::ledger().is_some() {
        &never
    } else {
        super::interrupt::flag()
    };
    let result = pool.install(|| run_power_until(model, &settings, &progress, cancel));
    bar.finish_and_clear();
    let mut report = match result {
        Ok(r) => r,
        Err(_) if cancel.load(std::sync::atomic::Ordering::Relaxed) => {
            eprintln!("interrupted before the first batch of replicates was done");
            return ExitCode::from(super::interrupt::EXIT_INTERRUPTED);
        }
        Err(e) => return fail(&e.0),
    };
    let mut assurance = None;
    if report.interrupted {
        eprintln!(
            "interrupted: {} of {} replicates done; the figures below are from those \
             (the first {} in order, as a run with --reps {} gives), with their Monte Carlo \
             standard errors; expectations and assurance not evaluated",
            report.replicates, args.reps, report.replicates, report.replicates
        );
    } else {
        assurance = match pool.install(|| {
            super::design::assurance_for_power(
                model,
                &args.assume,
                args.n_per_arm,
                args.seed,
                args.reps,
            )
        }) {
            Ok(a) => a,
            Err(code) => return code,
        };
        for (ai, a) in model.analyses.iter().enumerate() {
            if a.sequential.is_some() {
                match pool.install(|| crate::sequential::run_sequential(model, ai, &settings)) {
                    Ok(mut r) => {
                        if let Some(c) = report.analyses.get(ai).and_then(|x| x.contrasts.first()) {
                            r.set_truth(c.true_effect, c.true_effect_mc_se);
                        }
                        report.sequential.push(r);
                    }
                    Err(e) => return fail(&e.0),
                }
            }
        }
        if model.balance.stated {
            match pool.install(|| crate::imbalance::run_imbalance(model, &settings)) {
                Ok(r) => report.imbalance = Some(r),
                Err(e) => return fail(&e.0),
            }
        }
        match pool.install(|| crate::bounds::run_bounds(model, &settings, &report)) {
            Ok(b) => report.lee_bounds = b,
            Err(e) => return fail(&e.0),
        }
        match pool.install(|| crate::cace::run_compliers(model, &settings, &report)) {
            Ok(c) => report.compliers = c,
            Err(e) => return fail(&e.0),
        }
        if args.sample_estimand
            && let Err(e) =
                pool.install(|| crate::power::add_sample_estimands(model, &settings, &mut report))
        {
            return fail(&e.0);
        }
    }
    let out = match args.format {
        Format::Text => {
            let mut out = crate::report::power::text_with(&report, assurance.as_ref());
            if let Some(sizes) = &report.arm_sizes
                && let Some(verdict) =
                    crate::design::feasibility::pool_answer(model, sizes).verdict_text()
            {
                // The same verdict `trialsim feasibility` gives at these arm sizes.
                out.push_str(&format!("\nfunnel\n  {verdict}\n"));
            }
            out
        }
        Format::Json => crate::report::power::json_with(&report, assurance.as_ref()),
    };
    super::output::emit(&out);
    if report.interrupted {
        ExitCode::from(super::interrupt::EXIT_INTERRUPTED)
    } else if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
