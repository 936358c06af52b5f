//! `trialsim fmt FILE... [--check]`: rewrite specs in the canonical layout, or (with `--check`)
//! show what would change and exit 1, for CI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::source::SourceFile;
use crate::syntax::format::format;

/// Flags of `trialsim fmt`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Spec files, or directories to search for `.trial` files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Change nothing: print a diff for every file that is not formatted and exit 1 if any is.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut files = Vec::new();
    for path in &args.files {
        collect(path, &mut files);
    }
    let mut failed = false;
    let mut unformatted = 0;
    for path in &files {
        let source = match SourceFile::read(path) {
            Ok(s) => s,
            Err(err) => {
                eprintln!("{:?}", miette::Report::new(err));
                failed = true;
                continue;
            }
        };
        let formatted = match format(&source) {
            Ok(f) => f,
            Err(err) => {
                eprintln!("{:?}", miette::Report::new(*err));
                failed = true;
                continue;
            }
        };
        if formatted == *source.text {
            continue;
        }
        unformatted += 1;
        if args.check {
            print!("{}", diff(&source.name, &source.text, &formatted));
        } else if let Err(err) = std::fs::write(path, &formatted) {
            eprintln!("error: cannot write `{}`: {err}", path.display());
            failed = true;
        } else {
            println!("formatted {}", path.display());
        }
    }
    if args.check && unformatted > 0 {
        let s = if unformatted == 1 { "" } else { "s" };
        eprintln!("{unformatted} file{s} not formatted; run `trialsim fmt` on them");
    }
    if failed || (args.check && unformatted > 0) {
        ExitCode::from(super::EXIT_SPEC_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

/// A directory stands for every `.trial` file under it, in name order; a file for itself.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(path) else {
        out.push(path.to_path_buf());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "trial") {
            out.push(p);
        }
    }
}

/// A unified diff from the text to its formatted form.
pub(crate) fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}
