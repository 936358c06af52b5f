//! `trialsim boundaries FILE`: the stopping boundaries of every analysis with interim looks.

use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `trialsim boundaries`.
#[derive(Debug, clap::Args)]
pub(crate) struct BoundariesArgs {
    /// The trial spec (.trial).
    file: PathBuf,
    /// Output: a table, or the boundaries as JSON.
    #[arg(long, value_enum, default_value_t = super::common::Format::Text)]
    format: super::common::Format,
}

pub(crate) fn run(args: &BoundariesArgs) -> ExitCode {
    let checked = match super::load_model(&args.file) {
        Ok(c) => c,
        Err(report) => {
            eprintln!("{report:?}");
            return ExitCode::from(super::EXIT_SPEC_ERROR);
        }
    };
    super::print_warnings(&checked);
    let model = &checked.model;
    match args.format {
        super::common::Format::Text => {
            print!("{}", crate::report::sequential::boundaries_text(model))
        }
        super::common::Format::Json => {
            let plans: Vec<serde_json::Value> = model
                .analyses
                .iter()
                .filter_map(|a| {
                    a.sequential
                        .as_ref()
                        .map(|p| serde_json::json!({ "analysis": a.name, "sequential": p }))
                })
                .collect();
            match serde_json::to_string_pretty(&plans) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(super::EXIT_SPEC_ERROR);
                }
            }
        }
    }
    ExitCode::SUCCESS
}
