//! `trialsim fmt`: one canonical layout for a spec, computed on the pest parse tree.
//!
//! The layout: two spaces of indentation per block; one statement per line (the criteria of an
//! eligibility line joined by `and` stay on one line); one space between tokens except before
//! `,` `:` `%` `)` and after `(`, none around the `:` of a ratio (`2:1`) or the `.` of a path
//! reference, none inside the braces of a set (`in {3, 4}`), one inside the braces of a list of
//! levels (`categorical { a: 50%, b: rest }`); trailing comments of adjacent lines aligned two
//! columns after the longest of those lines; at most one blank line in a row, none after `{` or
//! before `}`, and always one around a top-level block (a section).
//!
//! Comments are not in the tree (the grammar skips them), so they are read from the gaps between
//! the tree's tokens and kept exactly, each either at the end of its line or on a line of its own.
//! A statement with a comment inside it (between two of its tokens) is kept as written.
//!
//! Formatting changes only whitespace outside strings and comments, so the checked model of the
//! formatted text is the model of the original (tested for every shipped spec and for generated
//! specs in `tests/integration/fmt.rs`).

use pest::Parser as _;
use pest::iterators::Pair;

use super::SyntaxError;
use super::parser::{Rule, TrialParser};
use crate::source::SourceFile;

const INDENT: &str = "  ";

/// The text in canonical layout, or the syntax error that stops it (a spec that does not parse
/// has no layout to give it).
pub fn format(source: &SourceFile) -> Result<String, Box<SyntaxError>> {
    super::set_limit();
    let mut pairs = TrialParser::parse(Rule::spec, &source.text)
        .map_err(|e| Box::new(SyntaxError::from_pest(source, &e)))?;
    let Some(spec) = pairs.next() else {
        return Ok(source.text.to_string());
    };
    let mut f = Layout::default();
    f.block(spec, 0);
    Ok(f.render(&source.text))
}

/// A token of the tree: its bytes, its rule and the rule that holds it.
#[derive(Debug, Clone, Copy)]
struct Tok {
    start: usize,
    end: usize,
    rule: Rule,
    parent: Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// A block's opening line, ending in `{`.
    Header {
        section: bool,
    },
    Statement,
    /// A block's `}`.
    Close {
        section: bool,
    },
}

/// One output line before comments: tokens `first..=last` at `depth`.
#[derive(Debug, Clone, Copy)]
struct Line {
    depth: usize,
    first: usize,
    last: usize,
    kind: LineKind,
}

#[derive(Debug, Default)]
struct Layout {
    toks: Vec<Tok>,
    lines: Vec<Line>,
}

/// Rules whose `{ ... }` holds statements, one per line.
fn is_block(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::spec
            | Rule::population
            | Rule::eligibility
            | Rule::assignment
            | Rule::employment
            | Rule::arm
            | Rule::path
            | Rule::analysis
            | Rule::data
            | Rule::costs
            | Rule::balance
    )
}

/// Rules read as one token even though pest gives them inner pairs.
fn is_leaf(pair: &Pair<'_, Rule>) -> bool {
    matches!(pair.as_rule(), Rule::string) || pair.clone().into_inner().next().is_none()
}

impl Layout {
    fn leaves(&mut self, pair: Pair<'_, Rule>, parent: Rule) {
        if pair.as_rule() == Rule::EOI {
            return;
        }
        if is_leaf(&pair) {
            let span = pair.as_span();
            self.toks.push(Tok {
                start: span.start(),
                end: span.end(),
                rule: pair.as_rule(),
                parent,
            });
            return;
        }
        let rule = pair.as_rule();
        for kid in pair.into_inner() {
            self.leaves(kid, rule);
        }
    }

    fn line(&mut self, depth: usize, first: usize, kind: LineKind) {
        if self.toks.len() > first {
            self.lines.push(Line {
                depth,
                first,
                last: self.toks.len() - 1,
                kind,
            });
        }
    }

    /// A block statement: its header line, its statements one level deeper, its `}`.
    fn block(&mut self, pair: Pair<'_, Rule>, depth: usize) {
        let rule = pair.as_rule();
        let section = depth == 1;
        let mut kids = pair.into_inner();
        let first = self.toks.len();
        for kid in kids.by_ref() {
            let open = kid.as_rule() == Rule::lbrace;
            self.leaves(kid, rule);
            if open {
                break;
            }
        }
        self.line(depth, first, LineKind::Header { section });
        let mut join = false;
        for kid in kids {
            match kid.as_rule() {
                Rule::rbrace => {
                    let first = self.toks.len();
                    self.leaves(kid, rule);
                    self.line(depth, first, LineKind::Close { section });
                }
                Rule::EOI => {}
                Rule::kw_and => {
                    self.leaves(kid, rule);
                    join = true;
                }
                r if is_block(r) => self.block(kid, depth + 1),
                _ if join => {
                    self.leaves(kid, rule);
                    if let Some(last) = self.lines.last_mut() {
                        last.last = self.toks.len() - 1;
                    }
                    join = false;
                }
                _ => {
                    let first = self.toks.len();
                    self.leaves(kid, rule);
                    self.line(depth + 1, first, LineKind::Statement);
                }
            }
        }
    }

