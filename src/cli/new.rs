//! `trialsim new NAME [--template T]`: writes a commented starting spec that checks and
//! simulates, so a first design is one command away.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

/// The starting points `new` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// Two arms, a binary outcome per arm, complete randomisation 1:1.
    TwoArm,
    /// A welfare-to-work pilot in the shape of Almere's "Aanpak 45+": parity assignment, a
    /// referred sub-path, job starts within 12 months.
    Almere,
    /// Whole cohorts randomised, with an intra-cluster correlation, analysed by cohort.
    Cluster,
    /// Intakes arriving over time, outcomes read on one analysis date.
    Inflow,
}

impl Template {
    /// Every template, in the order `--help` lists them.
    #[cfg(test)]
    pub(crate) const ALL: [Self; 4] = [Self::TwoArm, Self::Almere, Self::Cluster, Self::Inflow];

    /// The template's text, with `{{TITLE}}` and `{{FILE}}` still to fill in.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::TwoArm => include_str!("templates/two-arm.trial"),
            Self::Almere => include_str!("templates/almere.trial"),
            Self::Cluster => include_str!("templates/cluster.trial"),
            Self::Inflow => include_str!("templates/inflow.trial"),
        }
    }
}

/// Arguments of `trialsim new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The new spec: `NAME` writes `NAME.trial` (a name ending in `.trial` is used as it is);
    /// the trial's title is the file's stem.
    pub(crate) name: PathBuf,
    /// What to start from.
    #[arg(long, value_enum, default_value_t = Template::TwoArm)]
    pub(crate) template: Template,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The template filled in for a spec written to `path`.
pub(crate) fn render(template: Template, path: &Path) -> String {
    let title: String = path
        .file_stem()
        .map_or_else(
            || "New pilot".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
        .chars()
        .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
        .collect();
    let title = if title.trim().is_empty() {
        "New pilot".to_owned()
    } else {
        title
    };
    template
        .text()
        .replace("{{TITLE}}", &title)
        .replace("{{FILE}}", &path.display().to_string())
}

/// Runs `trialsim new`. Exit codes: 0 written; 1 the file exists (without `--force`) or cannot be
/// written.
pub(crate) fn run(args: &NewArgs) -> ExitCode {
    let path = if args.name.extension().is_some_and(|e| e == "trial") {
        args.name.clone()
    } else {
        let mut p = args.name.clone().into_os_string();
        p.push(".trial");
        PathBuf::from(p)
    };
    if path.exists() && !args.force {
        eprintln!(
            "error: `{}` already exists\n  help: choose another name, or pass --force to overwrite it",
            path.display()
        );
        return ExitCode::from(super::EXIT_SPEC_ERROR);
    }
    let text = render(args.template, &path);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("error: cannot write `{}`: {e}", path.display());
        return ExitCode::from(super::EXIT_SPEC_ERROR);
    }
    let shown = path.display();
    println!("wrote {shown}");
    println!("  next: trialsim check {shown}    then: trialsim power {shown}");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template, filled in, checks without errors or warnings and simulates.
    #[test]
    fn every_template_checks_and_simulates() {
        for t in Template::ALL {
            let text = render(t, Path::new("my-pilot.trial"));
            assert!(!text.contains("{{"), "{t:?} left a placeholder");
            let source = crate::source::SourceFile::new("my-pilot.trial", text);
            let checked = crate::check::compile(&source)
                .unwrap_or_else(|e| panic!("{t:?} does not check: {e:?}"));
            assert!(checked.warnings.is_empty(), "{t:?}: {:?}", checked.warnings);
            assert_eq!(checked.model.name, "my-pilot");
            let sim = crate::sim::Simulator::new(&checked.model, crate::sim::SimOptions::default())
                .unwrap_or_else(|e| panic!("{t:?} does not simulate: {e}"));
            let mut worker = sim.worker();
            sim.simulate(&mut worker, &mut crate::sim::rng::replicate_rng(1, 0, 0));
            assert!(!worker.table.is_empty(), "{t:?} simulated nobody");
        }
    }
}
