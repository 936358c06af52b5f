//! Spec files as read from disk (or given as text), with the name the user typed.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource};
use thiserror::Error;

/// A spec's text together with the name under which diagnostics show it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file name exactly as the user typed it (so snapshots never contain absolute paths).
    pub name: String,
    /// The whole text.
    pub text: Arc<str>,
}

/// A spec file that could not be read.
#[derive(Debug, Error, Diagnostic)]
#[error("cannot read `{path}`: {reason}")]
#[diagnostic(
    code(trialsim::io),
    help("check that the path is right and that the file is readable UTF-8 text")
)]
pub struct ReadError {
    /// The path as given.
    pub path: String,
    /// What the operating system said.
    pub reason: String,
    /// For a file that is not UTF-8: its text (invalid bytes replaced), to show where.
    #[source_code]
    pub text: Option<NamedSource<Arc<str>>>,
    /// For a file that is not UTF-8: the first invalid byte.
    #[label("not UTF-8")]
    pub at: Option<miette::SourceSpan>,
}

impl SourceFile {
    /// A source from text in memory.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Reads a spec file; the error names the path.
    // The error carries the text of a file that is not UTF-8, to show where; it is made once
    // per run, so its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(Self::new(shown, text)),
                Err(err) => Err(not_utf8(shown, err.as_bytes(), err.utf8_error())),
            },
            Err(err) => Err(ReadError {
                path: shown,
                reason: io_reason(&err),
                text: None,
                at: None,
            }),
        }
    }

    /// The text as miette source code, named for diagnostics.
    pub fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.name.clone(), self.text.clone())
    }
}

/// The error for bytes that are not UTF-8: the line and column of the first invalid byte (in
/// characters, as an editor counts them), with the text shown around it.
fn not_utf8(path: String, bytes: &[u8], err: std::str::Utf8Error) -> ReadError {
    let at = err.valid_up_to();
    // Everything before the first invalid byte is valid, so the offsets of the lossy text agree
    // with the file's up to and including that byte.
    let valid = String::from_utf8_lossy(&bytes[..at]);
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let byte = bytes.get(at).copied().unwrap_or(0);
    let text: Arc<str> = String::from_utf8_lossy(bytes).into();
    ReadError {
        reason: format!("not UTF-8 text: byte 0x{byte:02X} at line {line}, column {column}"),
        text: Some(NamedSource::new(path.clone(), text)),
        // The lossy text has U+FFFD where the invalid byte(s) were.
        at: Some((at, char::REPLACEMENT_CHARACTER.len_utf8()).into()),
        path,
    }
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => err.to_string(),
    }
}

/// A byte range in a source text. Two spans always compare equal, so that syntax trees compare
/// by meaning and not by position.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Self) -> Self {
        Self::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.end - span.start).into()
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(span: pest::Span<'_>) -> Self {
        Self::new(span.start(), span.end())
    }
}
