//! The stages depend on each other in one direction: `stats` knows numbers only (no trial model,
//! no engine), and the renderers under `src/report` format results that the commands computed,
//! never running a stage themselves.

use std::path::Path;

/// Every `crate::` path in the code (not in comments) of the `.rs` files under `dir`.
fn crate_paths(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source file");
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or_default();
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    out.push((path.display().to_string(), module));
                }
            }
        }
    }
    out
}

#[test]
fn stats_imports_nothing_but_itself() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outside: Vec<_> = crate_paths(&root.join("src/stats"))
        .into_iter()
        .filter(|(_, m)| m != "stats")
        .collect();
    assert!(outside.is_empty(), "src/stats reaches outside: {outside:?}");
}

#[test]
fn renderers_do_not_reach_into_the_engine_or_the_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = crate_paths(&root.join("src/report"));
    assert!(!paths.is_empty(), "the renderers were not read");
    let forbidden: Vec<_> = paths
        .into_iter()
        .filter(|(_, m)| matches!(m.as_str(), "sim" | "cli" | "data" | "check" | "syntax"))
        .collect();
    assert!(
        forbidden.is_empty(),
        "a renderer uses a stage: {forbidden:?}"
    );
}
