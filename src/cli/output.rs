//! Everything a command writes: standard output through [`emit`], files through
//! [`write_file_atomic`].
//!
//! - A reader that goes away (`trialsim check … | head`) ends the output quietly: the rest of
//!   stdout is dropped and the command keeps the exit status it would have had, so a failing
//!   `check` still exits 1 in a pipeline.
//! - A failed write to stdout (a full disk, `/dev/full`) is an error message and exit 74
//!   (`EX_IOERR`), never a panic and never exit 0.
//! - A file is written to a temporary file in its own directory and renamed into place, so an
//!   interrupted or failed run never leaves a truncated file that looks complete.
//! - A file is never written over an input of the same command (the spec, the data, a snapshot
//!   being compared); an existing output is replaced only with `--force` unless replacing it is
//!   the documented meaning of the flag.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code of a failed write (`EX_IOERR` of sysexits.h).
pub const EXIT_IO: u8 = 74;

/// Stdout's reader has gone away: everything else written to stdout is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// A write to stdout failed for another reason: the command exits [`EXIT_IO`].
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
/// Temporary files being written, removed if the process is stopped before they are renamed.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Writes `text` to stdout. A closed pipe drops it (and all later output) quietly; any other
/// failure prints one error line and makes the command exit [`EXIT_IO`] (see [`finish`]).
pub fn emit(text: &str) {
    emit_to(&mut io::stdout().lock(), text);
}

fn emit_to(out: &mut impl Write, text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) || STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        record_stdout_error(&e);
    }
}

fn record_stdout_error(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    } else if !STDOUT_FAILED.swap(true, Ordering::Relaxed) {
        eprintln!("error: cannot write to standard output: {e}");
    }
}

/// The exit code of a command once its output is flushed: `code`, unless writing to stdout
/// failed (other than a closed pipe), which is [`EXIT_IO`].
pub fn finish(code: ExitCode) -> ExitCode {
    if !STDOUT_CLOSED.load(Ordering::Relaxed)
        && !STDOUT_FAILED.load(Ordering::Relaxed)
        && let Err(e) = io::stdout().lock().flush()
    {
        record_stdout_error(&e);
    }
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        ExitCode::from(EXIT_IO)
    } else {
        code
    }
}

/// Why a file was not written.
#[derive(Debug)]
pub struct WriteError {
    /// Exit code: 2 for a refused path, [`EXIT_IO`] for a failed write.
    pub code: u8,
    /// The message, without the `error: ` prefix.
    pub message: String,
}

impl WriteError {
    /// Prints the message and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }

    fn io(path: &Path, e: &io::Error) -> Self {
        Self {
            code: EXIT_IO,
            message: format!("cannot write `{}`: {e}", path.display()),
        }
    }
}

/// The path with `.` and `..` removed lexically (`a/x/../b` is `a/b`), made absolute against
/// the working directory; no directory is created or followed to get it.
pub fn lexical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("."))
            .join(path)
    };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path an existing or future file resolves to: its directory canonicalised (symbolic links
/// followed) when it exists, then the file name.
fn identity(path: &Path) -> PathBuf {
    let path = lexical(path);
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| path.clone(), |d| d.join(name)),
        _ => path,
    }
}

/// Whether `a` and `b` name the same file (after `..`, `.` and symbolic links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    identity(a) == identity(b)
}

/// Where a command will write a file, checked before anything is computed.
#[derive(Debug, Clone)]
pub struct Target {
    /// The path as the user typed it (for messages).
    pub shown: PathBuf,
    /// The path with `..` resolved lexically (where it is written).
    pub path: PathBuf,
}

/// Checks that `output` (the value of `flag`) may be written: it is none of `inputs`, it is not
/// a directory, and it does not exist yet unless `replace` (`--force`, or a flag whose meaning
/// is to replace).
pub fn check_target(
    flag: &str,
    output: &Path,
    inputs: &[&Path],
    replace: bool,
) -> Result<Target, WriteError> {
    let refuse = |message: String| WriteError { code: 2, message };
    if let Some(input) = inputs.iter().find(|i| same_file(output, i)) {
        return Err(refuse(format!(
            "{flag} `{}` is an input of this command (`{}`); refusing to write over it\n  \
             help: choose another path for {flag}",
            output.display(),
            input.display()
        )));
    }
    let path = lexical(output);
    if path.is_dir() {
        return Err(refuse(format!(
            "{flag} `{}` is a directory; give a file name",
            output.display()
        )));
    }
    if path.exists() && !replace {
        return Err(refuse(format!(
            "{flag} `{}` already exists; refusing to overwrite it\n  \
             help: pass --force to replace it, or choose another path",
            output.display()
        )));
    }
    Ok(Target {
        shown: output.to_path_buf(),
        path,
    })
}

