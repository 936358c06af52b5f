//! Checking that a set of parts makes one whole run, before anything is merged.
//!
//! The parts must be finished shards (no checkpoint), all of one version, one command with the
//! same options and seed, one spec text, and one shard count; every shard of that count must be
//! there exactly once, and each must hold exactly its own chunks of the same table of folds.
//! Anything else is refused with a message naming the files: a merge is whole or not at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::file::{Part, SpecCopy};
use super::{FoldEntry, MAX_SHARDS};

/// Parts that make one whole run: what the merge replays.
#[derive(Debug)]
pub struct Whole {
    /// The command's arguments.
    pub command: Vec<String>,
    /// The spec it read.
    pub spec: Option<SpecCopy>,
    /// The folds, in order.
    pub folds: Vec<FoldEntry>,
    /// Every chunk's words, by number.
    pub chunks: BTreeMap<u64, Vec<u64>>,
    /// How many shards.
    pub count: u64,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Reads `paths` and checks that they make one whole run.
pub fn gather(paths: &[PathBuf]) -> Result<Whole, String> {
    if paths.is_empty() {
        return Err("give the part files to merge (e.g. parts/*.json)".into());
    }
    let mut parts = Vec::with_capacity(paths.len());
    for p in paths {
        let part = Part::read(p).map_err(|e| format!("{}: {e}", shown(p)))?;
        if !part.complete {
            return Err(format!(
                "{}: a checkpoint of shard {}/{} ({} chunks done), not a finished shard; run \
                 that shard again to finish it (it resumes from the checkpoint)",
                shown(p),
                part.shard.index,
                part.shard.count,
                part.chunks.len()
            ));
        }
        parts.push((p, part));
    }
    let (first_path, first) = &parts[0];
    for (p, part) in &parts[1..] {
        let differ = |what: &str, a: &str, b: &str| {
            Err(format!(
                "{} and {} are not shards of one run: {what} differ ({a} against {b})",
                shown(first_path),
                shown(p)
            ))
        };
        let spec_hash = |s: &Option<SpecCopy>| {
            s.as_ref()
                .map_or_else(|| "none".to_string(), |s| format!("{} {}", s.name, s.hash))
        };
        if first.spec.as_ref().map(|s| &s.hash) != part.spec.as_ref().map(|s| &s.hash) {
            return differ(
                "their specs (the spec was edited between shards?)",
                &spec_hash(&first.spec),
                &spec_hash(&part.spec),
            );
        }
        if first.seed != part.seed {
            return differ(
                "their seeds",
                &first.seed.to_string(),
                &part.seed.to_string(),
            );
        }
        if first.command != part.command {
            return differ(
                "their commands or options",
                &format!("`trialsim {}`", first.command.join(" ")),
                &format!("`trialsim {}`", part.command.join(" ")),
            );
        }
        if first.shard.count != part.shard.count {
            return differ(
                "their shard counts",
                &first.shard.count.to_string(),
                &part.shard.count.to_string(),
            );
        }
        if first.folds != part.folds {
            return differ("their tables of folds", "one", "another");
        }
    }
    let count = first.shard.count;
    if count == 0 || count > MAX_SHARDS {
        return Err(format!(
            "{}: a shard count of {count} is not possible",
            shown(first_path)
        ));
    }
    let mut by_index: BTreeMap<u64, &Path> = BTreeMap::new();
    for (p, part) in &parts {
        if part.shard.index >= count {
            return Err(format!(
                "{}: shard {} of {count} does not exist",
                shown(p),
                part.shard.index
            ));
        }
        if let Some(other) = by_index.insert(part.shard.index, p) {
            return Err(format!(
                "shard {}/{count} is given twice: {} and {}",
                part.shard.index,
                shown(other),
                shown(p)
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let have: Vec<String> = by_index.keys().map(u64::to_string).collect();
        return Err(format!(
            "shard{} {} of {count} missing (given: {}); merge all {count} parts of the run",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            have.join(", ")
        ));
    }
    let total: u64 = first.folds.last().map_or(0, |f| f.first + f.chunks);
    let mut chunks = BTreeMap::new();
    for (p, part) in &parts {
        let words = part
            .chunk_words()
            .ok_or_else(|| format!("{}: corrupt chunk words", shown(p)))?;
        let i = part.shard.index;
        let expected = (i..total).step_by(usize::try_from(count).unwrap_or(usize::MAX));
        if !words.keys().copied().eq(expected) {
            return Err(format!(
                "{}: shard {i}/{count} does not hold exactly its own chunks ({} of the {} \
                 numbered {i} modulo {count})",
                shown(p),
                words.len(),
                (total + count - 1 - i) / count
            ));
        }
        chunks.extend(words);
    }
    Ok(Whole {
        command: first.command.clone(),
        spec: first.spec.clone(),
        folds: first.folds.clone(),
        chunks,
        count,
    })
}
