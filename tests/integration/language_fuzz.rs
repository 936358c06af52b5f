//! Mutated specs never make the checker panic, and every diagnostic points inside the input.

use proptest::prelude::*;
use trialsim::check;
use trialsim::source::SourceFile;

const SPECS: [&str; 3] = [
    include_str!("../../specs/almere-45plus.trial"),
    include_str!("../../specs/almere-45plus-observed.trial"),
    include_str!("../../specs/two-arm.trial"),
];

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
    ]
}

/// Splits into tokens that keep their trailing whitespace, so joining gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if !c.is_whitespace() && in_space {
            out.push(std::mem::take(&mut current));
            in_space = false;
        }
        in_space |= c.is_whitespace();
        current.push(c);
    }
    out.push(current);
    out
}

pub(crate) fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut toks = tokens(text);
    for m in mutations {
        let n = toks.len().max(1);
        match m {
            Mutation::Delete(i) => {
                if !toks.is_empty() {
                    toks.remove(i % n);
                }
            }
            Mutation::Duplicate(i) => {
                if !toks.is_empty() {
                    let t = toks[i % n].clone();
                    toks.insert(i % n, t);
                }
            }
            Mutation::Swap(a, b) => {
                if !toks.is_empty() {
                    toks.swap(a % n, b % n);
                }
            }
            Mutation::Truncate(at) => {
                let joined: String = toks.concat();
                let mut cut = at % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                toks = tokens(&joined[..cut]);
            }
            Mutation::Insert(at, bytes) => {
                let noise = String::from_utf8_lossy(bytes).into_owned();
                let i = at % (toks.len() + 1);
                toks.insert(i, noise);
            }
        }
    }
    toks.concat()
}

fn assert_spans_inside(text: &str) {
    let source = SourceFile::new("fuzz.trial", text);
    let diagnostics = match check::compile(&source) {
        Ok(checked) => checked.warnings,
        Err(failed) => {
            assert!(failed.error_count() > 0, "a failed check carries an error");
            failed.diagnostics
        }
    };
    for d in diagnostics {
        assert!(!d.labels.is_empty(), "{} has no label", d.code_str());
        for (span, _) in &d.labels {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{}: span {}..{} outside 0..{}",
                d.code_str(),
                span.start,
                span.end,
                text.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_specs_never_panic(
        spec in 0..SPECS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let text = apply(SPECS[spec], &mutations);
        assert_spans_inside(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        assert_spans_inside(&text);
    }
}

#[test]
fn tokens_round_trip() {
    for spec in SPECS {
        assert_eq!(tokens(spec).concat(), spec);
    }
}

#[test]
fn deep_and_long_inputs_are_refused_cleanly() {
    let deep = format!("trial \"x\" {}", "{".repeat(50_000));
    assert_spans_inside(&deep);
    let long = format!("trial \"x\" {{ {} }}", "follow_up 12 months ".repeat(5_000));
    assert_spans_inside(&long);
}

/// Degenerate specs: no arms, empty blocks, one of everything.
#[test]
fn degenerate_specs_never_panic() {
    let cases = [
        "",
        "trial \"x\" {}",
        "trial \"x\" { sample 10 per arm }",
        "trial \"x\" { sample a 10 }",
        "trial \"x\" { assignment { randomise 1:1 in blocks of 2 within v } }",
        "trial \"x\" { assignment { parity of id: even -> a, odd -> a } arm a {} }",
        "trial \"x\" { arm a {} arm b {} outcome o = binary }",
        "trial \"x\" { arm a { path p rest {} } arm b { path q rest {} } }",
        "trial \"x\" { population { v ~ categorical { a: rest, b: rest } } }",
        "trial \"x\" { population { v ~ categorical { a: 0%, b: 100% } } eligibility { v in {a} } }",
        "trial \"x\" { eligibility { v > 1 } }",
        "trial \"x\" { expect power(p) >= 80% }",
        "trial \"x\" { analysis p { compare o: a vs b } analysis p { } }",
        "trial \"x\" { data { } }",
        "trial \"x\" { follow_up 99999999999999999999999999999 months }",
        "trial \"x\" { arm a { work within 0 months: 0% } arm b { employed at month 0: 100% } outcome o = durable at month 0 for 0 months }",
        "trial \"x\" { employment { hours ~ categorical { 40: 50%, 80: rest } } }",
        "trial \"x\" { arm a { crossover 1% -> b.c } arm b { dropout 1% before intake follows a.z } }",
    ];
    for text in cases {
        assert_spans_inside(text);
    }
}
