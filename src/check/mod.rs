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

fn syntax_diagnostic(source: &SourceFile, err: &syntax::SyntaxError) -> CheckError {
    let span = |s: miette::SourceSpan| crate::source::Span::new(s.offset(), s.offset() + s.len());
    let mut e = CheckError::new(source, Kind::Syntax, err.message().to_string())
        .label(span(err.span()), err.label().to_string());
    for (s, text) in err.also() {
        e = e.label(span(s), text);
    }
    match err.help_text() {
        Some(h) => e.help(h.to_string()),
        None => e,
    }
}

/// A trial with fewer than two arms makes every statement that names the missing arm, or counts
/// arms, wrong as well: those errors follow from the root one, so they are folded into it (the
/// root error says how many) instead of being shown one by one.
fn suppress_consequences(diagnostics: &mut Vec<CheckError>) {
    let Some(root) = diagnostics.iter().position(|d| {
        d.kind == Kind::MissingSection && d.message.starts_with("a trial needs at least two arms")
    }) else {
        return;
    };
    let follows = |d: &CheckError| {
        d.is_error()
            && (d.kind == Kind::UnknownArm
                || d.kind == Kind::SameArm
                || (d.kind == Kind::InvalidValue
                    && (d.message.starts_with("the ratio has") || d.message.contains("arms"))))
    };
    let before = diagnostics.len();
    let mut i = 0;
    let mut root = root;
    diagnostics.retain(|d| {
        let keep = !follows(d);
        if !keep && i < root {
            root -= 1;
        }
        i += 1;
        keep
    });
    let folded = before - diagnostics.len();
    if folded > 0 {
        let d = &mut diagnostics[root];
        let s = if folded == 1 { "" } else { "s" };
        let note = format!(
            "{folded} error{s} about the missing arm (names of it, the ratio's parts) follow from \
             this one and are not shown"
        );
        d.help = Some(match d.help.take() {
            Some(h) => format!("{h}; {note}"),
            None => note,
        });
    }
}

/// Parses and checks a spec.
pub fn compile(source: &SourceFile) -> Result<Checked, CheckFailed> {
    let spec = match syntax::parse_all(source) {
        Ok(spec) => spec,
        Err(errors) => {
            return Err(CheckFailed {
                name: source.name.clone(),
                diagnostics: errors
                    .iter()
                    .map(|e| syntax_diagnostic(source, e))
                    .collect(),
            });
        }
    };
    let (model, mut diagnostics) = lower::lower(source, &spec);
    suppress_consequences(&mut diagnostics);
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
