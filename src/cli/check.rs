//! `trialsim check FILE...`: check specs and summarise them (or print the model as JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::design::feasibility::pool_answer;
use crate::report::check::summary;
use crate::source::SourceFile;

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
    if args.format == Format::Json {
        return run_json(args);
    }
    let mut failed = false;
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
                    Format::Json => {}
                }
            }
            Err(report) => {
                eprintln!("{report:?}");
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

/// `--format json`: the checked model of each spec; for a spec that does not check, an object
/// with its file name and its diagnostics (the same ones the text output draws).
fn run_json(args: &Args) -> ExitCode {
    let mut failed = false;
    let mut out = Vec::new();
    for path in &args.files {
        let source = match SourceFile::read(path) {
            Ok(s) => s,
            Err(err) => {
                eprintln!("{:?}", miette::Report::new(err));
                failed = true;
                continue;
            }
        };
        match crate::check::compile(&source) {
            Ok(checked) => {
                super::print_warnings(&checked);
                match serde_json::to_value(&checked.model) {
                    Ok(v) => out.push(v),
                    Err(err) => {
                        eprintln!("error: cannot write the model as JSON: {err}");
                        failed = true;
                    }
                }
            }
            Err(report) => {
                failed = true;
                let diagnostics: Vec<serde_json::Value> = report
                    .diagnostics
                    .iter()
                    .map(|d| d.to_json(&source.text))
                    .collect();
                out.push(serde_json::json!({
                    "file": source.name,
                    "errors": report.error_count(),
                    "diagnostics": diagnostics,
                }));
            }
        }
    }
    if !out.is_empty() {
        let json = if out.len() == 1 {
            serde_json::to_string_pretty(&out[0])
        } else {
            serde_json::to_string_pretty(&out)
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
