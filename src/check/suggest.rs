//! "Did you mean" suggestions.

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, c)| *score > 0.8 || strsim::levenshtein(name, c) <= 2)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A help line: "did you mean `x`?" or the list of known names.
pub(crate) fn help(what: &str, name: &str, candidates: &[&str]) -> String {
    match closest(name, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => format!("no {what} is declared"),
        None => {
            let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            format!("known {what}s: {}", list.join(", "))
        }
    }
}

/// "did you mean `x`? {list}" or just the list.
pub(crate) fn help_with(name: &str, candidates: &[&str], list: &str) -> String {
    match closest(name, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`? {list}"),
        None => list.to_string(),
    }
}
