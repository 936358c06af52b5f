//! `trialsim check FILE...`: check specs and summarise them (or print the model as JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::design::feasibility::pool_answer;
use crate::report::check::summary;

/// Flags of `trialsim check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Spec files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output: a readable summary, or the checked model as JSON.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut failed = false;
    let mut models = Vec::new();
    let mut printed = 0;
    for path in &args.files {
        match super::load_model(path) {
            Ok(checked) => {
                super::print_warnings(&checked);
                match args.format {
                    Format::Text => {
                        if printed > 0 {
                            super::output::emit("\n");
                        }
                        printed += 1;
                        let model = &checked.model;
                        let pool = model.sample.as_ref().map(|s| pool_answer(model, s));
                        let file = path.display().to_string();
                        super::output::emit(&summary(&file, model, pool.as_ref()));
                    }
                    Format::Json => models.push(checked.model),
                }
            }
            Err(report) => {
                eprintln!("{report:?}");
                failed = true;
            }
        }
    }
    if args.format == Format::Json {
        let json = if models.len() == 1 {
            serde_json::to_string_pretty(&models[0])
        } else {
            serde_json::to_string_pretty(&models)
        };
        match json {
            Ok(json) => super::output::emit(&format!("{json}\n")),
            Err(err) => {
                eprintln!("error: cannot write the model as JSON: {err}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(super::EXIT_SPEC_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}
