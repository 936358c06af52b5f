//! Running the built `trialsim` binary the way a user would, with output that is stable enough
//! to snapshot: relative paths, no colour, fixed width.

use std::fmt;
use std::process::Command;

/// A `trialsim` command run from the crate root with colour off.
pub fn trialsim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trialsim"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE");
    command
}

/// What a command printed and how it exited, in one snapshot-friendly text.
pub struct CommandOutput {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<i32>,
}

/// Runs `command` to completion.
pub fn run(command: &mut Command) -> CommandOutput {
    let output = command.output().expect("the trialsim binary runs");
    CommandOutput {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code(),
    }
}

impl fmt::Display for CommandOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.stdout)?;
        if !self.stderr.is_empty() {
            writeln!(f, "------- stderr -------")?;
            write!(f, "{}", self.stderr)?;
        }
        match self.status {
            Some(code) => writeln!(f, "[exit status: {code}]"),
            None => writeln!(f, "[killed by a signal]"),
        }
    }
}
