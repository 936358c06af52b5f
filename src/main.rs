use std::process::ExitCode;

fn main() -> ExitCode {
    trialsim::cli::run(std::env::args_os())
}
