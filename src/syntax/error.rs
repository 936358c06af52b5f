//! Syntax errors as miette diagnostics, with pest's expected-token sets said in words.

use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use pest::error::{ErrorVariant, InputLocation};
use thiserror::Error;

use super::parser::Rule;
use crate::source::SourceFile;

/// A spec that does not follow the grammar.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(trialsim::syntax))]
pub struct SyntaxError {
    #[source_code]
    src: NamedSource<Arc<str>>,
    #[label("{label}")]
    span: SourceSpan,
    message: String,
    label: String,
    #[help]
    help: Option<String>,
    /// Further places: where the statement that shows a block unclosed starts.
    #[label(collection)]
    also: Vec<LabeledSpan>,
    /// How the parser can go on after this error to find the next one.
    pub(crate) recovery: Recovery,
}

/// How to go on parsing after an error, to report the next one as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Skip the statement (line) holding the error.
    SkipStatement,
    /// Close the open block just before this byte (where the next statement starts).
    CloseBefore(usize),
    /// Remove the character at this byte (a stray `}`).
    Blank(usize),
    /// Nothing sensible follows.
    Stop,
}

impl SyntaxError {
    /// The byte range the error points at.
    pub fn span(&self) -> SourceSpan {
        self.span
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn from_pest(source: &SourceFile, err: &pest::error::Error<Rule>) -> Self {
        Self::from_pest_in(source, &source.text, err)
    }

    /// The error in `text`, which is the source's text with some statements already blanked out
    /// (same length, same lines) by error recovery.
    pub(crate) fn from_pest_in(
        source: &SourceFile,
        text: &str,
        err: &pest::error::Error<Rule>,
    ) -> Self {
        let (start, end) = match err.location {
            InputLocation::Pos(p) => (p, p),
            InputLocation::Span((s, e)) => (s, e),
        };
        let start = floor_char(text, start.min(text.len()));
        let found = found_token(text, start);
        let end = if end > start {
            floor_char(text, end.min(text.len()))
        } else {
            start + found.len()
        };
        let found_words = if found.is_empty() {
            "the end of the file".to_string()
        } else {
            format!("`{found}`")
        };
        let mut at = (start, end);
        let (message, label, help) = match &err.variant {
            ErrorVariant::ParsingError {
                positives,
                negatives,
            } => {
                let words = describe_list(positives);
                let expected = join_or(&words);
                let expected_short = join_or(&describe_grouped(positives, true));
                let unexpected = join_or(&describe_list(negatives));
                let suggestion = did_you_mean(positives, found);
                let previous = previous_word(text, start);
                // A misspelt keyword at the start of a statement is read as a name, and the
                // error comes after it, where `:` or `~` was expected.
                let after_statement_name = !positives.is_empty()
                    && positives
                        .iter()
                        .all(|r| matches!(r, Rule::colon | Rule::tilde));
                // In a `data` block a misspelt keyword is read as a flow column's name, and the
                // error comes after it, where the column's quoted name was expected.
                let after_flow_name = positives.as_slice() == [Rule::string];
                let misspelt = if suggestion.is_none() && after_statement_name {
                    did_you_mean(STATEMENT_KEYWORDS, previous).filter(|k| *k != previous)
                } else if suggestion.is_none() && after_flow_name {
                    did_you_mean(DATA_KEYWORDS, previous).filter(|k| *k != previous)
                } else {
                    None
                };
                let at_eoi = positives.as_slice() == [Rule::EOI];
                if let Some(special) =
                    special_case(text, start, found, previous, after_statement_name, at_eoi)
                {
                    return Self {
                        src: source.named(),
                        span: (special.at.0, special.at.1 - special.at.0).into(),
                        message: special.message,
                        label: special.label,
                        help: Some(special.help),
                        also: special.also,
                        recovery: special.recovery,
                    };
                }
                let hours_before_colon = matches!(found, "hours" | "hour" | "h")
                    && positives.contains(&Rule::unit_word)
                    && text[start + found.len()..].trim_start().starts_with(':');
                if hours_before_colon {
                    (
                        format!("`{found}` before `:` is not read as a unit"),
                        "a name starting a statement, not a unit".to_string(),
                        Some(
                            "an hours word followed by `:` starts a statement (such as an outcome \
                             `hours: 30%`); windows and delays are durations: write e.g. \
                             `work within 12 months: 25%`"
                                .to_string(),
                        ),
                    )
                } else if found.is_empty() && positives.contains(&Rule::rbrace) {
                    let label = match open_braces(text).1 {
                        Some(open) => {
                            at = (open, open + 1);
                            "this `{` is never closed".to_string()
                        }
                        None => "the file ends here".to_string(),
                    };
                    (
                        "the file ends inside a block: a `{` is never closed".to_string(),
                        label,
                        Some("add the missing `}`".to_string()),
                    )
                } else if words.len() > 6 {
                    let help = match suggestion {
                        Some(k) => {
                            format!("did you mean `{k}`? Here one of these can follow: {expected}")
                        }
                        None => format!("here one of these can follow: {expected}"),
                    };
                    (
                        format!("unexpected {found_words}"),
                        "not expected here".to_string(),
                        Some(help),
                    )
                } else {
                    let message = match (expected.is_empty(), unexpected.is_empty()) {
                        (false, _) => format!("expected {expected}, found {found_words}"),
                        (true, false) => format!("unexpected {unexpected}"),
                        (true, true) => format!("unexpected {found_words}"),
                    };
                    let label = if expected.is_empty() {
                        "not allowed here".to_string()
                    } else {
                        format!("expected {expected_short}")
                    };
                    let help = match (suggestion, misspelt) {
                        (Some(k), _) => Some(format!("did you mean `{k}`?")),
                        (None, Some(k)) => Some(format!(
                            "`{previous}` is read as a name here; did you mean the keyword `{k}`?"
                        )),
                        (None, None) if after_statement_name && !previous.is_empty() => {
                            Some(format!(
                                "`{previous}` starts a statement, so it is read as a name that \
                                 takes a value: `{previous}: 30%` or `{previous} ~ normal(50, 10)`; \
                                 if it was meant as a keyword, check its spelling"
                            ))
                        }
                        (None, None) => hint(positives),
                    };
                    (message, label, help)
                }
            }
            ErrorVariant::CustomError { message } => (
                format!("the spec is too complex to parse: {message}"),
                "parsing stopped here".to_string(),
                Some("split long statements or remove repeated text".to_string()),
            ),
        };
        // A spec too complex to parse stays so however it is repaired: parsing it again would
        // only spend the call limit once more per reported error.
        let too_complex = matches!(err.variant, ErrorVariant::CustomError { .. });
        let recovery = if too_complex || start >= text.len() || found.is_empty() {
            Recovery::Stop
        } else {
            Recovery::SkipStatement
        };
        Self {
            src: source.named(),
            span: (at.0, at.1 - at.0).into(),
            message,
            label,
            help,
            also: Vec::new(),
            recovery,
        }
    }

    /// A spec longer than [`super::MAX_SPEC_BYTES`], refused before it is parsed.
    pub(crate) fn too_long(source: &SourceFile) -> Self {
        let at = floor_char(&source.text, super::MAX_SPEC_BYTES);
        Self {
            src: source.named(),
            span: (at, 0).into(),
            message: format!(
                "the spec is too complex to parse: {:.1} MB, more than the {} MB a spec may hold",
                source.text.len() as f64 / 1e6,
                super::MAX_SPEC_BYTES / 1_000_000
            ),
            label: "parsing stopped here".to_string(),
            help: Some("split the spec or remove repeated text".to_string()),
            also: Vec::new(),
            recovery: Recovery::Stop,
        }
    }

    pub(crate) fn internal(source: &SourceFile, span: crate::source::Span, what: &str) -> Self {
        Self {
            src: source.named(),
            span: span.into(),
            message: format!("could not read this {what}"),
            label: "here".to_string(),
            help: Some("this is a bug in trialsim; please report it with the spec".to_string()),
            also: Vec::new(),
            recovery: Recovery::Stop,
        }
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The word (or single character) at `pos`, for "found `...`".
fn found_token(text: &str, pos: usize) -> &str {
    let rest = &text[pos..];
    let word_len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    if word_len > 0 {
        &rest[..word_len]
    } else {
        rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
    }
}

/// Keywords that start a statement where a name could also start one (inside `arm`, `path` and
/// `population` blocks).
const STATEMENT_KEYWORDS: &[Rule] = &[
    Rule::kw_path,
    Rule::kw_work,
    Rule::kw_employed,
    Rule::kw_dropout,
    Rule::kw_lost_to_follow_up,
    Rule::kw_exemption,
    Rule::kw_exit,
    Rule::kw_crossover,
    Rule::kw_pool,
];

/// Keywords of `data` statements that take more than a quoted column (a misspelling of one is
/// read as a flow column's name).
const DATA_KEYWORDS: &[Rule] = &[
    Rule::kw_arm,
    Rule::kw_covariate,
    Rule::kw_outcome,
    Rule::kw_path,
    Rule::kw_decimal,
    Rule::kw_allow,
];

/// A syntax error with a message written for a mistake people make.
struct Special {
    at: (usize, usize),
    message: String,
    label: String,
    help: String,
    also: Vec<LabeledSpan>,
    recovery: Recovery,
}

/// Statements that only the trial's own block holds.
const TOP_LEVEL: &[&str] = &[
    "follow_up",
    "reference_date",
    "population",
    "eligibility",
    "assignment",
    "sample",
    "employment",
    "arm",
    "outcome",
    "analysis",
    "expect",
    "data",
    "inflow",
    "costs",
];

/// The mistakes that pest's "expected ..." would explain badly: a block left open (seen where
/// the next top-level statement starts inside it), a decimal comma, `stratified by`.
fn special_case(
    text: &str,
    start: usize,
    found: &str,
    previous: &str,
    after_statement_name: bool,
    at_eoi: bool,
) -> Option<Special> {
    // Text after the trial's `}`: a `}` without its `{` closed the trial early.
    if at_eoi && TOP_LEVEL.contains(&found) {
        let stray = last_brace_before(text, start)?;
        let line = text[..stray].matches('\n').count() + 1;
        return Some(Special {
            at: (stray, stray + 1),
            message: format!(
                "the `}}` on line {line} closes the trial, and `{found}` is left outside it"
            ),
            label: "this `}` has no `{` of its own".to_string(),
            help: "remove this `}`, or add the block header (such as `arm control {`) it closes"
                .to_string(),
            also: vec![LabeledSpan::new_with_span(
                Some("outside the trial".to_string()),
                (start, found.len()),
            )],
            recovery: Recovery::Blank(stray),
        });
    }
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    // `12,5%`: the error is at the comma, or at the digits after it.
    let comma = if bytes.get(start) == Some(&b',') && start > 0 && digit(start - 1) {
        Some(start)
    } else if start > 0 && bytes[start - 1] == b',' && digit(start) && start > 1 && digit(start - 2)
    {
        Some(start - 1)
    } else {
        None
    };
    if let Some(c) = comma.filter(|&c| digit(c + 1)) {
        let mut from = c;
        while from > 0 && digit(from - 1) {
            from -= 1;
        }
        let mut to = c + 1;
        while digit(to) {
            to += 1;
        }
        let written = &text[from..to];
        let fixed = written.replace(',', ".");
        return Some(Special {
            at: (from, to),
            message: format!("`{written}` has a decimal comma"),
            label: "a decimal comma".to_string(),
            help: format!("did you mean `{fixed}`? Numbers in a spec take a decimal point"),
            also: Vec::new(),
            recovery: Recovery::SkipStatement,
        });
    }
    // `randomise 1:1 in blocks of 4 stratified by gender`
    let strata_word = |w: &str| matches!(w, "stratified" | "stratify" | "stratum" | "strata");
    let (start, found) = if !strata_word(found) && strata_word(previous) {
        (text[..start].trim_end().len() - previous.len(), previous)
    } else {
        (start, found)
    };
    if strata_word(found) {
        let rest = &text[start + found.len()..];
        let by = rest.len() - rest.trim_start().len();
        let end = if rest.trim_start().starts_with("by") {
            start + found.len() + by + 2
        } else {
            start + found.len()
        };
        let variable = previous_word_after(text, end);
        let example = if variable.is_empty() {
            "`within gender`".to_string()
        } else {
            format!("`within {variable}`")
        };
        return Some(Special {
            at: (start, end),
            message: format!("`{}` is not how strata are written", &text[start..end]),
            label: "write `within` and the covariate".to_string(),
            help: format!(
                "did you mean `within`? Strata follow the blocks: `randomise 1:1 in blocks of 4 \
                 {}`",
                example.trim_matches('`')
            ),
            also: Vec::new(),
            recovery: Recovery::SkipStatement,
        });
    }
    // A top-level statement inside a block: the block before it was never closed.
    let word_at = if TOP_LEVEL.contains(&found) {
        Some((start, found))
    } else if after_statement_name && TOP_LEVEL.contains(&previous) {
        let p = text[..start].trim_end().len() - previous.len();
        Some((p, previous))
    } else {
        None
    };
    if let Some((at, word)) = word_at {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let starts_line = text[line_start..at].trim().is_empty();
        let (depth, brace) = open_braces(&text[..at]);
        if let (true, true, Some(brace)) = (starts_line, depth >= 2, brace) {
            let line = text[..brace].matches('\n').count() + 1;
            let header = text[text[..brace].rfind('\n').map_or(0, |i| i + 1)..brace].trim();
            return Some(Special {
                at: (brace, brace + 1),
                message: format!("the block `{header} {{` on line {line} is never closed"),
                label: "this `{` is never closed".to_string(),
                help: format!("add `}}` before `{word}`: `{word}` cannot stand inside `{header}`"),
                also: vec![LabeledSpan::new_with_span(
                    Some(format!("`{word}` starts the next statement here")),
                    (at, word.len()),
                )],
                recovery: Recovery::CloseBefore(at),
            });
        }
    }
    None
}

/// The last `}` before `pos`, outside comments and strings.
fn last_brace_before(text: &str, pos: usize) -> Option<usize> {
    let mut last = None;
    let mut chars = text[..pos].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '#' => {
                let end = if c == '"' { '"' } else { '\n' };
                for (_, d) in chars.by_ref() {
                    if d == end || d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, d)| *d == '/') => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '}' => last = Some(i),
            _ => {}
        }
    }
    last
}

/// The word after `pos` (skipping whitespace).
fn previous_word_after(text: &str, pos: usize) -> &str {
    let rest = text[pos.min(text.len())..].trim_start();
    let len = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    &rest[..len]
}

/// How many `{` are open at the end of the text, and which one most likely lacks its `}`. A `}`
/// that starts a line belongs to the block whose header is indented as far as it: a block
/// indented deeper that is still open then is the one left unclosed (the indentation tells
/// better than counting, which blames the outer block); without one, the innermost open `{`.
fn open_braces(text: &str) -> (usize, Option<usize>) {
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut depth: usize = 0;
    let mut unclosed: Vec<usize> = Vec::new();
    let indent_of = |i: usize| {
        let ls = text[..i].rfind('\n').map_or(0, |n| n + 1);
        let line = &text[ls..];
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        (indent, ls + indent == i)
    };
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                for (_, d) in chars.by_ref() {
                    if d == '"' || d == '\n' {
                        break;
                    }
                }
            }
            '#' => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, d)| *d == '/') => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '{' => {
                depth += 1;
                open.push((i, indent_of(i).0));
            }
            '}' => {
                depth = depth.saturating_sub(1);
                let (indent, first) = indent_of(i);
                if first {
                    while open.len() > 1 && open.last().is_some_and(|(_, ind)| *ind > indent) {
                        if let Some((b, _)) = open.pop() {
                            unclosed.push(b);
                        }
                    }
                }
                open.pop();
            }
            _ => {}
        }
    }
    let innermost = open.last().map(|(b, _)| *b);
    (depth, unclosed.first().copied().or(innermost))
}

