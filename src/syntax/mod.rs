//! Parsing: spec text → syntax tree with spans (`grammar/trial.pest`).

pub mod ast;
mod error;
pub mod format;
#[allow(unreachable_pub, missing_docs)]
pub(crate) mod parser;

use std::num::NonZeroUsize;

use error::Recovery;
pub use error::SyntaxError;

use crate::source::SourceFile;

/// Bound on the parser's rule calls, so no input can make it run away.
const CALL_LIMIT: usize = 20_000_000;

fn set_limit() {
    pest::set_call_limit(NonZeroUsize::new(CALL_LIMIT));
}

/// The longest spec read: some 600 times the longest shipped one. Longer text is refused at
/// once instead of spending the parser's call limit on it (seconds for a spec of millions of
/// lines).
pub const MAX_SPEC_BYTES: usize = 4_000_000;

/// Parses a spec into its syntax tree.
pub fn parse(source: &SourceFile) -> Result<ast::Spec, Box<SyntaxError>> {
    if source.text.len() > MAX_SPEC_BYTES {
        return Err(Box::new(SyntaxError::too_long(source)));
    }
    set_limit();
    match parser::parse_spec(&source.text) {
        Ok(Ok(spec)) => Ok(spec),
        Ok(Err(bug)) => Err(Box::new(SyntaxError::internal(source, bug.span, bug.what))),
        Err(err) => Err(Box::new(SyntaxError::from_pest(source, &err))),
    }
}

/// At most this many syntax errors are reported in one run.
pub const MAX_ERRORS: usize = 20;

/// Parses a spec, reporting every syntax error (up to [`MAX_ERRORS`]) rather than the first.
///
/// After an error the parser blanks out the statement that holds it (or, for a block that is
/// never closed, closes it where the next top-level statement starts) and parses again. The
/// text keeps its length and its lines, so every later error points at the right place.
pub fn parse_all(source: &SourceFile) -> Result<ast::Spec, Vec<SyntaxError>> {
    let (spec, errors, _) = parse_recovering(source);
    match spec {
        Some(spec) if errors.is_empty() => Ok(spec),
        _ => Err(errors),
    }
}

/// The text with the statements that hold syntax errors blanked out (same length, same lines):
/// what the editor support reads names and blocks from while the spec has mistakes in it.
pub fn recovered_text(source: &SourceFile) -> String {
    parse_recovering(source).2
}

fn parse_recovering(source: &SourceFile) -> (Option<ast::Spec>, Vec<SyntaxError>, String) {
    if source.text.len() > MAX_SPEC_BYTES {
        return (
            None,
            vec![SyntaxError::too_long(source)],
            source.text.to_string(),
        );
    }
    set_limit();
    let mut text = source.text.to_string();
    let mut errors: Vec<SyntaxError> = Vec::new();
    loop {
        match parser::parse_spec(&text) {
            Ok(Ok(spec)) => return (Some(spec), errors, text),
            Ok(Err(bug)) => {
                if errors.is_empty() {
                    errors.push(SyntaxError::internal(source, bug.span, bug.what));
                }
                break;
            }
            Err(err) => {
                let e = SyntaxError::from_pest_in(source, &text, &err);
                let at = e.span().offset();
                let recovery = e.recovery;
                errors.push(e);
                if errors.len() >= MAX_ERRORS || !recover(&mut text, at, recovery) {
                    break;
                }
            }
        }
    }
    (None, errors, text)
}

