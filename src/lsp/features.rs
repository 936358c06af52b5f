//! The answers: diagnostics, hover, completion, definition, references, outline, formatting and
//! quick fixes. Each reads the document's text afresh; nothing is cached between requests, so
//! no answer can be stale.

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CompletionItem,
    CompletionItemKind, CompletionParams, CompletionResponse, Diagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, DocumentFormattingParams, DocumentSymbol,
    DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind, NumberOrString,
    ReferenceParams, SymbolKind, TextEdit, Url, WorkspaceEdit,
};
use pest::Parser as _;

use super::index::{Index, SymKind};
use super::text::LineIndex;
use super::{MAX_CHECKED_BYTES, Server};
use crate::check::CheckError;
use crate::model::TrialModel;
use crate::source::SourceFile;
use crate::syntax::parser::{Rule, TrialParser};

fn source(uri: &Url, text: &str) -> SourceFile {
    let name = uri
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_string))
        .unwrap_or_else(|| uri.to_string());
    SourceFile::new(name, text)
}

/// The checker's diagnostics of a text, as the protocol has them: the first label is the range,
/// the others are related places, the help is the message's last paragraph.
pub fn diagnostics(uri: &Url, text: &str) -> Vec<Diagnostic> {
    check(uri, text).0
}

/// The diagnostics of a text, and its model when it checks.
pub(crate) fn check(uri: &Url, text: &str) -> (Vec<Diagnostic>, Option<TrialModel>) {
    let lines = LineIndex::new(text);
    if text.len() > MAX_CHECKED_BYTES {
        let d = vec![Diagnostic {
            range: lines.range(text, 0, 0),
            severity: Some(DiagnosticSeverity::WARNING),
            code: Some(NumberOrString::String("trialsim::too_large".to_string())),
            source: Some("trialsim".to_string()),
            message: format!(
                "this file ({:.1} MB) is too large to check as you type; run `trialsim check` on it",
                text.len() as f64 / 1e6
            ),
            ..Diagnostic::default()
        }];
        return (d, None);
    }
    let (found, model) = match crate::check::compile(&source(uri, text)) {
        Ok(checked) => (checked.warnings, Some(checked.model)),
        Err(failed) => (failed.diagnostics, None),
    };
    let diagnostics = found.iter().map(|d| to_lsp(uri, text, &lines, d)).collect();
    (diagnostics, model)
}

fn to_lsp(uri: &Url, text: &str, lines: &LineIndex, d: &CheckError) -> Diagnostic {
    let range = match d.labels.first() {
        Some((span, _)) => lines.range(text, span.start, span.end),
        None => lines.range(text, 0, 0),
    };
    let mut message = d.message.clone();
    if let Some((_, label)) = d.labels.first().filter(|(_, l)| !l.is_empty()) {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .map(|(span, label)| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(text, span.start, span.end)),
            message: label.clone(),
        })
        .collect();
    Diagnostic {
        range,
        severity: Some(if d.is_error() {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code_str().to_string())),
        source: Some("trialsim".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}

/// The text of a document and its line index, if it is open.
fn open<'s>(server: &'s Server, uri: &Url) -> Option<(&'s str, LineIndex)> {
    let doc = server.doc(uri)?;
    if doc.text.len() > MAX_CHECKED_BYTES {
        return None;
    }
    Some((doc.text.as_str(), LineIndex::new(&doc.text)))
}

/// The comment at the end of the line holding `offset` (a citation, usually).
fn line_comment(text: &str, offset: usize) -> Option<&str> {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[start..end];
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(line[i + 1..].trim()),
            '/' if !in_string && line[i..].starts_with("//") => return Some(line[i + 2..].trim()),
            _ => {}
        }
    }
    None
}

fn first_line(text: &str, span: (usize, usize)) -> String {
    let s = &text[span.0..span.1.min(text.len())];
    let line = s.lines().next().unwrap_or_default().trim_end();
    // Cut a trailing comment: the citation is shown on its own.
    let code = match line.find('#') {
        Some(i) if !line[..i].contains('"') => line[..i].trim_end(),
        _ => line,
    };
    code.to_string()
}

