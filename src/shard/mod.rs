//! Sharded runs: one command split over many processes (a Slurm job array, a Kubernetes Indexed
//! Job) and merged into exactly the bytes one process would have printed.
//!
//! The engine already folds its replicates in fixed chunks ([`crate::power::CHUNK`]), chunk by
//! chunk in order, whatever the thread count. A sharded run numbers every chunk of every fold a
//! command makes (one run of `power` at one grid point, one assurance run, ...) in the order the
//! command makes them; shard `i` of `n` computes the chunks whose number is `i` modulo `n` and
//! writes their accumulators, one per chunk, to a *part* file ([`file`]). `trialsim merge` runs
//! the same command again with every chunk's accumulator read back from the parts instead of
//! computed: the command folds exactly the same values in exactly the same order, so its report
//! is the same to the last bit, and every other figure of it (closed forms, exact truths) is
//! computed as in one process.
//!
//! That needs two things of a command, both true of `power`, `sweep`, `explain` and `validate`:
//! which folds it makes does not depend on their results (a search such as `size` chooses its
//! next evaluation from the last one, so it cannot be sharded), and a fold's chunk results
//! feed only the report, never a later computation (the simulated true effect is needed by
//! every chunk, so every shard computes it in full, as [`crate::sim::truth`] does it).
//!
//! The [`Ledger`] is the process-wide switch: without one (an ordinary run) a [`Fold`] computes
//! every chunk; while recording, it computes the shard's own chunks and hands the command a
//! neutral *filler* for the others (the command's report is then meaningless and not shown);
//! while replaying, it hands back the recorded accumulators.

pub mod file;
pub mod merge;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Values that travel between processes as a list of 64-bit words: integers as they are,
/// floating-point numbers as their bit patterns (so that a value read back is the same value,
/// NaN and infinities included).
pub trait Words: Sized {
    /// Appends the value's words.
    fn put(&self, out: &mut Vec<u64>);
    /// Reads a value from the front of `words`, advancing it; `None` if they do not hold one.
    fn take(words: &mut &[u64]) -> Option<Self>;
    /// Whether a value read back has the shape of `filler`, the placeholder of the same chunk
    /// (its replicate count, its contrasts and counters).
    fn fits(&self, _filler: &Self) -> bool {
        true
    }
}

/// Reads one word.
pub fn word(words: &mut &[u64]) -> Option<u64> {
    let (&first, rest) = words.split_first()?;
    *words = rest;
    Some(first)
}

/// Reads a length-prefixed list of words (at most `limit` long).
pub fn word_list(words: &mut &[u64], limit: usize) -> Option<Vec<u64>> {
    let n = usize::try_from(word(words)?).ok().filter(|&n| n <= limit)?;
    if words.len() < n {
        return None;
    }
    let (list, rest) = words.split_at(n);
    *words = rest;
    Some(list.to_vec())
}

impl Words for u64 {
    fn put(&self, out: &mut Vec<u64>) {
        out.push(*self);
    }
    fn take(words: &mut &[u64]) -> Option<Self> {
        word(words)
    }
}

/// One fold of a command: its kind (for the table of contents), its first chunk number and how
/// many chunks it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldEntry {
    /// What is folded (`power`, `assurance`).
    pub kind: String,
    /// Number of its first chunk, counting over the whole command.
    pub first: u64,
    /// Its chunks.
    pub chunks: u64,
}

/// What the ledger does with each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compute the chunks of shard `index` of `count`; give fillers for the rest.
    Record {
        /// This shard, from 0.
        index: u64,
        /// How many shards.
        count: u64,
    },
    /// Give back the chunks loaded from the parts.
    Replay,
}

/// Writes a checkpoint of the ledger's chunks so far.
pub type CheckpointWriter = Box<dyn Fn(&Ledger) -> Result<(), String> + Send + Sync>;

/// Where and how often a recording shard saves its progress.
pub struct CheckpointPlan {
    /// How long between two checkpoints.
    pub every: Duration,
    /// Writes a checkpoint of the chunks done so far (called with the ledger's chunks).
    pub write: CheckpointWriter,
}

