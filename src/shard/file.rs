//! The part file: what one shard computed, self-describing and checked.
//!
//! A part is one JSON document (see `docs/cluster.md`): the format and its version, the
//! trialsim version, the command (its arguments, less those that only say how to run it), the
//! spec (its name, its text and a hash of it), the seed, the shard's index and count, the table
//! of contents of the command's folds, and the shard's chunks, each as its accumulator's 64-bit
//! words in hexadecimal (floating-point numbers as their bit patterns, so they read back exact).
//! `complete` is true only in a finished shard; a checkpoint says false. A checksum over all of
//! it catches a file cut short or altered.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FoldEntry, fnv1a};

/// The value of `format` in every part file.
pub const FORMAT: &str = "trialsim-part";
/// The layout version; a part of another version is refused.
pub const FORMAT_VERSION: u32 = 1;
/// The trialsim version that writes (and alone may merge) parts.
pub const TRIALSIM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The spec a shard ran, carried along so that the merge needs no copy of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecCopy {
    /// The name the user gave (as diagnostics and reports show it).
    pub name: String,
    /// FNV-1a of the text, in hexadecimal.
    pub hash: String,
    /// The whole text.
    pub text: String,
}

impl SpecCopy {
    /// A copy of the spec `name` with `text`.
    pub fn new(name: String, text: String) -> Self {
        Self {
            name,
            hash: format!("{:016x}", fnv1a(text.as_bytes())),
            text,
        }
    }
}

/// Which shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardId {
    /// From 0.
    pub index: u64,
    /// How many shards the run has.
    pub count: u64,
}

/// One chunk's accumulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// Its number within the command.
    pub id: u64,
    /// Its words in hexadecimal, comma-separated.
    pub words: String,
}

/// A part file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The writer's version.
    pub trialsim: String,
    /// True in a finished shard, false in a checkpoint.
    pub complete: bool,
    /// The command's arguments after `trialsim`, less `--shard`, `--part`,
    /// `--checkpoint-every`, `--threads` and `--quiet`.
    pub command: Vec<String>,
    /// The spec, if the command reads one.
    pub spec: Option<SpecCopy>,
    /// The master seed.
    pub seed: u64,
    /// Which shard this is.
    pub shard: ShardId,
    /// Every fold the command made, in order (the same in every shard).
    pub folds: Vec<FoldEntry>,
    /// The chunks this shard computed, by number.
    pub chunks: Vec<ChunkRecord>,
    /// FNV-1a of the document with this field empty, in hexadecimal.
    pub checksum: String,
}

/// Words as hexadecimal text, comma-separated, without leading zeros (a count is short; a
/// floating-point number's bits take up to 16 digits).
pub fn encode(words: &[u64]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(8 * words.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{w:x}");
    }
    s
}

/// Hexadecimal text back to words.
pub fn decode(text: &str) -> Option<Vec<u64>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|w| {
            (!w.is_empty() && w.len() <= 16 && w.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u64::from_str_radix(w, 16).ok())
                .flatten()
        })
        .collect()
}

impl Part {
    /// A part (or checkpoint) from the ledger's chunks.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        complete: bool,
        command: Vec<String>,
        spec: Option<SpecCopy>,
        seed: u64,
        shard: ShardId,
        folds: Vec<FoldEntry>,
        chunks: &BTreeMap<u64, Vec<u64>>,
    ) -> Self {
        let mut part = Self {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            trialsim: TRIALSIM_VERSION.into(),
            complete,
            command,
            spec,
            seed,
            shard,
            folds,
            chunks: chunks
                .iter()
                .map(|(&id, w)| ChunkRecord {
                    id,
                    words: encode(w),
                })
                .collect(),
            checksum: String::new(),
        };
        part.checksum = part.compute_checksum();
        part
    }

    fn compute_checksum(&self) -> String {
        let body = Self {
            checksum: String::new(),
            ..self.clone()
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        format!("{:016x}", fnv1a(&bytes))
    }

    /// The chunks as words, by number; `None` if one is not valid hexadecimal.
    pub fn chunk_words(&self) -> Option<BTreeMap<u64, Vec<u64>>> {
        self.chunks
            .iter()
            .map(|c| Some((c.id, decode(&c.words)?)))
            .collect()
    }

    /// Writes the part atomically: to a temporary file beside `path`, then renamed over it, so
    /// that `path` is never a half-written file.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "part".into());
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
    }

    /// Reads and checks a part file: format, version, checksum. The error says what is wrong
    /// (the caller names the file).
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => format!("cannot read it: {e}"),
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("truncated or corrupt: not a whole JSON document ({e})"))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(format!(
                "not a trialsim part file (it has no \"format\": \"{FORMAT}\")"
            ));
        }
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        let writer = value
            .get("trialsim")
            .and_then(|v| v.as_str())
            .unwrap_or("an unknown version");
        if version != Some(u64::from(FORMAT_VERSION)) || writer != TRIALSIM_VERSION {
            return Err(format!(
                "written by trialsim {writer} (part format {}), and this is trialsim \
                 {TRIALSIM_VERSION} (part format {FORMAT_VERSION}): run every shard again with \
                 this version (a merge never mixes versions, whose numbers may differ)",
                version.map_or_else(|| "unknown".to_string(), |v| v.to_string())
            ));
        }
        let part: Self =
            serde_json::from_value(value).map_err(|e| format!("corrupt: {e} in the part"))?;
        if part.compute_checksum() != part.checksum {
            return Err("corrupt: its checksum does not match its contents".into());
        }
        if part.chunk_words().is_none() {
            return Err("corrupt: a chunk's words are not hexadecimal".into());
        }
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_survive_hex_exactly() {
        let words = vec![
            0,
            1,
            u64::MAX,
            f64::NAN.to_bits(),
            (-0.0f64).to_bits(),
            0.1f64.to_bits(),
        ];
        assert_eq!(decode(&encode(&words)), Some(words));
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode("a,,b"), None);
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("+a"), None);
        assert_eq!(decode("10000000000000000"), None);
    }

    #[test]
    fn a_part_reads_back_and_an_altered_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("trialsim-part-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.json");
        let chunks = BTreeMap::from([(0, vec![1, 2]), (2, vec![3])]);
        let part = Part::new(
            true,
            vec!["power".into(), "x.trial".into()],
            Some(SpecCopy::new("x.trial".into(), "trial \"x\" {}".into())),
            7,
            ShardId { index: 0, count: 2 },
            vec![FoldEntry {
                kind: "power".into(),
                first: 0,
                chunks: 3,
            }],
            &chunks,
        );
        part.write(&path).unwrap();
        let back = Part::read(&path).unwrap();
        assert_eq!(back, part);
        assert_eq!(back.chunk_words(), Some(chunks));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"seed\":7", "\"seed\":8")).unwrap();
        assert!(Part::read(&path).unwrap_err().contains("checksum"));
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(Part::read(&path).unwrap_err().contains("truncated"));
        std::fs::write(&path, text.replace(TRIALSIM_VERSION, "0.0.1")).unwrap();
        assert!(Part::read(&path).unwrap_err().contains("0.0.1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
