//! Fuzzing the inputs a user controls: spec text (raw bytes and grammar-aware mutations of every
//! shipped spec, with the specs that still check run through the engine and the plan) and
//! participant CSVs (structured mutations of the NSW example). Nothing may panic, and no input up
//! to 64 KiB may take over a second (release build; the debug budget is ten times that).
//!
//! The default suite runs a few hundred cases of each. The long run reads `PROPTEST_CASES`:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release --test integration fuzz -- --ignored
//! ```
//!
//! Complements `language_fuzz.rs` (token mutations and short arbitrary text, spans in bounds).

use std::io::Cursor;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use trialsim::analysis::run_plan;
use trialsim::check::compile;
use trialsim::cli::diag::render;
use trialsim::model::TrialModel;
use trialsim::power::{PowerSettings, run_power};
use trialsim::source::SourceFile;

const MAX_INPUT: usize = 64 * 1024;

const SPECS: [&str; 6] = [
    include_str!("../../specs/almere-45plus.trial"),
    include_str!("../../specs/almere-45plus-observed.trial"),
    include_str!("../../specs/two-arm.trial"),
    include_str!("../../examples/nsw/nsw.trial"),
    include_str!("../../examples/resume-names/resume-names.trial"),
    include_str!("../language-reference.trial"),
];

const NSW_SPEC: &str = include_str!("../../examples/nsw/nsw.trial");
const NSW_CSV: &str = include_str!("../../examples/nsw/data.csv");

/// Words of the language and values at the edges of what it accepts.
const DICTIONARY: &[&str] = &[
    "trial",
    "population",
    "pool",
    "eligibility",
    "assignment",
    "randomise",
    "sample",
    "per",
    "arm",
    "path",
    "rest",
    "after",
    "work",
    "within",
    "employed",
    "at",
    "month",
    "months",
    "years",
    "weeks",
    "hours",
    "h",
    "euro",
    "%",
    "dropout",
    "before",
    "intake",
    "follows",
    "exemption",
    "up",
    "to",
    "exit",
    "without",
    "crossover",
    "->",
    "outcome",
    "=",
    "binary",
    "continuous",
    "worked",
    "durable",
    "for",
    "benefit",
    "ended",
    "by",
    "analysis",
    "compare",
    "vs",
    "test",
    "pooled_z",
    "unpooled_z",
    "fisher",
    "welch_t",
    "one_sided",
    "greater",
    "less",
    "two_sided",
    "alpha",
    "correction",
    "holm",
    "bonferroni",
    "expect",
    "power",
    "coverage",
    "data",
    "id",
    "covariate",
    "monthly_hours",
    "{",
    "}",
    "(",
    ")",
    ":",
    ",",
    "~",
    ".",
    "uniform",
    "normal",
    "lognormal",
    "categorical",
    "fixed",
    "in",
    "blocks",
    "of",
    "parity",
    "even",
    "odd",
    "capacity",
    "staff",
    "x",
    "caseload",
    "job_loss",
    "wage",
    "screening",
    "removes",
    "observed",
    "amended",
    "from",
    "mean",
    "sd",
    "median",
    "sigma",
    "follow_up",
    "reference_date",
    "2017-02-30",
    "\"\"",
    "\"",
    "#",
    "//",
    "→",
    "×",
    "treatment",
    "control",
    "experiment",
    "team_zorg",
    "guided",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "0.5",
    "99",
    "100",
    "101",
    "1000000",
    "1000001",
    "50000000",
    "50000001",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "0.0000000001",
    "100%",
    "0%",
    "100.0001%",
    "-5%",
    "1e5",
    "0 months",
    "1000000 months",
    "600 years",
    "0.5 months",
    "-3 weeks",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Replace token i by a dictionary word.
    Word(usize, usize),
    /// Insert a dictionary word before token i.
    InsertWord(usize, usize),
    /// Replace the n-th number-looking token by an edge value.
    Number(usize, usize),
    /// Delete token i.
    Delete(usize),
    /// Repeat line i k times (grows the input towards 64 KiB).
    RepeatLine(usize, usize),
    /// Put line i of another spec before line j.
    Splice(usize, usize, usize),
    /// Cut at byte i.
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 0..DICTIONARY.len()).prop_map(|(i, w)| Edit::Word(i, w)),
        3 => (any::<usize>(), 0..DICTIONARY.len()).prop_map(|(i, w)| Edit::InsertWord(i, w)),
        4 => (any::<usize>(), 0..NUMBERS.len()).prop_map(|(i, v)| Edit::Number(i, v)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => (any::<usize>(), 1..3000usize).prop_map(|(i, k)| Edit::RepeatLine(i, k)),
        2 => (0..SPECS.len(), any::<usize>(), any::<usize>())
            .prop_map(|(s, i, j)| Edit::Splice(s, i, j)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// The largest char boundary of `text` at or below `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut cut = at.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Only edge values in place of numbers: most such specs still parse, so these reach the
/// checker's semantics, the engine and the plan.
fn value_edit() -> impl Strategy<Value = Edit> {
    (any::<usize>(), 0..NUMBERS.len()).prop_map(|(i, v)| Edit::Number(i, v))
}

fn is_number(token: &str) -> bool {
    let t = token.trim_end_matches('%');
    !t.is_empty() && t.parse::<f64>().is_ok()
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for e in edits {
        // Tokens split at single spaces (newlines stay inside tokens, so lines survive).
        match e {
            Edit::Word(i, w) => {
                let mut toks: Vec<&str> = text.split(' ').collect();
                let n = toks.len();
                toks[i % n] = DICTIONARY[*w];
                text = toks.join(" ");
            }
            Edit::InsertWord(i, w) => {
                let mut toks: Vec<&str> = text.split(' ').collect();
                let n = toks.len();
                toks.insert(i % (n + 1), DICTIONARY[*w]);
                text = toks.join(" ");
            }
            Edit::Number(i, v) => {
                let mut toks: Vec<&str> = text.split(' ').collect();
                let numbers: Vec<usize> = (0..toks.len()).filter(|&k| is_number(toks[k])).collect();
                if !numbers.is_empty() {
                    toks[numbers[i % numbers.len()]] = NUMBERS[*v];
                }
                text = toks.join(" ");
            }
            Edit::Delete(i) => {
                let mut toks: Vec<&str> = text.split(' ').collect();
                let n = toks.len();
                toks.remove(i % n);
                text = toks.join(" ");
            }
            Edit::RepeatLine(i, k) => {
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let at = i % lines.len();
                    let mut out: Vec<&str> = lines[..=at].to_vec();
                    out.extend(std::iter::repeat_n(lines[at], *k));
                    out.extend_from_slice(&lines[at + 1..]);
                    text = out.join("\n");
                }
            }
            Edit::Splice(s, i, j) => {
                let donor: Vec<&str> = SPECS[*s].lines().collect();
                let line = donor[i % donor.len()].to_string();
                let mut lines: Vec<&str> = text.lines().collect();
                let at = j % (lines.len() + 1);
                lines.insert(at, &line);
                text = lines.join("\n");
            }
            Edit::Truncate(i) => text.truncate(boundary(&text, i % (text.len() + 1))),
        }
        text.truncate(boundary(&text, MAX_INPUT));
    }
    text
}

fn budget() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(1)
    }
}