impl std::fmt::Debug for CheckpointPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointPlan")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// The process-wide record of a sharded run (see the module documentation).
#[derive(Debug)]
pub struct Ledger {
    mode: Mode,
    /// Folds begun, in order.
    folds: Mutex<Vec<FoldEntry>>,
    /// Chunk number → its accumulator's words: computed here, resumed from a checkpoint, or
    /// (replaying) loaded from the parts.
    chunks: Mutex<BTreeMap<u64, Vec<u64>>>,
    /// Chunks computed by this process.
    computed: AtomicU64,
    /// The first thing that went wrong, if anything (a chunk missing or unreadable on replay).
    error: Mutex<Option<String>>,
    /// Set by SIGTERM or Ctrl-C: compute no more chunks.
    stop: &'static AtomicBool,
    checkpoint: Option<CheckpointPlan>,
    last_checkpoint: Mutex<Instant>,
}

static LEDGER: OnceLock<Ledger> = OnceLock::new();

/// The ledger of this process, if it runs a shard or a merge.
pub fn ledger() -> Option<&'static Ledger> {
    LEDGER.get()
}

/// Installs the ledger of this process; `Err` if one is installed already.
pub fn install(ledger: Ledger) -> Result<&'static Ledger, String> {
    LEDGER
        .set(ledger)
        .map_err(|_| "a sharded run is already under way in this process".to_string())?;
    LEDGER
        .get()
        .ok_or_else(|| "the shard ledger could not be installed".to_string())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Ledger {
    /// A ledger in `mode` starting from `chunks` (resumed from a checkpoint, or loaded from the
    /// parts), stopping when `stop` is set.
    pub fn new(
        mode: Mode,
        chunks: BTreeMap<u64, Vec<u64>>,
        stop: &'static AtomicBool,
        checkpoint: Option<CheckpointPlan>,
    ) -> Self {
        Self {
            mode,
            folds: Mutex::new(Vec::new()),
            chunks: Mutex::new(chunks),
            computed: AtomicU64::new(0),
            error: Mutex::new(None),
            stop,
            checkpoint,
            last_checkpoint: Mutex::new(Instant::now()),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The folds begun so far, in order.
    pub fn folds(&self) -> Vec<FoldEntry> {
        lock(&self.folds).clone()
    }

    /// The chunks held (computed, resumed or loaded), by number.
    pub fn chunks(&self) -> BTreeMap<u64, Vec<u64>> {
        lock(&self.chunks).clone()
    }

    /// Chunks this process computed.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Whether a stop was asked for (SIGTERM, Ctrl-C).
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The first error met, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    fn fail(&self, message: String) {
        let mut e = lock(&self.error);
        if e.is_none() {
            *e = Some(message);
        }
    }

    /// Whether chunk `id` belongs to this shard.
    pub fn owns(&self, id: u64) -> bool {
        match self.mode {
            Mode::Record { index, count } => id % count == index,
            Mode::Replay => false,
        }
    }

    fn begin(&self, kind: &str, chunks: u64) -> u64 {
        let mut folds = lock(&self.folds);
        let first = folds.last().map_or(0, |f| f.first + f.chunks);
        folds.push(FoldEntry {
            kind: kind.to_string(),
            first,
            chunks,
        });
        first
    }

    fn maybe_checkpoint(&self) {
        let Some(plan) = &self.checkpoint else {
            return;
        };
        {
            let mut last = lock(&self.last_checkpoint);
            if last.elapsed() < plan.every {
                return;
            }
            *last = Instant::now();
        }
        if let Err(e) = (plan.write)(self) {
            eprintln!("warning: {e}");
        }
    }
}

/// A fold of `chunks` chunks, numbered within the command when a ledger is installed.
#[derive(Debug, Clone, Copy)]
pub struct Fold {
    first: Option<u64>,
}

impl Fold {
    /// Begins a fold of `kind` with `chunks` chunks. Folds must begin in an order that does not
    /// depend on threads (they do: each command makes them one after another).
    pub fn begin(kind: &str, chunks: u64) -> Self {
        Self {
            first: ledger().map(|l| l.begin(kind, chunks)),
        }
    }

    /// Whether this fold's chunks are taken from or given to a ledger (a shard or a merge), so
    /// that a result is not the command's true result until the merge.
    pub fn sharded(&self) -> bool {
        self.first.is_some()
    }

    /// The accumulator of chunk `c`: computed by `compute` in an ordinary run and for this
    /// shard's chunks, a `filler` for another shard's, or read back from the ledger.
    pub fn chunk<A: Words, E>(
        &self,
        c: u64,
        compute: impl FnOnce() -> Result<A, E>,
        filler: impl FnOnce() -> A,
    ) -> Result<A, E> {
        let (Some(first), Some(ledger)) = (self.first, ledger()) else {
            return compute();
        };
        let id = first + c;
        let held = lock(&ledger.chunks).get(&id).cloned();
        if let Some(words) = held {
            let mut rest = words.as_slice();
            let filler = filler();
            return match A::take(&mut rest) {
                Some(a) if rest.is_empty() && a.fits(&filler) => Ok(a),
                _ => {
                    ledger.fail(format!(
                        "the accumulator of chunk {id} does not read back as this command's"
                    ));
                    Ok(filler)
                }
            };
        }
        match ledger.mode {
            Mode::Replay => {
                ledger.fail(format!("chunk {id} is in none of the parts"));
                Ok(filler())
            }
            Mode::Record { .. } if !ledger.owns(id) || ledger.stopped() => Ok(filler()),
            Mode::Record { .. } => {
                let a = compute()?;
                let mut words = Vec::new();
                a.put(&mut words);
                lock(&ledger.chunks).insert(id, words);
                ledger.computed.fetch_add(1, Ordering::Relaxed);
                ledger.maybe_checkpoint();
                Ok(a)
            }
        }
    }
}

impl Fold {
    /// [`Fold::chunk`] of a computation that cannot fail.
    pub fn value<A: Words>(
        &self,
        c: u64,
        compute: impl FnOnce() -> A,
        filler: impl FnOnce() -> A,
    ) -> A {
        match self.chunk(c, || Ok::<A, std::convert::Infallible>(compute()), filler) {
            Ok(a) => a,
            Err(never) => match never {},
        }
    }
}

/// FNV-1a, 64 bits: the hash that names a spec's content and checks a part file's integrity
/// (against accidents, not against an adversary).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parses `I/N` (shard `I` of `N`, counting from 0).
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let form = "write --shard I/N with 0 <= I < N, e.g. --shard 0/4 for the first of four shards \
                (a Slurm array passes $SLURM_ARRAY_TASK_ID as I)";
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a shard: {form}"))?;
    let parse = |s: &str| s.trim().parse::<u64>().ok();
    let (Some(i), Some(n)) = (parse(i), parse(n)) else {
        return Err(format!("`{text}` is not a shard: {form}"));
    };
    if n == 0 {
        return Err(format!("`{text}`: a run has at least one shard; {form}"));
    }
    if n > MAX_SHARDS {
        return Err(format!("`{text}`: at most {MAX_SHARDS} shards"));
    }
    if i >= n {
        return Err(format!(
            "`{text}`: shards are numbered from 0 to {}, so there is no shard {i} of {n}; {form}",
            n - 1
        ));
    }
    Ok((i, n))
}

/// Most shards a run may be split into.
pub const MAX_SHARDS: u64 = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        for bad in ["3/2", "0/0", "4/4", "-1/2", "a/b", "2", "1/200000"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_read_back_what_was_written() {
        let mut out = Vec::new();
        7u64.put(&mut out);
        out.push(3);
        out.extend([1, 2, 3]);
        let mut rest = out.as_slice();
        assert_eq!(u64::take(&mut rest), Some(7));
        assert_eq!(word_list(&mut rest, 10), Some(vec![1, 2, 3]));
        assert!(rest.is_empty());
        let mut short: &[u64] = &[5, 1];
        assert_eq!(word_list(&mut short, 10), None);
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
