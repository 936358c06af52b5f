//! The language server's work per keystroke on a spec of 1,000 lines: apply an incremental edit,
//! re-check the whole text and convert the diagnostics (`didChange`), and answer a hover (which
//! re-reads the names). The target is under 50 ms per re-check.

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Url};
use trialsim::lsp::index::Index;
use trialsim::lsp::text::apply_change;

/// A spec of `lines` lines: two arms with paths, many outcomes, analyses comparing them, and a
/// citation comment on most lines.
pub fn long_spec(lines: usize) -> String {
    let mut s = String::from(
        "# A long spec for the editor benchmark.\ntrial \"long\" {\n  follow_up 36 months  # [report p. 1]\n  sample 200 per arm\n\n  population {\n    age ~ uniform(18 years, 66 years)  # assumption\n    background ~ categorical { a: 40%, b: 35%, c: rest }\n  }\n\n  arm experiment {\n    path coached 60% {\n      work within 12 months: 30%  # [report p. 2]\n    }\n    path guided rest {\n      work within 12 months: 25%\n    }\n  }\n\n  arm control {\n    work within 12 months: 15%  # [report p. 3]\n  }\n\n",
    );
    let mut n = 0;
    while s.lines().count() < lines - 4 {
        n += 1;
        s.push_str(&format!(
            "  outcome work_{n} = employed at month {}, hours >= 1  # register [p. {n}]\n",
            1 + n % 36
        ));
        if n % 10 == 0 {
            let outcomes: Vec<String> = (n - 9..=n).map(|k| format!("work_{k}")).collect();
            s.push_str(&format!(
                "  analysis a{n} {{\n    compare {}: experiment vs control\n    test pooled_z, one_sided greater, alpha 5%\n  }}\n",
                outcomes.join(", ")
            ));
        }
    }
    s.push_str("  analysis last {\n    compare work_1: experiment vs control\n  }\n}\n");
    s
}

fn recheck(c: &mut Criterion) {
    let text = long_spec(1000);
    assert!(
        text.lines().count() >= 1000,
        "{} lines",
        text.lines().count()
    );
    let uri = Url::parse("file:///tmp/long.trial").expect("a URI");
    assert!(
        trialsim::lsp::diagnostics(&uri, &text)
            .iter()
            .all(|d| d.severity != Some(lsp_types::DiagnosticSeverity::ERROR)),
        "the long spec checks"
    );
    let line = text
        .lines()
        .position(|l| l.contains("outcome work_500 "))
        .unwrap_or(500) as u32;
    let mut g = c.benchmark_group("lsp");
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(4));
    g.bench_function("didChange+recheck/1000-lines", |b| {
        let mut doc = text.clone();
        let mut flip = false;
        b.iter(|| {
            // Type one character and take it back, alternately: every iteration is an edit.
            let change = if flip {
                TextDocumentContentChangeEvent {
                    range: Some(Range::new(Position::new(line, 2), Position::new(line, 3))),
                    range_length: None,
                    text: String::new(),
                }
            } else {
                TextDocumentContentChangeEvent {
                    range: Some(Range::new(Position::new(line, 2), Position::new(line, 2))),
                    range_length: None,
                    text: "x".to_string(),
                }
            };
            flip = !flip;
            apply_change(&mut doc, change);
            trialsim::lsp::diagnostics(&uri, std::hint::black_box(&doc))
        })
    });
    g.bench_function("hover-index/1000-lines", |b| {
        b.iter(|| Index::build(std::hint::black_box(&text)).decls.len())
    });
    g.finish();
}

criterion_group!(benches, recheck);
criterion_main!(benches);
