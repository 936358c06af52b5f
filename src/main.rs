use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so a reader that goes away (`trialsim check … | head`) is an EPIPE
    // error on the next write; `cli::output::emit` ends the output quietly on it and the command
    // keeps its own exit status (a failing `check` still exits 1).
    trialsim::cli::run(std::env::args_os())
}