pub(crate) fn hover(server: &Server, p: HoverParams) -> Option<Hover> {
    let uri = &p.text_document_position_params.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let offset = lines.offset(text, p.text_document_position_params.position);
    let index = Index::build(text);
    let mut parts: Vec<String> = Vec::new();
    let mut range = None;
    if let Some(u) = index.use_at(offset) {
        range = Some(lines.range(text, u.span.0, u.span.1));
        match index.resolve(u) {
            Some(d) => {
                let mut head = format!("**{}** `{}`", d.kind.word(), d.name);
                if let Some(arm) = &d.container {
                    head.push_str(&format!(" of arm `{arm}`"));
                }
                parts.push(head);
                parts.push(format!("```trial\n{}\n```", first_line(text, d.span)));
                if let Some(c) = line_comment(text, d.span.0) {
                    parts.push(format!("*{c}*"));
                }
                if matches!(d.kind, SymKind::Arm | SymKind::Path | SymKind::Outcome) {
                    let prefix = match (&d.container, d.kind) {
                        (Some(arm), _) => format!("arm.{arm}.{}.", d.name),
                        (None, SymKind::Outcome) => format!("outcome.{}.", d.name),
                        (None, _) => format!("arm.{}.", d.name),
                    };
                    let rates = server
                        .doc(uri)
                        .and_then(|doc| doc.model.as_ref())
                        .map(|m| resolved(m, &prefix))
                        .unwrap_or_default();
                    if !rates.is_empty() {
                        parts.push(format!("resolved:\n{}", rates.join("\n")));
                    }
                }
            }
            None => parts.push(format!("`{}` is not declared in this spec", u.name)),
        }
    } else if let Some((span, said)) = quantity_at(text, offset) {
        range = Some(lines.range(text, span.0, span.1));
        parts.push(said);
        if let Some(c) = line_comment(text, offset) {
            parts.push(format!("*{c}*"));
        }
    } else if let Some(c) = line_comment(text, offset) {
        parts.push(format!("*{c}*"));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n"),
        }),
        range,
    })
}

/// The model's parameters under a prefix (`experiment.guided.`), as `path = value` lines, from
/// the last version of the document that checked.
fn resolved(model: &TrialModel, prefix: &str) -> Vec<String> {
    crate::params::list(model)
        .into_iter()
        .filter(|p| p.path.starts_with(prefix))
        .map(|p| {
            let value = if p.kind == crate::params::ParamKind::Probability {
                format!("{:.4} ({}%)", p.value, trim(p.value * 100.0))
            } else {
                trim(p.value)
            };
            format!("- `{}` = {value}", p.path)
        })
        .collect()
}