/// The word just before `pos` (skipping whitespace), if any.
fn previous_word(text: &str, pos: usize) -> &str {
    let before = text[..pos].trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(before.len(), |(i, _)| i);
    &before[start..]
}

/// Statements that pest lists one keyword at a time, said as one kind of statement. A group
/// replaces its keywords when at least `min` of them are expected at the same place (and then
/// also "a name", when a statement of the group can start with one).
struct Group {
    words: &'static str,
    /// The words for a label, where space is short.
    short: &'static str,
    members: &'static [Rule],
    starts_with_name: bool,
    min: usize,
}

const GROUPS: &[Group] = &[
    Group {
        words: "a population statement (a covariate such as `age ~ uniform(45 years, 64 years)`, \
                or `pool N`)",
        short: "a population statement",
        members: &[Rule::kw_pool],
        starts_with_name: true,
        min: 1,
    },
    Group {
        words: "an eligibility statement (a criterion such as `age >= 45 years`, or \
                `screening removes P%`)",
        short: "an eligibility statement",
        members: &[Rule::kw_screening],
        starts_with_name: true,
        min: 1,
    },
    Group {
        words: "an arm statement (`path`, `work within`, `employed at`, `dropout`, \
                `lost_to_follow_up`, `exemption`, `exit without work`, `crossover`, or an \
                outcome's value such as `employed: 30%`)",
        members: &[
            Rule::kw_path,
            Rule::kw_work,
            Rule::kw_employed,
            Rule::kw_dropout,
            Rule::kw_lost_to_follow_up,
            Rule::kw_exemption,
            Rule::kw_exit,
            Rule::kw_crossover,
        ],
        short: "an arm statement",
        starts_with_name: true,
        min: 4,
    },
    Group {
        words: "an assignment statement (`parity of`, `randomise`, `intake order`, `capacity`, \
                `top_up`, `clock from`, or `<arm> starts paired with <arm>`)",
        members: &[
            Rule::kw_parity,
            Rule::kw_randomise,
            Rule::kw_intake,
            Rule::kw_capacity,
            Rule::kw_top_up,
            Rule::kw_clock,
        ],
        short: "an assignment statement",
        starts_with_name: true,
        min: 4,
    },
    Group {
        words: "a data statement (`id`, `arm`, `covariate`, `outcome`, `monthly_hours`, `path`, \
                `delimiter`, `decimal`, `allow exclusions`, `cluster`, or a flow column such as \
                `dropout \"column\"`)",
        members: &[
            Rule::kw_cluster,
            Rule::kw_id,
            Rule::kw_arm,
            Rule::kw_covariate,
            Rule::kw_outcome,
            Rule::kw_monthly_hours,
            Rule::kw_path,
            Rule::kw_delimiter,
            Rule::kw_decimal,
            Rule::kw_allow,
        ],
        short: "a data statement",
        starts_with_name: true,
        min: 6,
    },
];