/// Checks `text`; when it checks, simulates two small replicates of it and runs the plan.
/// Panics (the failure) on a panic inside, or when it takes longer than the budget.
fn check_and_simulate(text: &str) {
    let started = Instant::now();
    let source = SourceFile::new("fuzz.trial", text);
    let compiled = compile(&source);
    if let Err(e) = &compiled {
        // Drawn as the command line draws it: any line length, any number of errors.
        let shown = render(e);
        assert!(shown.lines().all(|l| l.chars().count() < 1000), "{shown}");
    }
    if let Ok(checked) = compiled {
        let model = TrialModel {
            expectations: Vec::new(),
            ..checked.model
        };
        let settings = PowerSettings {
            seed: 1,
            replicates: 2,
            n_per_arm: Some(5),
            scenario: 0,
        };
        if let Ok(report) = run_power(&model, &settings, &|_| {}) {
            assert_eq!(report.replicates, 2);
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed <= budget(),
        "took {elapsed:?} on {} bytes:\n{}",
        text.len(),
        &text[..boundary(text, 2000)]
    );
}

fn nsw_model() -> TrialModel {
    compile(&SourceFile::new("nsw.trial", NSW_SPEC))
        .expect("the NSW spec checks")
        .model
}

fn load_and_analyse(model: &TrialModel, bytes: &[u8]) {
    let started = Instant::now();
    let Some(mapping) = model.data.as_ref() else {
        panic!("the NSW spec maps its data");
    };
    match trialsim::data::load(model, mapping, "fuzz.csv", Cursor::new(bytes)) {
        Ok(loaded) => {
            let _ = run_plan(model, &loaded.table);
        }
        Err(e) => {
            // Rendering the diagnostic (with its source excerpt) must not panic either.
            let _ = render(&e);
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed <= budget(),
        "took {elapsed:?} on {} bytes",
        bytes.len()
    );
}

#[derive(Debug, Clone)]
enum CsvEdit {
    DeleteLine(usize),
    DuplicateLine(usize, usize),
    SwapLines(usize, usize),
    /// Replace field j of line i.
    Field(usize, usize, usize),
    /// Insert raw bytes at a position.
    Bytes(usize, Vec<u8>),
    /// Use `;` as the delimiter on line i.
    Semicolons(usize),
    Truncate(usize),
}

const FIELDS: &[&str] = &[
    "",
    "NA",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e999",
    "1e-400",
    "-1e-320",
    "1e100",
    "1e101",
    "0.99999999999999999999",
    "1.0000000000000000001",
    "9.930,05",
    "\"9,930.05\"",
    "0",
    "-0",
    "1",
    "2",
    "1,5",
    "1.5",
    "\"",
    "\"\"",
    "\"a,b\"",
    "\"line\nbreak\"",
    "treatment",
    "control",
    "Treatment",
    "x",
    "\u{FEFF}",
    "99999999999999999999999",
    "18446744073709551616",
    "-1",
    "é",
    "\r",
    "black",
    "hispanic",
    "other",
];

fn csv_edit() -> impl Strategy<Value = CsvEdit> {
    prop_oneof![
        1 => any::<usize>().prop_map(CsvEdit::DeleteLine),
        1 => (any::<usize>(), 1..50usize).prop_map(|(i, k)| CsvEdit::DuplicateLine(i, k)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| CsvEdit::SwapLines(i, j)),
        4 => (any::<usize>(), 0..16usize, 0..FIELDS.len()).prop_map(|(i, j, v)| CsvEdit::Field(i, j, v)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(i, b)| CsvEdit::Bytes(i, b)),
        1 => any::<usize>().prop_map(CsvEdit::Semicolons),
        1 => any::<usize>().prop_map(CsvEdit::Truncate),
    ]
}

fn apply_csv(edits: &[CsvEdit]) -> Vec<u8> {
    let mut lines: Vec<String> = NSW_CSV.lines().map(str::to_string).collect();
    let mut tail: Vec<u8> = Vec::new();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            CsvEdit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            CsvEdit::DuplicateLine(i, k) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                for _ in 0..*k {
                    lines.insert(i % n, l.clone());
                }
            }
            CsvEdit::SwapLines(i, j) if !lines.is_empty() => lines.swap(i % n, j % n),
            CsvEdit::Field(i, j, v) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let mut fields: Vec<&str> = line.split(',').collect();
                let m = fields.len();
                fields[j % m] = FIELDS[*v];
                *line = fields.join(",");
            }
            CsvEdit::Semicolons(i) if !lines.is_empty() => {
                lines[i % n] = lines[i % n].replace(',', ";");
            }
            CsvEdit::Bytes(i, b) => {
                let mut joined = lines.join("\n").into_bytes();
                let at = i % (joined.len() + 1);
                joined.splice(at..at, b.iter().copied());
                // Back to lines, keeping invalid UTF-8 at the end where it cannot be split.
                match String::from_utf8(joined) {
                    Ok(s) => lines = s.lines().map(str::to_string).collect(),
                    Err(e) => tail.extend_from_slice(e.as_bytes()),
                }
            }
            CsvEdit::Truncate(i) => {
                let keep = i % (lines.len() + 1);
                lines.truncate(keep);
            }
            _ => {}
        }
    }
    let mut out = if tail.is_empty() {
        let mut s = lines.join("\n").into_bytes();
        s.push(b'\n');
        s
    } else {
        tail
    };
    out.truncate(MAX_INPUT);
    out
}

