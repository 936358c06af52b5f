//! Ctrl-C and SIGTERM (a scheduler's preemption or time limit): the first one asks a long run to
//! stop after its current batch and report what it did (a shard writes a checkpoint); a second
//! one quits at once (exit 130). One handler serves both signals (`ctrlc`'s `termination`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

static FLAG: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// The flag a Ctrl-C sets, with the handler installed on first use. If no handler can be
/// installed, Ctrl-C keeps its default effect and the flag is never set.
pub fn flag() -> &'static AtomicBool {
    INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if FLAG.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            eprintln!("\ninterrupted: finishing the current batch (interrupt again to quit now)");
        })
        .is_ok()
    });
    &FLAG
}
