//! Parsing: spec text → syntax tree with spans (`grammar/trial.pest`).

pub mod ast;
mod error;
#[allow(unreachable_pub, missing_docs)]
mod parser;

use std::num::NonZeroUsize;

pub use error::SyntaxError;

use crate::source::SourceFile;

/// Bound on the parser's rule calls, so no input can make it run away.
const CALL_LIMIT: usize = 20_000_000;

/// Parses a spec into its syntax tree.
pub fn parse(source: &SourceFile) -> Result<ast::Spec, Box<SyntaxError>> {
    pest::set_call_limit(NonZeroUsize::new(CALL_LIMIT));
    match parser::parse_spec(&source.text) {
        Ok(Ok(spec)) => Ok(spec),
        Ok(Err(bug)) => Err(Box::new(SyntaxError::internal(source, bug.span, bug.what))),
        Err(err) => Err(Box::new(SyntaxError::from_pest(source, &err))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_parses() {
        let src = SourceFile::new(
            "a.trial",
            std::fs::read_to_string("specs/almere-45plus.trial").unwrap(),
        );
        let spec = parse(&src).unwrap();
        assert!(spec.items.len() > 5, "{spec:#?}");
    }
}
