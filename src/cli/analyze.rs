//! `trialsim analyze FILE --data CSV`: the spec's analysis plan on real participant data.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::output;
use crate::data;
use crate::report::analysis as report;

/// Output format of the analysis report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned plain text.
    Text,
    /// The JSON report (the same as `--snapshot` writes).
    Json,
    /// Markdown tables.
    Markdown,
}

/// Arguments of `trialsim analyze`.
#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// The spec file. Its `data { ... }` section maps the CSV's columns; without one, columns are
    /// named after the model (`id`, `arm`, `path`, covariates, outcomes), as `simulate --export` writes.
    pub(crate) file: PathBuf,
    /// The participant CSV.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Also write the JSON report to this file, replacing it if it exists (that is what a
    /// snapshot is for); never written over the spec or the data.
    #[arg(long, value_name = "OUT")]
    pub(crate) snapshot: Option<PathBuf>,
    /// Compare with the JSON report in this file; exit 1 and show what changed if it differs.
    #[arg(long, value_name = "OUT", conflicts_with = "snapshot")]
    pub(crate) check: Option<PathBuf>,
    /// Monte Carlo replicates for re-simulating the power the trial really had (0 skips it).
    #[arg(long, value_name = "R", default_value_t = 1000, alias = "replicates")]
    pub(crate) reps: u64,
    /// Master seed of that simulation.
    #[arg(long, value_name = "S", default_value_t = super::common::DEFAULT_SEED)]
    pub(crate) seed: u64,
    /// Run the interim-look plan at look K (from 1): the data are what was observed by then.
    /// Says whether a boundary is crossed, with the repeated confidence interval and, when the
    /// trial stops, the stage-wise adjusted p-value, median-unbiased estimate and final CI.
    #[arg(long, value_name = "K")]
    pub(crate) look: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub(crate) threads: Option<usize>,
    /// No progress on stderr (it is shown only on a terminal anyway).
    #[arg(long)]
    pub(crate) quiet: bool,
}

/// Runs `trialsim analyze`. Exit codes: 0 done (and unchanged, with `--check`); 1 bad spec or
/// data, or a changed report under `--check`; 2 unreadable files or a bad flag.
pub(crate) fn run(args: AnalyzeArgs) -> ExitCode {
    let snapshot = match &args.snapshot {
        Some(p) => match output::check_target("--snapshot", p, &[&args.file, &args.data], true) {
            Ok(t) => Some(t),
            Err(e) => return e.report(),
        },
        None => None,
    };
    if let Err(code) = super::common::check_reps(args.reps, 0) {
        return code;
    }
    let pool = match super::common::thread_pool(args.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let checked = match super::load_model(&args.file) {
        Ok(c) => c,
        Err(report) => {
            eprintln!("{report:?}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    super::print_warnings(&checked);
    let model_sha256 = crate::fingerprint::model_sha256(&checked.model);
    let mut model = checked.model;
    // An exported cluster design carries its clusters in the `cluster` column.
    if model.data.is_none()
        && let Some(c) = &mut model.delivery.clusters
        && c.data_column.is_none()
    {
        c.data_column = Some(crate::data::export::CLUSTER_COLUMN.to_owned());
    }
    // Without a data section, the columns are named after the model (the export's shape).
    let mapping = model
        .data
        .clone()
        .unwrap_or_else(|| data::export::default_mapping(&model));
    let data_name = args.data.display().to_string();
    // Read once: the bytes are both hashed (the snapshot's identity of the data) and parsed.
    let bytes = match std::fs::read(&args.data) {
        Ok(b) => b,
        Err(e) => {
            let err = data::DataError::new(
                data::DataErrorKind::Io,
                format!("cannot read data file `{data_name}`: {e}"),
            )
            .with_help("check the path given to --data");
            return data_failure(err, args.format);
        }
    };
    let inputs = report::Inputs {
        spec: crate::fingerprint::name_relative_to_spec(&args.file, &args.file),
        model_sha256,
        data: crate::fingerprint::name_relative_to_spec(&args.file, &args.data),
        data_sha256: crate::fingerprint::sha256_hex(&bytes),
    };
    let loaded = match data::load(&model, &mapping, &data_name, std::io::Cursor::new(bytes)) {
        Ok(l) => l,
        Err(e) => return data_failure(e, args.format),
    };
    let mut report = super::stages::analysis_report(&model, &data_name, inputs, &loaded);
    if args.reps > 0 {
        // A bar, not a spinner: on a large trial with many analyses this pass is the slow
        // part of `analyze` (`--replicates 0` skips it).
        let bar = super::common::progress_bar(
            args.quiet,
            args.reps,
            "simulating the power the trial had:",
        );
        let realised = pool.install(|| {
            crate::audit::realised_power_with(
                &model,
                &loaded.table,
                &loaded.observed(),
                args.seed,
                args.reps,
                &|done| bar.set_position(done),
            )
        });
        bar.finish_and_clear();
        report.realised_power = match realised {
            Ok(v) => v,
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
    }
    let json = report::render_json(&report);
    let mut out = match args.format {
        Format::Text => report::render_text(&report),
        Format::Json => json.clone(),
        Format::Markdown => report::render_markdown(&report),
    };
    if let Some(look) = args.look {
        let mut any = false;
        for a in &model.analyses {
            let Some(plan) = &a.sequential else { continue };
            any = true;
            match crate::sequential::analyze_look(&model, a, plan, &loaded.table, look) {
                Ok(l) => {
                    let means = a.test == crate::model::TestKind::WelchT;
                    match args.format {
                        Format::Json => {
                            out = serde_json::to_string_pretty(&serde_json::json!({
                                "report": serde_json::from_str::<serde_json::Value>(&json)
                                    .unwrap_or(serde_json::Value::Null),
                                "look": l,
                            }))
                            .unwrap_or_default()
                                + "\n";
                        }
                        _ => out.push_str(&crate::report::sequential::look_text(&l, means)),
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(super::EXIT_SPEC_ERROR);
                }
            }
        }
        if !any {
            eprintln!("error: --look: no analysis of the spec has interim looks");
            return ExitCode::from(2);
        }
    }
    super::output::emit(&out);
    if let Some(target) = &snapshot
        && let Err(e) = output::write_text(&target.path, &json)
    {
        return e.report();
    }
    if let Some(path) = &args.check {
        let shown = path.display();
        let old = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!(
                    "error: cannot read snapshot `{shown}`: {e}\n  help: write it first with --snapshot {shown}"
                );
                return ExitCode::from(2);
            }
        };
        let old: serde_json::Value = match serde_json::from_str(&old) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: snapshot `{shown}` is not a JSON report: {e}");
                return ExitCode::from(2);
            }
        };
        let new = report::to_json(&report);
        let changes = report::diff(&old, &new);
        if changes.is_empty() {
            eprintln!("analysis report unchanged: matches `{shown}`");
        } else {
            eprintln!(
                "analysis report changed: {} difference(s) from `{shown}`",
                changes.len()
            );
            for c in &changes {
                eprintln!("  {c}");
            }
            eprintln!(
                "  help: if the change is intended, update the snapshot with --snapshot {shown}"
            );
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// Reports a data error: drawn on stderr, or with `--format json` as the JSON diagnostics
/// document on stdout (so a program reading the JSON gets JSON either way). Exit 1.
fn data_failure(err: data::DataError, format: Format) -> ExitCode {
    if format == Format::Json {
        print!("{}", crate::report::diagnostics::render_json(&[&err]));
    } else {
        eprintln!("{:?}", miette::Report::new(err));
    }
    ExitCode::from(super::EXIT_SPEC_ERROR)
}
