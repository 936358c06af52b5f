use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so writing to a reader that has gone away (`trialsim check … | head`)
    // made every print panic. The default action ends the process quietly instead, as `cat` and
    // `grep` do.
    #[cfg(unix)]
    // SAFETY: the first statement of main, before any thread starts; it restores the default
    // disposition of one signal and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    trialsim::cli::run(std::env::args_os())
}