    fn render(&self, text: &str) -> String {
        let gaps = self.gaps(text);
        let mut out = Out::default();
        for line in &self.lines {
            let gap = &gaps[line.first];
            let mut comments = gap.comments.iter().peekable();
            if line.first > 0
                && let Some(c) = comments.next_if(|c| c.newlines_before == 0)
            {
                out.trail(&c.text);
            }
            let comment_depth = match line.kind {
                LineKind::Close { .. } => line.depth + 1,
                _ => line.depth,
            };
            for c in comments {
                out.comment(comment_depth, &c.text, c.newlines_before >= 2);
            }
            let verbatim = (line.first + 1..=line.last).any(|k| !gaps[k].comments.is_empty());
            let code = if verbatim {
                text[self.toks[line.first].start..self.toks[line.last].end].to_string()
            } else {
                self.code(text, line.first, line.last)
            };
            let blank = gap.newlines_after >= 2;
            match line.kind {
                LineKind::Header { section } => out.header(line.depth, code, blank, section),
                LineKind::Statement => out.code(line.depth, code, blank, verbatim),
                LineKind::Close { section } => out.close(line.depth, code, section),
            }
        }
        let end = &gaps[self.toks.len()];
        let mut comments = end.comments.iter().peekable();
        if let Some(c) = comments.next_if(|c| c.newlines_before == 0) {
            out.trail(&c.text);
        }
        for c in comments {
            out.comment(0, &c.text, c.newlines_before >= 2);
        }
        out.finish()
    }

    /// The tokens `first..=last` with canonical spacing.
    fn code(&self, text: &str, first: usize, last: usize) -> String {
        let mut s = String::new();
        for k in first..=last {
            let t = self.toks[k];
            if k > first && space_between(&self.toks[k - 1], &t) {
                s.push(' ');
            }
            s.push_str(&text[t.start..t.end]);
        }
        s
    }

    /// The gap before each token (and one after the last): its comments and blank lines.
    fn gaps(&self, text: &str) -> Vec<Gap> {
        let mut gaps = Vec::with_capacity(self.toks.len() + 1);
        let mut from = 0;
        for t in &self.toks {
            gaps.push(Gap::read(&text[from..t.start]));
            from = t.end;
        }
        gaps.push(Gap::read(&text[from..]));
        gaps
    }
}

/// Does a space go between these two adjacent tokens of one line?
fn space_between(prev: &Tok, next: &Tok) -> bool {
    let tight_braces = |t: &Tok| matches!(t.parent, Rule::in_set | Rule::subgroup);
    match (prev.rule, next.rule) {
        (_, Rule::comma | Rule::percent | Rule::rparen) => false,
        (Rule::lparen | Rule::lbracket, _) => false,
        (_, Rule::dot) | (Rule::dot, _) => false,
        (_, Rule::colon) => false,
        (Rule::colon, _) => prev.parent != Rule::ratio,
        (_, Rule::lparen) => !matches!(next.parent, Rule::dist_call | Rule::expect),
        (Rule::lbrace, _) => !tight_braces(prev),
        (_, Rule::rbrace) => !tight_braces(next),
        _ => true,
    }
}

#[derive(Debug)]
struct Comment {
    text: String,
    newlines_before: usize,
}

/// What lies between two tokens: comments, and the newlines after the last of them.
#[derive(Debug)]
struct Gap {
    comments: Vec<Comment>,
    newlines_after: usize,
}

impl Gap {
    fn read(gap: &str) -> Self {
        let mut comments = Vec::new();
        let mut newlines = 0;
        let mut rest = gap;
        while let Some(c) = rest.chars().next() {
            if c == '#' || rest.starts_with("//") {
                let end = rest.find('\n').unwrap_or(rest.len());
                comments.push(Comment {
                    text: rest[..end].trim_end().to_string(),
                    newlines_before: newlines,
                });
                newlines = 0;
                rest = &rest[end..];
            } else {
                if c == '\n' {
                    newlines += 1;
                }
                rest = &rest[c.len_utf8()..];
            }
        }
        Self {
            comments,
            newlines_after: newlines,
        }
    }
}

