//! Ctrl-C (SIGINT) and SIGTERM.
//!
//! A command that runs long asks for [`flag`] and reads it between batches: the first signal
//! sets it, and the command stops after its current batch, reports what it did (a partial
//! result on stdout, marked as interrupted) and exits 130 (SIGINT) or 143 (SIGTERM). Every
//! other command, and any command on a second signal, stops at once with that exit code and a
//! line on stderr; temporary files still being written are removed first, so no partial file is
//! left behind (see [`super::output::write_file_atomic`]).
//!
//! On Unix the signals are blocked in every thread and received by one watcher thread with
//! `sigwait`, so that the handling runs as ordinary code, not inside a signal handler.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code of a run stopped by SIGTERM (128 + 15).
pub const EXIT_TERMINATED: u8 = 143;

static FLAG: AtomicBool = AtomicBool::new(false);
static COOPERATIVE: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Takes over SIGINT and SIGTERM for this process. Call once, before any thread starts (the
/// signal mask is inherited by every thread created later).
pub fn install() {
    #[cfg(unix)]
    unix::install();
}

/// The flag the first SIGINT or SIGTERM sets. Asking for it declares that the running command
/// reads it and stops on its own (the first signal no longer ends the process at once).
pub fn flag() -> &'static AtomicBool {
    COOPERATIVE.store(true, Ordering::SeqCst);
    &FLAG
}

/// Whether a stop has been asked for.
pub fn requested() -> bool {
    FLAG.load(Ordering::Relaxed)
}

/// The exit code for the signal received: 143 for SIGTERM, else 130.
pub fn exit_code() -> u8 {
    if SIGNAL.load(Ordering::Relaxed) == 15 {
        EXIT_TERMINATED
    } else {
        EXIT_INTERRUPTED
    }
}

/// What the watcher does with signal `sig`.
fn received(sig: i32) {
    let first = SIGNAL.swap(sig, Ordering::SeqCst) == 0;
    let name = if sig == 15 {
        "terminated"
    } else {
        "interrupted"
    };
    if first && COOPERATIVE.load(Ordering::SeqCst) {
        FLAG.store(true, Ordering::SeqCst);
        eprintln!("\n{name}: finishing the current batch (Ctrl-C again to quit now)");
        return;
    }
    super::output::remove_temporaries();
    eprintln!("\n{name}: stopped before the command finished; no output file was written");
    std::process::exit(i32::from(exit_code()));
}

#[cfg(unix)]
mod unix {
    /// Blocks SIGINT and SIGTERM here (and so in every thread started later) and starts the
    /// thread that waits for them. If either step fails the signals keep their default effect.
    pub(super) fn install() {
        // SAFETY: `sigset_t` is plain data, initialised by `sigemptyset` before use; the calls
        // only read and write the set and this thread's signal mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigaddset(&raw mut set, libc::SIGINT);
            libc::sigaddset(&raw mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
            // The watcher inherits the blocked mask; `sigwait` takes blocked signals.
            let watch = set;
            let spawned = std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    loop {
                        let mut sig: libc::c_int = 0;
                        // SAFETY: `watch` is an initialised set; `sig` is a valid out-pointer.
                        if libc::sigwait(&raw const watch, &raw mut sig) == 0 {
                            super::received(sig);
                        }
                    }
                });
            if spawned.is_err() {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const set, std::ptr::null_mut());
            }
        }
    }
}
