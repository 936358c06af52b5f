//! What the editor asks about a spec's names: where each arm, path, outcome, covariate and
//! analysis is declared, where each name is used, and the outline of blocks.
//!
//! Read from the parse tree of the recovered text (statements with syntax errors blanked out), so
//! that the names of the rest of a spec stay navigable while one statement is being typed.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::source::SourceFile;
use crate::syntax::parser::{Rule, TrialParser};

/// What a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymKind {
    /// `arm NAME { ... }`
    Arm,
    /// `path NAME ...` inside an arm.
    Path,
    /// `outcome NAME = ...`
    Outcome,
    /// `NAME ~ ...` in `population`.
    Variable,
    /// `analysis NAME { ... }`
    Analysis,
}

impl SymKind {
    /// The word for it.
    pub fn word(self) -> &'static str {
        match self {
            Self::Arm => "arm",
            Self::Path => "path",
            Self::Outcome => "outcome",
            Self::Variable => "covariate",
            Self::Analysis => "analysis",
        }
    }
}

/// A declaration.
#[derive(Debug, Clone)]
pub struct Decl {
    /// What it is.
    pub kind: SymKind,
    /// Its name.
    pub name: String,
    /// The name's bytes.
    pub name_span: (usize, usize),
    /// The whole statement's bytes.
    pub span: (usize, usize),
    /// The arm a path belongs to.
    pub container: Option<String>,
}

/// A use of a name (declarations included).
#[derive(Debug, Clone)]
pub struct Use {
    /// The name.
    pub name: String,
    /// Its bytes.
    pub span: (usize, usize),
    /// After a `.` (`experiment.guided`): a path, in the arm before the dot.
    pub path_of: Option<String>,
}

/// An entry of the outline.
#[derive(Debug, Clone)]
pub struct Outline {
    /// `arm experiment`, `population`, `outcome work_12m`.
    pub title: String,
    /// The statement's bytes.
    pub span: (usize, usize),
    /// The bytes to select: the name, or the keyword.
    pub select: (usize, usize),
    /// A declaration it makes, if any.
    pub kind: Option<SymKind>,
    /// Statements inside it worth listing (the paths of an arm).
    pub children: Vec<Outline>,
}

/// Names and outline of one text.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Declarations in text order.
    pub decls: Vec<Decl>,
    /// Every name token.
    pub uses: Vec<Use>,
    /// The top-level statements.
    pub outline: Vec<Outline>,
}

/// The pair's bytes, without the whitespace and comments pest leaves at the end of a rule.
fn span(p: &Pair<'_, Rule>) -> (usize, usize) {
    fn end(p: &Pair<'_, Rule>) -> usize {
        match p.clone().into_inner().last() {
            Some(last) => end(&last),
            None => p.as_span().end(),
        }
    }
    (p.as_span().start(), end(p))
}

fn first_name<'i>(p: &Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
    p.clone().into_inner().find(|k| k.as_rule() == Rule::name)
}

impl Index {
    /// The index of a text (its statements with syntax errors left out).
    pub fn build(text: &str) -> Self {
        let mut index = Self::default();
        let recovered;
        let parsed = match TrialParser::parse(Rule::spec, text) {
            Ok(pairs) => Ok(pairs),
            Err(_) => {
                recovered = crate::syntax::recovered_text(&SourceFile::new("", text));
                TrialParser::parse(Rule::spec, &recovered)
            }
        };
        let Ok(mut pairs) = parsed else {
            return index;
        };
        let Some(spec) = pairs.next() else {
            return index;
        };
        index.walk(spec.clone(), None);
        for item in spec.into_inner() {
            if let Some(o) = outline(&item) {
                index.outline.push(o);
            }
        }
        index
    }

