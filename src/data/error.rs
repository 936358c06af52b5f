//! Diagnostics for bad participant data: file, line and column, a labelled span into the
//! offending CSV line, what is wrong and how to fix it.

use std::fmt;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

/// One or more CSV lines of a data file, carrying their real line number so that diagnostics
/// point at `file:line:column` without holding the whole file.
#[derive(Debug, Clone)]
pub struct LineSource {
    name: String,
    /// 0-based line number of the first line of `text` in the file.
    first_line: usize,
    text: String,
}

impl LineSource {
    /// `text` is the line (or lines) starting at 1-based line `line` of file `name`.
    pub fn new(name: &str, line: u64, text: String) -> Self {
        Self {
            name: name.to_owned(),
            first_line: usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX),
            text,
        }
    }

    /// The text held.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for LineSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// What went wrong; gives each diagnostic its stable code `trialsim::data::<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// The file could not be opened or read.
    Io,
    /// The file has no bytes (or only a byte-order mark / blank line).
    EmptyFile,
    /// The file has a header but no data rows.
    HeaderOnly,
    /// A column the mapping needs is not in the header.
    MissingColumn,
    /// Two header columns have the same name.
    DuplicateColumn,
    /// A row has more or fewer fields than the header.
    RaggedRow,
    /// A field is not valid UTF-8.
    InvalidUtf8,
    /// An arm value the mapping does not know.
    UnknownArm,
    /// A sub-path value the mapping does not know, or one of another arm.
    UnknownPath,
    /// A categorical covariate value that is not one of the variable's levels.
    UnknownLevel,
    /// A number was expected.
    NotANumber,
    /// A binary outcome with a value other than 0 or 1.
    NotBinary,
    /// An ID that is not a whole number.
    BadId,
    /// The same ID on two rows.
    DuplicateId,
    /// A required value is missing.
    MissingValue,
    /// The mapping does not say where an outcome comes from.
    UnmappedOutcome,
    /// An analysis bins a covariate (`within educ bins [...)`) the mapping has no column for.
    UnmappedCovariate,
    /// Rows were excluded, but the mapping does not allow exclusions.
    ExclusionsNotAllowed,
    /// A malformed CSV record (e.g. an unterminated quote).
    Malformed,
    /// An arm an analysis compares has no participant in the file.
    MissingArm,
}

impl DataErrorKind {
    /// The code's last segment.
    pub fn code(self) -> &'static str {
        match self {
            Self::Io => "io",
            Self::EmptyFile => "empty_file",
            Self::HeaderOnly => "header_only",
            Self::MissingColumn => "missing_column",
            Self::DuplicateColumn => "duplicate_column",
            Self::RaggedRow => "ragged_row",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::UnknownArm => "unknown_arm",
            Self::UnknownPath => "unknown_path",
            Self::UnknownLevel => "unknown_level",
            Self::NotANumber => "not_a_number",
            Self::NotBinary => "not_binary",
            Self::BadId => "bad_id",
            Self::DuplicateId => "duplicate_id",
            Self::MissingValue => "missing_value",
            Self::UnmappedOutcome => "unmapped_outcome",
            Self::UnmappedCovariate => "unmapped_covariate",
            Self::ExclusionsNotAllowed => "exclusions_not_allowed",
            Self::Malformed => "malformed",
            Self::MissingArm => "missing_arm",
        }
    }
}

/// A problem with a data file, rendered by miette.
#[derive(Debug, Clone)]
pub struct DataError {
    /// What went wrong.
    pub kind: DataErrorKind,
    /// One-line description.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The offending line(s), if any.
    pub source: Option<LineSource>,
    /// Labelled spans into `source`.
    pub labels: Vec<LabeledSpan>,
    /// Further diagnostics (the first occurrence of a duplicate, other missing columns).
    pub related: Vec<DataError>,
    /// Whether this is a note attached to another error rather than an error of its own.
    pub advice: bool,
}

impl DataError {
    /// An error without a location.
    pub fn new(kind: DataErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            help: None,
            source: None,
            labels: Vec::new(),
            related: Vec::new(),
            advice: false,
        }
    }

    /// Adds a fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attaches the offending line(s).
    pub fn with_source(mut self, source: LineSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Adds a labelled span into the source.
    pub fn with_label(mut self, label: impl Into<String>, offset: usize, len: usize) -> Self {
        self.labels
            .push(LabeledSpan::new(Some(label.into()), offset, len));
        self
    }

    /// Adds a related diagnostic.
    pub fn with_related(mut self, related: DataError) -> Self {
        self.related.push(related);
        self
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataError {}

impl Diagnostic for DataError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.advice {
            return None;
        }
        Some(Box::new(format!("trialsim::data::{}", self.kind.code())))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.advice {
            miette::Severity::Advice
        } else {
            miette::Severity::Error
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.source.is_none() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// The closest candidate to `word`, if any is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}