/// Checks that files may be written into directory `dir` (the value of `flag`): the directory
/// is not an existing file, and none of `names` inside it is one of `inputs`.
pub fn check_dir(
    flag: &str,
    dir: &Path,
    names: &[&str],
    inputs: &[&Path],
) -> Result<PathBuf, WriteError> {
    let path = lexical(dir);
    if path.exists() && !path.is_dir() {
        return Err(WriteError {
            code: 2,
            message: format!("{flag} `{}` is a file, not a directory", dir.display()),
        });
    }
    for name in names {
        let file = path.join(name);
        if let Some(input) = inputs.iter().find(|i| same_file(&file, i)) {
            return Err(WriteError {
                code: 2,
                message: format!(
                    "{flag} `{}` would write `{name}` over `{}`, an input of this command\n  \
                     help: choose another directory",
                    dir.display(),
                    input.display()
                ),
            });
        }
    }
    Ok(path)
}

/// Creates directory `dir` (already resolved by [`lexical`]) and its parents.
pub fn make_dir(dir: &Path, shown: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError {
        code: EXIT_IO,
        message: format!("cannot create directory `{}`: {e}", shown.display()),
    })
}

/// Writes a file atomically: `fill` writes the content into a temporary file beside `path`,
/// which is renamed onto `path` only when all of it is written and flushed. On an error (or an
/// interruption, which `fill` reports as an error of kind `Interrupted`) the temporary file is
/// removed and `path` is left as it was.
pub fn write_file_atomic(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> Result<(), WriteError> {
    let path = lexical(path);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_owned());
    let temp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let file = std::fs::File::create(&temp).map_err(|e| WriteError::io(&path, &e))?;
    register(&temp);
    let mut writer = io::BufWriter::with_capacity(1 << 16, file);
    let written = fill(&mut writer)
        .and_then(|()| writer.flush())
        .and_then(|()| writer.get_ref().sync_all());
    drop(writer);
    let result = written.and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        unregister(&temp);
        if e.kind() == io::ErrorKind::Interrupted {
            return Err(WriteError {
                code: super::interrupt::exit_code(),
                message: format!(
                    "interrupted: `{}` not written (nothing left behind)",
                    path.display()
                ),
            });
        }
        return Err(WriteError::io(&path, &e));
    }
    unregister(&temp);
    Ok(())
}

/// Writes `text` to `path` atomically.
pub fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    write_file_atomic(path, |w| w.write_all(text.as_bytes()))
}

fn register(temp: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.push(temp.to_path_buf());
    }
}

fn unregister(temp: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.retain(|p| p != temp);
    }
}

/// Removes the temporary files still being written (before the process is stopped).
pub fn remove_temporaries() {
    if let Ok(t) = TEMPORARIES.lock() {
        for p in t.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A writer that fails with `Interrupted` once Ctrl-C (or SIGTERM) has asked the command to
/// stop, so that a long export stops between rows and [`write_file_atomic`] removes its file.
pub struct Interruptible<W>(pub W);

impl<W: Write> Write for Interruptible<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if super::interrupt::requested() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_resolves_dot_dot_without_touching_the_disk() {
        let p = lexical(Path::new("/a/x/../b/./c"));
        assert_eq!(p, PathBuf::from("/a/b/c"));
        assert!(!Path::new("/a/x").exists());
    }

    #[test]
    fn same_file_sees_through_dot_dot() {
        let here = std::env::current_dir().unwrap();
        let a = here.join("Cargo.toml");
        let b = here.join("src/../Cargo.toml");
        assert!(same_file(&a, &b));
        assert!(!same_file(&a, &here.join("README.md")));
    }

    #[test]
    fn a_full_device_is_recorded_and_a_closed_pipe_is_not() {
        struct Fails(io::ErrorKind);
        impl Write for Fails {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(self.0))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        emit_to(&mut Fails(io::ErrorKind::BrokenPipe), "x");
        assert!(STDOUT_CLOSED.load(Ordering::Relaxed));
        assert!(!STDOUT_FAILED.load(Ordering::Relaxed));
    }
}
