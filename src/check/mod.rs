//! Checking: syntax tree → [`TrialModel`], or every diagnostic found at once.
//!
//! The checker resolves names to indices, converts units (years and weeks to months, hours per
//! week to hours per month, percentages to probabilities), resolves `rest` shares and fills the
//! documented defaults (docs/language.md, "Defaults").

mod diagnostics;
mod lower;
mod suggest;

pub use diagnostics::{CheckError, CheckFailed, Kind};

use crate::model::TrialModel;
use crate::source::SourceFile;
use crate::syntax;

/// A spec that checked: the model, and any warnings about it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The validated model.
    pub model: TrialModel,
    /// Suspicious but legal things.
    pub warnings: Vec<CheckError>,
}

/// Parses and checks a spec.
pub fn compile(source: &SourceFile) -> Result<Checked, CheckFailed> {
    let spec = match syntax::parse(source) {
        Ok(spec) => spec,
        Err(err) => {
            let span = err.span();
            let e = CheckError::new(source, Kind::Syntax, err.message().to_string()).label(
                crate::source::Span::new(span.offset(), span.offset() + span.len()),
                err.label().to_string(),
            );
            let e = match err.help_text() {
                Some(h) => e.help(h.to_string()),
                None => e,
            };
            return Err(CheckFailed {
                name: source.name.clone(),
                diagnostics: vec![e],
            });
        }
    };
    let (model, mut diagnostics) = lower::lower(source, &spec);
    diagnostics.sort_by_key(|d| (!d.is_error(), d.labels.first().map_or(0, |l| l.0.start)));
    match model {
        Some(model) if diagnostics.iter().all(|d| !d.is_error()) => Ok(Checked {
            model,
            warnings: diagnostics,
        }),
        _ => Err(CheckFailed {
            name: source.name.clone(),
            diagnostics,
        }),
    }
}
