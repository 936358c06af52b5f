//! `trialsim fmt`: idempotent, meaning-preserving, and `--check` fails with a diff.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use trialsim::check;
use trialsim::source::SourceFile;
use trialsim::syntax::format::format;

use crate::common::{run, trialsim};
use crate::language_fuzz::{apply, mutation};

/// Every `.trial` file in the repository (outside `target/`), in name order.
pub(crate) fn all_specs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&p, out);
            } else if name.ends_with(".trial") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(env!("CARGO_MANIFEST_DIR")), &mut out);
    out
}

/// The meaning of a text: its checked model, or the messages of its diagnostics.
fn meaning(text: &str) -> Result<Box<trialsim::model::TrialModel>, Vec<String>> {
    match check::compile(&SourceFile::new("t.trial", text)) {
        Ok(checked) => Ok(Box::new(checked.model)),
        Err(failed) => Err(failed
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect()),
    }
}

/// Formatting a text that parses gives a fixed point with the same meaning.
fn assert_formats_faithfully(name: &str, text: &str) {
    let Ok(once) = format(&SourceFile::new(name, text)) else {
        return;
    };
    let twice = format(&SourceFile::new(name, once.as_str()))
        .unwrap_or_else(|e| panic!("{name}: the formatted text does not parse: {}", e.message()));
    assert_eq!(twice, once, "{name}: formatting is not idempotent");
    assert!(
        meaning(text) == meaning(&once),
        "{name}: formatting changed the checked model\n{once}"
    );
}

#[test]
fn every_spec_in_the_repository_formats_to_a_fixed_point_with_the_same_model() {
    let specs = all_specs();
    assert!(specs.len() > 20, "found {} specs", specs.len());
    let mut formatted = 0;
    for path in specs {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path.display().to_string();
        if format(&SourceFile::new(name.as_str(), text.as_str())).is_ok() {
            formatted += 1;
        }
        assert_formats_faithfully(&name, &text);
    }
    assert!(formatted > 20, "only {formatted} specs parse");
}

/// Whitespace between tokens: a space, a line break, blank lines, or a comment.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just("\n"),
        Just("\n\n\n"),
        Just("\t  "),
        Just(" # note\n"),
        Just("\n// note\n\n"),
    ]
}

/// The text with some of its whitespace runs replaced.
fn reflow(text: &str, seps: &[(usize, &str)]) -> String {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    let mut in_comment = false;
    for c in text.chars() {
        if c == '#' {
            in_comment = true;
        }
        let space = c.is_whitespace() && !in_comment;
        if c == '\n' {
            in_comment = false;
        }
        if space != in_space {
            pieces.push(std::mem::take(&mut current));
        }
        in_space = space;
        current.push(c);
    }
    pieces.push(current);
    let spaces: Vec<usize> = (0..pieces.len())
        .filter(|&i| pieces[i].chars().all(char::is_whitespace) && !pieces[i].is_empty())
        .collect();
    for (at, sep) in seps {
        if !spaces.is_empty() {
            let i = spaces[at % spaces.len()];
            // Inside a string a space is part of the value: leave those alone.
            let before: String = pieces[..i].concat();
            if before.matches('"').count().is_multiple_of(2) {
                pieces[i] = (*sep).to_string();
            }
        }
    }
    pieces.concat()
}

const SPECS: [&str; 3] = [
    include_str!("../../specs/almere-45plus.trial"),
    include_str!("../language-reference.trial"),
    include_str!("../../examples/nsw/nsw.trial"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn reflowed_specs_format_faithfully(
        spec in 0..SPECS.len(),
        seps in proptest::collection::vec((any::<usize>(), separator()), 1..40),
    ) {
        let text = reflow(SPECS[spec], &seps);
        assert_formats_faithfully("reflowed.trial", &text);
    }

    #[test]
    fn mutated_specs_format_faithfully(
        spec in 0..SPECS.len(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let text = apply(SPECS[spec], &mutations);
        assert_formats_faithfully("mutated.trial", &text);
    }
}

#[test]
fn check_shows_a_diff_and_exits_1_and_fmt_rewrites_the_file() {
    let dir = std::env::temp_dir().join(format!("trialsim-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("messy.trial");
    std::fs::write(
        &file,
        "trial \"t\" {\nfollow_up   12 months # one year\n  arm a { work within 12 months : 25 % }\n}\n",
    )
    .expect("write");
    let out = run(trialsim().arg("fmt").arg("--check").arg(&file));
    assert_eq!(out.status, Some(1), "{out}");
    assert!(
        out.stdout.contains("-follow_up   12 months # one year"),
        "{out}"
    );
    assert!(
        out.stdout.contains("+  follow_up 12 months  # one year"),
        "{out}"
    );
    assert!(out.stderr.contains("1 file not formatted"), "{out}");
    let out = run(trialsim().arg("fmt").arg(&dir));
    assert_eq!(out.status, Some(0), "{out}");
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        text,
        "trial \"t\" {\n  follow_up 12 months  # one year\n\n  arm a {\n    work within 12 months: 25%\n  }\n}\n"
    );
    let out = run(trialsim().arg("fmt").arg("--check").arg(&file));
    assert_eq!(out.status, Some(0), "{out}");
    assert_eq!(out.stdout, "");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_with_a_syntax_error_is_left_alone_with_the_diagnostic() {
    let dir = std::env::temp_dir().join(format!("trialsim-fmt-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.trial");
    let text = "trial \"t\" {\n  arm a {\n";
    std::fs::write(&file, text).expect("write");
    let out = run(trialsim().arg("fmt").arg(&file));
    assert_eq!(out.status, Some(1), "{out}");
    assert!(out.stderr.contains("never closed"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shipped specs are in the canonical layout (`.ci/run` checks the same with `fmt --check`).
/// `tests/errors/` is left out: its specs show mistakes as they are written.
#[test]
fn every_shipped_spec_is_formatted() {
    let mut unformatted = Vec::new();
    for path in all_specs() {
        let shown = path.display().to_string();
        if shown.contains("/tests/errors/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Ok(formatted) = format(&SourceFile::new(shown.as_str(), text.as_str()))
            && formatted != text
        {
            unformatted.push(shown);
        }
    }
    assert!(
        unformatted.is_empty(),
        "not formatted (run `trialsim fmt` on them): {unformatted:?}"
    );
}

/// `within VAR bins [...)` is laid out like the balance block's bins: no space inside the
/// interval, one after each comma; idempotent and the same model.
#[test]
fn subgroup_bins_are_laid_out_as_an_interval() {
    let text = "trial \"t\" { population { x ~ uniform(0, 10) }\nassignment { randomise 1:1 }\narm a { y ~ normal(mean 1, sd 1) } arm b { y ~ normal(mean 0, sd 1) }\noutcome y = continuous\nanalysis p { compare y : a vs b within x bins [ 0 ,2,5 , 10 ) } }";
    let once =
        format(&SourceFile::new("t.trial", text)).unwrap_or_else(|e| panic!("{}", e.message()));
    assert!(
        once.contains("    compare y: a vs b within x bins [0, 2, 5, 10)\n"),
        "{once}"
    );
    assert_formats_faithfully("bins.trial", text);
    assert!(meaning(text).is_ok());
}