/// Cases for the long runs: `PROPTEST_CASES`, or `default`.
fn long_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking a 64 KiB input can take long; a failure prints the input anyway.
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn fuzz_spec_mutations(spec in 0..SPECS.len(), edits in proptest::collection::vec(edit(), 1..8)) {
        check_and_simulate(&apply(SPECS[spec], &edits));
    }

    #[test]
    fn fuzz_spec_values(spec in 0..SPECS.len(), edits in proptest::collection::vec(value_edit(), 1..4)) {
        check_and_simulate(&apply(SPECS[spec], &edits));
    }

    #[test]
    fn fuzz_spec_raw_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..MAX_INPUT)) {
        check_and_simulate(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn fuzz_csv_mutations(edits in proptest::collection::vec(csv_edit(), 1..8)) {
        load_and_analyse(&nsw_model(), &apply_csv(&edits));
    }

    #[test]
    fn fuzz_csv_raw_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let model = nsw_model();
        load_and_analyse(&model, &bytes);
        let mut with_header = NSW_CSV.lines().next().unwrap_or_default().as_bytes().to_vec();
        with_header.push(b'\n');
        with_header.extend_from_slice(&bytes);
        load_and_analyse(&model, &with_header);
    }
}

/// `text` with one line padded past 65,536 columns (`pad` spaces at a character boundary).
fn long_line(text: &str, at: usize, pad: usize) -> String {
    let at = boundary(text, at % text.len().max(1));
    format!("{}{}{}", &text[..at], " ".repeat(pad), &text[at..])
}

