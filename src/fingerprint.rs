//! Content fingerprints that tie a report to its inputs: the sha256 of a file's bytes, of a
//! checked model's canonical form, and a file name that does not depend on where a command runs.
//!
//! A model's fingerprint hashes its canonical JSON serialisation (struct fields in declaration
//! order, maps sorted), so comments, formatting and a `fmt` run do not change it, while any change
//! to what the spec means does.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::TrialModel;

/// The sha256 of `bytes`, as 64 lowercase hexadecimal digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The sha256 of the checked model's canonical serialisation.
pub fn model_sha256(model: &TrialModel) -> String {
    sha256_hex(&serde_json::to_vec(model).unwrap_or_default())
}

/// The name a report gives `file` so that it reads the same from any working directory: the path
/// relative to the spec's folder when the file lies inside it, the file's base name otherwise.
/// Always with `/` separators.
pub fn name_relative_to_spec(spec: &Path, file: &Path) -> String {
    let base = || {
        file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let (Some(spec_dir), Some(abs_file)) = (spec.parent().map(absolute), Some(absolute(file)))
    else {
        return base();
    };
    match abs_file.strip_prefix(&spec_dir) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        _ => base(),
    }
}

/// `path` made absolute against the working directory, with `.` and `..` resolved lexically
/// (symbolic links are not followed, so a path that does not exist still gets a name).
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        // `printf abc | sha256sum`
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn names_are_relative_to_the_spec_or_a_base_name() {
        let spec = Path::new("examples/nsw/nsw.trial");
        for typed in [
            "examples/nsw/data.csv",
            "./examples/nsw/data.csv",
            "examples/../examples/nsw/data.csv",
        ] {
            assert_eq!(name_relative_to_spec(spec, Path::new(typed)), "data.csv");
        }
        assert_eq!(
            name_relative_to_spec(spec, Path::new("examples/nsw/sub/data.csv")),
            "sub/data.csv"
        );
        assert_eq!(
            name_relative_to_spec(spec, Path::new("/tmp/elsewhere/copy.csv")),
            "copy.csv"
        );
    }
}
