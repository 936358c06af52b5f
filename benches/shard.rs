//! The cost of merging a sharded run: reading and checking 1,000 part files
//! ([`trialsim::shard::merge::gather`]), each the size a shard of the Almere plan writes (two
//! chunks of 211 words: a 64,000-replicate `power` run, whose two folds have 1,000 chunks each,
//! split 1,000 ways), and the size of one such file. The rest of a merge replays the command
//! once without simulating (its closed forms and exact truths): the same as one process's
//! fixed cost, whatever the number of shards.
//!
//! `cargo bench --bench shard`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use trialsim::shard::FoldEntry;
use trialsim::shard::file::{Part, ShardId, SpecCopy};
use trialsim::shard::merge::gather;

const SHARDS: u64 = 1_000;
const CHUNKS_PER_FOLD: u64 = 1_000;
const WORDS: usize = 211;

/// Words shaped like a power chunk: counts (small integers) and sums (floating-point bits).
fn chunk_words(id: u64) -> Vec<u64> {
    (0..WORDS as u64)
        .map(|k| {
            if k % 5 == 2 {
                (0.05 * (id + k) as f64).to_bits()
            } else {
                23_040 + id + k
            }
        })
        .collect()
}

fn write_parts(dir: &std::path::Path) -> Vec<PathBuf> {
    let spec = SpecCopy::new(
        "specs/almere-45plus.trial".into(),
        include_str!("../specs/almere-45plus.trial").into(),
    );
    let folds = vec![
        FoldEntry {
            kind: "power".into(),
            first: 0,
            chunks: CHUNKS_PER_FOLD,
        },
        FoldEntry {
            kind: "power".into(),
            first: CHUNKS_PER_FOLD,
            chunks: CHUNKS_PER_FOLD,
        },
    ];
    let total = 2 * CHUNKS_PER_FOLD;
    (0..SHARDS)
        .map(|i| {
            let chunks: BTreeMap<u64, Vec<u64>> = (i..total)
                .step_by(SHARDS as usize)
                .map(|id| (id, chunk_words(id)))
                .collect();
            let part = Part::new(
                true,
                vec![
                    "power".into(),
                    "specs/almere-45plus.trial".into(),
                    "--reps".into(),
                    "64000".into(),
                ],
                Some(spec.clone()),
                2017,
                ShardId {
                    index: i,
                    count: SHARDS,
                },
                folds.clone(),
                &chunks,
            );
            let path = dir.join(format!("part-{i}.json"));
            part.write(&path).expect("a part is written");
            path
        })
        .collect()
}

fn merge(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("trialsim-bench-shard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let paths = write_parts(&dir);
    let size = std::fs::metadata(&paths[0]).map_or(0, |m| m.len());
    println!(
        "part file: {size} bytes ({} chunks of {WORDS} words, with a {}-byte spec)",
        2,
        include_str!("../specs/almere-45plus.trial").len()
    );
    let whole = gather(&paths).expect("the parts make one run");
    assert_eq!(whole.chunks.len() as u64, 2 * CHUNKS_PER_FOLD);
    let mut g = c.benchmark_group("merge");
    g.sample_size(10);
    g.bench_function("gather_1000_parts", |b| {
        b.iter(|| gather(&paths).expect("the parts make one run"));
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, merge);
criterion_main!(benches);