/// `text` with one of its lines repeated `times` times before the closing brace.
fn repeated_line(text: &str, line: usize, times: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let chosen = lines
        .get(line % lines.len().max(1))
        .copied()
        .unwrap_or_default();
    let close = text.rfind('}').unwrap_or(text.len());
    let mut out = text[..close].to_string();
    for _ in 0..times {
        out.push_str(chosen);
        out.push('\n');
    }
    out.push_str(&text[close..]);
    out
}

/// Bytes that are not UTF-8, read as a spec file is: the error must be located and drawn.
fn read_bytes(bytes: Vec<u8>) {
    match SourceFile::from_bytes("fuzz.trial", bytes) {
        Ok(source) => check_and_simulate(&source.text),
        Err(e) => {
            let shown = render(&e);
            assert!(shown.contains("at line"), "{shown}");
        }
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn fuzz_spec_long_lines(spec in 0..SPECS.len(), at in any::<usize>(), pad in 60_000usize..70_000) {
        check_and_simulate(&long_line(SPECS[spec], at, pad));
    }

    #[test]
    fn fuzz_spec_many_errors(spec in 0..SPECS.len(), line in any::<usize>(), times in 50usize..3_000) {
        check_and_simulate(&repeated_line(SPECS[spec], line, times));
    }

    #[test]
    fn fuzz_spec_invalid_utf8(spec in 0..SPECS.len(), at in any::<usize>(), bad in proptest::collection::vec(0x80u8..=0xFF, 1..4)) {
        let text = SPECS[spec].as_bytes();
        let at = at % text.len();
        let mut bytes = text[..at].to_vec();
        bytes.extend_from_slice(&bad);
        bytes.extend_from_slice(&text[at..]);
        read_bytes(bytes);
    }
}

proptest! {
    #![proptest_config(config(long_cases(20_000)))]

    #[test]
    #[ignore = "long fuzz run: PROPTEST_CASES=100000 cargo test --release --test integration fuzz -- --ignored"]
    fn fuzz_long_spec_mutations(spec in 0..SPECS.len(), edits in proptest::collection::vec(edit(), 1..12)) {
        check_and_simulate(&apply(SPECS[spec], &edits));
    }

    #[test]
    #[ignore = "long fuzz run"]
    fn fuzz_long_spec_values(spec in 0..SPECS.len(), edits in proptest::collection::vec(value_edit(), 1..4)) {
        check_and_simulate(&apply(SPECS[spec], &edits));
    }

    #[test]
    #[ignore = "long fuzz run"]
    fn fuzz_long_spec_raw_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..MAX_INPUT)) {
        check_and_simulate(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    #[ignore = "long fuzz run"]
    fn fuzz_long_csv_mutations(edits in proptest::collection::vec(csv_edit(), 1..12)) {
        load_and_analyse(&nsw_model(), &apply_csv(&edits));
    }

    #[test]
    #[ignore = "long fuzz run"]
    fn fuzz_long_csv_raw_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..MAX_INPUT)) {
        load_and_analyse(&nsw_model(), &bytes);
    }
}

#[test]
fn mutations_keep_specs_within_64_kib() {
    let grown = apply(
        SPECS[0],
        &[Edit::RepeatLine(3, 2999), Edit::RepeatLine(5, 2999)],
    );
    assert!(
        grown.len() <= MAX_INPUT && grown.len() > MAX_INPUT / 2,
        "{}",
        grown.len()
    );
    let csv = apply_csv(&[CsvEdit::DuplicateLine(3, 49), CsvEdit::DuplicateLine(9, 49)]);
    assert!(csv.len() <= MAX_INPUT);
}

/// Found by `fuzz_long_spec_values`: an exemption of up to a million months made the exact truth
/// enumerate a million exemption lengths (10–16 s for two replicates); lengths past the horizon
/// are now one profile.
#[test]
fn regression_a_very_long_exemption_is_quick() {
    let spec = SPECS[5];
    let line = spec
        .lines()
        .find(|l| l.trim_start().starts_with("exemption"))
        .expect("the reference spec has an exemption");
    let long = line.replace("up to 12 months", "up to 1000000 months");
    assert_ne!(line, long);
    let text = spec.replace(line, &long);
    assert!(compile(&SourceFile::new("long.trial", text.as_str())).is_ok());
    check_and_simulate(&text);
}