fn trim(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The quantity under the cursor and what it means in the model's units: a percentage as a
/// probability, years and weeks as months, hours per week as hours per month.
fn quantity_at(text: &str, offset: usize) -> Option<((usize, usize), String)> {
    let bytes = text.as_bytes();
    let is_num = |b: u8| b.is_ascii_digit() || b == b'.';
    let mut start = offset.min(text.len());
    while start > 0 && is_num(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset.min(text.len());
    while end < bytes.len() && is_num(bytes[end]) {
        end += 1;
    }
    if start == end
        || (start > 0 && (bytes[start - 1].is_ascii_alphabetic() || bytes[start - 1] == b'_'))
    {
        return None;
    }
    let value: f64 = text[start..end].parse().ok()?;
    let rest = &text[end..];
    let after = rest.trim_start_matches([' ', '\t']);
    let gap = rest.len() - after.len();
    let word: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '%')
        .collect();
    let unit_end = end + gap + word.len();
    let per_week = after[word.len()..].trim_start().starts_with("per week");
    let written = &text[start..unit_end];
    let said = match word.as_str() {
        "%" => format!("`{written}`: probability {}", trim(value / 100.0)),
        "years" | "year" => format!("`{written}` = {} months", trim(value * 12.0)),
        "weeks" | "week" => {
            let m = value * 12.0 / 52.0;
            let whole = if (m - m.round()).abs() < 1e-9 {
                String::new()
            } else {
                " (not a whole number of months)".to_string()
            };
            format!("`{written}` = {} months{whole}", trim(m))
        }
        "months" | "month" => format!(
            "`{written}`: {} months, the model's unit of time",
            trim(value)
        ),
        "hours" | "hour" | "h" if per_week => format!(
            "`{written} per week` = {} hours per month (× 52/12)",
            trim(value * 52.0 / 12.0)
        ),
        "hours" | "hour" | "h" => format!("`{written}` = {} hours per month", trim(value)),
        "euro" => format!("`{written}` = €{}", trim(value)),
        _ => return None,
    };
    Some(((start, unit_end), said))
}

pub(crate) fn definition(
    server: &Server,
    p: GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let uri = &p.text_document_position_params.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let offset = lines.offset(text, p.text_document_position_params.position);
    let index = Index::build(text);
    let d = index.resolve(index.use_at(offset)?)?;
    Some(GotoDefinitionResponse::Scalar(Location::new(
        uri.clone(),
        lines.range(text, d.name_span.0, d.name_span.1),
    )))
}

pub(crate) fn references(server: &Server, p: ReferenceParams) -> Option<Vec<Location>> {
    let uri = &p.text_document_position.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let offset = lines.offset(text, p.text_document_position.position);
    let index = Index::build(text);
    let u = index.use_at(offset)?;
    let decl = index.resolve(u).map(|d| d.name_span);
    Some(
        index
            .references(u)
            .into_iter()
            .filter(|s| p.context.include_declaration || Some(*s) != decl)
            .map(|(a, b)| Location::new(uri.clone(), lines.range(text, a, b)))
            .collect(),
    )
}

pub(crate) fn symbols(server: &Server, p: DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
    let uri = &p.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let index = Index::build(text);
    #[allow(deprecated)]
    fn convert(o: &super::index::Outline, text: &str, lines: &LineIndex) -> DocumentSymbol {
        let kind = match o.kind {
            Some(SymKind::Arm) => SymbolKind::CLASS,
            Some(SymKind::Path) => SymbolKind::METHOD,
            Some(SymKind::Outcome) => SymbolKind::FIELD,
            Some(SymKind::Variable) => SymbolKind::VARIABLE,
            Some(SymKind::Analysis) => SymbolKind::FUNCTION,
            None => SymbolKind::NAMESPACE,
        };
        DocumentSymbol {
            name: o.title.clone(),
            detail: None,
            kind,
            tags: None,
            deprecated: None,
            range: lines.range(text, o.span.0, o.span.1),
            selection_range: lines.range(text, o.select.0, o.select.1),
            children: (!o.children.is_empty())
                .then(|| o.children.iter().map(|c| convert(c, text, lines)).collect()),
        }
    }
    Some(DocumentSymbolResponse::Nested(
        index
            .outline
            .iter()
            .map(|o| convert(o, text, &lines))
            .collect(),
    ))
}

pub(crate) fn formatting(server: &Server, p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let uri = &p.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let formatted = crate::syntax::format::format(&source(uri, text)).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(
        lines.range(text, 0, text.len()),
        formatted,
    )])
}

/// The replacement a "did you mean `x`?" help offers.
fn did_you_mean(help: &str) -> Option<&str> {
    let rest = &help[help.find("did you mean `")? + "did you mean `".len()..];
    Some(&rest[..rest.find('`')?])
}

