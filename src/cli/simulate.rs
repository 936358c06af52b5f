//! `trialsim simulate FILE --export CSV`: one simulated trial's participant table, in the shape
//! `trialsim analyze` reads.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::data::export;
use crate::sim::{SimOptions, Simulator, rng::replicate_rng};

/// Arguments of `trialsim simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// The spec file.
    pub(crate) file: PathBuf,
    /// Write the participant table of one replicate to this CSV (columns `id`, `arm`, `path`,
    /// covariates and outcomes, named after the model; `analyze` reads it back).
    #[arg(long, value_name = "CSV")]
    pub(crate) export: PathBuf,
    /// Master seed (the same as `power --seed`).
    #[arg(long, default_value_t = super::power::DEFAULT_SEED)]
    pub(crate) seed: u64,
    /// Which replicate of that seed's stream (replicate R of `power` with the same seed).
    #[arg(long, default_value_t = 0)]
    pub(crate) replicate: u64,
    /// Participants per arm, overriding the spec's sample.
    #[arg(long)]
    pub(crate) n_per_arm: Option<u32>,
}

/// Runs `trialsim simulate`.
pub(crate) fn run(args: SimulateArgs) -> ExitCode {
    let checked = match super::load_model(&args.file) {
        Ok(c) => c,
        Err(report) => {
            eprintln!("{report:?}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    super::print_warnings(&checked);
    let model = checked.model;
    let sim = match Simulator::new(
        &model,
        SimOptions {
            n_per_arm: args.n_per_arm,
            lean: false,
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    let mut worker = sim.worker();
    let mut rng = replicate_rng(args.seed, 0, args.replicate);
    sim.simulate(&mut worker, &mut rng);
    let file = match std::fs::File::create(&args.export) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot write `{}`: {e}", args.export.display());
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    if let Err(e) = export::write_csv(&model, &worker.table, file) {
        eprintln!("error: cannot write `{}`: {e}", args.export.display());
        return ExitCode::from(super::EXIT_USAGE);
    }
    eprintln!(
        "wrote {} participants (seed {}, replicate {}) to {}",
        worker.table.len(),
        args.seed,
        args.replicate,
        args.export.display()
    );
    ExitCode::SUCCESS
}
