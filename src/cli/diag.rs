//! Diagnostics drawn safely whatever the input: any line length, any number of errors.
//!
//! miette's graphical renderer is the one that draws every report; [`SafeHandler`] sits in front
//! of it and hands it a view of the diagnostic ([`View`]) that
//!
//! - shows at most [`MAX_SHOWN`] related errors, then "… and N more": each snippet costs a scan
//!   of the source up to its span, so drawing all of 5,000 errors was quadratic in the input,
//!   and nobody reads past the first screens anyway;
//! - shows a line longer than [`MAX_LINE`] bytes as a window around the span (the renderer pads
//!   with a width argument, which panics past 65,535 columns), with the true line and column in
//!   the snippet's header;
//! - keeps every label within [`MAX_LABEL`] bytes of where it starts, for the same reason.

use std::fmt;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, ReportHandler, Severity, SourceCode,
    SourceSpan, SpanContents,
};

/// Most related errors drawn under one report.
pub const MAX_SHOWN: usize = 50;
/// Longest source line drawn whole, in bytes.
pub const MAX_LINE: usize = 240;
/// Bytes shown on each side of a span within a long line.
const MARGIN: usize = 80;
/// Longest label drawn, in bytes.
pub const MAX_LABEL: usize = 80;

/// The report handler every command uses: miette's, behind [`View`].
pub struct SafeHandler(pub Box<dyn ReportHandler>);

impl ReportHandler for SafeHandler {
    fn debug(&self, diagnostic: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let view = View::new(diagnostic, None);
        self.0.debug(&view, f)?;
        let hidden = view.hidden;
        if hidden > 0 {
            write!(
                f,
                "\n  … and {hidden} more (the first {MAX_SHOWN} are shown; fix them and check again)"
            )?;
        }
        Ok(())
    }
}

/// A diagnostic as it is drawn: its related list capped, its source windowed.
pub struct View<'a> {
    inner: &'a dyn Diagnostic,
    source: Option<Windowed<'a>>,
    related: Vec<View<'a>>,
    cause: Option<Box<View<'a>>>,
    hidden: usize,
}

impl<'a> View<'a> {
    /// Wraps `inner`; a related error without its own source takes its parent's.
    pub fn new(inner: &'a dyn Diagnostic, parent: Option<&'a dyn SourceCode>) -> Self {
        let source = inner.source_code().or(parent);
        let mut related = Vec::new();
        let mut hidden = 0;
        if let Some(items) = inner.related() {
            for (i, r) in items.enumerate() {
                if i < MAX_SHOWN {
                    related.push(View::new(r, source));
                } else {
                    hidden += 1;
                }
            }
        }
        Self {
            inner,
            source: source.map(Windowed),
            related,
            cause: inner
                .diagnostic_source()
                .map(|c| Box::new(View::new(c, None))),
            hidden,
        }
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for View<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.help()
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.inner.labels()?;
        Some(Box::new(labels.map(|l| {
            if l.len() <= MAX_LABEL {
                return l;
            }
            let len = self
                .source
                .as_ref()
                .map_or(MAX_LABEL, |s| s.char_floor(l.offset(), MAX_LABEL));
            LabeledSpan::new_with_span(
                l.label().map(str::to_owned),
                SourceSpan::new(l.offset().into(), len),
            )
        })))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.cause.as_deref().map(|c| c as &dyn Diagnostic)
    }
}

/// Source code whose long lines are read as a window around the span asked for.
struct Windowed<'a>(&'a dyn SourceCode);

impl Windowed<'_> {
    /// The largest length ≤ `max` from `offset` that ends on a character boundary.
    fn char_floor(&self, offset: usize, max: usize) -> usize {
        let Ok(c) = self.0.read_span(&SourceSpan::new(offset.into(), 0), 0, 0) else {
            return max;
        };
        let data = c.data();
        let Some(rel) = offset.checked_sub(c.span().offset()) else {
            return max;
        };
        let mut len = max.min(data.len().saturating_sub(rel));
        while len > 0 && data.get(rel + len).is_some_and(|b| (b & 0xC0) == 0x80) {
            len -= 1;
        }
        len
    }
}

impl SourceCode for Windowed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let full = self.0.read_span(span, before, after)?;
        if full
            .data()
            .split(|&b| b == b'\n')
            .all(|l| l.len() <= MAX_LINE)
        {
            return Ok(full);
        }
        // Only the span's own line(s), cut to a window around the span.
        let own = self.0.read_span(span, 0, 0)?;
        let data: &'b [u8] = own.data();
        let base = own.span().offset();
        let rel = span.offset().saturating_sub(base).min(data.len());
        let line_start = data[..rel]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = data[rel..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| rel + i);
        let boundary = |mut i: usize| {
            while i > 0 && i < data.len() && (data[i] & 0xC0) == 0x80 {
                i -= 1;
            }
            i
        };
        let start = boundary(rel.saturating_sub(MARGIN).max(line_start));
        let span_end = rel + span.len().min(MAX_LABEL);
        let end = boundary((span_end + MARGIN).min(line_end).max(rel));
        let lines_before = data[..start].iter().filter(|&&b| b == b'\n').count();
        let column = String::from_utf8_lossy(&data[line_start..start])
            .chars()
            .count()
            + if lines_before == 0 { own.column() } else { 0 };
        let window = &data[start..end];
        let window_span = SourceSpan::new((base + start).into(), end - start);
        let line = own.line() + lines_before;
        Ok(Box::new(match own.name() {
            Some(name) => {
                MietteSpanContents::new_named(name.to_owned(), window, window_span, line, column, 1)
            }
            None => MietteSpanContents::new(window, window_span, line, column, 1),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn render(name: &str, text: String) -> String {
        let source = SourceFile::new(name, text);
        let err = crate::check::compile(&source).expect_err("the spec has errors");
        let handler = SafeHandler(Box::new(
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(100),
        ));
        struct Shown<'a>(&'a SafeHandler, &'a dyn Diagnostic);
        impl fmt::Display for Shown<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug(self.1, f)
            }
        }
        Shown(&handler, &err).to_string()
    }

    #[test]
    fn a_line_past_65536_columns_is_drawn_as_a_window_with_its_true_column() {
        let text = format!("trial \"x\" {{{}bogus }}\n", " ".repeat(65_525));
        let shown = render("long.trial", text);
        assert!(shown.contains("long.trial:1:65537"), "{shown}");
        assert!(shown.contains("bogus"), "{shown}");
        assert!(shown.lines().all(|l| l.chars().count() < 400), "{shown}");
    }

    #[test]
    fn many_errors_are_capped_with_a_count_of_the_rest() {
        let mut text = String::from(include_str!("../../specs/two-arm.trial"));
        let close = text.rfind('}').expect("the spec closes");
        text.truncate(close);
        for _ in 0..200 {
            text.push_str("  sample 300 per arm\n");
        }
        text.push_str("}\n");
        let shown = render("many.trial", text);
        assert!(shown.contains("… and 150 more"), "{shown}");
        // The summary, then one `×` per error drawn.
        assert_eq!(shown.matches('×').count(), MAX_SHOWN + 1, "{shown}");
    }
}
