//! Parse + check of every shipped spec (bytes/s through criterion's throughput), and the parse
//! alone, so that the checker's share is visible.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trialsim::check::compile;
use trialsim::source::SourceFile;

const SPECS: [(&str, &str); 5] = [
    (
        "almere-45plus",
        include_str!("../specs/almere-45plus.trial"),
    ),
    (
        "almere-45plus-observed",
        include_str!("../specs/almere-45plus-observed.trial"),
    ),
    ("two-arm", include_str!("../specs/two-arm.trial")),
    ("nsw", include_str!("../examples/nsw/nsw.trial")),
    (
        "resume-names",
        include_str!("../examples/resume-names/resume-names.trial"),
    ),
];

fn check(c: &mut Criterion) {
    let mut g = c.benchmark_group("check");
    for (name, text) in SPECS {
        let source = SourceFile::new(format!("{name}.trial"), text);
        assert!(compile(&source).is_ok(), "{name} checks");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("parse+check/{name}"), |b| {
            b.iter(|| compile(std::hint::black_box(&source)).is_ok())
        });
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| trialsim::syntax::parse(std::hint::black_box(&source)).is_ok())
        });
    }
    g.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