#[derive(Debug)]
enum OutLine {
    Blank,
    Comment {
        depth: usize,
        text: String,
    },
    Code {
        depth: usize,
        code: String,
        trailing: Option<String>,
        /// Kept as written: no alignment of its trailing comment.
        verbatim: bool,
        header: bool,
    },
}

#[derive(Debug, Default)]
struct Out {
    lines: Vec<OutLine>,
    force_blank: bool,
}

impl Out {
    fn after_header(&self) -> bool {
        matches!(
            self.lines.last(),
            Some(OutLine::Code {
                header: true,
                trailing: _,
                ..
            })
        )
    }

    fn blank(&mut self) {
        if !self.lines.is_empty()
            && !matches!(self.lines.last(), Some(OutLine::Blank))
            && !self.after_header()
        {
            self.lines.push(OutLine::Blank);
        }
    }

    fn before(&mut self, blank: bool) {
        let forced = std::mem::take(&mut self.force_blank);
        if blank || forced {
            self.blank();
        }
    }

    fn comment(&mut self, depth: usize, text: &str, blank: bool) {
        self.before(blank);
        self.lines.push(OutLine::Comment {
            depth,
            text: text.to_string(),
        });
    }

    fn trail(&mut self, text: &str) {
        match self.lines.last_mut() {
            Some(OutLine::Code { trailing, .. }) if trailing.is_none() => {
                *trailing = Some(text.to_string());
            }
            _ => self.lines.push(OutLine::Comment {
                depth: 0,
                text: text.to_string(),
            }),
        }
    }

    fn code(&mut self, depth: usize, code: String, blank: bool, verbatim: bool) {
        self.before(blank);
        self.lines.push(OutLine::Code {
            depth,
            code,
            trailing: None,
            verbatim,
            header: false,
        });
    }

    fn header(&mut self, depth: usize, code: String, blank: bool, section: bool) {
        self.before(blank);
        if section {
            // A blank line before the section and the comments directly above it.
            let mut at = self.lines.len();
            while at > 0 && matches!(self.lines[at - 1], OutLine::Comment { .. }) {
                at -= 1;
            }
            let open_above = at > 0
                && matches!(
                    self.lines[at - 1],
                    OutLine::Code { header: true, .. } | OutLine::Blank
                );
            if at > 0 && !open_above {
                self.lines.insert(at, OutLine::Blank);
            }
        }
        self.lines.push(OutLine::Code {
            depth,
            code,
            trailing: None,
            verbatim: false,
            header: true,
        });
    }

    fn close(&mut self, depth: usize, code: String, section: bool) {
        self.force_blank = false;
        while matches!(self.lines.last(), Some(OutLine::Blank)) {
            self.lines.pop();
        }
        // An empty block closes on its own line: `arm x {}`.
        if let Some(OutLine::Code {
            code: open,
            trailing: None,
            header: header @ true,
            ..
        }) = self.lines.last_mut()
        {
            open.push_str(&code);
            *header = false;
        } else {
            self.lines.push(OutLine::Code {
                depth,
                code,
                trailing: None,
                verbatim: false,
                header: false,
            });
        }
        self.force_blank = section;
    }

    /// Adjacent `outcome name = measure` lines align their `=`.
    fn align_outcomes(&mut self) {
        fn eq_at(line: &OutLine) -> Option<usize> {
            match line {
                OutLine::Code {
                    code,
                    verbatim: false,
                    ..
                } if code.starts_with("outcome ") => code.find(" = "),
                _ => None,
            }
        }
        let mut i = 0;
        while i < self.lines.len() {
            let mut j = i;
            let mut widest = 0;
            while let Some(at) = self.lines.get(j).and_then(eq_at) {
                widest = widest.max(at);
                j += 1;
            }
            for line in &mut self.lines[i..j] {
                if let (Some(at), OutLine::Code { code, .. }) = (eq_at(line), &mut *line) {
                    code.insert_str(at, &" ".repeat(widest - at));
                }
            }
            i = j.max(i + 1);
        }
    }

