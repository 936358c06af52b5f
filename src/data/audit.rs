//! The assumption audit: every design assumption of the spec set against the data.