/// Changes the text so that the error at `at` is gone; false when it cannot.
fn recover(text: &mut String, at: usize, recovery: Recovery) -> bool {
    match recovery {
        Recovery::Stop => false,
        Recovery::Blank(at) => {
            if text.as_bytes().get(at) != Some(&b'}') {
                return false;
            }
            text.replace_range(at..at + 1, " ");
            true
        }
        Recovery::CloseBefore(word) => {
            // A `}` in place of the whitespace just before the statement, unless that is a line
            // break ending a comment (the `}` would join the comment).
            let Some(ws) = word.checked_sub(1) else {
                return false;
            };
            let line_start = text[..ws].rfind('\n').map_or(0, |i| i + 1);
            let in_comment =
                text[line_start..ws].contains('#') || text[line_start..ws].contains("//");
            match text.as_bytes()[ws] {
                b' ' | b'\t' => {}
                b'\n' if !in_comment => {}
                _ => return false,
            }
            text.replace_range(ws..ws + 1, "}");
            true
        }
        Recovery::SkipStatement => {
            let at = at.min(text.len());
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let mut end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            // The trial's own header: nothing after it can be read.
            if text[start..end].trim_start().starts_with("trial") {
                return false;
            }
            let opens = text[start..end].matches('{').count();
            let closes = text[start..end].matches('}').count();
            if opens > closes {
                // Skip the whole block this line opens.
                let mut depth = 0usize;
                let mut close = None;
                for (i, c) in text[start..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                close = Some(start + i + 1);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end = close.unwrap_or(text.len());
            }
            let keep_closes = closes > opens;
            let blanked: String = text[start..end]
                .chars()
                .flat_map(|c| {
                    let keep = c == '\n' || (keep_closes && c == '}');
                    let with = if keep { c } else { ' ' };
                    std::iter::repeat_n(with, if keep { 1 } else { c.len_utf8() })
                })
                .collect();
            if blanked == text[start..end] {
                return false;
            }
            text.replace_range(start..end, &blanked);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ast::*;
    use super::*;

    fn items(body: &str) -> Vec<Item> {
        let text = format!("trial \"t\" {{\n{body}\n}}");
        match parse(&SourceFile::new("t.trial", text)) {
            Ok(spec) => spec.items,
            Err(e) => panic!("{}", e.message()),
        }
    }

    fn arm(body: &str) -> Arm {
        match items(&format!("arm a {{ {body} }}")).pop() {
            Some(Item::Arm(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shipped_draft_parses() {
        let text = include_str!("../../specs/almere-45plus.trial");
        let spec = parse(&SourceFile::new("a.trial", text)).expect("parses");
        assert_eq!(spec.title, "Aanpak 45+ Almere (plan, 2017)");
        assert!(spec.items.len() > 10);
    }

    #[test]
    fn a_name_that_is_also_a_keyword_is_a_direct_outcome() {
        let a = arm("employed: 30%  employed at month 12: 20%  work: 5%");
        assert_eq!(a.direct.len(), 2);
        assert_eq!(a.direct[0].outcome.name, "employed");
        assert_eq!(a.direct[1].outcome.name, "work");
        assert_eq!(a.rates.len(), 1);
        assert!(matches!(
            a.rates[0].kind,
            RateKind::EmployedAt(Number { value: 12.0, .. })
        ));
    }

    #[test]
    fn units_as_written() {
        let a = arm("work within 2 years: 25 %  exemption 7% up to 26 weeks");
        let RateKind::WorkWithin(w) = &a.rates[0].kind else {
            panic!("a window")
        };
        assert_eq!((w.value, w.unit), (2.0, UnitSpec::Years));
        assert_eq!(a.rates[0].value.unit, UnitSpec::Percent);
        assert_eq!(a.exemptions[0].1.unit, UnitSpec::Weeks);
        let Some(Item::Employment(e)) =
            items("employment { hours ~ uniform(12 hours per week, 160 h) }").pop()
        else {
            panic!("employment")
        };
        let Distribution::Call { args, .. } = &e.hours[0] else {
            panic!("a call")
        };
        assert_eq!(args[0].value.unit, UnitSpec::HoursPerWeek);
        assert_eq!(args[1].value.unit, UnitSpec::Hours);
    }

    #[test]
    fn keywords_end_at_a_word_boundary_and_comments_are_skipped() {
        let text = "trial \"t\" { # a comment\n arms x {} }";
        assert!(
            parse(&SourceFile::new("t", text)).is_err(),
            "`arms` is not `arm`"
        );
        let parsed = items("// one\narm x { } # two\narm y { }");
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn compare_splits_outcomes_and_arms() {
        let Some(Item::Analysis(a)) =
            items("analysis p { compare o1, o2: t vs c within bg {x, y} test one_sided less, alpha 2.5% }").pop()
        else {
            panic!("analysis")
        };
        let c = &a.compares[0];
        let names: Vec<&str> = c.outcomes.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["o1", "o2"]);
        assert_eq!(
            (c.treatment.name.as_str(), c.control.name.as_str()),
            ("t", "c")
        );
        let (var, levels) = c.within.as_ref().expect("within");
        assert_eq!((var.name.as_str(), levels.len()), ("bg", 2));
        assert_eq!(a.tests[0].sides[0].greater, Some(false));
        assert_eq!(a.tests[0].alphas[0].value, 2.5);
    }

    #[test]
    fn an_hours_word_before_a_colon_is_a_name_not_a_unit() {
        let a = arm("exemption 5% up to 12\n hours: 30%");
        assert_eq!(a.exemptions[0].1.unit, UnitSpec::None);
        assert_eq!(a.direct[0].outcome.name, "hours");
        // A window in hours is then a syntax error that says why.
        let text = "trial \"t\" { arm a { work within 48 hours: 5% } }";
        let err = parse(&SourceFile::new("t.trial", text)).expect_err("not a window");
        assert_eq!(err.message(), "`hours` before `:` is not read as a unit");
        assert!(err.help_text().is_some_and(|h| h.contains("12 months")));
    }

    #[test]
    fn path_shares_by_level_top_up_and_pairing_parse() {
        let a = arm("path z 30% by bg { nw: 25% } after 3 months { work within 12 months: 0% }");
        let by = a.paths[0].share_by.as_ref().expect("by");
        assert_eq!((by.variable.name.as_str(), by.levels.len()), ("bg", 1));
        assert!(a.paths[0].delay.is_some());
        let Some(Item::Assignment(asg)) = items(
            "assignment { top_up 30 per arm at month 16 (excluded from analysis) control starts paired with experiment }",
        )
        .pop() else {
            panic!("assignment")
        };
        assert_eq!(asg.top_ups[0].per_arm.value, 30.0);
        assert!(asg.top_ups[0].excluded);
        assert_eq!(asg.paired[0].follower.name, "control");
        assert_eq!(asg.paired[0].leader.name, "experiment");
        let Some(Item::Outcome(o)) = items("outcome w = wage at month 12").pop() else {
            panic!("outcome")
        };
        assert!(matches!(
            o.measure,
            Measure::Wage(Number { value: 12.0, .. })
        ));
    }

    #[test]
    fn beliefs_attach_to_their_value() {
        let a = arm("path p 25% ~ uniform(20%, 35%) after 3 months { work within 12 months: 10% }");
        let Share::Value(q) = &a.paths[0].share else {
            panic!("a share")
        };
        assert_eq!(q.value, 25.0);
        assert!(q.belief.is_some());
        assert_eq!(a.paths[0].delay.as_ref().map(|d| d.value), Some(3.0));
    }
}