fn describe_list(rules: &[Rule]) -> Vec<&'static str> {
    describe_grouped(rules, false)
}

fn describe_grouped(rules: &[Rule], short: bool) -> Vec<&'static str> {
    let mut rules = rules.to_vec();
    let mut groups = Vec::new();
    for g in GROUPS {
        if rules.iter().filter(|r| g.members.contains(r)).count() >= g.min {
            let absorbed =
                |r: &Rule| g.members.contains(r) || (g.starts_with_name && *r == Rule::name);
            rules.retain(|r| !absorbed(r));
            groups.push(if short { g.short } else { g.words });
        }
    }
    let mut words: Vec<&'static str> = Vec::new();
    for d in rules.iter().map(|r| r.describe()).chain(groups) {
        if !words.contains(&d) {
            words.push(d);
        }
    }
    words
}

fn join_or(words: &[&str]) -> String {
    match words.len() {
        0 => String::new(),
        1 => words[0].to_string(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

/// A keyword among the expected ones that the found word is probably a typo of.
fn did_you_mean(positives: &[Rule], found: &str) -> Option<&'static str> {
    if found.is_empty() || !found.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    positives
        .iter()
        .map(|r| r.describe())
        .filter_map(|d| d.strip_prefix('`').and_then(|d| d.strip_suffix('`')))
        .filter(|k| k.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(|k| (strsim::jaro_winkler(found, k), k))
        .filter(|(score, k)| *score > 0.85 || strsim::levenshtein(found, k) <= 1)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

fn hint(positives: &[Rule]) -> Option<String> {
    let has = |r: Rule| positives.contains(&r);
    if has(Rule::percent) || has(Rule::unit_word) {
        return Some(
            "write shares and rates as percentages (`25%`) and durations with a unit (`12 months`)"
                .to_string(),
        );
    }
    if has(Rule::kw_trial) {
        return Some("a spec is one block: `trial \"title\" { ... }`".to_string());
    }
    Some("docs/language.md shows the form of every statement".to_string())
}

impl Rule {
    /// How the rule reads in an error message. Exhaustive on purpose: a new grammar rule must be
    /// given words here before the crate compiles.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Rule::EOI => "the end of the file",
            Rule::WHITESPACE => "whitespace",
            Rule::COMMENT => "a comment",
            Rule::spec => "a spec",
            Rule::item => "a statement",
            Rule::follow_up => "`follow_up`",
            Rule::reference_date => "`reference_date`",
            Rule::population => "a `population` block",
            Rule::pool => "`pool`",
            Rule::variable => "a covariate (`name ~ distribution`)",
            Rule::distribution => "a distribution",
            Rule::categorical => "`categorical { ... }`",
            Rule::level => "a level (`name: 40%`)",
            Rule::level_name => "a level name",
            Rule::level_word => "a level name",
            Rule::dist_call => "a distribution such as `uniform(45, 66)`",
            Rule::dist_arg => "a distribution argument",
            Rule::eligibility => "an `eligibility` block",
            Rule::criterion => "a criterion such as `age >= 45 years`",
            Rule::compare => "a comparison such as `>= 45`",
            Rule::in_set => "`in { ... }`",
            Rule::amended => "`(amended from ...)`",
            Rule::screening => "`screening removes ...`",
            Rule::observed => "`(observed ...)`",
            Rule::assignment => "an `assignment` block",
            Rule::parity => "`parity of id: ...`",
            Rule::randomise => "`randomise ...`",
            Rule::ratio => "a ratio such as `1:1`",
            Rule::blocks => "`in blocks of N`",
            Rule::strata => "`within <variable>`",
            Rule::intake => "`intake order ...`",
            Rule::capacity => "`capacity N staff x M caseload`",
            Rule::intake_rate => "`, N intakes per month`",
            Rule::capacity_arm => "`, for <arm>`",
            Rule::guidance => "`, guidance N months`",
            Rule::waiting => "`, waiting follows <arm>`",
            Rule::clock => "`clock from randomisation` or `clock from intake`",
            Rule::top_up => "`top_up N per arm at month M`",
            Rule::excluded => "`(excluded from analysis)`",
            Rule::paired_start => "`<arm> starts paired with <arm>`",
            Rule::sample => "`sample ...`",
            Rule::sample_per_arm => "`N per arm`",
            Rule::sample_arm => "an arm size such as `control 199`",
            Rule::cluster_rule => "`randomise 1:1 by cohort of 22, icc 5%`",
            Rule::sample_clusters => "`N cohorts per arm`",
            Rule::inflow => "`inflow 80, 70, 50 per year, analysis at month 36`",
            Rule::costs => "a `costs for <analysis>` block",
            Rule::balance => "a `balance` block",
            Rule::b_flag => "`flag smd above 0.1`",
            Rule::b_alpha => "`alpha 5%`",
            Rule::b_bins => "bins such as `educ bins [0, 9, 12, 16, 99)`",
            Rule::c_fixed => "`fixed N euro`",
            Rule::c_per => "`per participant N euro`",
            Rule::c_saving => "`saving N euro per benefit year`",
            Rule::c_years => "`exit avoids N years`",
            Rule::exits => "`exits within N months { ... }`",
            Rule::exit_dest => "a destination such as `werkom: 24%`",
            Rule::m_exited => "`exited to <destination> by month N`",
            Rule::kw_icc => "`icc`",
            Rule::kw_cluster => "`cluster`",
            Rule::d_cluster => "`cluster \"column\"`",
            Rule::kw_inflow => "`inflow`",
            Rule::kw_year => "`year`",
            Rule::kw_exits => "`exits`",
            Rule::kw_exited => "`exited`",
            Rule::kw_costs => "`costs`",
            Rule::kw_fixed => "`fixed`",
            Rule::kw_participant => "`participant`",
            Rule::kw_saving => "`saving`",
            Rule::kw_avoids => "`avoids`",
            Rule::employment => "an `employment` block",
            Rule::job_loss => "`job_loss ...`",
            Rule::hours_dist => "`hours ~ ...`",
            Rule::wage_dist => "`wage ~ ...`",
            Rule::arm => "an `arm` block",
            Rule::arm_item => "an arm statement",
            Rule::path => "a `path`",
            Rule::share => "a share such as `25%` or `rest`",
            Rule::delay => "`after N months`",
            Rule::work_rate => "`work within N months: P%`",
            Rule::employed_rate => "`employed at month N: P%`",
            Rule::rate_by => "`by <variable> { ... }`",
            Rule::dropout => "`dropout P% before intake`",
            Rule::exemption => "`exemption P% up to N months`",
            Rule::lost => "`lost_to_follow_up P% by month N`",
            Rule::lost_by => "`by month N`",
            Rule::lost_if => "`F x if <outcome>`",
            Rule::missing => "`missing complete_cases`",
            Rule::missing_on => "`on <covariate>, ...`",
            Rule::exit_rate => "`exit without work within N months: P%`",
            Rule::crossover => "`crossover P% -> arm`",
            Rule::process_ref => "an arm or `arm.path`",
            Rule::direct_outcome => "a direct outcome such as `employed: 30%`",
            Rule::outcome => "an `outcome`",
            Rule::measure => "a measure",
            Rule::m_worked => "`worked within N months`",
            Rule::m_employed => "`employed at month N`",
            Rule::m_durable => "`durable at month N for M months`",
            Rule::m_hours => "`hours at month N`",
            Rule::m_wage => "`wage at month N`",
            Rule::m_benefit => "`benefit ended by month N`",
            Rule::m_binary => "`binary`",
            Rule::m_continuous => "`continuous`",
            Rule::at_month => "`at month N`",
            Rule::threshold => "`, hours >= N`",
            Rule::analysis => "an `analysis` block",
            Rule::compare_stmt => "`compare ...`",
            Rule::subgroup => "`within <variable>`",
            Rule::sub_bins => "bins such as `bins [0, 9, 12, 16, 99)`",
            Rule::test_stmt => "`test ...`",
            Rule::test_item => "a test option",
            Rule::sides => "`one_sided` or `two_sided`",
            Rule::direction => "`greater` or `less`",
            Rule::alpha => "`alpha P%`",
            Rule::test_name => "a test name",
            Rule::correction => "`correction ...`",
            Rule::looks => "`looks at ...`",
            Rule::efficacy => "`efficacy <spending function>`",
            Rule::spending_fn => "a spending function such as `obrien_fleming` or `hsd(-4)`",
            Rule::futility => "`futility ...`",
            Rule::fut_beta => "`beta_spending <function>, power P%, binding`",
            Rule::fut_cp => "`conditional_power below P%`",
            Rule::expect => "`expect ...`",
            Rule::at_n => "`at N per arm`",
            Rule::data => "a `data` block",
            Rule::d_id => "`id \"column\"`",
            Rule::d_arm => "`arm \"column\" { ... }`",
            Rule::arm_value => "`\"value\" -> arm`",
            Rule::d_covariate => "`covariate <variable> \"column\"`",
            Rule::d_outcome => "`outcome <name> \"column\"`",
            Rule::d_hours => "`monthly_hours \"pattern\"`",
            Rule::d_path => "`path \"column\" { ... }`",
            Rule::path_value => "`\"value\" -> arm.path`",
            Rule::d_delimiter => "`delimiter \";\"`",
            Rule::d_decimal => "`decimal comma` or `decimal point`",
            Rule::d_allow => "`allow exclusions`",
            Rule::d_flow => "a flow column such as `dropout \"column\"`",
            Rule::quantity => "a number",
            Rule::chance => "a percentage such as `25%`",
            Rule::belief => "`~ uniform(low, high)`",
            Rule::unit => "a unit",
            Rule::per_what => "`per week` or `per month`",
            Rule::percent => "`%`",
            Rule::unit_word => "a unit (`months`, `years`, `hours`, ...)",
            Rule::name => "a name",
            Rule::ident_char => "a letter, digit or `_`",
            Rule::number => "a number",
            Rule::string => "a quoted string",
            Rule::string_text => "text",
            Rule::date => "a date such as `2017-09-01`",
            Rule::cmp_op => "a comparison (`>=`, `>`, `<=`, `<`, `==`)",
            Rule::ge => "`>=`",
            Rule::lbrace => "`{`",
            Rule::rbrace => "`}`",
            Rule::lparen => "`(`",
            Rule::lbracket => "`[`",
            Rule::rparen => "`)`",
            Rule::colon => "`:`",
            Rule::comma => "`,`",
            Rule::dot => "`.`",
            Rule::tilde => "`~`",
            Rule::eq => "`=`",
            Rule::arrow => "`->`",
            Rule::times => "`x`",
            Rule::kw_trial => "`trial`",
            Rule::kw_follow_up => "`follow_up`",
            Rule::kw_reference_date => "`reference_date`",
            Rule::kw_population => "`population`",
            Rule::kw_pool => "`pool`",
            Rule::kw_categorical => "`categorical`",
            Rule::kw_rest => "`rest`",
            Rule::kw_eligibility => "`eligibility`",
            Rule::kw_and => "`and`",
            Rule::kw_in => "`in`",
            Rule::kw_amended => "`amended`",
            Rule::kw_from => "`from`",
            Rule::kw_screening => "`screening`",
            Rule::kw_removes => "`removes`",
            Rule::kw_observed => "`observed`",
            Rule::kw_assignment => "`assignment`",
            Rule::kw_parity => "`parity`",
            Rule::kw_of => "`of`",
            Rule::kw_even => "`even`",
            Rule::kw_odd => "`odd`",
            Rule::kw_randomise => "`randomise`",
            Rule::kw_blocks => "`blocks`",
            Rule::kw_within => "`within`",
            Rule::kw_intake => "`intake`",
            Rule::kw_order => "`order`",
            Rule::kw_random => "`random`",
            Rule::kw_simultaneous => "`simultaneous`",
            Rule::kw_capacity => "`capacity`",
            Rule::kw_clock => "`clock`",
            Rule::kw_guidance => "`guidance`",
            Rule::kw_waiting => "`waiting`",
            Rule::kw_randomisation => "`randomisation`",
            Rule::kw_staff => "`staff`",
            Rule::kw_caseload => "`caseload`",
            Rule::kw_intakes => "`intakes`",
            Rule::kw_per => "`per`",
            Rule::kw_month => "`month`",
            Rule::kw_week => "`week`",
            Rule::kw_sample => "`sample`",
            Rule::kw_arm => "`arm`",
            Rule::kw_employment => "`employment`",
            Rule::kw_job_loss => "`job_loss`",
            Rule::kw_hours => "`hours`",
            Rule::kw_wage => "`wage`",
            Rule::kw_path => "`path`",
            Rule::kw_after => "`after`",
            Rule::kw_work => "`work`",
            Rule::kw_employed => "`employed`",
            Rule::kw_at => "`at`",
            Rule::kw_by => "`by`",
            Rule::kw_dropout => "`dropout`",
            Rule::kw_before => "`before`",
            Rule::kw_follows => "`follows`",
            Rule::kw_exemption => "`exemption`",
            Rule::kw_up => "`up`",
            Rule::kw_to => "`to`",
            Rule::kw_exit => "`exit`",
            Rule::kw_without => "`without`",
            Rule::kw_crossover => "`crossover`",
            Rule::kw_outcome => "`outcome`",
            Rule::kw_worked => "`worked`",
            Rule::kw_durable => "`durable`",
            Rule::kw_for => "`for`",
            Rule::kw_benefit => "`benefit`",
            Rule::kw_ended => "`ended`",
            Rule::kw_binary => "`binary`",
            Rule::kw_continuous => "`continuous`",
            Rule::kw_analysis => "`analysis`",
            Rule::kw_compare => "`compare`",
            Rule::kw_vs => "`vs`",
            Rule::kw_test => "`test`",
            Rule::kw_one_sided => "`one_sided`",
            Rule::kw_two_sided => "`two_sided`",
            Rule::kw_greater => "`greater`",
            Rule::kw_less => "`less`",
            Rule::kw_alpha => "`alpha`",
            Rule::kw_correction => "`correction`",
            Rule::kw_expect => "`expect`",
            Rule::kw_data => "`data`",
            Rule::kw_id => "`id`",
            Rule::kw_covariate => "`covariate`",
            Rule::kw_monthly_hours => "`monthly_hours`",
            Rule::kw_delimiter => "`delimiter`",
            Rule::kw_decimal => "`decimal`",
            Rule::kw_comma => "`comma`",
            Rule::kw_point => "`point`",
            Rule::kw_allow => "`allow`",
            Rule::kw_exclusions => "`exclusions`",
            Rule::kw_top_up => "`top_up`",
            Rule::kw_excluded => "`excluded`",
            Rule::kw_starts => "`starts`",
            Rule::kw_paired => "`paired`",
            Rule::kw_with => "`with`",
            Rule::kw_lost_to_follow_up => "`lost_to_follow_up`",
            Rule::kw_if => "`if`",
            Rule::kw_missing => "`missing`",
            Rule::kw_balance => "`balance`",
            Rule::kw_primary => "`primary`",
            Rule::primary_mark => "`(primary)`",
            Rule::test_for => "`for <outcome>, ...`",
            Rule::kw_flag => "`flag`",
            Rule::kw_smd => "`smd`",
            Rule::kw_above => "`above`",
            Rule::kw_bins => "`bins`",
            Rule::kw_depends => "`depends`",
            Rule::kw_on => "`on`",
            Rule::kw_adjust => "`adjust`",
            Rule::kw_estimate => "`estimate`",
            Rule::depends => "`, depends on <covariate> <shift>`",
            Rule::dep_term => "a covariate and its shift, such as `re75 0.8`",
            Rule::dep_level => "a level and its shift, such as `hispanic: 500`",
            Rule::adjust => "`adjust for <covariate>, ...`",
            Rule::adjust_how => "`(lin)` or `(ancova)`",
            Rule::estimate => "`estimate complier_effect`",
            Rule::kw_looks => "`looks`",
            Rule::kw_information => "`information`",
            Rule::kw_efficacy => "`efficacy`",
            Rule::kw_futility => "`futility`",
            Rule::kw_beta_spending => "`beta_spending`",
            Rule::kw_power => "`power`",
            Rule::kw_binding => "`binding`",
            Rule::kw_non_binding => "`non_binding`",
            Rule::kw_conditional_power => "`conditional_power`",
            Rule::kw_below => "`below`",
        }
    }
}

impl SyntaxError {
    /// The label text.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The help line, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// Further labelled places.
    pub fn also(&self) -> impl Iterator<Item = (SourceSpan, String)> + '_ {
        self.also
            .iter()
            .map(|l| (*l.inner(), l.label().unwrap_or_default().to_string()))
    }
}
