//! `trialsim simulate FILE --export CSV`: one simulated trial's participant table, in the shape
//! `trialsim analyze` reads.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::output;
use crate::data::export;
use crate::sim::{SimOptions, Simulator, rng::replicate_rng};

/// Arguments of `trialsim simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// The spec file.
    pub(crate) file: PathBuf,
    /// Write the participant table of one replicate to this CSV, in the shape `analyze` reads
    /// back: the spec's `data` section (its column names, arm and path values, delimiter and
    /// decimal mark, flow columns, and one hours column per month 0..=follow-up when it maps
    /// `monthly_hours`), or without one, columns named after the model (`id`, `arm`, `path`,
    /// covariates, outcomes, flows).
    #[arg(long, value_name = "CSV")]
    pub(crate) export: PathBuf,
    /// Name the columns after the model even when the spec has a `data` section.
    #[arg(long)]
    pub(crate) model_columns: bool,
    /// Master seed (the same as `power --seed`).
    #[arg(long, default_value_t = super::common::DEFAULT_SEED)]
    pub(crate) seed: u64,
    /// Which replicate of that seed's stream (replicate R of `power` with the same seed).
    #[arg(long, default_value_t = 0)]
    pub(crate) replicate: u64,
    /// Participants per arm, overriding the spec's sample.
    #[arg(long)]
    pub(crate) n_per_arm: Option<u32>,
    /// Keep the planned arm sizes (as `power --fixed-sizes`): the sample's sizes exactly,
    /// whatever the assignment rule.
    #[arg(long = "fixed-sizes")]
    pub(crate) fixed_sizes: bool,
    /// Also write every participant's outcomes under every arm to this CSV (`id`, then
    /// `OUTCOME@ARM` per outcome and arm, then `received@ARM`: 1 when they would receive the
    /// programme, the first analysis' treatment arm's process, under that arm), drawn with
    /// common random numbers: the same replicate,
    /// each counterfactual from the generator's state before that participant's own draws. Not
    /// defined with clusters or a queue for caseload slots.
    #[arg(long = "potential-outcomes", value_name = "CSV")]
    pub(crate) potential_outcomes: Option<PathBuf>,
    /// Replace the CSV files if they exist (never the spec).
    #[arg(long)]
    pub(crate) force: bool,
}

/// Runs `trialsim simulate`.
pub(crate) fn run(args: SimulateArgs) -> ExitCode {
    // Writing stops between rows on Ctrl-C and leaves no file behind.
    let _ = super::interrupt::flag();
    // Both paths are checked before anything is simulated or written.
    let export = match output::check_target("--export", &args.export, &[&args.file], args.force) {
        Ok(t) => t,
        Err(e) => return e.report(),
    };
    let potential = match &args.potential_outcomes {
        Some(p) => {
            match output::check_target(
                "--potential-outcomes",
                p,
                &[&args.file, &args.export],
                args.force,
            ) {
                Ok(t) => Some(t),
                Err(e) => return e.report(),
            }
        }
        None => None,
    };
    let checked = match super::load_model(&args.file) {
        Ok(c) => c,
        Err(report) => {
            eprintln!("{report:?}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    super::print_warnings(&checked);
    let model = if args.fixed_sizes {
        crate::sim::assignment::with_fixed_sizes(&checked.model)
    } else {
        checked.model
    };
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
    let mapping = match &model.data {
        Some(m) if !args.model_columns => m.clone(),
        _ => export::default_mapping(&model),
    };
    // Hours per month only when the file needs them: never in the power loop.
    let mut hours = export::MonthlyHours::default();
    if mapping.monthly_hours.is_some() {
        sim.simulate_with_hours(&mut worker, &mut rng, &mut hours);
    } else {
        sim.simulate(&mut worker, &mut rng);
    }
    if let Some(target) = &potential {
        // The same replicate again, with every participant's counterfactuals beside it.
        let mut with = sim.worker();
        let mut rng = replicate_rng(args.seed, 0, args.replicate);
        if let Err(e) = sim.simulate_potential(&mut with, &mut rng) {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
        let written = output::write_file_atomic(&target.path, |f| {
            write_potential_outcomes(&sim, &with, output::Interruptible(f))
        });
        if let Err(e) = written {
            return e.report();
        }
    }
    let written = output::write_file_atomic(&export.path, |f| {
        export::write_mapped(
            &model,
            &mapping,
            &worker.table,
            mapping.monthly_hours.is_some().then_some(&hours),
            output::Interruptible(f),
        )
    });
    if let Err(e) = written {
        return e.report();
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

/// `id`, then `OUTCOME@ARM` for every outcome and arm (model order; missing values empty), then
/// `received@ARM` (0/1).
fn write_potential_outcomes<W: std::io::Write>(
    sim: &Simulator<'_>,
    w: &crate::sim::Worker,
    mut out: W,
) -> std::io::Result<()> {
    let model = sim.model();
    let mut header = vec!["id".to_string()];
    for o in &model.outcomes {
        for a in &model.arms {
            header.push(format!("{}@{}", o.name, a.name));
        }
    }
    for a in &model.arms {
        header.push(format!("received@{}", a.name));
    }
    writeln!(out, "{}", header.join(","))?;
    for i in 0..w.table.len() {
        let mut row = vec![w.table.id.get(i).copied().unwrap_or(0).to_string()];
        for o in 0..model.outcomes.len() {
            for a in 0..model.arms.len() {
                let y = sim.potential_outcome(w, i, o, a);
                row.push(if y.is_finite() {
                    y.to_string()
                } else {
                    String::new()
                });
            }
        }
        for a in 0..model.arms.len() {
            row.push(u8::from(sim.potential_receipt(w, i, a)).to_string());
        }
        writeln!(out, "{}", row.join(","))?;
    }
    out.flush()
}