pub(crate) fn code_actions(
    server: &Server,
    p: CodeActionParams,
) -> Option<Vec<CodeActionOrCommand>> {
    let uri = &p.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let found = match crate::check::compile(&source(uri, text)) {
        Ok(checked) => checked.warnings,
        Err(failed) => failed.diagnostics,
    };
    let (from, to) = (
        lines.offset(text, p.range.start),
        lines.offset(text, p.range.end),
    );
    let mut actions = Vec::new();
    for d in &found {
        let (Some(help), Some((span, _))) = (&d.help, d.labels.first()) else {
            continue;
        };
        // A misspelt keyword read as a name: the error stands after the name, the fix on it.
        let misspelt = help
            .strip_prefix('`')
            .and_then(|h| h.split_once("` is read as a name here; did you mean the keyword `"))
            .and_then(|(word, rest)| Some((word, rest.split_once('`')?.0)));
        let (target, new) = match (misspelt, did_you_mean(help)) {
            (Some((word, keyword)), _) => match text[..span.start].rfind(word) {
                Some(at) => ((at, at + word.len()), keyword),
                None => continue,
            },
            (None, Some(new)) => ((span.start, span.end), new),
            (None, None) => continue,
        };
        let reach = (target.0.min(span.start), target.1.max(span.end));
        if reach.1 < from || reach.0 > to || target.0 == target.1 {
            continue;
        }
        let span = crate::source::Span::new(target.0, target.1);
        let range = lines.range(text, span.start, span.end);
        let edit = TextEdit::new(range, new.to_string());
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Replace `{}` with `{new}`", &text[span.start..span.end]),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![to_lsp(uri, text, &lines, d)]),
            edit: Some(WorkspaceEdit {
                changes: Some([(uri.clone(), vec![edit])].into_iter().collect()),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    Some(actions)
}

/// The keyword a rule's description names (`work within N months: P%` names `work`).
fn keyword_of(rule: Rule) -> Option<String> {
    let said = rule.describe();
    let inner = said.split('`').nth(1)?;
    let word: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let placeholder =
        matches!(word.as_str(), "" | "name" | "N" | "P") || word.starts_with(char::is_numeric);
    (!placeholder && word.chars().any(|c| c.is_ascii_lowercase())).then_some(word)
}

pub(crate) fn completion(server: &Server, p: CompletionParams) -> Option<CompletionResponse> {
    let uri = &p.text_document_position.text_document.uri;
    let (text, lines) = open(server, uri)?;
    let offset = lines.offset(text, p.text_document_position.position);
    let bytes = text.as_bytes();
    let mut word_start = offset;
    while word_start > 0
        && (bytes[word_start - 1].is_ascii_alphanumeric() || bytes[word_start - 1] == b'_')
    {
        word_start -= 1;
    }
    let index = Index::build(text);
    // What the grammar accepts at the word's start: parse the (recovered) text up to there,
    // followed by a character no rule accepts, and read the expected set off the error.
    // Mistakes before the cursor are blanked out first, so they do not hide what can follow.
    let before = &text[..word_start];
    let recovered;
    let before = if TrialParser::parse(Rule::spec, text).is_ok() {
        before
    } else {
        recovered = crate::syntax::recovered_text(&SourceFile::new("", text));
        &recovered[..word_start.min(recovered.len())]
    };
    let probe = format!("{before}\u{1}");
    let positives = match TrialParser::parse(Rule::spec, &probe) {
        Err(pest::error::Error {
            variant: pest::error::ErrorVariant::ParsingError { positives, .. },
            ..
        }) => positives,
        _ => Vec::new(),
    };
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let after_dot = word_start > 0 && bytes[word_start - 1] == b'.';
    if after_dot {
        // `experiment.` : the arm's paths.
        let mut arm_start = word_start - 1;
        while arm_start > 0
            && (bytes[arm_start - 1].is_ascii_alphanumeric() || bytes[arm_start - 1] == b'_')
        {
            arm_start -= 1;
        }
        let arm = &text[arm_start..word_start - 1];
        for d in index.names(&[SymKind::Path]) {
            if d.container.as_deref() == Some(arm) && seen.insert(d.name.clone()) {
                items.push(name_item(d.kind, &d.name));
            }
        }
        return Some(CompletionResponse::Array(items));
    }
    for rule in &positives {
        if *rule == Rule::name || *rule == Rule::level_name || *rule == Rule::process_ref {
            for d in index.names(&[
                SymKind::Arm,
                SymKind::Outcome,
                SymKind::Variable,
                SymKind::Analysis,
            ]) {
                if seen.insert(d.name.clone()) {
                    items.push(name_item(d.kind, &d.name));
                }
            }
        } else if let Some(k) = keyword_of(*rule)
            && seen.insert(k.clone())
        {
            items.push(CompletionItem {
                label: k,
                kind: Some(CompletionItemKind::KEYWORD),
                detail: Some(rule.describe().to_string()),
                ..CompletionItem::default()
            });
        }
    }
    Some(CompletionResponse::Array(items))
}

fn name_item(kind: SymKind, name: &str) -> CompletionItem {
    CompletionItem {
        label: name.to_string(),
        kind: Some(match kind {
            SymKind::Arm => CompletionItemKind::CLASS,
            SymKind::Path => CompletionItemKind::METHOD,
            SymKind::Outcome => CompletionItemKind::FIELD,
            SymKind::Variable => CompletionItemKind::VARIABLE,
            SymKind::Analysis => CompletionItemKind::FUNCTION,
        }),
        detail: Some(kind.word().to_string()),
        ..CompletionItem::default()
    }
}