    fn finish(mut self) -> String {
        while matches!(self.lines.last(), Some(OutLine::Blank)) {
            self.lines.pop();
        }
        self.align_outcomes();
        let width = |depth: usize, code: &str| depth * INDENT.len() + code.chars().count();
        // Alignment columns: runs of adjacent lines at one depth that carry trailing comments.
        let mut column = vec![0usize; self.lines.len()];
        let mut i = 0;
        while i < self.lines.len() {
            let run_depth = match &self.lines[i] {
                OutLine::Code {
                    depth,
                    trailing: Some(_),
                    verbatim: false,
                    ..
                } => *depth,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let mut j = i;
            let mut widest = 0;
            while let Some(OutLine::Code {
                depth,
                code,
                trailing: Some(_),
                verbatim: false,
                ..
            }) = self.lines.get(j)
            {
                if *depth != run_depth {
                    break;
                }
                widest = widest.max(width(*depth, code));
                j += 1;
            }
            for c in &mut column[i..j] {
                *c = widest + 2;
            }
            i = j;
        }
        let mut s = String::new();
        for (line, col) in self.lines.iter().zip(column) {
            match line {
                OutLine::Blank => {}
                OutLine::Comment { depth, text } => {
                    s.push_str(&INDENT.repeat(*depth));
                    s.push_str(text);
                }
                OutLine::Code {
                    depth,
                    code,
                    trailing,
                    ..
                } => {
                    s.push_str(&INDENT.repeat(*depth));
                    s.push_str(code);
                    if let Some(t) = trailing {
                        let pad = col.saturating_sub(width(*depth, code)).max(2);
                        s.push_str(&" ".repeat(pad));
                        s.push_str(t);
                    }
                }
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(&SourceFile::new("t.trial", text)) {
            Ok(s) => s,
            Err(e) => panic!("{}", e.message()),
        }
    }

    #[test]
    fn canonical_spacing_indentation_and_blocks() {
        let text = "trial \"t\"{follow_up 12  months\narm a{work within 12 months : 25 %}\n\n\n\narm b { }\nanalysis p { compare o : a vs b\ntest pooled_z , alpha 5% }}";
        insta::assert_snapshot!(fmt(text), @r#"
        trial "t" {
          follow_up 12 months

          arm a {
            work within 12 months: 25%
          }

          arm b {}

          analysis p {
            compare o: a vs b
            test pooled_z, alpha 5%
          }
        }
        "#);
    }

    #[test]
    fn sets_lists_ratios_calls_and_and() {
        let text = "trial \"t\" { population { g ~ categorical {a:50%,b:rest} x ~ normal( mean: 5 , sd: 1) }\neligibility { x >= 1 and x <= 9 (amended from 8)\ng in { a , b } }\nassignment { randomise 2 : 1 within g }\narm a { crossover 5% -> b . p after 2 months }\nexpect power( p ) >= 80% at 10 per arm }";
        insta::assert_snapshot!(fmt(text), @r#"
        trial "t" {
          population {
            g ~ categorical { a: 50%, b: rest }
            x ~ normal(mean: 5, sd: 1)
          }

          eligibility {
            x >= 1 and x <= 9 (amended from 8)
            g in {a, b}
          }

          assignment {
            randomise 2:1 within g
          }

          arm a {
            crossover 5% -> b.p after 2 months
          }

          expect power(p) >= 80% at 10 per arm
        }
        "#);
    }

    #[test]
    fn balance_is_a_block_and_bins_an_interval() {
        let text =
            "trial \"t\" { balance { flag smd above 0.1 alpha 5% educ bins [ 0 , 9, 12 , 99 ) } }";
        insta::assert_snapshot!(fmt(text), @r#"
        trial "t" {
          balance {
            flag smd above 0.1
            alpha 5%
            educ bins [0, 9, 12, 99)
          }
        }
        "#);
    }

    #[test]
    fn comments_are_kept_and_trailing_ones_aligned() {
        let text = "# head\n\n\ntrial \"t\" { # title\n  follow_up 12 months # a\n  reference_date 2020-01-01 # b\n\n  # before arm\n  arm a { # open\n  work within 12 months: 25%   // rate\n  # last\n  }\n  arm b { work within 12 months: # inside\n 20% }\n} # end\n# tail\n";
        insta::assert_snapshot!(fmt(text), @r#"
        # head

        trial "t" {  # title
          follow_up 12 months        # a
          reference_date 2020-01-01  # b

          # before arm
          arm a {  # open
            work within 12 months: 25%  // rate
            # last
          }

          arm b {
            work within 12 months: # inside
         20%
          }
        }  # end
        # tail
        "#);
    }

    #[test]
    fn formatting_is_idempotent_on_the_shipped_spec() {
        let once = fmt(include_str!("../../specs/almere-45plus.trial"));
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn a_spec_that_does_not_parse_is_not_formatted() {
        assert!(format(&SourceFile::new("t", "trial \"t\" { arm a { }")).is_err());
    }
}
