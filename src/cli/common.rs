//! What several commands share: the default seed and the output format.

use clap::ValueEnum;

/// Default master seed (the year the Almere pilot started).
pub const DEFAULT_SEED: u64 = 2017;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON with stable keys (see the README).
    Json,
}
