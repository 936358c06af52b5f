//! The editor packages stay in step with the grammar: every keyword of `grammar/trial.pest` is
//! highlighted by the TextMate grammar (editors/vscode) and the Vim syntax (editors/nvim).

use std::collections::BTreeSet;

fn keywords() -> BTreeSet<String> {
    let pest = include_str!("../../grammar/trial.pest");
    let mut out = BTreeSet::new();
    for line in pest.lines() {
        let line = line.trim_start();
        if !line.starts_with("kw_") {
            continue;
        }
        // `kw_x = @{ ("a" | "b") ~ !ident_char }`: every quoted word.
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 1 {
                out.insert(part.to_string());
            }
        }
    }
    out
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_keyword_is_highlighted_in_both_editor_packages() {
    let keywords = keywords();
    assert!(keywords.len() > 100, "{} keywords", keywords.len());
    let textmate = words(include_str!(
        "../../editors/vscode/syntaxes/trial.tmLanguage.json"
    ));
    let vim = words(include_str!("../../editors/nvim/syntax/trial.vim"));
    let missing_tm: Vec<&String> = keywords.iter().filter(|k| !textmate.contains(*k)).collect();
    let missing_vim: Vec<&String> = keywords.iter().filter(|k| !vim.contains(*k)).collect();
    assert!(
        missing_tm.is_empty(),
        "keywords of grammar/trial.pest missing from editors/vscode/syntaxes/trial.tmLanguage.json: {missing_tm:?}"
    );
    assert!(
        missing_vim.is_empty(),
        "keywords of grammar/trial.pest missing from editors/nvim/syntax/trial.vim: {missing_vim:?}"
    );
}
