//! Check diagnostics: one struct for every kind, with a stable code per kind.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity};

use crate::source::{SourceFile, Span};

/// What went wrong; the stable part of a diagnostic's code (`trialsim::check::<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Kind {
    Syntax,
    UnknownArm,
    UnknownPath,
    UnknownOutcome,
    UnknownVariable,
    UnknownLevel,
    UnknownAnalysis,
    UnknownTest,
    UnknownDistribution,
    UnknownCorrection,
    UnknownMetric,
    UnknownFlow,
    Duplicate,
    SharesOver,
    SharesUnder,
    ProbabilityRange,
    ImpossibleEligibility,
    PopulationExcluded,
    OutcomeAfterFollowUp,
    DurableTooLong,
    SubgroupNotCategorical,
    UnitMismatch,
    AlphaRange,
    MissingSection,
    InvalidValue,
    InvalidDistribution,
    InvalidDate,
    TestMismatch,
    SameArm,
    Conflict,
    LooksNotIncreasing,
    LookAfterFollowUp,
    LooksNeedStaggeredIntake,
    UnknownSpending,
    // warnings
    ZeroShare,
    OneSidedDirection,
    RateBeyondFollowUp,
    ExemptionBeyondFollowUp,
    UnusedOutcome,
    NoAnalysis,
    ExpectWithoutSample,
    SampleMismatch,
    UnmappedArm,
    BeliefOffCentre,
    ConditionalOutcome,
    CapacityCalendar,
    UnusedWage,
    UnclusteredExits,
}

impl Kind {
    /// The code suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::UnknownArm => "unknown_arm",
            Self::UnknownPath => "unknown_path",
            Self::UnknownOutcome => "unknown_outcome",
            Self::UnknownVariable => "unknown_variable",
            Self::UnknownLevel => "unknown_level",
            Self::UnknownAnalysis => "unknown_analysis",
            Self::UnknownTest => "unknown_test",
            Self::UnknownDistribution => "unknown_distribution",
            Self::UnknownCorrection => "unknown_correction",
            Self::UnknownMetric => "unknown_metric",
            Self::UnknownFlow => "unknown_flow",
            Self::Duplicate => "duplicate",
            Self::SharesOver => "shares_over",
            Self::SharesUnder => "shares_under",
            Self::ProbabilityRange => "probability_range",
            Self::ImpossibleEligibility => "impossible_eligibility",
            Self::PopulationExcluded => "population_excluded",
            Self::OutcomeAfterFollowUp => "outcome_after_follow_up",
            Self::DurableTooLong => "durable_too_long",
            Self::SubgroupNotCategorical => "subgroup_not_categorical",
            Self::UnitMismatch => "unit_mismatch",
            Self::AlphaRange => "alpha_range",
            Self::MissingSection => "missing_section",
            Self::InvalidValue => "invalid_value",
            Self::InvalidDistribution => "invalid_distribution",
            Self::InvalidDate => "invalid_date",
            Self::TestMismatch => "test_mismatch",
            Self::SameArm => "same_arm",
            Self::Conflict => "conflict",
            Self::LooksNotIncreasing => "looks_not_increasing",
            Self::LookAfterFollowUp => "look_after_follow_up",
            Self::LooksNeedStaggeredIntake => "looks_need_staggered_intake",
            Self::UnknownSpending => "unknown_spending",
            Self::ZeroShare => "zero_share",
            Self::OneSidedDirection => "one_sided_direction",
            Self::RateBeyondFollowUp => "rate_beyond_follow_up",
            Self::ExemptionBeyondFollowUp => "exemption_beyond_follow_up",
            Self::UnusedOutcome => "unused_outcome",
            Self::NoAnalysis => "no_analysis",
            Self::ExpectWithoutSample => "expect_without_sample",
            Self::SampleMismatch => "sample_mismatch",
            Self::UnmappedArm => "unmapped_arm",
            Self::BeliefOffCentre => "belief_off_centre",
            Self::ConditionalOutcome => "conditional_outcome",
            Self::CapacityCalendar => "capacity_calendar",
            Self::UnusedWage => "unused_wage",
            Self::UnclusteredExits => "unclustered_exits",
        }
    }
}

/// One diagnostic about a spec: an error or a warning, with labelled spans and a help line.
#[derive(Debug, Clone)]
pub struct CheckError {
    /// What kind of problem.
    pub kind: Kind,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Labelled places; the first is the primary one.
    pub labels: Vec<(Span, String)>,
    /// How to fix it.
    pub help: Option<String>,
    code: String,
    src: NamedSource<Arc<str>>,
}

impl CheckError {
    pub(crate) fn new(source: &SourceFile, kind: Kind, message: impl Into<String>) -> Self {
        let code = match kind {
            Kind::Syntax => "trialsim::syntax".to_string(),
            _ => format!("trialsim::check::{}", kind.as_str()),
        };
        Self {
            kind,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            code,
            src: source.named(),
        }
    }

    pub(crate) fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, text.into()));
        self
    }

    pub(crate) fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    pub(crate) fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// The stable code, `trialsim::check::<kind>`.
    pub fn code_str(&self) -> &str {
        &self.code
    }

    /// The diagnostic as JSON: severity, code, message, help, and each label with its byte
    /// range and its 1-based line and column (columns count characters).
    pub fn to_json(&self, text: &str) -> serde_json::Value {
        let place = |byte: usize| {
            let byte = byte.min(text.len());
            let mut b = byte;
            while b > 0 && !text.is_char_boundary(b) {
                b -= 1;
            }
            let line_start = text[..b].rfind('\n').map_or(0, |i| i + 1);
            (
                text[..line_start].matches('\n').count() + 1,
                text[line_start..b].chars().count() + 1,
            )
        };
        let labels: Vec<serde_json::Value> = self
            .labels
            .iter()
            .map(|(span, label)| {
                let (line, column) = place(span.start);
                let (end_line, end_column) = place(span.end);
                serde_json::json!({
                    "start": span.start,
                    "end": span.end,
                    "line": line,
                    "column": column,
                    "end_line": end_line,
                    "end_column": end_column,
                    "label": label,
                })
            })
            .collect();
        serde_json::json!({
            "severity": if self.is_error() { "error" } else { "warning" },
            "code": self.code,
            "message": self.message,
            "labels": labels,
            "help": self.help,
        })
    }

    /// Is this an error (not a warning)?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckError {}

impl Diagnostic for CheckError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (span, text))| {
                let text = (!text.is_empty()).then(|| text.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, *span)
                } else {
                    LabeledSpan::new_with_span(text, *span)
                }
            },
        )))
    }
}

/// A spec that did not check: every error (and warning) found, reported together.
#[derive(Debug, Clone)]
pub struct CheckFailed {
    /// The file name as typed.
    pub name: String,
    /// Errors first, then warnings.
    pub diagnostics: Vec<CheckError>,
}

impl CheckFailed {
    /// Number of errors (not warnings).
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.error_count();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "`{}` has {n} error{s}", self.name)
    }
}

impl std::error::Error for CheckFailed {}

impl Diagnostic for CheckFailed {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("trialsim::check"))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}