    fn walk(&mut self, pair: Pair<'_, Rule>, arm: Option<&str>) {
        let rule = pair.as_rule();
        let decl = match rule {
            Rule::arm => Some(SymKind::Arm),
            Rule::path => Some(SymKind::Path),
            Rule::outcome => Some(SymKind::Outcome),
            Rule::variable => Some(SymKind::Variable),
            Rule::analysis => Some(SymKind::Analysis),
            _ => None,
        };
        let mut arm_name = arm.map(str::to_string);
        if let (Some(kind), Some(name)) = (decl, first_name(&pair)) {
            if kind == SymKind::Arm {
                arm_name = Some(name.as_str().to_string());
            }
            self.decls.push(Decl {
                kind,
                name: name.as_str().to_string(),
                name_span: span(&name),
                span: span(&pair),
                container: if kind == SymKind::Path {
                    arm.map(str::to_string)
                } else {
                    None
                },
            });
        }
        if rule == Rule::process_ref {
            let names: Vec<Pair<'_, Rule>> = pair
                .clone()
                .into_inner()
                .filter(|k| k.as_rule() == Rule::name)
                .collect();
            for (i, n) in names.iter().enumerate() {
                self.uses.push(Use {
                    name: n.as_str().to_string(),
                    span: span(n),
                    path_of: (i == 1).then(|| names[0].as_str().to_string()),
                });
            }
            return;
        }
        if rule == Rule::name {
            self.uses.push(Use {
                name: pair.as_str().to_string(),
                span: span(&pair),
                path_of: None,
            });
            return;
        }
        for kid in pair.into_inner() {
            self.walk(kid, arm_name.as_deref());
        }
    }

    /// The name token at a byte offset (the cursor touching its start or end counts).
    pub fn use_at(&self, offset: usize) -> Option<&Use> {
        self.uses
            .iter()
            .find(|u| u.span.0 <= offset && offset <= u.span.1)
    }

    /// The declaration a use refers to.
    pub fn resolve(&self, u: &Use) -> Option<&Decl> {
        if let Some(arm) = &u.path_of {
            return self.decls.iter().find(|d| {
                d.kind == SymKind::Path && d.name == u.name && d.container.as_deref() == Some(arm)
            });
        }
        // A name is the arm, outcome, covariate or analysis of that name; a path only when no
        // other declaration has its name.
        self.decls
            .iter()
            .find(|d| d.name == u.name && d.kind != SymKind::Path)
            .or_else(|| self.decls.iter().find(|d| d.name == u.name))
    }

    /// Every use that refers to the same declaration as `u` (the declaration included).
    pub fn references(&self, u: &Use) -> Vec<(usize, usize)> {
        let target = self.resolve(u).map(|d| d.name_span);
        self.uses
            .iter()
            .filter(|v| v.name == u.name)
            .filter(|v| match target {
                Some(t) => self.resolve(v).map(|d| d.name_span) == Some(t),
                None => true,
            })
            .map(|v| v.span)
            .collect()
    }

    /// The declared names of some kinds, once each.
    pub fn names(&self, kinds: &[SymKind]) -> Vec<&Decl> {
        let mut seen = std::collections::HashSet::new();
        self.decls
            .iter()
            .filter(|d| kinds.contains(&d.kind))
            .filter(|d| seen.insert((d.kind as u8, d.name.clone())))
            .collect()
    }
}

/// The outline entry of a top-level statement.
fn outline(item: &Pair<'_, Rule>) -> Option<Outline> {
    let rule = item.as_rule();
    if matches!(
        rule,
        Rule::kw_trial | Rule::string | Rule::lbrace | Rule::rbrace | Rule::EOI
    ) {
        return None;
    }
    let keyword = item.clone().into_inner().next().map(|k| span(&k));
    let kind = match rule {
        Rule::arm => Some(SymKind::Arm),
        Rule::outcome => Some(SymKind::Outcome),
        Rule::analysis => Some(SymKind::Analysis),
        _ => None,
    };
    let (title, select) = match (kind, first_name(item)) {
        (Some(k), Some(n)) => (format!("{} {}", k.word(), n.as_str()), span(&n)),
        _ => {
            let first_line = item.as_str().lines().next().unwrap_or_default();
            let code = first_line
                .split_once('#')
                .map_or(first_line, |(code, _)| code);
            let code = code.split_once("//").map_or(code, |(code, _)| code);
            let title = code.trim().trim_end_matches('{').trim().to_string();
            (title, keyword.unwrap_or_else(|| span(item)))
        }
    };
    let mut children = Vec::new();
    for kid in item.clone().into_inner() {
        let k = match kid.as_rule() {
            Rule::path => Some(SymKind::Path),
            Rule::variable => Some(SymKind::Variable),
            _ => None,
        };
        if let (Some(k), Some(n)) = (k, first_name(&kid)) {
            children.push(Outline {
                title: format!("{} {}", k.word(), n.as_str()),
                span: span(&kid),
                select: span(&n),
                kind: Some(k),
                children: Vec::new(),
            });
        }
    }
    Some(Outline {
        title,
        span: span(item),
        select,
        kind,
        children,
    })
}
